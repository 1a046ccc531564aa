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


def matmul(a, b, out, num_threads):
    """out = a @ b: a (M, K), b (K, N), out (M, N)."""
    np.matmul(a, b, out=out)


def matmul_tn(a, g, out, num_threads):
    """out = a^T @ g: a (P, K), g (P, N), out (K, N)."""
    np.matmul(a.T, g, out=out)
