"""Small NN ops that layers are built from (bias_add, dropout, flatten), and the buffer pool that
the NN ops (conv, pooling, normalization, these) take their large arrays from."""
import numbers
import sys
import threading

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .geometry import normalize_data_format
from .shape import reshape, transpose


def _shape(x):
    return np.shape(getattr(x, "data", x))


# -- buffer reuse ---------------------------------------------------------------------------------
# A fresh multi-megabyte array is mapped from the OS page by page as it is first written, and that
# costs more than the convolution that fills it (each 4 KiB page fault is microseconds). A training
# step asks for the same shapes every time, so the NN ops take their large outputs, gradients and
# scratch arrays from a pool that hands an array out again once nothing else refers to it.

def _free_refcount():
    """What ``sys.getrefcount`` reports, in :meth:`BufferPool.empty`'s loop, for an array that only
    the pool holds (measured, not assumed: the interpreter's own references vary by version)."""
    arrays = [np.empty(1)]
    for a in arrays:
        return sys.getrefcount(a)


class BufferPool:
    """Large arrays handed out again once no one else holds them.

    ``empty(shape, dtype)`` returns a pooled array of that shape and dtype whose only reference is
    the pool's own (a Tensor, an attribute saved on a ctx, a NumPy view: each holds a reference, so
    an array in use is never handed out twice), else a new array, which joins the pool. When the
    pool would grow past ``max_bytes`` it first lets go of free arrays of the shapes used least
    recently (a new batch size, say), and past that the new array is simply not pooled. Arrays
    under ``min_bytes`` are not pooled: malloc serves those from memory it already has.

    >>> pool = BufferPool()
    >>> a = pool.empty((256, 256), np.float32)
    >>> pool.empty((256, 256), np.float32) is a       # a is in use: a second array
    False
    >>> address = id(a); del a                        # no one holds the first one any more
    >>> id(pool.empty((256, 256), np.float32)) == address
    True
    """

    def __init__(self, max_bytes=1 << 30, min_bytes=1 << 17):
        self.max_bytes, self.min_bytes = max_bytes, min_bytes
        self._arrays = {}          # (shape, dtype) -> [arrays], least recently used key first
        self._bytes = 0
        self._lock = threading.Lock()

    def empty(self, shape, dtype):
        """An uninitialised C-contiguous array of ``shape`` and ``dtype``."""
        shape, dtype = tuple(shape), np.dtype(dtype)
        nbytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
        if nbytes < self.min_bytes:
            return np.empty(shape, dtype)
        key = (shape, dtype)
        with self._lock:
            arrays = self._arrays.pop(key, [])
            self._arrays[key] = arrays                # most recently used: last
            for a in arrays:
                if sys.getrefcount(a) <= _FREE:
                    return a
            a = np.empty(shape, dtype)
            if self._bytes + nbytes > self.max_bytes:
                self._evict(nbytes)
            if self._bytes + nbytes <= self.max_bytes:
                arrays.append(a)
                self._bytes += nbytes
            return a

    def _evict(self, nbytes):
        """Drop free arrays, least recently used shapes first, until ``nbytes`` more would fit."""
        for arrays in self._arrays.values():
            kept = []
            for a in arrays:
                if self._bytes + nbytes > self.max_bytes and sys.getrefcount(a) <= _FREE:
                    self._bytes -= a.nbytes
                else:
                    kept.append(a)
            arrays[:] = kept        # in place: empty() holds the list of its own key

    def zeros(self, shape, dtype):
        """Like :meth:`empty`, filled with zeros."""
        a = self.empty(shape, dtype)
        a.fill(0)
        return a

    def clear(self):
        """Forget every pooled array (those in use stay valid; memory returns as they are freed)."""
        with self._lock:
            self._arrays.clear()
            self._bytes = 0

    @property
    def nbytes(self):
        """Bytes the pool holds (in use or free)."""
        return self._bytes


_FREE = _free_refcount()
buffers = BufferPool()


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
    shape, bshape = _shape(x), _shape(bias)
    if len(shape) < 2:
        raise ValueError(f"{who}: x must have rank >= 2 (batch and channel axes), got shape {shape}")
    axis = len(shape) - 1 if data_format == "channels_last" else 1
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
    shape = _shape(x)
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
    shape = _shape(x)
    if len(shape) < 1:
        raise ValueError(f"{who}: x must have a batch axis, got a scalar")
    if data_format == "channels_first" and len(shape) > 2:
        x = transpose(x, (0, *range(2, len(shape)), 1))
    return reshape(x, (shape[0], int(np.prod(shape[1:], dtype=np.int64))))
