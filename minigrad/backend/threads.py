"""How many OpenMP threads the kernels use.

Every kernel takes its thread count as an argument; this module holds the one setting they read.
Default: ``OMP_NUM_THREADS`` when set, else every core of the machine.

The matrix products of convolutions and Dense layers run on minigrad's own kernels; what is left
to NumPy's BLAS (batched ``matmul``, float16) runs on BLAS's own threads.
:func:`set_num_threads` sets those too when NumPy's bundled OpenBLAS is found,
so that ``set_num_threads(1)`` really means one thread, and two thread pools do not fight over
more threads than the caller asked for.
"""
import ctypes
import glob
import os

from . import kernels as _kernels
from . import simd as _simd
from .kernels import openmp as _openmp


def _default_threads():
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_num_threads = _default_threads() if _openmp.openmp_enabled() else 1


def _openblas_setter():
    """``openblas_set_num_threads`` of the OpenBLAS bundled in NumPy's wheel, or None (another
    BLAS, a NumPy built differently: then BLAS keeps its own setting)."""
    import numpy
    names = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
             "openblas_set_num_threads64_", "openblas_set_num_threads")
    here = os.path.dirname(numpy.__file__)
    for path in sorted(glob.glob(os.path.join(here, os.pardir, "numpy.libs", "*openblas*")) +
                       glob.glob(os.path.join(here, ".libs", "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)   # already loaded by NumPy: the same library, not a second copy
        except OSError:
            continue
        for name in names:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                return setter
    return None


_set_blas_threads = _openblas_setter()


def set_num_threads(n):
    """Use ``n`` threads in every kernel from now on (a positive int), and in NumPy's OpenBLAS."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    _num_threads = n if _openmp.openmp_enabled() else 1
    if _set_blas_threads is not None:
        _set_blas_threads(n)


def get_num_threads():
    """The number of threads the kernels use now."""
    return _num_threads


def build_info():
    """How the kernels were built: ``{"openmp": bool, "compiler_flags": [...], "num_threads": int}``,
    and which the ops run (``"kernels"``: ``"compiled"``, or ``"reference"`` for the NumPy twins)."""
    info = {
        "kernels": _kernels.MODE,
        "openmp": _openmp.openmp_enabled(),
        "compiler_flags": _openmp.compile_args(),
        "num_threads": _num_threads,
        "max_threads": _openmp.max_threads(),
        "blas_threads_settable": _set_blas_threads is not None,
        # the instruction set the depthwise kernels run (None: the NumPy twins run instead)
        "simd": _simd.path() if _kernels.MODE == "compiled" else None,
        "simd_available": _simd.available(),  # the ones this CPU can run
    }
    if not info["openmp"]:
        info["warning"] = "built without OpenMP: every kernel runs on one thread"
    return info
