"""Cython kernels: pure numeric loops on typed memoryviews, ``nogil``, parallel with ``prange``.

Kernels know nothing of Tensors or autograd. Each takes NumPy arrays (C-contiguous, NHWC for
images), writes into an output array the caller allocated, and receives the thread count as an
argument. Every kernel module has a pure-NumPy twin with the same function names and arguments in
:mod:`minigrad.backend.kernels.reference` (read the twin first: it says *what* is computed, the
``.pyx`` says how to do it fast); tests hold the two equal.

The ops take their kernels from :func:`get`, once, when they are imported. It returns the compiled
module, or its twin when the environment variable ``MINIGRAD_KERNELS`` was ``reference`` at import:

>>> get("elementwise").relu6_forward.__name__
'relu6_forward'
>>> get("pooling", "reference").__name__
'minigrad.backend.kernels.reference.pooling'
"""
import importlib
import os

#: The kernel modules the ops call, each with a twin of the same name under ``reference/``.
NAMES = ("batchnorm", "depthwise", "elementwise", "gemm", "pooling")
MODES = ("compiled", "reference")


def _mode_from_environment():
    """``MINIGRAD_KERNELS`` (default ``compiled``), checked: a typo must not silently run the
    compiled kernels when the twins were asked for, or the other way round."""
    value = os.environ.get("MINIGRAD_KERNELS", "").strip().lower() or "compiled"
    if value not in MODES:
        raise ValueError(f"MINIGRAD_KERNELS must be 'compiled' or 'reference', got "
                         f"{os.environ['MINIGRAD_KERNELS']!r}")
    return value


#: Which kernels the ops run: ``"compiled"`` or ``"reference"``, read once at import.
MODE = _mode_from_environment()


def get(name, mode=None):
    """The kernel module ``name`` (one of :data:`NAMES`): compiled, or its NumPy twin.

    ``mode`` is ``"compiled"`` or ``"reference"``; None means :data:`MODE`.
    """
    mode = MODE if mode is None else mode
    if name not in NAMES:
        raise ValueError(f"get: name must be one of {', '.join(map(repr, NAMES))}, got {name!r}")
    if mode not in MODES:
        raise ValueError(f"get: mode must be 'compiled' or 'reference', got {mode!r}")
    package = __name__ if mode == "compiled" else __name__ + ".reference"
    return importlib.import_module(f"{package}.{name}")
