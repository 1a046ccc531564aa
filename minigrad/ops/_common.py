"""Helpers every op module shares: the thread count for a kernel call, shapes and axes of inputs,
a named tensor argument, and the check of an image batch."""
import ctypes
import glob
import numbers
import os

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


def _openblas_getter():
    """``openblas_get_num_threads`` of the OpenBLAS in NumPy's wheel (the library whose setter
    :mod:`minigrad.backend.threads` found), or None."""
    setter = threads._set_blas_threads
    if setter is None:
        return None
    name = setter.__name__.replace("_set_", "_get_")
    here = os.path.dirname(np.__file__)
    for path in sorted(glob.glob(os.path.join(here, os.pardir, "numpy.libs", "*openblas*")) +
                       glob.glob(os.path.join(here, ".libs", "*openblas*"))):
        try:
            getter = getattr(ctypes.CDLL(path), name, None)   # the library NumPy loaded already
        except OSError:
            continue
        if getter is not None:
            getter.argtypes, getter.restype = [], ctypes.c_int
            return getter
    return None


_get_blas_threads = _openblas_getter()


def long_sum_matmul(a, b):
    """``a @ b`` on one BLAS thread, for a product whose summed axis is far longer than its small
    result: a convolution's weight gradient cols^T @ G, (kh*kw*Cin, P) @ (P, Cout), P = N*OH*OW.

    Why: OpenBLAS shares such a product between its threads by rows and columns of the result,
    and the threads wait for each other's packed blocks of the long axis many times per call.
    With a core busy elsewhere each wait can last a time slice: on 2 threads of a shared 2-core
    machine the MNIST model's products took 1.0-5x as long as on one (0.8-1.2x with the cores
    idle). The sum is never split between threads, so the bits are those of any thread count.
    BLAS's own thread count is put back afterwards, whatever it was.
    """
    set_blas = threads._set_blas_threads
    n = _get_blas_threads() if _get_blas_threads is not None else 1
    if n <= 1 or set_blas is None:
        return np.matmul(a, b)
    set_blas(1)
    try:
        return np.matmul(a, b)
    finally:
        set_blas(n)


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


def check_image(x, name, who, data_format):
    """The shape of a 4-D image batch, or a ValueError naming the expected layout."""
    shape = shape_of(x)
    if len(shape) != 4:
        layout = "(N, H, W, C)" if data_format == "channels_last" else "(N, C, H, W)"
        raise ValueError(f"{who}: {name} must be a 4-D tensor {layout} for "
                         f"data_format={data_format!r}, got shape {shape}")
    return shape
