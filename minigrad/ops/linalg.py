"""Linear algebra: the matrix product and the bias that follows it (a Dense layer is
``bias_add(matmul(x, kernel), bias)``).

Products of two float32 (or two float64) matrices, a Dense layer's, run on minigrad's own kernels
(:mod:`._matmul`), as the convolutions' do, when the weights fit a core's cache (at most
``_matmul.MAX_KERNEL_ELEMENTS``): then no step wakes NumPy's BLAS threads, which would fight the
kernels' OpenMP threads for the cores. Larger weights, batched and vector operands go to
``np.matmul``.
"""
import numpy as np

from ..backend.buffers import buffers
from ..engine.function import Function, as_tensors, unbroadcast
from . import _matmul
from ._common import shape_of


def _matrices(a, b):
    """True when a and b are two matrices of one float dtype (2-D each): :mod:`._matmul` then
    decides between the kernels and BLAS."""
    return a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and \
        a.dtype in _matmul.KERNEL_DTYPES
from .geometry import normalize_data_format
from .layout import channel_axis


class MatMul(Function):
    """f(A, B) = A @ B (batch dimensions broadcast);  df/dA = G @ B^T,  df/dB = A^T @ G.

    A vector operand is treated as a 1-row (left) or 1-column (right) matrix, as in NumPy.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        if _matrices(a, b):
            return _matmul.matmul(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.a, ctx.b
        if _matrices(a, b) and grad.dtype == a.dtype:
            ga = gb = None
            if ctx.needs_input_grad[0]:
                ga = _matmul.matmul(grad, np.ascontiguousarray(b.T))
            if ctx.needs_input_grad[1]:
                gb = _matmul.matmul_tn(a, grad)
            return ga, gb
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # put back the axes NumPy dropped for vector operands (b's first: 1-D @ 1-D is 0-d)
        g2 = grad
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape)
        return ga, gb


def matmul(a, b):
    """Matrix product with NumPy's rules (batch dimensions broadcast; vectors allowed)."""
    a, b = as_tensors((a, b), "matmul")
    sa, sb = a.shape, b.shape
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes {sa} and {sb}")
    inner_a = sa[-1]
    inner_b = sb[-2] if len(sb) > 1 else sb[0]
    if inner_a != inner_b:
        raise ValueError(f"matmul: a has shape {sa} and b has shape {sb}; the last dimension of a "
                         f"({inner_a}) must equal the {'second-to-last' if len(sb) > 1 else 'only'} "
                         f"dimension of b ({inner_b})")
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"matmul: the batch dimensions of a {sa[:-2]} and b {sb[:-2]} do not "
                         f"broadcast") from None
    return MatMul.apply(a, b)


class BiasAdd(Function):
    """y = x + b, with b (C,) added along the channel ``axis`` of x.

    dy/dx = identity (the gradient passes through); dL/db[c] = sum of G over every axis but ``axis``.
    """

    @staticmethod
    def forward(ctx, x, bias, *, axis):
        ctx.axis, ctx.x_dtype, ctx.b_dtype = axis, x.dtype, bias.dtype
        shape = [1] * x.ndim
        shape[axis] = bias.shape[0]
        return np.add(x, bias.reshape(shape), out=buffers.empty(x.shape, np.result_type(x, bias)))

    @staticmethod
    def backward(ctx, grad):
        gx = gb = None
        if ctx.needs_input_grad[0]:
            gx = grad.astype(ctx.x_dtype, copy=False)
        if ctx.needs_input_grad[1]:
            c = grad.shape[ctx.axis]
            if ctx.axis == grad.ndim - 1 and c < 64:
                # a narrow (P, C) summed over P as the product ones (1, P) @ G, vectorised over
                # C: np.sum(axis=0) adds rows of C values one at a time (4x slower for C = 32)
                g2 = grad.reshape(-1, c)
                gb = _matmul.matmul(np.ones((1, g2.shape[0]), dtype=grad.dtype), g2,
                                    out=np.empty((1, c), grad.dtype))[0]
            else:
                axes = tuple(a for a in range(grad.ndim) if a != ctx.axis)
                gb = grad.sum(axis=axes)
            gb = gb.astype(ctx.b_dtype, copy=False)
        return gx, gb


def bias_add(x, bias, data_format="channels_last"):
    """``x + bias`` with ``bias`` (C,) on the channel axis: the last for ``"channels_last"``, axis 1
    for ``"channels_first"``. ``x`` has rank >= 2 ((N, C) for a Dense layer, (N, H, W, C) ...).

    >>> bias_add(np.zeros((2, 3)), np.array([1.0, 2.0, 3.0])).numpy().tolist()
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    """
    who = "bias_add"
    data_format = normalize_data_format(data_format, who)
    shape, bshape = shape_of(x), shape_of(bias)
    if len(shape) < 2:
        raise ValueError(f"{who}: x must have rank >= 2 (batch and channel axes), got shape {shape}")
    axis = channel_axis(data_format) % len(shape)
    if len(bshape) != 1 or bshape[0] != shape[axis]:
        raise ValueError(f"{who}: bias must have shape ({shape[axis]},) to match the channel axis "
                         f"{axis} of x (shape {shape}, data_format={data_format!r}), got shape "
                         f"{bshape}")
    return BiasAdd.apply(x, bias, axis=axis)
