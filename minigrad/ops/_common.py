"""Helpers every op module shares: the thread count for a kernel call, shapes and axes of inputs,
a named tensor argument, and the check of an image or sequence batch."""
import numbers

import numpy as np

from ..backend import threads
from ..engine.function import as_tensor
from ..engine.tensor import Tensor

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
    if not (type(axis) is int or (isinstance(axis, numbers.Integral) and not isinstance(axis, bool))) \
            or not -ndim <= axis < ndim:
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


# the layouts of a batch by rank: (channels_last, channels_first)
_LAYOUTS = {3: ("(N, L, C)", "(N, C, L)"), 4: ("(N, H, W, C)", "(N, C, H, W)")}


def _check_batch(x, name, who, data_format, rank):
    shape = shape_of(x)
    if len(shape) != rank:
        layout = _LAYOUTS[rank][data_format != "channels_last"]
        raise ValueError(f"{who}: {name} must be a {rank}-D tensor {layout} for "
                         f"data_format={data_format!r}, got shape {shape}")
    return shape


def check_image(x, name, who, data_format):
    """The shape of a 4-D image batch, or a ValueError naming the expected layout."""
    return _check_batch(x, name, who, data_format, 4)


def check_sequence(x, name, who, data_format):
    """The shape of a 3-D sequence batch, or a ValueError naming the expected layout."""
    return _check_batch(x, name, who, data_format, 3)
