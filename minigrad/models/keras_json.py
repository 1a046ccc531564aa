"""A model's architecture as Keras 3 JSON: ``model.to_json()`` and ``model_from_json(text)``.

Keras 3 wraps every object as ``{"module", "class_name", "config", "registered_name"}`` and
writes a functional model's calls as ``{"args": [...], "kwargs": {...}}`` nodes whose tensors
are ``{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history": [layer
name, node index, tensor index]}}``. :func:`keras_config` writes that form (what
``keras.models.model_from_json`` and a ``.keras`` archive's ``config.json`` read);
:func:`model_from_config` reads it, and Keras 2's and TF.js's forms too.

The ``module`` of an entry is never imported: class names resolve only through minigrad's
registries (see :mod:`minigrad.serialization`), so a file cannot make minigrad run its code.

>>> import minigrad as mg
>>> model = mg.models.Sequential([mg.layers.Dense(2, input_shape=(3,), name="fc")], name="m")
>>> text = model.to_json()
>>> mg.models.model_from_json(text).layers[0].name
'fc'
"""
import json

from .. import layers as layers_module
from ..layers import InputLayer, Layer

# the ``module`` Keras 3 writes for each kind of nested object (informative only, for Keras)
_MODULES = {"initializer": "keras.initializers", "regularizer": "keras.regularizers",
            "constraint": "keras.constraints"}


def _entry(module, class_name, config, registered_name=None):
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": registered_name}


def _dtype_policy(name):
    return _entry("keras", "DTypePolicy", {"name": name})


def _keras3_value(key, value):
    """An initializer / regularizer / constraint entry of a layer config, with its module."""
    for kind, module in _MODULES.items():
        if key.endswith(kind) and isinstance(value, dict) and "class_name" in value:
            return _entry(module, value["class_name"], value.get("config") or {})
    return value


def _layer_config(layer):
    """``layer.get_config()`` in Keras 3's spelling: a DTypePolicy, nested entries with their
    module, no ``batch_input_shape`` (Keras 3 keeps shapes on the InputLayer)."""
    if isinstance(layer, layers_module.Layer) and hasattr(layer, "_graph"):
        return _model_config(layer)
    if isinstance(layer, InputLayer):
        return {"batch_shape": list(layer.batch_input_shape), "dtype": layer.dtype,
                "sparse": False, "name": layer.name}
    config = {key: _keras3_value(key, value) for key, value in layer.get_config().items()
              if key != "batch_input_shape"}
    if "dtype" in config:
        config["dtype"] = _dtype_policy(config["dtype"])
    return config


def _tensor(graph, tensor):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(tensor.shape), "dtype": tensor.dtype,
                       "keras_history": graph.reference(tensor)}}


def _is_sequential(model):
    # by the class's file name, not isinstance: this module is imported by functional.py, so it
    # must not import the model classes back
    return getattr(model, "file_class_name", None) == "Sequential"


def _layer_entry(layer):
    """A layer (or nested model) as Keras 3 serializes it, without the graph keys."""
    if _is_sequential(layer):
        entry = _entry("keras", "Sequential", _layer_config(layer))
    elif hasattr(layer, "_graph"):
        entry = _entry("keras.src.models.functional", "Functional", _layer_config(layer),
                       "Functional")
    else:
        entry = _entry("keras.layers", layers_module.registry.name_of(layer),
                       _layer_config(layer))
    return entry


def _model_config(model):
    """The ``config`` of a Sequential or functional model's Keras 3 entry."""
    if _is_sequential(model):
        config = {"name": model.name, "trainable": model.trainable,
                  "dtype": _dtype_policy(model.dtype), "layers": []}
        if model._input_layer is not None:
            config["layers"].append(_layer_entry(model._input_layer))
        config["layers"] += [_layer_entry(layer) for layer in model.layers]
        if model._input_layer is not None:
            config["build_input_shape"] = list(model._input_layer.batch_input_shape)
        return config
    graph, entries = model._graph, []
    for layer in graph.layers:
        entry = _layer_entry(layer)
        entry["name"] = layer.name
        nodes = [] if isinstance(layer, InputLayer) else graph.nodes_of[id(layer)]
        entry["inbound_nodes"] = []
        for node in nodes:
            tensors = [_tensor(graph, t) for t in node.inputs]
            arg = tensors[0] if len(tensors) == 1 and not isinstance(node.record.inputs, list) \
                else tensors
            entry["inbound_nodes"].append({"args": [arg], "kwargs": dict(node.record.kwargs)})
        entries.append(entry)

    def refs(tensors, single):
        out = [graph.reference(t) for t in tensors]
        return out[0] if single else out   # Keras 3 writes a lone tensor as a bare triple

    return {"name": model.name, "trainable": model.trainable, "layers": entries,
            "input_layers": refs(model.inputs, model._single_input),
            "output_layers": refs(model.outputs, model._single_output)}


def keras_config(model):
    """The Keras 3 entry of a built model: ``{"module", "class_name", "config",
    "registered_name", "build_config"}``, as ``keras.saving.serialize_keras_object`` writes it
    (the architecture only: no weights, no compile settings)."""
    if not hasattr(model, "_graph") or model._graph is None:
        raise ValueError(f"{type(model).__name__} '{getattr(model, 'name', '?')}': the model must "
                         f"be built (its input shape known) to be written as Keras JSON")
    entry = _layer_entry(model)
    shapes = [list(t.shape) for t in model.inputs]
    entry["build_config"] = {"input_shape": shapes[0] if model._single_input else shapes}
    return entry


def to_json(model, **kwargs):
    """``json.dumps(keras_config(model), **kwargs)``: Keras 3's ``model.to_json()``."""
    return json.dumps(keras_config(model), **kwargs)


def model_from_config(config):
    """A new model (fresh weights) from an architecture in any dialect minigrad reads: a Keras 3
    entry (``.keras`` ``config.json``, ``to_json``), Keras 2's ``{"class_name": "Functional" |
    "Model" | "Sequential", "config"}`` (also inside the ``model_config`` of an ``.h5`` file or the
    ``modelTopology`` of a TF.js ``model.json``, the converter's included). Anything but a model
    is refused."""
    # a whole TF.js model.json ("modelTopology"), whose converter-written topology wraps the
    # entry once more ({"keras_version", "backend", "model_config"}), as an .h5 attribute does
    while isinstance(config, dict) and "class_name" not in config:
        inner = next((config[key] for key in ("modelTopology", "model_config")
                      if isinstance(config.get(key), dict)), None)
        if inner is None:
            break
        config = inner
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"model_from_config: expected a {{\"class_name\": ..., \"config\": "
                         f"{{...}}}} model entry, got {str(config)[:200]}")
    model = layers_module.deserialize(config)
    if not (isinstance(model, Layer) and hasattr(model, "_graph")):
        raise ValueError(f"model_from_config: expected a model (Functional, Model or "
                         f"Sequential), got class_name {config['class_name']!r}")
    return model


def model_from_json(json_string):
    """A new model from :func:`to_json`'s text, or Keras 3's, Keras 2's or TF.js's."""
    if not isinstance(json_string, (str, bytes)):
        raise TypeError(f"model_from_json: expected JSON text, got {type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except ValueError as e:
        raise ValueError(f"model_from_json: not valid JSON ({e})") from None
    return model_from_config(config)


__all__ = ["keras_config", "to_json", "model_from_config", "model_from_json"]
