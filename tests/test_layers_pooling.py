"""MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, ZeroPadding2D: harness and values
against NumPy (TensorFlow's 'same' rule: averages over real pixels only)."""
import numpy as np
import pytest

from minigrad import layers
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
