"""Max, average and global average pooling with Keras/TF semantics (NHWC inside).

A (kh, kw) window slides with strides (sh, sw); tap (i, j) of output (oh, ow) reads input pixel
(oh*sh + i - pt, ow*sw + j - pl). The Cython kernels (:mod:`minigrad._kernels.pooling`) make each
direction one pass over memory; their NumPy twins below loop over the kh*kw *taps* instead, each one
strided slice of the whole batch (:func:`~minigrad.ops.conv.tap_ranges` says which outputs a tap
sees real pixels for).

``"same"`` padding follows TensorFlow: max pooling ignores the padding (it never wins), average
pooling divides by the number of real pixels in each window, not by kh*kw.
"""
import numpy as np

from .. import _threads
from .._buffers import buffers
from .._kernels import pooling as _pool
from ..function import Function
from .conv import check_image, from_nhwc, tap_ranges, tap_slice, to_nhwc
from .geometry import conv_geometry, normalize_data_format, normalize_padding, normalize_tuple

# Below this many elements one thread is faster: starting an OpenMP team costs microseconds.
_PARALLEL_MIN = 1 << 15


def _threads_for(n):
    return _threads.get_num_threads() if n >= _PARALLEL_MIN else 1


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
        _pool.max_pool_forward(x, y, argmax, *geometry, _threads_for(x.size))
        ctx.argmax, ctx.x_shape = argmax, x.shape
        return y

    @staticmethod
    def backward(ctx, grad):
        n, h, w, c = ctx.x_shape
        gx = buffers.zeros((n, h * w, c), grad.dtype)
        _pool.max_pool_backward(np.ascontiguousarray(grad), ctx.argmax, gx, _threads_for(gx.size))
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
        _pool.avg_pool_forward(x, y, *ctx.geometry, _threads_for(x.size))
        ctx.x_shape = x.shape
        return y

    @staticmethod
    def backward(ctx, grad):
        gx = buffers.zeros(ctx.x_shape, grad.dtype)
        _pool.avg_pool_backward(np.ascontiguousarray(grad), gx, *ctx.geometry,
                                _threads_for(gx.size))
        return gx


# -- NumPy twins of the kernels in minigrad/_kernels/pooling.pyx (same signatures) ---------------
# One strided slice of the whole batch per window tap, never a loop over pixels; what a student
# reads first, and what tests hold the kernels equal to.

def _taps(x_shape, out_hw, kh, kw, sh, sw, pt, pl):
    """(out region, in region, flat input index h*W + w of each output) per tap that sees pixels."""
    _, h, w, _ = x_shape
    rows = tap_ranges(h, out_hw[0], kh, sh, 1, pt)
    cols = tap_ranges(w, out_hw[1], kw, sw, 1, pl)
    taps = []
    for h0, h1, r0 in rows:
        for w0, w1, c0 in cols:
            if h1 > h0 and w1 > w0:
                flat = ((r0 + sh * np.arange(h1 - h0))[:, None] * w +
                        (c0 + sw * np.arange(w1 - w0))[None, :])
                taps.append(((slice(None), slice(h0, h1), slice(w0, w1)),
                             (slice(None), tap_slice(h0, h1, r0, sh), tap_slice(w0, w1, c0, sw)),
                             flat[None, :, :, None].astype(np.int32)))
    return taps


def max_pool_forward_reference(x, y, argmax, kh, kw, sh, sw, pt, pl, num_threads):
    """NumPy twin of ``max_pool_forward``: a running maximum over the taps, in window order."""
    y[...] = -np.inf
    argmax[...] = -1
    for out_region, in_region, flat in _taps(x.shape, y.shape[1:3], kh, kw, sh, sw, pt, pl):
        best, src = y[out_region], x[in_region]
        better = src > best        # strictly: an equal later tap does not take the arg-max
        np.copyto(best, src, where=better)
        np.copyto(argmax[out_region], flat, where=better)


def max_pool_backward_reference(grad, argmax, gx, num_threads):
    """NumPy twin of ``max_pool_backward`` (gx (N, H*W, C), zeroed): scatter-add to the arg-max."""
    n, _, _, c = grad.shape
    batch = np.arange(n)[:, None, None, None]
    channel = np.arange(c)[None, None, None, :]
    hit = argmax >= 0
    np.add.at(gx, (np.broadcast_to(batch, grad.shape)[hit], argmax[hit],
                   np.broadcast_to(channel, grad.shape)[hit]), grad[hit])


def _inv_count(x_shape, out_hw, kh, kw, sh, sw, pt, pl, dtype):
    """1 / (real pixels per window) as (OH, OW, 1): row taps that see a pixel x column taps."""
    count_h = np.zeros(out_hw[0])
    count_w = np.zeros(out_hw[1])
    for h0, h1, _ in tap_ranges(x_shape[1], out_hw[0], kh, sh, 1, pt):
        count_h[h0:h1] += 1
    for w0, w1, _ in tap_ranges(x_shape[2], out_hw[1], kw, sw, 1, pl):
        count_w[w0:w1] += 1
    with np.errstate(divide="ignore"):
        return (1 / np.outer(count_h, count_w))[:, :, None].astype(dtype)


def avg_pool_forward_reference(x, y, kh, kw, sh, sw, pt, pl, num_threads):
    """NumPy twin of ``avg_pool_forward``: sum the taps, divide by the real-pixel count."""
    y[...] = 0
    for out_region, in_region, _ in _taps(x.shape, y.shape[1:3], kh, kw, sh, sw, pt, pl):
        y[out_region] += x[in_region]
    y *= _inv_count(x.shape, y.shape[1:3], kh, kw, sh, sw, pt, pl, y.dtype)


def avg_pool_backward_reference(grad, gx, kh, kw, sh, sw, pt, pl, num_threads):
    """NumPy twin of ``avg_pool_backward`` (gx zeroed): each tap adds grad / count back."""
    share = grad * _inv_count(gx.shape, grad.shape[1:3], kh, kw, sh, sw, pt, pl, grad.dtype)
    for out_region, in_region, _ in _taps(gx.shape, grad.shape[1:3], kh, kw, sh, sw, pt, pl):
        gx[in_region] += share[out_region]


def _pool2d(op, who, x, pool_size, strides, padding, data_format):
    data_format = normalize_data_format(data_format, who)
    padding = normalize_padding(padding, who)
    pool_size = normalize_tuple(pool_size, 2, "pool_size", who)
    strides = pool_size if strides is None else normalize_tuple(strides, 2, "strides", who)
    shape = check_image(x, "x", who, data_format)
    hw = shape[1:3] if data_format == "channels_last" else shape[2:4]
    out_hw, pad_h, pad_w = conv_geometry(hw, pool_size, strides, (1, 1), padding)
    y = op.apply(to_nhwc(x, data_format), pool_size=pool_size, strides=strides, out_hw=out_hw,
                 pads=(pad_h, pad_w))
    return from_nhwc(y, data_format)


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
