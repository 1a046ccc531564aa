"""``Sequential``: a plain stack of layers, each feeding the next.

>>> import minigrad as mg
>>> model = mg.models.Sequential([mg.layers.Dense(4, activation="relu", input_shape=(3,)),
...                               mg.layers.Dense(1)], name="mlp")
>>> model.output_shape
(None, 1)
>>> [layer.name for layer in model.layers] == [model.layers[0].name, model.layers[1].name]
True

The model is built (its weights created and its graph recorded) as soon as the input shape is
known: from ``input_shape=`` / ``batch_input_shape=`` of the first layer, from an ``Input`` added
first, from ``build(input_shape)``, or from the first data it is called on. Underneath it is a
functional :class:`~minigrad.models.Model` with one input and one output.
"""
from .. import layers as layers_module
from ..layers import InputLayer, Layer, SymbolicTensor
from ..layers.base import registry as layer_registry
from ..training import Trainer
from . import graph as graph_module
from .functional import Model


class Sequential(Model):
    """A stack of single-input, single-output layers.

    Args:
        layers: a list of layers (an ``Input(...)`` first is allowed), or None to ``add`` later.
        name: the model's name (default ``sequential``, ``sequential_1``, ...).
        trainable: False freezes every layer.
    """

    file_class_name = "Sequential"

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        Trainer.__init__(self)
        self._stack = []            # the layers, without the InputLayer (as Keras's model.layers)
        self._stack_outputs = []    # each layer's SymbolicTensor output, once built
        self._input_layer = None
        self._graph = self._plan = None   # set with the graph, as soon as it is built
        self.inputs = self.outputs = None
        self._single_input = self._single_output = True
        self.built = False
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise TypeError(f"Sequential: layers must be a list of layers, got "
                                f"{type(layers).__name__}")
            for layer in layers:
                self.add(layer)
        if not trainable:
            self.trainable = False

    @property
    def layers(self):
        """The layers in order (the InputLayer is not listed, as in Keras)."""
        return list(self._stack)

    def add(self, layer):
        """Append ``layer`` (or put an ``Input(...)`` first); builds it if the shape is known."""
        who = f"Sequential '{self.name}'.add"
        if isinstance(layer, SymbolicTensor):
            if not isinstance(layer.layer, InputLayer):
                raise TypeError(f"{who}: only a SymbolicTensor made by Input(...) can be added, "
                                f"got one made by '{layer.layer.name}'")
            layer = layer.layer
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(f"{who}: an Input can only be added first, to an empty model")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"{who}: expected a Layer, got {type(layer).__name__}")
        if any(existing is layer for existing in self._stack):
            raise ValueError(f"{who}: layer '{layer.name}' is already in the model")
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(f"{who}: a layer named '{layer.name}' is already in the model; layer "
                             f"names must be unique within a model")
        self._stack.append(layer)
        if self._input_layer is None and len(self._stack) == 1 and layer.batch_input_shape:
            self._input_layer = InputLayer(batch_input_shape=layer.batch_input_shape,
                                           dtype=layer.dtype, name=f"{layer.name}_input")
        if self._input_layer is not None:
            try:
                self._chain(len(self._stack) - 1)
            except Exception:
                self._stack.pop()  # leave the model as it was
                raise

    def pop(self):
        """Remove the last layer."""
        if not self._stack:
            raise TypeError(f"Sequential '{self.name}'.pop: there are no layers in the model")
        self._stack.pop()
        del self._stack_outputs[len(self._stack):]
        if self._stack and self._stack_outputs:
            self._set_graph(self._input_layer.output, self._stack_outputs[-1])
        else:
            self._graph = self._plan = None
            self.inputs, self.outputs, self.built = None, None, False

    def _chain(self, start):
        """Call layers ``start...`` symbolically, each on the previous output; set the graph."""
        del self._stack_outputs[start:]
        current = self._stack_outputs[-1] if self._stack_outputs else self._input_layer.output
        for layer in self._stack[start:]:
            current = layer(current)
            if len(graph_module.flatten(current)) != 1:
                raise ValueError(f"Sequential '{self.name}': every layer must have a single "
                                 f"output; '{layer.name}' has {len(graph_module.flatten(current))}")
            self._stack_outputs.append(current)
        self._set_graph(self._input_layer.output, current)

    def build(self, input_shape=None):
        """Build from ``input_shape`` (with the batch axis, e.g. ``(None, 28, 28, 1)``)."""
        if self.built:
            return
        who = f"Sequential '{self.name}'.build"
        if not self._stack:
            raise ValueError(f"{who}: the model has no layers; add some first")
        if self._input_layer is None:
            if input_shape is None or isinstance(input_shape, list) or len(input_shape) < 1:
                raise ValueError(f"{who}: input_shape must be one shape with the batch axis, "
                                 f"e.g. (None, 28, 28, 1), got {input_shape!r}")
            self._input_layer = InputLayer(batch_input_shape=(None,) + tuple(input_shape[1:]),
                                           dtype=self._stack[0].dtype,
                                           name=f"{self._stack[0].name}_input")
        self._chain(0)

    def summary(self, line_length=None, positions=None, print_fn=None):
        if not self.built:
            raise ValueError(f"Sequential '{self.name}': this model has not been built yet; give "
                             f"the first layer an input_shape, call build(input_shape), or call "
                             f"the model on data first")
        super().summary(line_length=line_length, positions=positions, print_fn=print_fn)

    def get_config(self):
        """``{"name", "layers": [{"class_name", "config"}, ...]}`` (TF.js's form): the first
        layer's config carries ``batch_input_shape`` once the model is built."""
        entries = [layers_module.serialize(layer) for layer in self._stack]
        if entries and self._input_layer is not None:
            first = entries[0]["config"]
            first.setdefault("batch_input_shape", list(self._input_layer.batch_input_shape))
            first.setdefault("dtype", self._input_layer.dtype)
        return {"name": self.name, "layers": entries}

    @classmethod
    def from_config(cls, config):
        """A new model from :meth:`get_config`'s form; also Keras 3's (an InputLayer entry first,
        or ``build_input_shape``) and old Keras's bare list of layers."""
        entries = config if isinstance(config, list) else (config or {}).get("layers")
        if not isinstance(entries, list):
            raise ValueError(f"Sequential.from_config: expected a 'layers' list, got "
                             f"{str(config)[:200]}")
        name = None if isinstance(config, list) else config.get("name")
        model = cls(name=name)
        for entry in entries:
            model.add(layers_module.deserialize(entry))
        build_shape = None if isinstance(config, list) else config.get("build_input_shape")
        if not model.built and build_shape and model._stack:
            model.build(tuple(build_shape))
        if not isinstance(config, list) and config.get("trainable") is False:
            model.trainable = False
        return model


layer_registry.register()(Sequential)
