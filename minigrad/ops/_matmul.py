"""The matrix products of the convolutions, on minigrad's own kernels.

A convolution's products are tall and thin (P = N*H*W rows, 9 to a few hundred columns), the
shapes where a general BLAS spends its time packing and waking threads; and NumPy's BLAS keeps a
thread pool of its own that spins on the cores after every call, slowing the OpenMP kernels that
run next (measured: 15% of a MobileNet training step on 2 cores). So the convolutions use the
register-blocked products of :mod:`minigrad.backend.kernels.gemm` (one thread team for every
kernel of a step), and fall back to ``np.matmul`` for other dtypes (float16).

>>> a = np.arange(6.0).reshape(3, 2)
>>> matmul(a, np.eye(2)).tolist()
[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
>>> matmul_tn(a, a).tolist()          # a^T @ a
[[20.0, 26.0], [26.0, 35.0]]
"""
import numpy as np

from ..backend import kernels
from ..backend.buffers import buffers
from ._common import threads_for

_gemm = kernels.get("gemm")   # chosen once, at import
#: the dtypes the kernels take (others go to ``np.matmul``)
KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: the most elements of the right-hand matrix (and of a kernel gradient) the kernels take: 2 MB of
#: float32, which a core's cache holds while the rows of a stream by
MAX_KERNEL_ELEMENTS = 1 << 19


def _rows(a):
    """a C-contiguous (the kernels' layout): a copy only when it is not."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _transposed(a):
    """True when a is the transposed view of a C-contiguous matrix (and not one itself): the
    products then read a.T, with the other kernel, instead of copying."""
    return a.flags.f_contiguous and not a.flags.c_contiguous


def _kernels_take(a, b, small):
    """True when the kernels multiply a and b well: one float dtype, and ``small`` elements (the
    weights, or a kernel gradient's partial sums) few enough to stay in the cache while the rows
    of the data stream by; a 4096 x 4096 Dense kernel is BLAS's job, which blocks it for the
    cache."""
    return a.dtype in KERNEL_DTYPES and a.dtype == b.dtype and small <= MAX_KERNEL_ELEMENTS


def kernels_take(a, b):
    """Whether :func:`matmul` (and :func:`matmul_tn` of the same shapes) runs a (M, K) @ b (K, N)
    on the kernels, which can read a through a ``prologue`` (else NumPy's BLAS)."""
    return _kernels_take(a, b, b.size)


def matmul(a, b, out=None, prologue=None):
    """``a @ b`` for 2-D a (M, K) and b (K, N); ``out`` (M, N) if given, else a buffer from the
    pool. ``prologue``: a C-contiguous a is read through a batch norm's map (``gemm.matmul``);
    only where :func:`kernels_take` says so."""
    take, transposed = _kernels_take(a, b, b.size), _transposed(a)
    if prologue is not None and (not take or transposed):
        raise ValueError("matmul: a prologue needs the product kernels and a C-contiguous a "
                         "(kernels_take(a, b), a not a transposed view)")
    if not take:
        return np.matmul(a, b, out=out)
    if out is None:
        out = buffers.empty((a.shape[0], b.shape[1]), a.dtype)
    threads = threads_for(a.shape[0] * a.shape[1] * b.shape[1])
    if transposed:
        _gemm.matmul_tn(a.T, _rows(b), out, threads)       # (a.T).T @ b
    else:
        _gemm.matmul(_rows(a), _rows(b), out, threads, prologue)
    return out


def matmul_tn(a, g, prologue=None):
    """``a.T @ g`` for 2-D a (P, K) and g (P, N), without transposing a: a new (K, N) array
    (``prologue`` as in :func:`matmul`)."""
    # g is the data here (P, N); the small matrix is out
    take, transposed = _kernels_take(a, g, a.shape[1] * g.shape[1]), _transposed(a)
    if prologue is not None and (not take or transposed):
        raise ValueError("matmul_tn: a prologue needs the product kernels and a C-contiguous a")
    if not take:
        return np.matmul(a.T, g)
    out = np.empty((a.shape[1], g.shape[1]), a.dtype)
    threads = threads_for(a.shape[0] * a.shape[1] * g.shape[1])
    if transposed:
        _gemm.matmul(a.T, _rows(g), out, threads)          # a.T is a C-contiguous matrix
    else:
        _gemm.matmul_tn(_rows(a), _rows(g), out, threads, prologue)
    return out
