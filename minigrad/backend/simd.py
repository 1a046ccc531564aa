"""Which instruction set the hand-vectorised kernels run on.

The inner loops of the depthwise kernels, of the convolutions' matrix products and of batch
normalisation (``kernels/include/depthwise_simd.h``, ``gemm_simd.h``, ``batchnorm_rows.h``) are
compiled for several instruction sets ("paths") from one source: ``"base"`` (the baseline instruction set: SSE2 on
x86-64, these modules are never built with ``-march=native``), ``"avx2"`` and ``"avx512"``. At import the fastest path this CPU supports is chosen, as NumPy and PyTorch choose
theirs, so a portable build runs at full speed too. ``MINIGRAD_SIMD=avx2`` (or ``base``,
``avx512``) picks one by hand, to compare or to debug; ``minigrad.build_info()["simd"]`` says which
runs.

>>> path() in available()
True
"""
import os

from .kernels import batchnorm as _batchnorm
from .kernels import depthwise as _depthwise
from .kernels import gemm as _gemm


_PATHS = ("base", "avx2", "avx512")   # the index of each is its number in include/simd_cpu.h


def available():
    """The paths this CPU can run, slowest first (``"base"`` always)."""
    return _depthwise._simd_paths()


def path():
    """The path the kernels run on now."""
    return _depthwise._simd_path()


def set_path(name):
    """Run the kernels on path ``name`` from now on (one of :func:`available`)."""
    _depthwise._set_simd_path(name)          # checks the name (a ValueError naming the choices)
    for module in (_gemm, _batchnorm):
        module._set_path_index(_PATHS.index(name))


def _module_paths():
    """The path of each dispatching kernel module (they are set together, so all the same)."""
    return {"depthwise": path(), "gemm": _PATHS[_gemm._path_index()],
            "batchnorm": _PATHS[_batchnorm._path_index()]}


def _from_environment():
    value = os.environ.get("MINIGRAD_SIMD", "").strip().lower()
    if value:
        try:
            set_path(value)
        except ValueError:
            raise ValueError(f"MINIGRAD_SIMD must be one of this CPU's paths {available()}, got "
                             f"{os.environ['MINIGRAD_SIMD']!r}") from None


_from_environment()
