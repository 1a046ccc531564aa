"""How many OpenMP threads the kernels use.

Every kernel takes its thread count as an argument; this module holds the one setting they read.
Default: ``OMP_NUM_THREADS`` when set, else every core of the machine.
"""
import os

from ._kernels import openmp as _openmp


def _default_threads():
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_num_threads = _default_threads() if _openmp.openmp_enabled() else 1


def set_num_threads(n):
    """Use ``n`` threads in every kernel from now on (a positive int)."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    _num_threads = n if _openmp.openmp_enabled() else 1


def get_num_threads():
    """The number of threads the kernels use now."""
    return _num_threads


def build_info():
    """How the kernels were built: ``{"openmp": bool, "compiler_flags": [...], "num_threads": int}``."""
    info = {
        "openmp": _openmp.openmp_enabled(),
        "compiler_flags": _openmp.compile_args(),
        "num_threads": _num_threads,
        "max_threads": _openmp.max_threads(),
    }
    if not info["openmp"]:
        info["warning"] = "built without OpenMP: every kernel runs on one thread"
    return info
