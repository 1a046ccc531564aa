"""Helpers every op module shares: the thread count for a kernel call, shapes and axes of inputs,
a named tensor argument, and the one way channels-first data reaches the channels-last kernels.

>>> x = np.zeros((2, 3, 4, 5))                 # (N, C, H, W)
>>> to_channels_last(x, 1).shape               # (N, H, W, C): what the kernels compute on
(2, 4, 5, 3)
>>> from_channels_last(to_channels_last(x, 1), 1).shape
(2, 3, 4, 5)
"""
import numbers

import numpy as np

from ..backend import threads
from ..engine.function import as_tensor
from ..engine.tensor import Tensor
from .shape import transpose

# Below this many elements one thread is faster: starting an OpenMP team costs microseconds.
PARALLEL_MIN = 1 << 15


def threads_for(work, parallel_min=PARALLEL_MIN):
    """The kernels' thread count for a call doing ``work`` (elements, or multiply-adds), or 1 when
    that is too little work to share."""
    return threads.get_num_threads() if work >= parallel_min else 1


def shape_of(x):
    """The shape of a Tensor, an array or anything NumPy can read, without converting it."""
    return np.shape(getattr(x, "data", x))


def check_axis(axis, shape, who):
    """``axis`` of an input of ``shape`` as a non-negative int, or a ValueError naming ``who``.

    >>> check_axis(-1, (2, 3), "softmax")
    1
    >>> check_axis(2, (2, 3), "softmax")
    Traceback (most recent call last):
    ...
    ValueError: softmax: axis must be an integer in [-2, 1] for x of shape (2, 3), got 2
    """
    ndim = len(shape)
    if ndim == 0:
        raise ValueError(f"{who}: x of shape () has no axis, got axis {axis!r}")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -ndim <= axis < ndim:
        raise ValueError(f"{who}: axis must be an integer in [-{ndim}, {ndim - 1}] for x of shape "
                         f"{tuple(shape)}, got {axis!r}")
    return int(axis) % ndim


def tensor_argument(value, name, who):
    """:func:`minigrad.engine.function.as_tensor` for an op's argument ``name``: the TypeError for a value
    that is not a real numeric array names the argument too (an op may take several)."""
    if isinstance(value, Tensor):
        return value
    try:
        return as_tensor(value, who)
    except TypeError as e:
        got = type(value).__name__
        if isinstance(value, np.ndarray):
            got += f" of dtype {value.dtype}"
        raise TypeError(f"{who}: {name} must be a real numeric array or Tensor (bool, int or "
                        f"float), got {got}") from e


def check_image(x, name, who, data_format):
    """The shape of a 4-D image batch, or a ValueError naming the expected layout."""
    shape = shape_of(x)
    if len(shape) != 4:
        layout = "(N, H, W, C)" if data_format == "channels_last" else "(N, C, H, W)"
        raise ValueError(f"{who}: {name} must be a 4-D tensor {layout} for "
                         f"data_format={data_format!r}, got shape {shape}")
    return shape


# -- layout: kernels compute channels-last (NHWC); other layouts are a transpose around them ------

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
