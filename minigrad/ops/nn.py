"""Small NN ops that layers are built from (bias_add, dropout, flatten)."""
import numbers

import numpy as np

from ..backend.buffers import buffers
from ..engine.function import Function
from ..engine.tensor import Tensor
from ._common import channel_axis, shape_of, to_channels_last
from .geometry import normalize_data_format
from .shape import reshape


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
            if ctx.axis == grad.ndim - 1:
                # (P, C) summed over P: a matrix-vector product runs on BLAS's threads, where
                # np.sum(axis=0) is one thread adding rows
                g2 = grad.reshape(-1, c)
                gb = np.ones(g2.shape[0], dtype=grad.dtype) @ g2
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


class Dropout(Function):
    """y = x * m, with m = keep / (1 - rate) drawn once (inverted dropout);  dL/dx = G * m."""

    @staticmethod
    def forward(ctx, x, *, mask):
        ctx.mask = mask
        return np.multiply(x, mask, out=buffers.empty(x.shape, np.result_type(x, mask)))

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask


def dropout(x, rate, rng=None, noise_shape=None):
    """Inverted dropout (Keras's ``Dropout`` in training): zero each element with probability
    ``rate`` and scale the survivors by 1 / (1 - rate), so the expected value is unchanged.

    Args:
        x: any shape.
        rate: the fraction dropped, 0 <= rate <= 1 (rate 1 drops everything: the output is 0).
        rng: a ``numpy.random.Generator``, an int seed, or None (fresh entropy).
        noise_shape: the shape of the keep mask, broadcast against x (Keras: e.g. (N, 1, 1, C) drops
            whole channels); entries None take x's size.
    """
    who = "dropout"
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
        raise ValueError(f"{who}: rate must be a number in [0, 1], got {rate!r}")
    shape = shape_of(x)
    if noise_shape is None:
        noise_shape = shape
    else:
        if len(noise_shape) != len(shape):
            raise ValueError(f"{who}: noise_shape {tuple(noise_shape)} must have one entry per axis "
                             f"of x (shape {shape})")
        noise_shape = tuple(n if d is None else d for d, n in zip(noise_shape, shape))
        if any(d not in (1, n) for d, n in zip(noise_shape, shape)):
            raise ValueError(f"{who}: noise_shape {noise_shape} does not broadcast to the shape of x "
                             f"{shape} (each entry must be 1 or the size of that axis)")
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    dtype = data.dtype if data.dtype == np.float64 else np.dtype(np.float32)  # Tensor's rule
    if rate >= 1:
        mask = np.zeros(noise_shape, dtype=dtype)
    else:
        keep = rng.random(noise_shape, dtype=np.float32) >= rate
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - rate))
    return Dropout.apply(x, mask=mask)


def flatten(x, data_format="channels_last"):
    """(N, d1, d2, ...) -> (N, d1*d2*...). For ``"channels_first"`` the channel axis is moved last
    first, as Keras's ``Flatten`` does, so both layouts flatten to the same vector."""
    who = "flatten"
    data_format = normalize_data_format(data_format, who)
    shape = shape_of(x)
    if len(shape) < 1:
        raise ValueError(f"{who}: x must have a batch axis, got a scalar")
    if data_format == "channels_first" and len(shape) > 2:
        x = to_channels_last(x, 1)
    return reshape(x, (shape[0], int(np.prod(shape[1:], dtype=np.int64))))
