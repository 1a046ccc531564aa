"""Random noise ops: dropout (used by layers only while training)."""
import numbers

import numpy as np

from ..backend.buffers import buffers
from ..engine.function import Function
from ..engine.tensor import Tensor
from ._common import shape_of


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
