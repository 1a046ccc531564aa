"""Elementwise kernels: the first and simplest Cython/OpenMP kernels, kept small on purpose.

They work on flat, C-contiguous views, so any shape is one loop; ``prange`` splits it in static
chunks (each element is written by exactly one thread, so results never depend on the thread count).
"""
from cython.parallel cimport prange

ctypedef fused real:
    float
    double


def relu6_forward(const real[::1] x, real[::1] out, int num_threads):
    """out[i] = min(max(x[i], 0), 6)."""
    cdef Py_ssize_t i, n = x.shape[0]
    cdef real v
    for i in prange(n, nogil=True, schedule="static", num_threads=num_threads):
        v = x[i]
        if v < 0:
            v = 0
        elif v > 6:
            v = 6
        out[i] = v


def relu6_backward(const real[::1] x, const real[::1] grad, real[::1] out, int num_threads):
    """out[i] = grad[i] where 0 < x[i] < 6, else 0 (the derivative of relu6, 0 at the kinks).

    ``x`` may be relu6's input or its output: 0 < x < 6 exactly where 0 < relu6(x) < 6."""
    cdef Py_ssize_t i, n = x.shape[0]
    for i in prange(n, nogil=True, schedule="static", num_threads=num_threads):
        if x[i] > 0 and x[i] < 6:
            out[i] = grad[i]
        else:
            out[i] = 0
