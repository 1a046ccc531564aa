"""The ``prologue`` argument of the kernels that can read their input through a batch norm.

``prologue = (center, scale, shift, lo, hi)``: the kernel reads each input value v of channel c as
``clip((v - center[c]) * scale[c] + shift[c], lo, hi)``, a training batch norm's output and its
fused ReLU/ReLU6 (``batchnorm.normalize``), computed as it stages its input instead of read from
an array the batch norm wrote (``depthwise.pyx``, ``gemm.pyx``; see ``minigrad.ops.fused``).
:func:`check_prologue` refuses anything else before any C code runs.
"""
import numbers

import numpy as np


def check_prologue(who, prologue, channels, dtype, multiplier=1):
    """``prologue`` checked: three C-contiguous (channels,) arrays of ``dtype`` and two numbers,
    for a kernel of depth multiplier 1; None passes. Returns it with lo and hi as floats.

    >>> check_prologue("f", (np.zeros(2), np.ones(2), np.zeros(2), 0, 6), 2, np.float64)[3:]
    (0.0, 6.0)
    >>> check_prologue("f", (np.zeros(2), np.ones(2), np.zeros(2), 0, 6), 2, np.float64, 3)
    Traceback (most recent call last):
    ...
    ValueError: f: a prologue needs depth multiplier 1 (one staged value per channel), got 3
    """
    if prologue is None:
        return None
    if not isinstance(prologue, tuple) or len(prologue) != 5:
        raise TypeError(f"{who}: prologue must be None or a tuple (center, scale, shift, lo, hi), "
                        f"got {type(prologue).__name__}")
    if multiplier != 1:
        raise ValueError(f"{who}: a prologue needs depth multiplier 1 (one staged value per "
                         f"channel), got {multiplier}")
    dtype = np.dtype(dtype)
    for name, v in zip(("center", "scale", "shift"), prologue[:3]):
        # (`type(v) is` and `v.dtype is`: a training step checks 20-odd prologues; NumPy's own
        # dtypes are single objects, so equal dtypes are one object in the usual case)
        if type(v) is np.ndarray and v.dtype is dtype and v.shape == (channels,) \
                and v.flags.c_contiguous:
            continue
        if not isinstance(v, np.ndarray) or v.dtype != dtype or v.shape != (channels,) \
                or not v.flags.c_contiguous:
            shown = type(v).__name__
            if isinstance(v, np.ndarray):
                layout = "" if v.flags.c_contiguous else " (not C-contiguous)"
                shown = f"{v.dtype} array of shape {v.shape}{layout}"
            raise ValueError(f"{who}: prologue {name} must be a C-contiguous {dtype} array of "
                             f"shape ({channels},), got {shown}")
    for name, v in zip(("lo", "hi"), prologue[3:]):
        if type(v) is not float and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
            raise TypeError(f"{who}: prologue {name} must be a number, got {v!r}")
    return prologue[:3] + (float(prologue[3]), float(prologue[4]))
