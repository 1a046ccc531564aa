"""Upsampling ops: repeat every entry along an axis (nearest neighbour for an integer factor), and
resize an axis by linear interpolation (bilinear for an image: one axis, then the other).

Linear resizing follows Keras 3 (``ops.image.resize(..., antialias=False)``, the same as TF's
``half_pixel_centers`` and torch's ``align_corners=False``): output pixel ``i`` of an axis resized
from ``n`` to ``m`` reads the input at ``src = (i + 0.5) * n / m - 0.5``, clamped at 0, mixing
``x[floor(src)]`` and ``x[floor(src) + 1]`` (the last pixel repeats past the edge):

>>> interpolation_matrix(2, 4)
array([[1.  , 0.  ],
       [0.75, 0.25],
       [0.25, 0.75],
       [0.  , 1.  ]])

Each op is linear in ``x``, so it is a fixed matrix ``M`` along one axis: ``y = M x`` there, and the
gradient is ``M^T g``.
"""
import numbers

import numpy as np

from ..engine.function import Function, as_tensor
from ._common import check_axis, check_image
from .geometry import normalize_data_format


class Repeat(Function):
    """y = x with every entry along ``axis`` repeated ``repeats`` times in a row
    (``[a, b] -> [a, a, b, b]``);  dL/dx[j] = sum of g over the ``repeats`` copies of x[j]."""

    @staticmethod
    def forward(ctx, x, *, repeats, axis):
        ctx.repeats, ctx.axis, ctx.shape = repeats, axis, x.shape
        return np.repeat(x, repeats, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        a, shape = ctx.axis, ctx.shape
        # (.., n * r, ..) -> (.., n, r, ..): the r copies of each entry are one axis to sum over
        return grad.reshape(shape[:a] + (shape[a], ctx.repeats) + shape[a + 1:]).sum(axis=a + 1)


class LinearResize(Function):
    """y = M x along ``axis``, M the (m, n) :func:`interpolation_matrix`;  dL/dx = M^T g there."""

    @staticmethod
    def forward(ctx, x, *, size, axis):
        m = interpolation_matrix(x.shape[axis], size).astype(x.dtype)
        ctx.m, ctx.axis = m, axis
        # the axis last, times M^T, and back: y[..., i] = sum_j M[i, j] x[..., j]
        y = np.moveaxis(x, axis, -1) @ m.T
        return np.ascontiguousarray(np.moveaxis(y, -1, axis))

    @staticmethod
    def backward(ctx, grad):
        g = np.moveaxis(grad, ctx.axis, -1) @ ctx.m
        return np.ascontiguousarray(np.moveaxis(g, -1, ctx.axis))


def interpolation_matrix(n, m):
    """The (m, n) matrix of half-pixel linear interpolation from ``n`` samples to ``m``
    (see the module docstring); each row sums to 1."""
    src = np.maximum((np.arange(m) + 0.5) * (n / m) - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    frac = src - lo
    out = np.zeros((m, n))
    rows = np.arange(m)
    np.add.at(out, (rows, lo), 1.0 - frac)
    np.add.at(out, (rows, hi), frac)      # hi == lo at the last pixel: the weights add up to 1
    return out


def _positive_int(value, name, who):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


def repeat(x, repeats, axis):
    """Every entry of ``x`` along ``axis`` repeated ``repeats`` (a positive int) times in a row,
    as ``np.repeat``: nearest-neighbour upsampling by an integer factor."""
    x = as_tensor(x, "repeat")
    repeats = _positive_int(repeats, "repeats", "repeat")
    return Repeat.apply(x, repeats=repeats, axis=check_axis(axis, x.shape, "repeat"))


def resize_linear(x, size, axis):
    """``x`` with ``axis`` resized to ``size`` samples by half-pixel linear interpolation."""
    x = as_tensor(x, "resize_linear")
    size = _positive_int(size, "size", "resize_linear")
    return LinearResize.apply(x, size=size, axis=check_axis(axis, x.shape, "resize_linear"))


def resize_bilinear(x, size, data_format="channels_last"):
    """A 4-D image batch resized to ``size`` = (height, width) by bilinear interpolation, as
    Keras 3's ``ops.image.resize(..., interpolation="bilinear")`` (half-pixel centers, no
    antialiasing). Bilinear weights are a product of 1-D ones, so it is one axis, then the other."""
    who = "resize_bilinear"
    data_format = normalize_data_format(data_format, who)
    check_image(x, "x", who, data_format)
    if isinstance(size, (str, bytes)) or not hasattr(size, "__len__") or len(size) != 2:
        raise ValueError(f"{who}: size must be a (height, width) pair of positive integers, "
                         f"got {size!r}")
    h_axis = 2 if data_format == "channels_first" else 1
    x = resize_linear(x, _positive_int(size[0], "size", who), h_axis)
    return resize_linear(x, _positive_int(size[1], "size", who), h_axis + 1)
