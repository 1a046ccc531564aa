"""Max, average and global pooling with Keras/TF semantics (NHWC inside), over 2-D images and
1-D sequences.

A (kh, kw) window slides with strides (sh, sw); tap (i, j) of output (oh, ow) reads input pixel
(oh*sh + i - pt, ow*sw + j - pl). The Cython kernels (:mod:`minigrad.backend.kernels.pooling`) make
each direction one pass over memory; their NumPy twins
(:mod:`minigrad.backend.kernels.reference.pooling`) loop over the kh*kw *taps* instead, each one
strided slice of the whole batch. ``channels_first`` input is transposed to NHWC around them.

``"same"`` padding follows TensorFlow: max pooling ignores the padding (it never wins), average
pooling divides by the number of real pixels in each window, not by kh*kw.

A sequence (N, L, C) is pooled as an image one row high, (N, 1, L, C) with a (1, k) window: the
same kernels, and the gradient flows back through the reshape. Global pools reduce every
spatial axis with :mod:`.reduction`'s ``max`` / ``mean`` (or :class:`GlobalAvgPool2D`).
"""
import numpy as np

from ..backend import kernels
from ..backend.buffers import buffers
from ..engine.function import Function
from ._common import check_image, check_sequence, shape_of, threads_for
from .layout import channel_axis, from_channels_last, to_channels_last
from .geometry import conv_geometry, normalize_data_format, normalize_padding, normalize_tuple
from .reduction import max as reduce_max, mean as reduce_mean
from .shape import reshape

_pool = kernels.get("pooling")   # chosen once, at import


class MaxPool2D(Function):
    """y[n, oh, ow, c] = max over the window of x;  dL/dx = G routed to the window's arg-max.

    On ties the first maximum in window order (row by row) takes the whole gradient, as in TF.
    Attrs: ``pool_size`` (kh, kw), ``strides`` (sh, sw), ``out_hw`` (OH, OW), ``pads``
    ((pt, pb), (pl, pr)), computed once by the public function.
    """

    @staticmethod
    def forward(ctx, x, *, pool_size, strides, out_hw, pads):
        x = np.ascontiguousarray(x)        # the kernels take C-contiguous NHWC
        n, h, w, c = x.shape
        geometry = (*pool_size, *strides, pads[0][0], pads[1][0])
        y = buffers.empty((n, *out_hw, c), x.dtype)
        argmax = buffers.empty(y.shape, np.int32)
        _pool.max_pool_forward(x, y, argmax, *geometry, threads_for(x.size))
        ctx.argmax, ctx.x_shape = argmax, x.shape
        return y

    @staticmethod
    def backward(ctx, grad):
        n, h, w, c = ctx.x_shape
        gx = buffers.zeros((n, h * w, c), grad.dtype)
        _pool.max_pool_backward(np.ascontiguousarray(grad), ctx.argmax, gx, threads_for(gx.size))
        return gx.reshape(ctx.x_shape)


class AvgPool2D(Function):
    """y[n, oh, ow, c] = (1 / count[oh, ow]) * sum of x over the window's real pixels;
    dL/dx = G / count spread over each window. Attrs as in :class:`MaxPool2D`.
    """

    @staticmethod
    def forward(ctx, x, *, pool_size, strides, out_hw, pads):
        x = np.ascontiguousarray(x)
        n, _, _, c = x.shape
        ctx.geometry = (*pool_size, *strides, pads[0][0], pads[1][0])
        y = buffers.empty((n, *out_hw, c), x.dtype)
        _pool.avg_pool_forward(x, y, *ctx.geometry, threads_for(x.size))
        ctx.x_shape = x.shape
        return y

    @staticmethod
    def backward(ctx, grad):
        gx = buffers.zeros(ctx.x_shape, grad.dtype)
        _pool.avg_pool_backward(np.ascontiguousarray(grad), gx, *ctx.geometry,
                                threads_for(gx.size))
        return gx


def _pool2d(op, who, x, pool_size, strides, padding, data_format):
    data_format = normalize_data_format(data_format, who)
    padding = normalize_padding(padding, who)
    pool_size = normalize_tuple(pool_size, 2, "pool_size", who)
    strides = pool_size if strides is None else normalize_tuple(strides, 2, "strides", who)
    shape = check_image(x, "x", who, data_format)
    hw = shape[1:3] if data_format == "channels_last" else shape[2:4]
    out_hw, pad_h, pad_w = conv_geometry(hw, pool_size, strides, (1, 1), padding)
    axis = channel_axis(data_format)
    y = op.apply(to_channels_last(x, axis), pool_size=pool_size, strides=strides, out_hw=out_hw,
                 pads=(pad_h, pad_w))
    return from_channels_last(y, axis)


def max_pool2d(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """Max over each (kh, kw) window (Keras ``MaxPooling2D``); strides default to ``pool_size``.

    >>> max_pool2d(np.arange(16.0).reshape(1, 4, 4, 1), 2).numpy()[0, :, :, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    return _pool2d(MaxPool2D, "max_pool2d", x, pool_size, strides, padding, data_format)


def avg_pool2d(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """Mean over each (kh, kw) window (Keras ``AveragePooling2D``); with ``"same"`` padding the mean
    is over the real pixels only, as TensorFlow computes it.

    >>> avg_pool2d(np.arange(9.0).reshape(1, 3, 3, 1), 2, padding="same").numpy()[0, :, :, 0].tolist()
    [[2.0, 3.5], [6.5, 8.0]]
    """
    return _pool2d(AvgPool2D, "avg_pool2d", x, pool_size, strides, padding, data_format)


class GlobalAvgPool2D(Function):
    """y[n, c] = mean of x[n, :, :, c] over the ``axes`` (H, W);  dL/dx = G / (H*W) everywhere."""

    @staticmethod
    def forward(ctx, x, *, axes, keepdims):
        ctx.x_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return np.mean(x, axis=axes, keepdims=keepdims, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        g = grad if ctx.keepdims else np.expand_dims(grad, ctx.axes)
        count = ctx.x_shape[ctx.axes[0]] * ctx.x_shape[ctx.axes[1]]
        gx = buffers.empty(ctx.x_shape, grad.dtype)
        np.multiply(g, grad.dtype.type(1.0 / count), out=gx)   # broadcasts over H and W
        return gx


def global_avg_pool2d(x, data_format="channels_last", keepdims=False):
    """Mean over the spatial axes: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with ``keepdims``
    (channels_first: (N, C, H, W) -> (N, C) or (N, C, 1, 1)).

    >>> global_avg_pool2d(np.arange(8.0).reshape(1, 2, 2, 2)).numpy().tolist()
    [[3.0, 4.0]]
    """
    who = "global_avg_pool2d"
    data_format = normalize_data_format(data_format, who)
    shape = check_image(x, "x", who, data_format)
    axes = (1, 2) if data_format == "channels_last" else (2, 3)
    if shape[axes[0]] == 0 or shape[axes[1]] == 0:
        raise ValueError(f"{who}: x has no pixels to average (shape {shape}, "
                         f"data_format={data_format!r})")
    return GlobalAvgPool2D.apply(x, axes=axes, keepdims=bool(keepdims))


def _pool1d(op, who, x, pool_size, strides, padding, data_format):
    """A 1-D pool as a 2-D one over an image one row high (see the module docstring)."""
    data_format = normalize_data_format(data_format, who)
    padding = normalize_padding(padding, who)
    (k,) = normalize_tuple(pool_size, 1, "pool_size", who)
    (s,) = (k,) if strides is None else normalize_tuple(strides, 1, "strides", who)
    n, a, b = check_sequence(x, "x", who, data_format)
    # channels_last (N, L, C) -> (N, 1, L, C); channels_first (N, C, L) -> (N, C, 1, L)
    row = (n, 1, a, b) if data_format == "channels_last" else (n, a, 1, b)
    y = _pool2d(op, who, reshape(x, row), (1, k), (1, s), padding, data_format)
    n, d1, d2, d3 = y.shape
    return reshape(y, (n, d2, d3) if data_format == "channels_last" else (n, d1, d3))


def max_pool1d(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """Max over each window of ``pool_size`` steps (Keras ``MaxPooling1D``); strides default to
    ``pool_size``. x: (N, L, C), or (N, C, L) for ``"channels_first"``.

    >>> max_pool1d(np.array([[[1.0], [3.0], [2.0], [0.0], [5.0]]]), 2).numpy()[0, :, 0].tolist()
    [3.0, 2.0]
    """
    return _pool1d(MaxPool2D, "max_pool1d", x, pool_size, strides, padding, data_format)


def avg_pool1d(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """Mean over each window of ``pool_size`` steps (Keras ``AveragePooling1D``); with ``"same"``
    padding the mean is over the real steps only, as TensorFlow computes it.

    >>> x = np.array([[[1.0], [3.0], [2.0]]])
    >>> avg_pool1d(x, 2, strides=1, padding="same").numpy()[0, :, 0].tolist()  # last: 2 / 1
    [2.0, 2.5, 2.0]
    """
    return _pool1d(AvgPool2D, "avg_pool1d", x, pool_size, strides, padding, data_format)


def _global_pool(reduce, who, x, rank, data_format, keepdims):
    """``reduce`` (max or mean) over the ``rank`` spatial axes of x (N, *spatial, C) or
    (N, C, *spatial): -> (N, C), or with ``keepdims`` the spatial axes kept as size 1."""
    data_format = normalize_data_format(data_format, who)
    shape = shape_of(x)
    if len(shape) != rank + 2:
        spatial = "L" if rank == 1 else "H, W"
        layout = f"(N, {spatial}, C)" if data_format == "channels_last" else f"(N, C, {spatial})"
        raise ValueError(f"{who}: x must be a {rank + 2}-D tensor {layout} for "
                         f"data_format={data_format!r}, got shape {shape}")
    axes = tuple(range(1, rank + 1)) if data_format == "channels_last" else \
        tuple(range(2, rank + 2))
    if any(shape[a] == 0 for a in axes):
        raise ValueError(f"{who}: x has no steps/pixels to pool (shape {shape}, "
                         f"data_format={data_format!r})")
    return reduce(x, axis=axes, keepdims=bool(keepdims))


def global_max_pool1d(x, data_format="channels_last", keepdims=False):
    """Max over the steps: (N, L, C) -> (N, C), or (N, 1, C) with ``keepdims`` (channels_first:
    (N, C, L) -> (N, C) or (N, C, 1)). The gradient goes to the maximum (split between ties).

    >>> global_max_pool1d(np.array([[[1.0, 4.0], [3.0, 2.0]]])).numpy().tolist()
    [[3.0, 4.0]]
    """
    return _global_pool(reduce_max, "global_max_pool1d", x, 1, data_format, keepdims)


def global_avg_pool1d(x, data_format="channels_last", keepdims=False):
    """Mean over the steps: (N, L, C) -> (N, C), or (N, 1, C) with ``keepdims`` (channels_first:
    (N, C, L) -> (N, C) or (N, C, 1)).

    >>> global_avg_pool1d(np.array([[[1.0, 4.0], [3.0, 2.0]]])).numpy().tolist()
    [[2.0, 3.0]]
    """
    return _global_pool(reduce_mean, "global_avg_pool1d", x, 1, data_format, keepdims)


def global_max_pool2d(x, data_format="channels_last", keepdims=False):
    """Max over H and W: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with ``keepdims``
    (channels_first: (N, C, H, W) -> (N, C) or (N, C, 1, 1)).

    >>> global_max_pool2d(np.arange(8.0).reshape(1, 2, 2, 2)).numpy().tolist()
    [[6.0, 7.0]]
    """
    return _global_pool(reduce_max, "global_max_pool2d", x, 2, data_format, keepdims)
