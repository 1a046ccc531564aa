"""Max/AveragePooling1D/2D, GlobalMax/AveragePooling1D/2D, ZeroPadding2D: the harness, values
against NumPy (TensorFlow's 'same' rule: averages over real pixels only), the 1-D and global ops
(hypothesis-drawn geometry, float64 gradcheck), errors, Keras 3 as oracle (forward and gradients,
from Keras's own config) and TF.js predicting a model saved by minigrad."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import layers
from minigrad.ops.pooling import (avg_pool1d, global_avg_pool1d, global_max_pool1d,
                                  global_max_pool2d, max_pool1d)
from minigrad.layers.pooling import (AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D,
                                     GlobalMaxPooling2D, MaxPooling1D)
from minigrad.testing import gradcheck
from keras_oracle import match_keras_layer
from layer_harness import run_layer_test


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def reference_pool(x, pool, strides, padding, reduce):
    """NHWC pooling in float64 over the real pixels of each window."""
    n, h, w, c = x.shape
    out_hw, pads = [], []
    for size, k, s in zip((h, w), pool, strides):
        if padding == "valid":
            out_hw.append((size - k) // s + 1)
            pads.append(0)
        else:
            o = -(-size // s)
            out_hw.append(o)
            pads.append(max((o - 1) * s + k - size, 0) // 2)
    out = np.empty((n, out_hw[0], out_hw[1], c))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            r0, c0 = i * strides[0] - pads[0], j * strides[1] - pads[1]
            win = x[:, max(r0, 0):r0 + pool[0], max(c0, 0):c0 + pool[1], :].astype(np.float64)
            out[:, i, j, :] = reduce(win, axis=(1, 2))
    return out


@pytest.mark.parametrize("cls,reduce", [(layers.MaxPooling2D, np.max),
                                        (layers.AveragePooling2D, np.mean)])
@pytest.mark.parametrize("kwargs,shape", [
    (dict(), (2, 4, 4, 2)),
    (dict(pool_size=3, strides=2, padding="same"), (1, 5, 4, 2)),
    (dict(pool_size=(2, 3), strides=1), (1, 4, 5, 1)),
    (dict(pool_size=2, padding="same", data_format="channels_first"), (2, 2, 5, 3)),
])
def test_pooling(cls, reduce, kwargs, shape):
    x = _x(shape)
    layer, y = run_layer_test(cls, kwargs, shape)
    cf = kwargs.get("data_format") == "channels_first"
    nhwc = x.transpose(0, 2, 3, 1) if cf else x
    expected = reference_pool(nhwc, layer.pool_size, layer.strides, layer.padding, reduce)
    if cf:
        expected = expected.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_pooling_config_writes_strides_equal_to_pool_size_by_default():
    config = layers.MaxPooling2D(pool_size=3).get_config()
    assert (config["pool_size"], config["strides"], config["padding"]) == ([3, 3], [3, 3], "valid")


@pytest.mark.parametrize("kwargs,shape,expected", [
    (dict(), (2, 3, 4, 5), (2, 5)),
    (dict(keepdims=True), (2, 3, 4, 5), (2, 1, 1, 5)),
    (dict(data_format="channels_first"), (2, 5, 3, 4), (2, 5)),
    (dict(data_format="channels_first", keepdims=True), (2, 5, 3, 4), (2, 5, 1, 1)),
])
def test_global_average_pooling(kwargs, shape, expected):
    _, y = run_layer_test(layers.GlobalAveragePooling2D, kwargs, shape, expected_output_shape=expected)
    axes = (2, 3) if kwargs.get("data_format") == "channels_first" else (1, 2)
    np.testing.assert_allclose(y.numpy(), _x(shape).mean(axes, keepdims=kwargs.get("keepdims", False)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding,widths", [
    (1, ((1, 1), (1, 1))), ((2, 0), ((2, 2), (0, 0))), (((1, 0), (2, 3)), ((1, 0), (2, 3))),
])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_zero_padding(padding, widths, data_format):
    shape = (2, 3, 2, 2)
    _, y = run_layer_test(layers.ZeroPadding2D, dict(padding=padding, data_format=data_format), shape)
    full = ((0, 0), (0, 0)) + widths if data_format == "channels_first" else ((0, 0),) + widths + ((0, 0),)
    np.testing.assert_array_equal(y.numpy(), np.pad(_x(shape), full))
    assert layers.ZeroPadding2D(padding).get_config()["padding"] == [list(p) for p in widths]


# -- 1-D pooling: an image one row high -------------------------------------------------------

def reference_pool1d(x, pool, stride, padding, reduce, channels_first=False):
    """(N, L, C) pooling in float64 via the 2-D reference on (N, 1, L, C)."""
    nlc = x.transpose(0, 2, 1) if channels_first else x
    y = reference_pool(nlc[:, None], (1, pool), (1, stride), padding, reduce)[:, 0]
    return y.transpose(0, 2, 1) if channels_first else y


@pytest.mark.parametrize("cls,reduce", [(MaxPooling1D, np.max),
                                        (AveragePooling1D, np.mean)])
@pytest.mark.parametrize("kwargs,shape,expected", [
    (dict(pool_size=2), (2, 6, 3), (2, 3, 3)),
    (dict(pool_size=3, strides=2, padding="same"), (2, 7, 2), (2, 4, 2)),
    (dict(pool_size=2, strides=1, padding="same"), (1, 5, 2), (1, 5, 2)),
    (dict(pool_size=3, strides=1), (2, 5, 1), (2, 3, 1)),
    (dict(pool_size=2, padding="same", data_format="channels_first"), (2, 3, 5), (2, 3, 3)),
    (dict(pool_size=3, strides=2, data_format="channels_first"), (1, 2, 8), (1, 2, 3)),
])
def test_pooling1d(cls, reduce, kwargs, shape, expected):
    x = _x(shape)
    layer, y = run_layer_test(cls, kwargs, shape, input_data=x, expected_output_shape=expected)
    (k,), (s,) = layer.pool_size, layer.strides
    want = reference_pool1d(x, k, s, layer.padding, reduce,
                            layer.data_format == "channels_first")
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-6, atol=1e-6)


def test_pooling1d_keras_defaults_and_config():
    layer = MaxPooling1D()
    assert (layer.pool_size, layer.strides, layer.padding, layer.data_format) == \
        ((2,), (2,), "valid", "channels_last")
    with pytest.raises(TypeError, match="pool_size"):
        AveragePooling1D()   # Keras 3 has no default for it
    config = AveragePooling1D(pool_size=3, strides=1, padding="SAME").get_config()
    assert (config["pool_size"], config["strides"], config["padding"]) == ([3], [1], "same")


def test_layers_are_exported_and_registered_with_keras_aliases():
    for cls, alias in [(MaxPooling1D, "MaxPool1D"), (AveragePooling1D, "AvgPool1D"),
                       (GlobalMaxPooling1D, "GlobalMaxPool1D"),
                       (GlobalMaxPooling2D, "GlobalMaxPool2D"),
                       (GlobalAveragePooling1D, "GlobalAvgPool1D")]:
        assert getattr(layers, cls.__name__) is cls
        for name in (cls.__name__, alias):
            config = {"pool_size": 2} if cls is AveragePooling1D else {}
            assert type(layers.deserialize({"class_name": name, "config": config})) is cls


def test_average_pooling1d_same_averages_real_steps_only():
    # TF's rule: a window hanging over the end divides by the steps it really covers
    x = np.array([1.0, 3.0, 2.0, 6.0], np.float32).reshape(1, 4, 1)
    y = AveragePooling1D(pool_size=3, strides=2, padding="same")(x)
    # out = ceil(4 / 2) = 2, total padding (2 - 1) * 2 + 3 - 4 = 1, all of it at the end
    np.testing.assert_allclose(y.numpy().ravel(), [(1 + 3 + 2) / 3, (2 + 6) / 2])


def test_max_pooling1d_gradient_goes_to_the_maximum():
    x = mg.Tensor(np.array([[[0.5], [2.0], [-1.0], [0.25], [3.0], [1.0]]], np.float32),
                  requires_grad=True)
    MaxPooling1D(pool_size=3)(x).backward(np.array([[[10.0], [20.0]]], np.float32))
    np.testing.assert_array_equal(x.grad.ravel(), [0, 10, 0, 0, 20, 0])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), length=st.integers(1, 7), c=st.integers(1, 2), k=st.integers(1, 4),
       s=st.integers(1, 3), padding=st.sampled_from(["valid", "same"]),
       channels_first=st.booleans(), seed=st.integers(0, 2**16))
def test_pool1d_ops_match_numpy_and_finite_differences(n, length, c, k, s, padding,
                                                      channels_first, seed):
    if padding == "valid" and k > length:
        return   # no output: the layer refuses it (tested in test_layers_errors)
    rng = np.random.default_rng(seed)
    shape = (n, c, length) if channels_first else (n, length, c)
    x = rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) / 4  # no ties
    fmt = "channels_first" if channels_first else "channels_last"
    for op, reduce in ((max_pool1d, np.max), (avg_pool1d, np.mean)):
        y = op(x, k, strides=s, padding=padding, data_format=fmt)
        np.testing.assert_allclose(y.numpy(), reference_pool1d(x, k, s, padding, reduce,
                                                               channels_first), rtol=1e-12)
        assert gradcheck(lambda t, op=op: op(t, k, strides=s, padding=padding, data_format=fmt),
                         [x])


# -- global pooling --------------------------------------------------------------------------

@pytest.mark.parametrize("cls,reduce,rank", [(GlobalMaxPooling1D, np.max, 1),
                                             (GlobalAveragePooling1D, np.mean, 1),
                                             (GlobalMaxPooling2D, np.max, 2),
                                             (layers.GlobalAveragePooling2D, np.mean, 2)])
@pytest.mark.parametrize("kwargs", [dict(), dict(keepdims=True), dict(data_format="channels_first"),
                                    dict(data_format="channels_first", keepdims=True)])
def test_global_pooling(cls, reduce, rank, kwargs):
    shape = (2, 4, 3) if rank == 1 else (2, 3, 4, 2)
    cf = kwargs.get("data_format") == "channels_first"
    axes = tuple(range(2, rank + 2)) if cf else tuple(range(1, rank + 1))
    keep = kwargs.get("keepdims", False)
    expected = tuple(1 if a in axes else d for a, d in enumerate(shape)) if keep else \
        tuple(d for a, d in enumerate(shape) if a not in axes)
    x = _x(shape)
    _, y = run_layer_test(cls, kwargs, shape, input_data=x, expected_output_shape=expected)
    np.testing.assert_allclose(y.numpy(), reduce(x, axis=axes, keepdims=keep), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("op,rank", [(global_max_pool1d, 1), (global_avg_pool1d, 1),
                                     (global_max_pool2d, 2)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pool_ops_gradcheck(op, rank, data_format, keepdims):
    shape = (2, 3, 2) if rank == 1 else (2, 2, 3, 2)
    x = np.random.default_rng(1).permutation(np.arange(np.prod(shape), dtype=np.float64))
    assert gradcheck(lambda t: op(t, data_format=data_format, keepdims=keepdims),
                     [x.reshape(shape) / 3])


def test_global_max_pooling_gradient_goes_to_the_maximum():
    x = mg.Tensor(np.array([[[1.0, 5.0], [4.0, -2.0], [0.0, 3.0]]], np.float32),
                  requires_grad=True)
    GlobalMaxPooling1D()(x).backward(np.array([[2.0, 7.0]], np.float32))
    np.testing.assert_array_equal(x.grad[0], [[0, 7], [2, 0], [0, 0]])


# -- errors that name the argument ------------------------------------------------------------

@pytest.mark.parametrize("make,error,match", [
    (lambda: MaxPooling1D(pool_size=0), ValueError,
     r"MaxPooling1D: pool_size must be a positive integer or a tuple of 1 positive integers, "
     r"got 0"),
    (lambda: AveragePooling1D(pool_size=(2, 2)), ValueError,
     r"AveragePooling1D: pool_size must be .*got \(2, 2\)"),
    (lambda: MaxPooling1D(strides=1.5), TypeError, r"MaxPooling1D: strides must be"),
    (lambda: AveragePooling1D(2, padding="causal"), ValueError,
     r"AveragePooling1D: padding must be 'valid' or 'same', got 'causal'"),
    (lambda: MaxPooling1D(data_format="NLC"), ValueError,
     r"MaxPooling1D: data_format must be 'channels_last' or 'channels_first', got 'NLC'"),
    (lambda: GlobalMaxPooling1D(keepdims="yes"), TypeError,
     r"GlobalMaxPooling1D: keepdims must be"),
    (lambda: GlobalMaxPooling2D(data_format="NCHW"), ValueError,
     r"GlobalMaxPooling2D: data_format must be"),
    (lambda: GlobalAveragePooling1D(data_format=1), ValueError,
     r"GlobalAveragePooling1D: data_format must be"),
    (lambda: max_pool1d(np.zeros((2, 3)), 2), ValueError,
     r"max_pool1d: x must be a 3-D tensor \(N, L, C\) for data_format='channels_last', "
     r"got shape \(2, 3\)"),
    (lambda: avg_pool1d(np.zeros((1, 2, 3)), 2, data_format="channels_first", padding="full"),
     ValueError, r"avg_pool1d: padding must be 'valid' or 'same', got 'full'"),
    (lambda: global_max_pool2d(np.zeros((1, 2, 3))), ValueError,
     r"global_max_pool2d: x must be a 4-D tensor \(N, H, W, C\)"),
    (lambda: global_avg_pool1d(np.zeros((1, 0, 3))), ValueError,
     r"global_avg_pool1d: x has no steps/pixels to pool \(shape \(1, 0, 3\)"),
])
def test_bad_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer,shape", [
    (MaxPooling1D(pool_size=4, name="p"), (1, 3, 2)),
    (AveragePooling1D(pool_size=3, data_format="channels_first", name="p"), (1, 4, 2)),
])
def test_a_window_larger_than_the_input_is_refused(layer, shape):
    with pytest.raises(ValueError, match=r"'p': input shape .* is smaller than pool_size"):
        layer(np.zeros(shape, np.float32))


@pytest.mark.parametrize("layer,shape", [(MaxPooling1D(), (2, 4)),
                                         (AveragePooling1D(2), (1, 4, 4, 2)),
                                         (GlobalMaxPooling1D(), (2, 3, 4, 5)),
                                         (GlobalMaxPooling2D(), (2, 3, 4))])
def test_wrong_rank_is_refused(layer, shape):
    with pytest.raises(ValueError):
        layer(np.zeros(shape, np.float32))


# -- Keras 3 as oracle ------------------------------------------------------------------------
# Keras 3 on torch pads an uneven "same" window by replicating the edge ("replicate" mode), which
# for average pooling counts the copies; TensorFlow (and minigrad) average the real pixels only.
# The average-pooling "same" cases here are chosen with even padding, where the two agree; the
# uneven case is checked against NumPy above (TF's rule).

ORACLE_CASES = [
    ("MaxPooling1D", {}, (2, 6, 3)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 3)),
    ("MaxPooling1D", {"pool_size": 2, "strides": 1, "padding": "same",
                      "data_format": "channels_first"}, (2, 3, 5)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 1, "data_format": "channels_first"}, (2, 2, 6)),
    ("AveragePooling1D", {"pool_size": 2}, (2, 6, 3)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 5, 3)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same",
                          "data_format": "channels_first"}, (2, 2, 7)),
    ("AveragePooling1D", {"pool_size": 4, "strides": 2}, (2, 9, 2)),
    ("MaxPooling2D", {}, (2, 4, 4, 3)),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 5, 6, 2)),
    ("MaxPooling2D", {"pool_size": (2, 3), "strides": 1, "padding": "same",
                      "data_format": "channels_first"}, (2, 3, 4, 5)),
    ("AveragePooling2D", {"pool_size": 2}, (2, 4, 4, 3)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 5, 5, 2)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same",
                          "data_format": "channels_first"}, (2, 2, 5, 7)),
    ("AveragePooling2D", {"pool_size": (2, 3), "strides": (1, 2),
                          "data_format": "channels_first"}, (2, 2, 4, 7)),
] + [(name, kwargs, shape)
     for name, shape in [("GlobalMaxPooling1D", (2, 5, 3)), ("GlobalAveragePooling1D", (2, 5, 3)),
                         ("GlobalMaxPooling2D", (2, 3, 4, 2)),
                         ("GlobalAveragePooling2D", (2, 3, 4, 2))]
     for kwargs in [{}, {"keepdims": True}, {"data_format": "channels_first"},
                    {"data_format": "channels_first", "keepdims": True}]]


@pytest.mark.parametrize("class_name,kwargs,input_shape", ORACLE_CASES)
def test_matches_keras3(keras, class_name, kwargs, input_shape):
    # random normal inputs: no ties, so the max's gradient has one place to go in both
    match_keras_layer(keras, class_name, kwargs, input_shape)


# -- TF.js as oracle --------------------------------------------------------------------------

def test_tfjs_predicts_the_same_for_the_pooling_layers(node, tmp_path):
    # TF.js has every pooling layer here (channels-last 1-D pools; no keepdims on global pools)
    from test_tfjs_interop import _tfjs_predict
    seq, image = layers.Input(shape=(9, 3)), layers.Input(shape=(6, 7, 2))
    h = MaxPooling1D(2, strides=1, name="max1d")(seq)
    h = AveragePooling1D(3, strides=2, padding="same", name="avg1d")(h)
    g = layers.MaxPooling2D((3, 2), strides=2, padding="same", name="max2d")(image)
    g = layers.AveragePooling2D(2, strides=1, padding="same", name="avg2d")(g)
    pooled = layers.Concatenate(name="cat")([
        GlobalMaxPooling1D(name="gmax1d")(h), GlobalAveragePooling1D(name="gavg1d")(h),
        GlobalMaxPooling2D(name="gmax2d")(g),
        layers.GlobalAveragePooling2D(name="gavg2d")(g),
        GlobalMaxPooling2D(data_format="channels_first", name="gmax2d_cf")(image)])
    model = mg.models.Model([seq, image], layers.Dense(3, name="dense")(pooled))
    rng = np.random.default_rng(0)
    for w in model.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32))
    x = [rng.standard_normal((2, 9, 3)).astype(np.float32),
         rng.standard_normal((2, 6, 7, 2)).astype(np.float32)]
    model.save(tmp_path / "model")
    expected = model.predict(x)
    np.testing.assert_allclose(_tfjs_predict(node, tmp_path / "model", x, tmp_path), expected,
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mg.models.load_model(tmp_path / "model").predict(x), expected,
                               rtol=1e-6)
