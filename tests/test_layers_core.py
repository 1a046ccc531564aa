"""Dense, Activation, ReLU, Dropout, Flatten, Reshape, Add, InputLayer / Input, and the Layer
base class behaviour they share (names, weights, dtype casting, symbolic calls)."""
import json

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers
from layer_harness import run_layer_test


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# -- Dense ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,shape", [
    (dict(units=3, activation="tanh"), (2, 4)),
    (dict(units=2, use_bias=False), (3, 5)),
    (dict(units=3, activation="softmax", bias_initializer="random_normal"), (2, 3, 4)),
])
def test_dense(kwargs, shape):
    use_bias = kwargs.get("use_bias", True)
    layer, y = run_layer_test(layers.Dense, kwargs, shape, expected_num_weights=1 + use_bias,
                              expected_weight_shapes=[(shape[-1], kwargs["units"])] +
                              ([(kwargs["units"],)] if use_bias else []))
    z = _x(shape).astype(np.float64) @ layer.kernel.numpy()
    if use_bias:
        z = z + layer.bias.numpy()
    if kwargs.get("activation") == "tanh":
        z = np.tanh(z)
    elif kwargs.get("activation") == "softmax":
        z = np.exp(z - z.max(-1, keepdims=True))
        z /= z.sum(-1, keepdims=True)
    np.testing.assert_allclose(y.numpy(), z, rtol=1e-5, atol=1e-6)


def test_dense_keras3_entry_loads():
    config = dict(layers.Dense(4, activation="relu", name="fc").get_config(),
                  quantization_config=None,
                  dtype={"module": "keras", "class_name": "DTypePolicy",
                         "config": {"name": "float32"}, "registered_name": None})
    layer = layers.deserialize({"module": "keras.layers", "class_name": "Dense", "config": config,
                                "registered_name": None, "build_config": {"input_shape": [None, 3]}})
    assert (layer.units, layer.name, layer.dtype) == (4, "fc", "float32")
    assert layer(np.ones((2, 3))).shape == (2, 4)


def test_dense_names_and_default_naming():
    mg.utils.clear_session()   # automatic names count per process: start from none
    a, b = layers.Dense(2), layers.Dense(2)
    assert (a.name, b.name) == ("dense", "dense_1")
    a.build((None, 3))
    assert [w.path for w in a.weights] == ["dense/kernel", "dense/bias"]


def test_automatic_names_are_keras_3s():
    mg.utils.clear_session()
    made = [layers.Conv2D(2, 1), layers.DepthwiseConv2D(3), layers.SeparableConv2D(2, 1),
            layers.BatchNormalization(), layers.ReLU(), layers.ReLU(), layers.MaxPooling2D(),
            layers.AveragePooling2D(), layers.GlobalAveragePooling2D(), layers.ZeroPadding2D(),
            layers.Dense(2), layers.Dropout(0.5), layers.Flatten(), layers.Reshape((2,)),
            layers.Activation("relu"), layers.Add(), layers.InputLayer(shape=(2,))]
    assert [layer.name for layer in made] == [
        "conv2d", "depthwise_conv2d", "separable_conv2d", "batch_normalization", "re_lu", "re_lu_1",
        "max_pooling2d", "average_pooling2d", "global_average_pooling2d", "zero_padding2d", "dense",
        "dropout", "flatten", "reshape", "activation", "add", "input_layer"]


def test_dense_casts_a_float64_tensor_to_its_dtype():
    layer = layers.Dense(2)
    y = layer(mg.Tensor(np.ones((1, 3)), requires_grad=True))
    assert y.dtype == np.float32


def test_set_weights_checks_count_and_shapes_before_writing():
    layer = layers.Dense(2)
    layer.build((None, 3))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"expected 2 arrays, got 1"):
        layer.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"weight 'bias' has shape \(2,\), got an array of shape \(3,\)"):
        layer.set_weights([np.ones((3, 2)), np.zeros(3)])
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)  # nothing was written
    layer.set_weights([np.ones((3, 2)), mg.Tensor(np.full(2, 7.0))])
    np.testing.assert_array_equal(layer.bias.numpy(), [7, 7])


# -- Activation and ReLU ----------------------------------------------------------------------------
@pytest.mark.parametrize("name,fn", [
    ("relu", lambda v: np.maximum(v, 0)), ("sigmoid", lambda v: 1 / (1 + np.exp(-v))),
    ("linear", lambda v: v), ("softplus", lambda v: np.log1p(np.exp(v))),
])
def test_activation(name, fn):
    layer, y = run_layer_test(layers.Activation, dict(activation=name), (2, 5))
    assert layer.get_config()["activation"] == name
    np.testing.assert_allclose(y.numpy(), fn(_x((2, 5)).astype(np.float64)), rtol=1e-5, atol=1e-6)


def _keras_relu(v, max_value=None, negative_slope=0.0, threshold=0.0):
    out = np.where(v >= threshold, v, negative_slope * (v - threshold))
    return out if max_value is None else np.minimum(out, max_value)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(max_value=6.0), dict(max_value=0.5), dict(negative_slope=0.1),
    dict(max_value=1.0, negative_slope=0.2, threshold=0.3),
])
def test_relu(kwargs):
    x = _x((3, 4)) * 4
    layer, y = run_layer_test(layers.ReLU, kwargs, (3, 4), input_data=x)
    np.testing.assert_allclose(y.numpy(), _keras_relu(x.astype(np.float64), **kwargs), rtol=1e-6)


def test_relu_tfjs_config_gives_relu6():
    layer = layers.deserialize({"class_name": "ReLU", "config": {"max_value": 6, "name": "r",
                                                                 "trainable": True}})
    np.testing.assert_array_equal(layer(np.array([[-1.0, 3.0, 9.0]])).numpy(), [[0, 3, 6]])


# -- Dropout ----------------------------------------------------------------------------------------
def test_dropout_harness_in_training_and_inference():
    run_layer_test(layers.Dropout, dict(rate=0.5, seed=3), (2, 6), training=True)
    layer, y = run_layer_test(layers.Dropout, dict(rate=0.5), (2, 6))
    np.testing.assert_array_equal(y.numpy(), _x((2, 6)))  # inference: the identity


def test_dropout_training_drops_and_rescales():
    x = np.ones((200, 50), np.float32)
    layer = layers.Dropout(0.3, seed=1)
    t = mg.Tensor(x, requires_grad=True)
    y = layer(t, training=True)
    kept = y.numpy() != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, y.numpy())  # dL/dx = the mask


def test_dropout_seed_gives_a_reproducible_sequence_of_masks():
    a, b = layers.Dropout(0.5, seed=7), layers.Dropout(0.5, seed=7)
    x = np.ones((4, 8), np.float32)
    first, second = a(x, training=True).numpy(), a(x, training=True).numpy()
    assert not np.array_equal(first, second)  # each call draws a new mask
    np.testing.assert_array_equal(b(x, training=True).numpy(), first)
    np.testing.assert_array_equal(b(x, training=True).numpy(), second)


def test_dropout_noise_shape_shares_the_mask():
    layer = layers.Dropout(0.5, noise_shape=(None, 1, 1, 3), seed=0)
    y = layer(np.ones((4, 2, 2, 3), np.float32), training=True).numpy()
    assert (y == y[:, :1, :1, :]).all()
    assert layer.get_config()["noise_shape"] == [None, 1, 1, 3]


# -- Flatten and Reshape ----------------------------------------------------------------------------
def test_flatten():
    x = _x((2, 3, 2, 2))
    _, y = run_layer_test(layers.Flatten, {}, (2, 3, 2, 2), expected_output_shape=(2, 12))
    np.testing.assert_array_equal(y.numpy(), x.reshape(2, -1))
    # channels_first moves channels last first, so both layouts give the same vector
    _, y = run_layer_test(layers.Flatten, dict(data_format="channels_first"), (2, 3, 2, 2))
    np.testing.assert_array_equal(y.numpy(), x.transpose(0, 2, 3, 1).reshape(2, -1))


@pytest.mark.parametrize("target,expected", [((6, 2), (2, 6, 2)), ((-1, 3), (2, 4, 3)),
                                             ((12,), (2, 12))])
def test_reshape(target, expected):
    _, y = run_layer_test(layers.Reshape, dict(target_shape=target), (2, 3, 2, 2),
                          expected_output_shape=expected)
    np.testing.assert_array_equal(y.numpy(), _x((2, 3, 2, 2)).reshape(expected))
    assert layers.Reshape(target).compute_output_shape((None, 3, None, 2))[0] is None


# -- Add ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3])
def test_add(n):
    shapes = [(2, 3, 2)] * n
    _, y = run_layer_test(layers.Add, {}, shapes)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    np.testing.assert_allclose(y.numpy(), sum(xs), rtol=1e-6)


def test_add_symbolic_output_shape_fills_unknown_sizes():
    assert layers.Add().compute_output_shape([(None, 3, None), (None, None, 4)]) == (None, 3, 4)


# -- InputLayer and Input ---------------------------------------------------------------------------
def test_input_makes_a_symbolic_tensor_from_an_input_layer():
    x = layers.Input(shape=(28, 28, 1), name="image")
    assert isinstance(x, layers.SymbolicTensor)
    assert x.shape == (None, 28, 28, 1) and x.dtype == "float32"
    assert isinstance(x.layer, layers.InputLayer) and x.layer.name == "image"
    assert (x.node_index, x.tensor_index) == (0, 0)
    record = x.layer._call_records[0]
    assert record.inputs == [] and record.outputs is x
    assert layers.Input(batch_shape=(8, 4)).shape == (8, 4)
    assert layers.Input(shape=(4,), batch_size=2, dtype="float64").dtype == "float64"


def test_input_layer_config_round_trip_reads_like_tfjs():
    layer = layers.Input(shape=(10, 10, 3), name="img").layer
    config = layer.get_config()
    assert config == {"batch_input_shape": [None, 10, 10, 3], "dtype": "float32", "sparse": False,
                      "name": "img"}
    again = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert again.get_config() == config and again.output.shape == (None, 10, 10, 3)
    keras3 = layers.deserialize({"class_name": "InputLayer", "config": {
        "batch_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
        "name": "k3"}})
    assert keras3.output.shape == (None, 4)


def test_symbolic_calls_chain_and_are_recorded():
    x = layers.Input(shape=(6, 6, 2))
    conv = layers.Conv2D(4, 3, padding="same")
    y = conv(x)
    z = layers.GlobalAveragePooling2D()(y)
    out = layers.Dense(3)(z)
    assert (y.shape, z.shape, out.shape) == ((None, 6, 6, 4), (None, 4), (None, 3))
    assert conv.built and conv._call_records[0].inputs is x and conv._call_records[0].outputs is y
    y2 = conv(layers.Input(shape=(5, 5, 2)))
    assert y2.node_index == 1 and y2.shape == (None, 5, 5, 4)
    with pytest.raises(ValueError, match="all inputs must have the same shape"):
        layers.Add()([y, y2])  # (None, 6, 6, 4) + (None, 5, 5, 4)


def test_layer_dtype_float64_makes_float64_weights_and_outputs():
    layer = layers.Dense(2, dtype="float64")
    y = layer(np.ones((1, 3)))
    assert layer.kernel.dtype == np.float64 and y.dtype == np.float64
    assert layer.get_config()["dtype"] == "float64"
