"""NumPy twin of ``gemm.pyx``: the two matrix products of the convolutions.

>>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> out = np.empty((2, 2))
>>> matmul(a, np.eye(2), out, 1)
>>> out.tolist()
[[1.0, 2.0], [3.0, 4.0]]
>>> matmul_tn(a, a, out, 1)        # a^T @ a
>>> out.tolist()
[[10.0, 14.0], [14.0, 20.0]]
"""
import numpy as np

from .batchnorm import normalize


def _through(a, prologue):
    """a read through ``prologue`` = (center, scale, shift, lo, hi): clip((a - center) * scale +
    shift, lo, hi) per column (a batch norm's output, made by the product that reads it)."""
    if prologue is None:
        return a
    mapped = np.empty_like(a)
    normalize(a, *prologue, mapped, 1)
    return mapped


def matmul(a, b, out, num_threads, prologue=None):
    """out = a @ b: a (M, K), b (K, N), out (M, N)."""
    np.matmul(_through(a, prologue), b, out=out)


def matmul_tn(a, g, out, num_threads, prologue=None):
    """out = a^T @ g: a (P, K), g (P, N), out (K, N)."""
    np.matmul(_through(a, prologue).T, g, out=out)
