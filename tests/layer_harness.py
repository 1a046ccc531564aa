"""The one harness every layer runs through (in the spirit of Keras's ``run_layer_test``).

``run_layer_test(cls, kwargs, input_shape, ...)`` checks, for one configuration:

1. the output shape equals ``compute_output_shape`` (with the batch size, and with batch None);
2. the number of weights, trainable weights, and their shapes;
3. ``get_config`` is JSON-ready (unchanged by a JSON round trip), and
   ``cls.from_config(get_config())`` gives an equal config and, with the same weights, equal outputs;
4. ``layers.serialize`` -> JSON -> ``layers.deserialize`` gives the same class and config;
5. a call on symbolic inputs (``layers.Input``) gives the same output shape, batch None;
6. float64 gradcheck of the call w.r.t. the input(s) and each trainable weight (tiny shapes).

It returns ``(layer, output)`` for the test's own checks of values.
"""
import json

import numpy as np

import minigrad as mg
from minigrad import layers
from minigrad.testing import gradcheck


def _random_inputs(input_shape, rng, dtype):
    if isinstance(input_shape, list):
        return [_random_inputs(s, rng, dtype) for s in input_shape]
    return rng.standard_normal(input_shape).astype(dtype)


def _with_batch(shape, batch):
    if isinstance(shape, list):
        return [_with_batch(s, batch) for s in shape]
    return (batch,) + tuple(shape[1:])


def _shape(t):
    return [tuple(x.shape) for x in t] if isinstance(t, list) else tuple(t.shape)


def _weight_attributes(layer):
    """{id(Variable): attribute name} for the weights a layer holds as attributes."""
    return {id(v): k for k, v in vars(layer).items() if isinstance(v, layers.Variable)}


def _substituted_call(cls, config, input_shape, trainable_index, training):
    """``fn(*inputs, *trainable_weights)`` for gradcheck: a fresh layer from ``config`` (so a seeded
    layer draws the same randomness on every call) whose trainable weights are replaced by the
    Tensors gradcheck passes in."""
    n_inputs = len(input_shape) if isinstance(input_shape, list) else 1

    def fn(*tensors):
        inputs, weights = tensors[:n_inputs], tensors[n_inputs:]
        fresh = cls.from_config(config)
        fresh.build(input_shape)
        attrs = _weight_attributes(fresh)
        for i, tensor in zip(trainable_index, weights):
            setattr(fresh, attrs[id(fresh.weights[i])], tensor)
        return fresh(list(inputs) if isinstance(input_shape, list) else inputs[0], training=training)
    return fn


def run_layer_test(cls, kwargs, input_shape, *, expected_output_shape=None,
                   expected_num_weights=0, expected_num_trainable=None,
                   expected_weight_shapes=None, training=False, run_gradcheck=True,
                   grad_input_shape=None, input_data=None, seed=0, atol=1e-5, rtol=1e-3):
    """Run every generic check on ``cls(**kwargs)`` called on an input of ``input_shape``
    (with batch axis; a list of shapes for a merging layer). See the module docstring."""
    rng = np.random.default_rng(seed)
    x = _random_inputs(input_shape, rng, np.float32) if input_data is None else input_data

    # -- construction, config before build, build, weights ---------------------------------------
    layer = cls(**kwargs)
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config, "get_config() is not JSON-ready"
    twin = cls.from_config(config)
    assert twin.get_config() == config, "from_config(get_config()) changed the config"
    assert twin.name == layer.name
    layer.build(input_shape)
    twin.build(input_shape)
    assert layer.get_config() == config, "building the layer changed its config"
    assert len(layer.weights) == expected_num_weights, [w.name for w in layer.weights]
    if expected_num_trainable is not None:
        assert len(layer.trainable_weights) == expected_num_trainable
    assert len(layer.trainable_weights) + len(layer.non_trainable_weights) == len(layer.weights)
    if expected_weight_shapes is not None:
        assert [w.shape for w in layer.weights] == [tuple(s) for s in expected_weight_shapes]
    for w in layer.weights:
        assert w.dtype == np.float32 and w.path == f"{layer.name}/{w.name}"

    # -- call: shape, and the from_config twin with the same weights gives the same output -------
    twin.set_weights(layer.get_weights())
    y = layer(x, training=training)
    assert isinstance(y, mg.Tensor) and y.dtype == np.float32
    assert _shape(y) == tuple(layer.compute_output_shape(input_shape))
    if expected_output_shape is not None:
        assert _shape(y) == tuple(expected_output_shape)
    unknown_batch = tuple(layer.compute_output_shape(_with_batch(input_shape, None)))
    assert unknown_batch == (None,) + _shape(y)[1:]
    np.testing.assert_array_equal(twin(x, training=training).numpy(), y.numpy())

    # -- serialize / deserialize through JSON ---------------------------------------------------
    entry = json.loads(json.dumps(layers.serialize(layer)))
    assert entry["class_name"] == cls.__name__
    again = layers.deserialize(entry)
    assert type(again) is cls and again.get_config() == config

    # -- symbolic call (functional API) ---------------------------------------------------------
    symbolic_layer = cls.from_config(config)
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    sym_inputs = [layers.Input(shape=s[1:]) for s in shapes]
    out = symbolic_layer(sym_inputs if isinstance(input_shape, list) else sym_inputs[0])
    assert isinstance(out, layers.SymbolicTensor)
    assert out.shape == (None,) + _shape(y)[1:] and out.layer is symbolic_layer

    # -- float64 gradcheck w.r.t. the input(s) and every trainable weight -----------------------
    if run_gradcheck:
        gshape = grad_input_shape or input_shape
        config64 = dict(config, dtype="float64")
        probe = cls.from_config(config64)
        probe.build(gshape)
        trainable = [i for i, w in enumerate(probe.weights) if w.requires_grad]
        inputs64 = _random_inputs(gshape, np.random.default_rng(seed + 1), np.float64)
        inputs64 = inputs64 if isinstance(gshape, list) else [inputs64]
        weights64 = [rng.standard_normal(probe.weights[i].shape) for i in trainable]
        gradcheck(_substituted_call(cls, config64, gshape, trainable, training),
                  inputs64 + weights64, atol=atol, rtol=rtol)
    return layer, y


def randomize_weights(model, seed=0, scale=0.5):
    """Uniform(-scale, scale) weights everywhere (so that zero biases hide nothing); returns the
    generator for the test's inputs."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.uniform(-scale, scale, size=w.shape).astype(np.float32))
    return rng


def saved_and_loaded(model, folder, name):
    """``model`` saved as ``name`` in ``folder`` ("folder": TF.js, "m.keras", "m.h5") and
    loaded back; the Keras files skip the test without h5py."""
    import pytest
    if name != "folder":
        pytest.importorskip("h5py")
    model.save(folder / name)
    return mg.models.load_model(folder / name)
