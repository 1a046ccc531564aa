"""``Model(inputs, outputs)``: the functional API, a graph of layers.

>>> import minigrad as mg
>>> inputs = mg.layers.Input(shape=(4,))
>>> hidden = mg.layers.Dense(8, activation="relu")(inputs)
>>> outputs = mg.layers.Dense(2)(mg.layers.Add()([hidden, mg.layers.Dense(8)(inputs)]))
>>> model = mg.models.Model(inputs, outputs, name="residual")
>>> model.predict(np.ones((3, 4), dtype=np.float32)).shape
(3, 2)

A model is also a layer: ``model(x, training=False)`` runs the graph on Tensors (differentiably,
through its execution plan: :mod:`minigrad.models.plan`), and calling it on SymbolicTensors nests
it in a bigger model. Training (``compile``, ``fit``...)
comes from :class:`~minigrad.training.Trainer`; files from :mod:`minigrad.models.saving`.
"""
import os

import numpy as np  # noqa: F401  (the doctest above uses it)

from .. import layers as layers_module
from ..layers import InputLayer, Layer, SymbolicTensor
from ..layers.base import registry as layer_registry, shape_of
from ..engine.tensor import Tensor
from ..training import Trainer
from . import graph as graph_module, saving
from .plan import Plan
from .summary import print_summary


class Model(Trainer, Layer):
    """A directed acyclic graph of layers from ``inputs`` to ``outputs``.

    Args:
        inputs: a SymbolicTensor made by ``minigrad.layers.Input(...)``, or a list of them.
        outputs: a SymbolicTensor computed from the inputs, or a list of them.
        name: the model's name (default ``model``, ``model_1``, ...).
        trainable: False freezes every layer.

    Calling the model returns one Tensor, or a list when ``outputs`` was a list; it takes one
    input, or a list in the order of ``inputs``.
    """

    file_class_name = "Model"  # the topology's class_name in a model file (TF.js's name)

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if inputs is None or outputs is None:
            raise TypeError("Model: inputs and outputs are required, e.g. Model(inputs, outputs) "
                            "with inputs = minigrad.layers.Input(shape=...) (use Sequential for "
                            "a plain stack of layers)")
        flat_inputs = graph_module.flatten(inputs)
        if not flat_inputs or not all(isinstance(t, SymbolicTensor) for t in flat_inputs):
            raise TypeError(f"Model: inputs must be SymbolicTensors made by "
                            f"minigrad.layers.Input(...), got {inputs!r}")
        Layer.__init__(self, name=name, trainable=trainable, dtype=flat_inputs[0].dtype, **kwargs)
        Trainer.__init__(self)
        self._set_graph(inputs, outputs)
        if not trainable:  # only freezing propagates: a True default must not unfreeze layers
            self.trainable = False

    # -- the graph -----------------------------------------------------------------------------
    def _set_graph(self, inputs, outputs):
        who = f"Model '{self.name}'"
        flat_inputs, flat_outputs = graph_module.flatten(inputs), graph_module.flatten(outputs)
        for t in flat_inputs:
            if not isinstance(t.layer, InputLayer):
                raise ValueError(f"{who}: every input must come from minigrad.layers.Input(...); "
                                 f"{t!r} was made by the layer '{t.layer.name}'")
        if not flat_outputs or not all(isinstance(t, SymbolicTensor) for t in flat_outputs):
            raise TypeError(f"{who}: outputs must be SymbolicTensors computed from the inputs, "
                            f"got {outputs!r}")
        self._graph = graph_module.Graph(flat_inputs, flat_outputs, who)
        self._plan = Plan(self._graph, flat_inputs, flat_outputs)   # how call() runs the graph
        self.inputs, self.outputs = flat_inputs, flat_outputs
        self._single_input = not isinstance(inputs, (list, tuple))
        self._single_output = not isinstance(outputs, (list, tuple))
        self.built = True

    @property
    def layers(self):
        """Every layer, input layers included, in Keras order (by depth from the inputs)."""
        return list(self._graph.layers) if self._graph is not None else []

    @property
    def input_names(self):
        return [t.layer.name for t in self.inputs]

    @property
    def output_names(self):
        return [t.layer.name for t in self.outputs]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if self._single_input else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if self._single_output else shapes

    def get_layer(self, name=None, index=None):
        """The layer called ``name``, or the one at position ``index`` of :attr:`layers`."""
        layers = self.layers
        if (name is None) == (index is None):
            raise ValueError(f"Model '{self.name}'.get_layer: give exactly one of name and index, "
                             f"got name={name!r}, index={index!r}")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int) \
                    or not -len(layers) <= index < len(layers):
                raise ValueError(f"Model '{self.name}'.get_layer: index must be an integer in "
                                 f"[{-len(layers)}, {len(layers)}), got {index!r}")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"Model '{self.name}'.get_layer: no layer named {name!r}; the layers are "
                         f"{[layer.name for layer in layers]}")

    # -- weights: the layers' weights, layer by layer (Keras order) ------------------------------
    def _unique(self, lists):
        seen, out = set(), []
        for weights in lists:
            for w in weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def weights(self):
        return self._unique(layer.weights for layer in self.layers)

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        return self._unique(layer.trainable_weights for layer in self.layers)

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        # as Keras 3: freezing (or unfreezing) a model does the same to each of its layers
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    def get_weights(self):
        """Copies of every weight, layer by layer, each layer's in its own order."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights):
        """Set every weight from arrays in :meth:`get_weights` order (all checked first)."""
        weights = [getattr(value, "data", value) for value in weights]
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(f"Model '{self.name}'.set_weights: expected {len(mine)} arrays, got "
                             f"{len(weights)}")
        for w, value in zip(mine, weights):
            if np.shape(value) != w.data.shape:
                raise ValueError(f"Model '{self.name}'.set_weights: weight '{w.path}' has shape "
                                 f"{w.data.shape}, got an array of shape {np.shape(value)}")
        for w, value in zip(mine, weights):
            w.assign(value)

    def count_params(self):
        return int(sum(w.data.size for w in self.weights))

    @property
    def losses(self):
        """Every layer's regularization terms from the last call (a shared layer's once)."""
        return [loss for layer in self.layers for loss in layer.losses]

    # -- calling -------------------------------------------------------------------------------
    def _check_shapes(self, shapes):
        """A ValueError unless ``shapes`` (one per input) fit the inputs' ranks and fixed sizes."""
        if len(shapes) != len(self.inputs):
            raise ValueError(f"Model '{self.name}': expected {len(self.inputs)} input(s) "
                             f"{self.input_names}, got {len(shapes)}")
        for i, (expected, shape) in enumerate(zip(self.inputs, shapes)):
            shape = tuple(shape)
            if len(shape) != len(expected.shape) or any(
                    e is not None and s is not None and e != s
                    for e, s in zip(expected.shape[1:], shape[1:])):
                raise ValueError(f"Model '{self.name}': input {i} ('{expected.layer.name}') must "
                                 f"have shape {_shape_text(expected.shape)}, got "
                                 f"{_shape_text(shape)}")

    def _check_inputs(self, inputs):
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self._check_shapes([np.shape(x.data) if isinstance(x, Tensor) else
                            (x.shape if isinstance(x, SymbolicTensor) else np.shape(x))
                            for x in flat])
        return flat

    def call(self, inputs, training=False):
        """Run the graph: its execution plan's steps (:mod:`minigrad.models.plan`), in order."""
        values = self._plan.start(self._check_inputs(inputs))
        for step in self._plan.steps:
            step.run(values, training)
        results = [values[slot] for slot in self._plan.output_slots]
        return results[0] if self._single_output else results

    def compute_output_shape(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        self._check_shapes(shapes)
        batch = tuple(shapes[0])[0]
        shapes = [(batch,) + tuple(t.shape[1:]) for t in self.outputs]
        return shapes[0] if self._single_output else shapes

    def build(self, input_shape):
        self.built = True

    # -- summary and configuration ---------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None):
        """Print the Keras-style table: layer (type), output shape, parameters, totals."""
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    def get_config(self):
        """``{"name", "layers": [{"name", "class_name", "config", "inbound_nodes"}], "input_layers",
        "output_layers"}``: the form TF.js and Keras 2 write and read."""
        return graph_module.graph_config(self._graph, self.name, self.inputs, self.outputs,
                                         layers_module.serialize)

    @classmethod
    def from_config(cls, config):
        """A new model (new layers, fresh weights) from :meth:`get_config`'s form (or Keras 3's)."""
        inputs, outputs, _ = graph_module.rebuild_graph(config, _deserialize_layer,
                                                        f"{cls.__name__}.from_config")
        single_in = len(inputs) == 1 and not _listed(config.get("input_layers"))
        single_out = len(outputs) == 1 and not _listed(config.get("output_layers"))
        return cls(inputs[0] if single_in else inputs, outputs[0] if single_out else outputs,
                   name=config.get("name"), trainable=config.get("trainable", True))

    def to_json(self, **kwargs):
        """The architecture (no weights) as Keras 3's ``model.to_json()`` writes it, which
        ``keras.models.model_from_json`` and :func:`minigrad.models.model_from_json` read;
        ``kwargs`` go to ``json.dumps`` (e.g. ``indent=2``)."""
        from .keras_json import to_json
        return to_json(self, **kwargs)

    # -- files -----------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Write the model to ``filepath``, in the format its name says, as Keras 3 does: a
        ``.keras`` archive, a legacy ``.h5`` file, else a TF.js layers-model folder (model.json +
        weights.bin); with the optimizer's state when compiled. See :mod:`minigrad.models.saving`."""
        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def export(self, filepath, format="onnx", verbose=None, input_signature=None):
        """Write the model for inference in another runtime, as Keras 3's ``export``. The one
        format is ``"onnx"``: an ONNX file that ONNX Runtime runs with the same input and the
        same output as :meth:`predict` (needs the optional onnx package,
        ``pip install "minigrad[onnx]"``). See :mod:`minigrad.io.onnx_export`. ``verbose``
        prints where the file went; ``input_signature`` must be None (the inputs are the
        model's own, with a dynamic batch dimension)."""
        if format != "onnx":
            raise ValueError(f"export: format must be 'onnx' (the one export format minigrad "
                             f"writes), got {format!r}")
        if input_signature is not None:
            raise ValueError(f"export: input_signature must be None (the file takes the "
                             f"model's own inputs, any batch size), got {input_signature!r}")
        from ..io.onnx_export import export_onnx
        export_onnx(self, filepath)
        if verbose:
            print(f"Saved the model '{self.name}' as ONNX at {os.fspath(filepath)}")

    def save_weights(self, filepath, overwrite=True):
        """Write only the weights: a Keras 3 ``.weights.h5`` file, else a TF.js folder (its
        topology kept for checking)."""
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Read the weights from a TF.js folder (by name), or a ``.weights.h5``, ``.keras`` or
        ``.h5`` file (as Keras matches them); nothing changes if anything is wrong."""
        saving.load_weights(self, filepath)

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}' layers={len(self.layers)}>"


def _shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _listed(refs):
    """True when a config lists its input/output references as a list of several or one."""
    return isinstance(refs, list) and bool(refs) and isinstance(refs[0], list) and len(refs) > 1


def _deserialize_layer(entry):
    """A layer from a model file's entry, through the one layer registry (models included)."""
    return layers_module.deserialize(entry)


# Nested models travel in files like layers: TF.js writes "Model", Keras 2 "Functional".
layer_registry.register("Functional", name="Model")(Model)
