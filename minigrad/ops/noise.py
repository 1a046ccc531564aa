"""Random noise ops (used by layers only while training): dropout, spatial dropout, Gaussian
noise and Gaussian dropout.

Each draws its noise with NumPy (a ``numpy.random.Generator``, an int seed, or None) in the
input's float dtype, then applies it through a Function whose gradient uses the very same draw:

* dropout, spatial dropout, Gaussian dropout: y = x * m, dL/dx = G * m (:class:`Dropout`);
* Gaussian noise: y = x + e, dL/dx = G (:class:`AddNoise`).
"""
import numpy as np

from .._checks import check_number
from ..backend.buffers import buffers
from ..engine.function import Function
from ..engine.tensor import Tensor
from ._common import shape_of
from .geometry import normalize_data_format


def _generator(rng):
    """A ``numpy.random.Generator`` from a Generator (used as is), an int seed or None."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _float_dtype(x):
    """The dtype x computes in, by Tensor's rule: float64 stays float64, anything else float32."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    return data.dtype if data.dtype == np.float64 else np.dtype(np.float32)


def _check_rate(rate, who, allow_one=True):
    """TypeError for a non-number, ValueError for a number outside [0, 1] (or [0, 1))."""
    return check_number(rate, "rate", who, low=0, high=1, high_open=not allow_one)


class Dropout(Function):
    """y = x * m for a multiplier m drawn once (broadcast against x);  dL/dx = G * m.

    Dropout's m is keep / (1 - rate) (inverted dropout); Gaussian dropout's m is drawn from
    N(1, rate / (1 - rate)).
    """

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
    rate = _check_rate(rate, who)
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
    rng, dtype = _generator(rng), _float_dtype(x)
    if rate >= 1:
        mask = np.zeros(noise_shape, dtype=dtype)
    else:
        keep = rng.random(noise_shape, dtype=np.float32) >= rate
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - rate))
    return Dropout.apply(x, mask=mask)


def spatial_dropout(x, rate, rng=None, data_format="channels_last"):
    """Dropout of whole feature maps (Keras's ``SpatialDropout1D`` / ``2D`` in training): one keep
    decision per (sample, channel), shared by every step/pixel, survivors scaled by 1 / (1 - rate).

    x: (N, L, C) or (N, H, W, C); channels_first: (N, C, L) or (N, C, H, W). The mask has shape
    (N, 1, C), (N, 1, 1, C), or (N, C, 1), (N, C, 1, 1) for channels_first.
    """
    who = "spatial_dropout"
    data_format = normalize_data_format(data_format, who)
    shape = shape_of(x)
    if len(shape) not in (3, 4):
        raise ValueError(f"{who}: x must be a 3-D (N, L, C) or 4-D (N, H, W, C) tensor "
                         f"(channels last; channels first for data_format='channels_first'), "
                         f"got shape {shape}")
    c_axis = 1 if data_format == "channels_first" else len(shape) - 1
    noise_shape = tuple(d if a in (0, c_axis) else 1 for a, d in enumerate(shape))
    _check_rate(rate, who, allow_one=False)   # errors in this op's name, not dropout's
    return dropout(x, rate, rng=rng, noise_shape=noise_shape)


class AddNoise(Function):
    """y = x + e for noise e drawn once;  dL/dx = G (the noise is a constant of the call)."""

    @staticmethod
    def forward(ctx, x, *, noise):
        return np.add(x, noise, out=buffers.empty(x.shape, np.result_type(x, noise)))

    @staticmethod
    def backward(ctx, grad):
        return grad


def gaussian_noise(x, stddev, rng=None):
    """x + e with e ~ N(0, stddev^2) drawn for every element (Keras's ``GaussianNoise`` in
    training). rng: a ``numpy.random.Generator``, an int seed, or None (fresh entropy)."""
    who = "gaussian_noise"
    stddev = check_number(stddev, "stddev", who, low=0)
    rng, dtype = _generator(rng), _float_dtype(x)
    noise = rng.standard_normal(shape_of(x), dtype=dtype)
    noise *= dtype.type(stddev)
    return AddNoise.apply(x, noise=noise)


def gaussian_dropout(x, rate, rng=None):
    """x * m with m ~ N(1, rate / (1 - rate)) drawn for every element (Keras's
    ``GaussianDropout`` in training): the same mean and variance as inverted dropout of ``rate``,
    with a smooth multiplier. 0 <= rate < 1."""
    who = "gaussian_dropout"
    rate = _check_rate(rate, who, allow_one=False)   # rate 1 would need an infinite stddev
    rng, dtype = _generator(rng), _float_dtype(x)
    m = rng.standard_normal(shape_of(x), dtype=dtype)
    m *= dtype.type(np.sqrt(rate / (1.0 - rate)))
    m += dtype.type(1.0)
    return Dropout.apply(x, mask=m)
