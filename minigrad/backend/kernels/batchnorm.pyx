"""Batch-normalisation kernels on a (P, C) view: P = N*H*W rows, C channels innermost.

Training batch norm is memory-bound: the whole job is a few passes over the activations. These
kernels make it two passes forward (statistics, then the normalisation) and two backward (two
sums, then one map of g and x), where NumPy needs a temporary array for nearly every step. A ReLU
or ReLU6 that follows can be fused in (``lo``/``hi`` clip bounds): its forward is then free, and its
backward is recomputed from x inside the same passes instead of costing passes of its own.

Sums are taken over fixed blocks of ``BLOCK_ROWS`` rows, in double precision, into one row of
partial sums per block; the blocks are then added in order. Threads split the blocks, so the result
never depends on the thread count. The statistics use the *shifted* sums
``S1 = sum(x - k)``, ``S2 = sum((x - k)^2)`` with k = the first row: var = (S2 - S1^2/P) / P then
stays accurate even when the mean is large compared with the spread, in one pass.

The NumPy twins (same signatures) are in :mod:`minigrad.ops.normalization`, and tests hold them equal.
"""
import numpy as np
from cython.parallel cimport prange
from libc.math cimport INFINITY

ctypedef fused real:
    float
    double

BLOCK_ROWS = 256
cdef Py_ssize_t _BLOCK = 256


def moments(const real[:, ::1] x, double[::1] mean, double[::1] var, int num_threads):
    """mean[c] = sum_p x[p, c] / P;  var[c] = sum_p (x[p, c] - mean[c])^2 / P (biased)."""
    cdef Py_ssize_t p = x.shape[0], c = x.shape[1]
    cdef Py_ssize_t nblocks = (p + _BLOCK - 1) // _BLOCK
    cdef Py_ssize_t b, r, r1, k
    cdef double d, s1, s2
    if p == 0:
        mean[:] = 0
        var[:] = 0
        return
    partial_arr = np.zeros((nblocks, 2, c), dtype=np.float64)
    cdef double[:, :, ::1] partial = partial_arr
    shift_arr = np.asarray(x[0], dtype=np.float64).copy()
    cdef double[::1] shift = shift_arr
    for b in prange(nblocks, nogil=True, schedule="static", num_threads=num_threads):
        r1 = min((b + 1) * _BLOCK, p)
        for r in range(b * _BLOCK, r1):
            for k in range(c):
                d = x[r, k] - shift[k]
                partial[b, 0, k] += d
                partial[b, 1, k] += d * d
    for k in range(c):
        s1 = 0
        s2 = 0
        for b in range(nblocks):   # fixed order: the same bits for any thread count
            s1 += partial[b, 0, k]
            s2 += partial[b, 1, k]
        mean[k] = shift[k] + s1 / p
        var[k] = max((s2 - s1 * s1 / p) / p, 0.0)


def backward_sums(const real[:, ::1] x, const real[:, ::1] g, const double[::1] mean,
                  const real[::1] center, const real[::1] scale, const real[::1] shift,
                  real lo, real hi, double[::1] sum_g, double[::1] sum_gxc, int num_threads):
    """sum_g[c] = sum_p g'[p, c];  sum_gxc[c] = sum_p g'[p, c] * (x[p, c] - mean[c]).

    g' is g where the forward's pre-clip output (x - center) * scale + shift lies strictly inside
    (lo, hi) and 0 elsewhere (a fused ReLU / ReLU6); with lo = -inf and hi = inf, g' = g."""
    cdef Py_ssize_t p = x.shape[0], c = x.shape[1]
    cdef Py_ssize_t nblocks = (p + _BLOCK - 1) // _BLOCK
    cdef Py_ssize_t b, r, r1, k
    cdef double s1, s2, gv
    cdef real y
    cdef bint clip = lo > -INFINITY or hi < INFINITY
    partial_arr = np.zeros((nblocks, 2, c), dtype=np.float64)
    cdef double[:, :, ::1] partial = partial_arr
    for b in prange(nblocks, nogil=True, schedule="static", num_threads=num_threads):
        r1 = min((b + 1) * _BLOCK, p)
        for r in range(b * _BLOCK, r1):
            for k in range(c):
                gv = g[r, k]
                if clip:
                    y = (x[r, k] - center[k]) * scale[k] + shift[k]
                    gv = gv if (y > lo and y < hi) else 0.0
                partial[b, 0, k] += gv
                partial[b, 1, k] += gv * (x[r, k] - mean[k])
    for k in range(c):
        s1 = 0
        s2 = 0
        for b in range(nblocks):
            s1 += partial[b, 0, k]
            s2 += partial[b, 1, k]
        sum_g[k] = s1
        sum_gxc[k] = s2


def normalize(const real[:, ::1] x, const real[::1] center, const real[::1] scale,
              const real[::1] shift, real lo, real hi, real[:, ::1] out, int num_threads):
    """out[p, c] = clip((x[p, c] - center[c]) * scale[c] + shift[c], lo, hi).

    Centred first (as TF's fused batch norm): x * scale + (shift - center * scale) would lose the
    digits of x - center when the mean is large compared with the spread. The clip is a fused ReLU
    (lo = 0) or ReLU6 (lo = 0, hi = 6); infinite bounds leave the value alone."""
    cdef Py_ssize_t p = x.shape[0], c = x.shape[1]
    cdef Py_ssize_t r, k
    cdef real y
    for r in prange(p, nogil=True, schedule="static", num_threads=num_threads):
        for k in range(c):
            y = (x[r, k] - center[k]) * scale[k] + shift[k]
            y = lo if y < lo else y
            out[r, k] = hi if y > hi else y


def normalize_backward(const real[:, ::1] g, const real[:, ::1] x, const real[::1] center,
                       const real[::1] scale, const real[::1] shift, real lo, real hi,
                       const real[::1] a, const real[::1] b, const real[::1] d, real[:, ::1] out,
                       int num_threads):
    """out[p, c] = a[c] * g'[p, c] + b[c] * (x[p, c] - center[c]) + d[c], g' as in
    :func:`backward_sums` (the training backward; the inference one has b = d = 0)."""
    cdef Py_ssize_t p = x.shape[0], c = x.shape[1]
    cdef Py_ssize_t r, k
    cdef real y, gv
    cdef bint clip = lo > -INFINITY or hi < INFINITY
    for r in prange(p, nogil=True, schedule="static", num_threads=num_threads):
        for k in range(c):
            gv = g[r, k]
            if clip:
                y = (x[r, k] - center[k]) * scale[k] + shift[k]
                gv = gv if (y > lo and y < hi) else 0
            out[r, k] = a[k] * gv + b[k] * (x[r, k] - center[k]) + d[k]
