"""Conv2D, DepthwiseConv2D, SeparableConv2D: the harness, values against a NumPy reference,
regularization losses, and configs written by Keras 3 and TF.js (including TF.js's
depthwise_constraint bug)."""
import json
import pathlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad import constraints, layers, regularizers
from layer_harness import run_layer_test

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "tfjs"


# -- a NumPy reference, written independently of minigrad.ops.geometry ------------------------------
def _pad_amounts(n, k, s, d, padding):
    eff = (k - 1) * d + 1
    if padding == "valid":
        return (n - eff) // s + 1, 0, 0
    out = -(-n // s)
    total = max((out - 1) * s + eff - n, 0)
    return out, total // 2, total - total // 2


def reference_conv(x, kernel, strides=(1, 1), padding="valid", dilation=(1, 1),
                   depthwise=False, channels_first=False):
    """Cross-correlation in float64, NHWC; kernel (kh, kw, C, F) or depthwise (kh, kw, C, M)."""
    x = np.asarray(x, np.float64)
    if channels_first:
        x = x.transpose(0, 2, 3, 1)
    kh, kw, c, f = kernel.shape
    (oh, pt, pb), (ow, pl, pr) = (_pad_amounts(n, k, s, d, padding) for n, k, s, d in
                                  zip(x.shape[1:3], (kh, kw), strides, dilation))
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    out = np.zeros((x.shape[0], oh, ow, c * f if depthwise else f))
    for a in range(kh):
        for b in range(kw):
            r0, c0 = a * dilation[0], b * dilation[1]
            patch = xp[:, r0:r0 + (oh - 1) * strides[0] + 1:strides[0],
                       c0:c0 + (ow - 1) * strides[1] + 1:strides[1], :]
            if depthwise:
                out += (patch[..., :, None] * kernel[a, b]).reshape(out.shape)
            else:
                out += patch @ kernel[a, b]
    return out.transpose(0, 3, 1, 2) if channels_first else out


def _bias_shape(y, channels_first):
    return (1, -1, 1, 1) if channels_first else (1, 1, 1, -1)


# -- the harness on each layer ---------------------------------------------------------------------
CONV_CASES = [
    (dict(filters=2, kernel_size=2, padding="same", activation="relu"), (2, 4, 4, 3)),
    (dict(filters=3, kernel_size=(2, 3), strides=2, use_bias=False), (1, 5, 6, 2)),
    (dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"), (1, 5, 5, 2)),
    (dict(filters=2, kernel_size=1, data_format="channels_first", activation="relu6"), (2, 3, 3, 2)),
    (dict(filters=2, kernel_size=2, strides=(1, 2), data_format="channels_first"), (1, 2, 4, 5)),
]


@pytest.mark.parametrize("kwargs,shape", CONV_CASES)
def test_conv2d_harness_and_values(kwargs, shape):
    layer, y = run_layer_test(layers.Conv2D, kwargs, shape,
                              expected_num_weights=2 if kwargs.get("use_bias", True) else 1)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    cf = kwargs.get("data_format") == "channels_first"
    expected = reference_conv(x, layer.kernel.numpy().astype(np.float64), layer.strides,
                              layer.padding, layer.dilation_rate, channels_first=cf)
    if layer.bias is not None:
        expected = expected + layer.bias.numpy().reshape(_bias_shape(expected, cf))
    expected = {"relu": lambda v: np.maximum(v, 0), "relu6": lambda v: np.clip(v, 0, 6)}.get(
        kwargs.get("activation"), lambda v: v)(expected)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


DEPTHWISE_CASES = [
    (dict(kernel_size=3, padding="same"), (2, 4, 4, 2)),
    (dict(kernel_size=(2, 3), depth_multiplier=2, strides=2, activation="relu"), (1, 5, 6, 2)),
    (dict(kernel_size=2, dilation_rate=2, depth_multiplier=3, use_bias=False), (1, 5, 5, 2)),
    (dict(kernel_size=3, strides=2, padding="same", data_format="channels_first"), (1, 3, 4, 4)),
    (dict(kernel_size=2, depth_multiplier=2, data_format="channels_first", dilation_rate=(2, 1)),
     (2, 2, 4, 3)),
]


@pytest.mark.parametrize("kwargs,shape", DEPTHWISE_CASES)
def test_depthwise_conv2d_harness_and_values(kwargs, shape):
    m = kwargs.get("depth_multiplier", 1)
    cf = kwargs.get("data_format") == "channels_first"
    c = shape[1] if cf else shape[-1]
    k = layers.DepthwiseConv2D(**kwargs).kernel_size
    shapes = [k + (c, m)] + ([(c * m,)] if kwargs.get("use_bias", True) else [])
    layer, y = run_layer_test(layers.DepthwiseConv2D, kwargs, shape,
                              expected_num_weights=len(shapes), expected_weight_shapes=shapes)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    expected = reference_conv(x, layer.depthwise_kernel.numpy().astype(np.float64), layer.strides,
                              layer.padding, layer.dilation_rate, depthwise=True, channels_first=cf)
    if layer.bias is not None:
        expected = expected + layer.bias.numpy().reshape(_bias_shape(expected, cf))
    if kwargs.get("activation") == "relu":
        expected = np.maximum(expected, 0)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=20, deadline=None)
@given(kh=st.integers(1, 3), kw=st.integers(1, 3), m=st.integers(1, 3), c=st.integers(1, 3),
       h=st.integers(3, 7), w=st.integers(3, 7), sh=st.integers(1, 3), sw=st.integers(1, 3),
       dh=st.integers(1, 2), dw=st.integers(1, 2), padding=st.sampled_from(["valid", "same"]),
       data_format=st.sampled_from(["channels_last", "channels_first"]))
def test_depthwise_conv2d_random_configurations(kh, kw, m, c, h, w, sh, sw, dh, dw, padding,
                                                 data_format):
    cf = data_format == "channels_first"
    if padding == "valid" and ((kh - 1) * dh + 1 > h or (kw - 1) * dw + 1 > w):
        return  # an empty output: refused, see test_layers_errors
    shape = (2, c, h, w) if cf else (2, h, w, c)
    layer = layers.DepthwiseConv2D((kh, kw), strides=(sh, sw), padding=padding,
                                   depth_multiplier=m, data_format=data_format,
                                   dilation_rate=(dh, dw), bias_initializer="random_normal")
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    y = layer(x)
    assert y.shape == layer.compute_output_shape(shape)
    expected = reference_conv(x, layer.depthwise_kernel.numpy().astype(np.float64), (sh, sw),
                              padding, (dh, dw), depthwise=True, channels_first=cf)
    expected += layer.bias.numpy().reshape(_bias_shape(expected, cf))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_depthwise_strides_with_dilation_are_allowed():
    layer = layers.DepthwiseConv2D(3, strides=2, dilation_rate=2, padding="same")
    x = np.random.default_rng(2).standard_normal((1, 7, 7, 2)).astype(np.float32)
    y = layer(x)
    expected = reference_conv(x, layer.depthwise_kernel.numpy().astype(np.float64), (2, 2), "same",
                              (2, 2), depthwise=True)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)
    # SeparableConv2D strides and dilates its depthwise step, so it allows the pair too
    assert layers.SeparableConv2D(2, 3, strides=2, dilation_rate=2)(x).shape == (1, 2, 2, 2)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_separable_conv2d_is_depthwise_then_pointwise(data_format):
    cf = data_format == "channels_first"
    shape = (2, 2, 5, 5) if cf else (2, 5, 5, 2)
    kwargs = dict(filters=3, kernel_size=3, depth_multiplier=2, strides=2, padding="same",
                  data_format=data_format, activation="relu")
    layer, y = run_layer_test(layers.SeparableConv2D, kwargs, shape, expected_num_weights=3,
                              expected_weight_shapes=[(3, 3, 2, 2), (1, 1, 4, 3), (3,)])
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    mid = reference_conv(x, layer.depthwise_kernel.numpy().astype(np.float64), (2, 2), "same",
                         (1, 1), depthwise=True, channels_first=cf)
    out = reference_conv(mid, layer.pointwise_kernel.numpy().astype(np.float64), channels_first=cf)
    out = np.maximum(out + layer.bias.numpy().reshape(_bias_shape(out, cf)), 0)
    np.testing.assert_allclose(y.numpy(), out, rtol=1e-5, atol=1e-5)
    assert [w.name for w in layer.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]


# -- weights, regularizers, constraints -------------------------------------------------------------
def test_weight_names_order_and_paths():
    layer = layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")
    layer.build((None, 6, 6, 4))
    assert [w.path for w in layer.weights] == ["dw/depthwise_kernel", "dw/bias"]
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 4, 2), (8,)]
    assert layer.count_params() == 3 * 3 * 4 * 2 + 8


def test_regularization_losses_follow_the_weights_and_output():
    layer = layers.DepthwiseConv2D(2, depthwise_regularizer=regularizers.L2(0.1),
                                   bias_regularizer="l1", activity_regularizer=regularizers.L1(0.5),
                                   bias_initializer="ones")
    x = np.random.default_rng(0).standard_normal((1, 3, 3, 2)).astype(np.float32)
    y = layer(x)
    losses = [t.item() for t in layer.losses]
    k = layer.depthwise_kernel.numpy().astype(np.float64)
    assert losses == pytest.approx([0.1 * np.sum(k ** 2), 0.01 * 2.0,
                                    0.5 * np.abs(y.numpy().astype(np.float64)).sum()], rel=1e-5)
    layer.losses[0].backward()  # the penalty is differentiable w.r.t. the weight
    np.testing.assert_allclose(layer.depthwise_kernel.grad, 0.2 * k, rtol=1e-5)


def test_trainable_false_freezes_weights():
    layer = layers.Conv2D(2, 2, trainable=False)
    layer.build((None, 3, 3, 1))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not any(w.requires_grad for w in layer.weights)
    layer.trainable = True
    assert all(w.requires_grad for w in layer.weights)


def test_depthwise_config_writes_the_real_constraint():
    layer = layers.DepthwiseConv2D(3, depthwise_constraint=constraints.MaxNorm(2, axis=0),
                                   depthwise_regularizer=regularizers.L2(1e-4))
    config = layer.get_config()
    assert config["depthwise_constraint"] == constraints.serialize(layer.depthwise_constraint)
    assert config["depthwise_constraint"]["class_name"] == "MaxNorm"
    assert config["depthwise_regularizer"]["class_name"] == "L2"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a correct config loads without a warning
        again = layers.DepthwiseConv2D.from_config(config)
    assert isinstance(again.depthwise_constraint, constraints.MaxNorm)


# -- configs written by TF.js and Keras 3 -----------------------------------------------------------
def _layer_entries(name):
    topology = json.loads((FIXTURES / name / "model.json").read_text())["modelTopology"]
    return topology["config"]["layers"]


def test_tfjs_depthwise_constraint_bug_is_repaired_with_a_warning():
    entry = next(e for e in _layer_entries("mobilenet_v1_tiny") if e["class_name"] == "DepthwiseConv2D")
    assert entry["config"]["depthwise_constraint"]["class_name"] == "L1L2"  # TF.js's mix-up
    with pytest.warns(UserWarning, match=r"depthwise_constraint holds the regularizer .*L1L2.*dropped"):
        layer = layers.deserialize(entry)
    assert layer.depthwise_constraint is None
    assert isinstance(layer.depthwise_regularizer, regularizers.L1L2)
    assert layer.get_config()["depthwise_constraint"] is None

    # with no regularizer in the entry, the misplaced one becomes the regularizer
    config = dict(entry["config"], depthwise_regularizer=None)
    with pytest.warns(UserWarning, match="used it as depthwise_regularizer"):
        layer = layers.DepthwiseConv2D.from_config(config)
    assert layer.depthwise_regularizer.get_config() == {"l1": 0.0, "l2": 0.0001}


def test_tfjs_entries_load_with_camel_case_class_names():
    for name in ("mobilenet_v1_tiny", "depthwise_variants", "mlp"):
        for entry in _layer_entries(name):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                layer = layers.deserialize(entry)
            assert type(layer).__name__ == entry["class_name"]
            assert layer.name == entry["config"]["name"]
    dw = layers.deserialize(_layer_entries("depthwise_variants")[2])
    assert (dw.kernel_size, dw.strides, dw.padding, dw.depth_multiplier) == ((3, 5), (2, 2), "same", 2)
    assert type(dw.depthwise_initializer).__name__ == "VarianceScaling"


def test_keras3_conv_entry_loads():
    entry = {"module": "keras.layers", "class_name": "Conv2D", "registered_name": None,
             "build_config": {"input_shape": [None, 8, 8, 3]},
             "config": {"name": "conv", "trainable": True,
                        "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                  "config": {"name": "float32"}, "registered_name": None},
                        "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
                        "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
                        "activation": "relu", "use_bias": True,
                        "kernel_initializer": {"module": "keras.initializers",
                                               "class_name": "GlorotUniform",
                                               "config": {"seed": None}, "registered_name": None},
                        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros",
                                             "config": {}, "registered_name": None},
                        "kernel_regularizer": None, "bias_regularizer": None,
                        "activity_regularizer": None, "kernel_constraint": None,
                        "bias_constraint": None}}
    layer = layers.deserialize(entry)
    assert (layer.filters, layer.kernel_size, layer.dtype) == (4, (3, 3), "float32")
    assert layer(np.zeros((1, 8, 8, 3))).shape == (1, 8, 8, 4)


def test_keras_aliases_resolve():
    entry = layers.serialize(layers.Conv2D(2, 3))
    entry["class_name"] = "Convolution2D"
    assert type(layers.deserialize(entry)) is layers.Conv2D


@pytest.mark.parametrize("class_name,kwargs,input_shape", [
    ("Conv1D", {"filters": 3, "kernel_size": 2, "activity_regularizer": "l2"}, (2, 5, 2)),
    ("Conv2D", {"filters": 2, "kernel_size": 2, "activity_regularizer": {"class_name": "L1L2",
                "config": {"l1": 0.02, "l2": 0.05}}, "kernel_regularizer": "l2"}, (3, 4, 4, 2)),
    ("DepthwiseConv2D", {"kernel_size": 2, "activity_regularizer": "l1"}, (4, 3, 3, 2)),
    ("Dense", {"units": 3, "activity_regularizer": "l2", "bias_regularizer": "l1"}, (5, 4)),
])
def test_activity_regularization_is_divided_by_the_batch_as_keras3(keras, class_name, kwargs,
                                                                   input_shape):
    """Keras 3 divides the penalty of a layer's output by the batch size (the weights'
    penalties not); found by a fuzz comparing layer.losses with Keras's."""
    kwargs = {k: keras.regularizers.get(v) if "regularizer" in k else v for k, v in kwargs.items()}
    theirs = getattr(keras.layers, class_name)(**kwargs)
    x = np.random.default_rng(3).standard_normal(input_shape).astype(np.float32)
    theirs(x)
    ours = layers.deserialize({"class_name": class_name, "config": theirs.get_config()})
    ours.build(input_shape)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    ours(x)
    want = sorted(float(np.asarray(loss.detach() if hasattr(loss, "detach") else loss))
                  for loss in theirs.losses)
    got = sorted(loss.item() for loss in ours.losses)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
