"""Layers against PyTorch (optional: skipped without torch), forward and gradients.

* DepthwiseConv2D == torch conv2d with groups=C (weight (C*M, 1, kh, kw), output channel c*M + m),
  on random configurations: depth multiplier, strides, dilation, 'same' padding (TensorFlow's
  rule, the extra pixel bottom/right, padded explicitly for torch), both data formats.
* Conv2D, BatchNormalization (training and inference), max/average/global pooling.

PyTorch's BatchNorm2d updates its running variance with the *unbiased* batch variance; Keras 3,
TF.js and minigrad use the biased one, so that one difference is accounted for explicitly.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import layers

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _tf_pads(n, k, s, d, padding):
    if padding == "valid":
        return 0, 0
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def _torch_conv(x_nchw, weight, bias, strides, padding, dilation, groups):
    """torch conv2d with TensorFlow's padding rule applied as an explicit pad."""
    (pt, pb), (pl, pr) = (_tf_pads(n, k, s, d, padding) for n, k, s, d in
                          zip(x_nchw.shape[2:], weight.shape[2:], strides, dilation))
    x_nchw = F.pad(x_nchw, (pl, pr, pt, pb))
    return F.conv2d(x_nchw, weight, bias, stride=strides, dilation=dilation, groups=groups)


def _to_nchw(t, data_format):
    """A torch tensor in minigrad's layout -> NCHW (torch's)."""
    return t if data_format == "channels_first" else t.permute(0, 3, 1, 2)


def _from_nchw(t, data_format):
    return t if data_format == "channels_first" else t.permute(0, 2, 3, 1)


def _run_minigrad(layer, x, g, training=False):
    """Output and gradients (input, then each trainable weight) of sum(layer(x) * g)."""
    xt = mg.Tensor(x, requires_grad=True)
    y = layer(xt, training=training)
    (y * mg.Tensor(g)).sum().backward()
    return y.numpy(), xt.grad, [w.grad for w in layer.trainable_weights]


def _run_torch(fn, x, params, g):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ps = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    y = fn(xt, *ps)
    (y * torch.tensor(g, dtype=torch.float64)).sum().backward()
    return y.detach().numpy(), xt.grad.numpy(), [p.grad.numpy() for p in ps]


def _assert_close(ours, theirs, rtol=1e-9, atol=1e-9):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol, atol=atol)
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@settings(max_examples=20, deadline=None)
@given(kh=st.integers(1, 3), kw=st.integers(1, 3), m=st.integers(1, 3), c=st.integers(1, 4),
       h=st.integers(4, 9), w=st.integers(4, 9), sh=st.integers(1, 3), sw=st.integers(1, 3),
       dh=st.integers(1, 3), dw=st.integers(1, 2), padding=st.sampled_from(["valid", "same"]),
       data_format=st.sampled_from(["channels_last", "channels_first"]), use_bias=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_depthwise_conv2d_matches_torch_groups_conv(kh, kw, m, c, h, w, sh, sw, dh, dw, padding,
                                                    data_format, use_bias, seed):
    if padding == "valid" and ((kh - 1) * dh + 1 > h or (kw - 1) * dw + 1 > w):
        return  # an empty output, refused by the layer
    rng = np.random.default_rng(seed)
    shape = (2, c, h, w) if data_format == "channels_first" else (2, h, w, c)
    layer = layers.DepthwiseConv2D((kh, kw), strides=(sh, sw), padding=padding, depth_multiplier=m,
                                   data_format=data_format, dilation_rate=(dh, dw),
                                   use_bias=use_bias, dtype="float64")
    x = rng.standard_normal(shape)
    layer.build(shape)
    weights = [rng.standard_normal(wt.shape) for wt in layer.weights]
    layer.set_weights(weights)
    g = rng.standard_normal(layer.compute_output_shape(shape))
    ours = _run_minigrad(layer, x, g)

    def torch_fn(xt, kernel, bias=None):
        weight = kernel.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
        y = _torch_conv(_to_nchw(xt, data_format), weight, bias, (sh, sw), padding, (dh, dw),
                        groups=c)
        return _from_nchw(y, data_format)

    _assert_close(ours, _run_torch(torch_fn, x, weights, g))


@pytest.mark.parametrize("kwargs", [
    dict(filters=3, kernel_size=3, padding="same", strides=2),
    dict(filters=2, kernel_size=(2, 3), dilation_rate=2),
    dict(filters=4, kernel_size=1, data_format="channels_first"),
    dict(filters=2, kernel_size=3, padding="same", data_format="channels_first", use_bias=False),
])
def test_conv2d_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    fmt = kwargs.get("data_format", "channels_last")
    shape = (2, 3, 7, 6) if fmt == "channels_first" else (2, 7, 6, 3)
    layer = layers.Conv2D(dtype="float64", **kwargs)
    layer.build(shape)
    weights = [rng.standard_normal(wt.shape) for wt in layer.weights]
    layer.set_weights(weights)
    x = rng.standard_normal(shape)
    g = rng.standard_normal(layer.compute_output_shape(shape))

    def torch_fn(xt, kernel, bias=None):
        y = _torch_conv(_to_nchw(xt, fmt), kernel.permute(3, 2, 0, 1), bias, layer.strides,
                        layer.padding, layer.dilation_rate, groups=1)
        return _from_nchw(y, fmt)

    _assert_close(_run_minigrad(layer, x, g), _run_torch(torch_fn, x, weights, g))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_batch_normalization_matches_torch(training, data_format):
    rng = np.random.default_rng(1)
    axis = 1 if data_format == "channels_first" else -1
    shape = (4, 3, 5, 5) if data_format == "channels_first" else (4, 5, 5, 3)
    layer = layers.BatchNormalization(axis=axis, momentum=0.9, epsilon=1e-3, dtype="float64")
    layer.build(shape)
    gamma, beta = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    layer.set_weights([gamma, beta, mean, var])
    x = rng.standard_normal(shape) * 3 + 1
    g = rng.standard_normal(shape)
    ours = _run_minigrad(layer, x, g, training=training)

    running_mean, running_var = torch.tensor(mean), torch.tensor(var)  # updated in place by torch

    def torch_fn(xt, w, b):  # torch's momentum is 1 - Keras's
        y = F.batch_norm(_to_nchw(xt, data_format), running_mean, running_var, w, b,
                         training=training, momentum=0.1, eps=1e-3)
        return _from_nchw(y, data_format)

    _assert_close(ours, _run_torch(torch_fn, x, [gamma, beta], g))

    np.testing.assert_allclose(layer.moving_mean.numpy(), running_mean.numpy(), rtol=1e-12)
    if training:  # torch's running variance used the unbiased batch variance: undo that here
        count = x.size // 3
        axes = tuple(i for i in range(4) if i != axis % 4)
        biased = x.var(axes)
        expected = running_var.numpy() - 0.1 * biased * (count / (count - 1) - 1)
        np.testing.assert_allclose(layer.moving_variance.numpy(), expected, rtol=1e-12)
        np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 * var + 0.1 * biased,
                                   rtol=1e-12)
    else:
        np.testing.assert_allclose(layer.moving_variance.numpy(), var, rtol=1e-12)


@pytest.mark.parametrize("cls,torch_pool", [
    (layers.MaxPooling2D, F.max_pool2d),
    (layers.AveragePooling2D, F.avg_pool2d),
])
@pytest.mark.parametrize("pool,strides,data_format", [
    (2, None, "channels_last"), (3, 2, "channels_first"), ((2, 3), (1, 2), "channels_last"),
])
def test_pooling_matches_torch(cls, torch_pool, pool, strides, data_format):
    rng = np.random.default_rng(2)
    shape = (2, 3, 7, 8) if data_format == "channels_first" else (2, 7, 8, 3)
    layer = cls(pool_size=pool, strides=strides, data_format=data_format, dtype="float64")
    x = rng.standard_normal(shape)
    g = rng.standard_normal(layer.compute_output_shape(shape))

    def torch_fn(xt):
        y = torch_pool(_to_nchw(xt, data_format), layer.pool_size, layer.strides)
        return _from_nchw(y, data_format)

    _assert_close(_run_minigrad(layer, x, g), _run_torch(torch_fn, x, [], g))


def test_max_pooling_same_matches_torch_with_explicit_padding():
    rng = np.random.default_rng(3)
    layer = layers.MaxPooling2D(3, strides=2, padding="same", dtype="float64")
    x = rng.standard_normal((1, 6, 7, 2))
    g = rng.standard_normal(layer.compute_output_shape(x.shape))

    def torch_fn(xt):
        (pt, pb), (pl, pr) = (_tf_pads(n, 3, 2, 1, "same") for n in (6, 7))
        padded = F.pad(xt.permute(0, 3, 1, 2), (pl, pr, pt, pb), value=-np.inf)
        return F.max_pool2d(padded, 3, 2).permute(0, 2, 3, 1)

    _assert_close(_run_minigrad(layer, x, g), _run_torch(torch_fn, x, [], g))


def test_global_average_pooling_matches_torch():
    rng = np.random.default_rng(4)
    layer = layers.GlobalAveragePooling2D(dtype="float64")
    x = rng.standard_normal((2, 4, 5, 3))
    g = rng.standard_normal((2, 3))
    _assert_close(_run_minigrad(layer, x, g),
                  _run_torch(lambda xt: F.adaptive_avg_pool2d(xt.permute(0, 3, 1, 2), 1)
                             .flatten(1), x, [], g))
