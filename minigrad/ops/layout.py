"""Data layout: kernels compute channels-last (NHWC); other layouts are a transpose around them.

The one way channels-first data reaches the channels-last kernels, and ``flatten``, whose order
depends on the layout (Keras flattens (h, w, c), whatever the layout).

>>> x = np.zeros((2, 3, 4, 5))                 # (N, C, H, W)
>>> to_channels_last(x, 1).shape               # (N, H, W, C): what the kernels compute on
(2, 4, 5, 3)
>>> from_channels_last(to_channels_last(x, 1), 1).shape
(2, 3, 4, 5)
"""
import numpy as np

from ._common import shape_of
from .geometry import normalize_data_format
from .shape import reshape, transpose


def channel_axis(data_format):
    """Where the channels are: axis 1 for ``"channels_first"``, the last axis (-1) otherwise."""
    return 1 if data_format == "channels_first" else -1


def to_channels_last(x, axis):
    """``x`` with its channel ``axis`` moved last, a differentiable transpose (``x`` itself when
    it is last already): NCHW -> NHWC for ``axis=1``. Ops keep their Functions channels-last
    and call this around them, so each kernel exists in one layout only."""
    if axis == -1:   # the common case, checked first: nothing to move
        return x
    ndim = len(shape_of(x))
    axis %= ndim
    if axis == ndim - 1:
        return x
    return transpose(x, tuple(a for a in range(ndim) if a != axis) + (axis,))


def from_channels_last(y, axis):
    """The inverse of :func:`to_channels_last`: the last axis of ``y`` moved back to ``axis``."""
    if axis == -1:
        return y
    ndim = len(shape_of(y))
    axis %= ndim
    if axis == ndim - 1:
        return y
    return transpose(y, tuple(range(axis)) + (ndim - 1,) + tuple(range(axis, ndim - 1)))


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
