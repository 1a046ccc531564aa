"""Batch-normalisation kernels on a (P, C) view: P = N*H*W rows, C channels innermost.

Training batch norm is memory-bound: the whole job is a few passes over the activations. These
kernels make it two passes forward (statistics, then the normalisation) and two backward (two
sums, then one map of g and x), where NumPy needs a temporary array for nearly every step. A ReLU
or ReLU6 that follows can be fused in (``lo``/``hi`` clip bounds): its forward is then free, and its
backward is recomputed from x inside the same passes instead of costing passes of its own.

Sums are taken over fixed blocks of ``BLOCK_ROWS`` rows, in double precision (the backward sums
add each 8 rows in the data's type first), into one row of partial sums per block; the blocks are
then added in order. Threads split the blocks, so the result
never depends on the thread count. The statistics use the *shifted* sums
``S1 = sum(x - k)``, ``S2 = sum((x - k)^2)`` with k = the first row: var = (S2 - S1^2/P) / P then
stays accurate even when the mean is large compared with the spread, in one pass.

The arithmetic on a block of rows is plain C in ``include/batchnorm_rows.h`` (pointers GCC can
vectorise); this module checks nothing the ops have not, cuts the rows into blocks and shares them
between threads.

The NumPy twins (same signatures) are in ``reference/batchnorm.py``, and tests hold them equal.
"""
import numpy as np
from cython.parallel cimport prange
from libc.math cimport INFINITY
from libc.stddef cimport ptrdiff_t

cdef extern from "batchnorm_rows.h" nogil:
    void bn_moments_rows_f32(const float *x, ptrdiff_t rows, ptrdiff_t C, const double *shift,
                             double *s1, double *s2)
    void bn_moments_rows_f64(const double *x, ptrdiff_t rows, ptrdiff_t C, const double *shift,
                             double *s1, double *s2)
    void bn_sums_rows_f32(const float *x, const float *g, ptrdiff_t rows, ptrdiff_t C,
                          const double *mean, const float *center, const float *scale,
                          const float *beta, float lo, float hi, int clip, double *sg,
                          double *sgx)
    void bn_sums_rows_f64(const double *x, const double *g, ptrdiff_t rows, ptrdiff_t C,
                          const double *mean, const double *center, const double *scale,
                          const double *beta, double lo, double hi, int clip, double *sg,
                          double *sgx)
    void bn_normalize_rows_f32(const float *x, ptrdiff_t rows, ptrdiff_t C, const float *center,
                               const float *scale, const float *beta, float lo, float hi,
                               float *out)
    void bn_normalize_rows_f64(const double *x, ptrdiff_t rows, ptrdiff_t C,
                               const double *center, const double *scale, const double *beta,
                               double lo, double hi, double *out)
    void bn_backward_rows_f32(const float *g, const float *x, ptrdiff_t rows, ptrdiff_t C,
                              const float *center, const float *scale, const float *beta,
                              float lo, float hi, int clip, const float *a, const float *b,
                              const float *d, float *out)
    void bn_backward_rows_f64(const double *g, const double *x, ptrdiff_t rows, ptrdiff_t C,
                              const double *center, const double *scale, const double *beta,
                              double lo, double hi, int clip, const double *a, const double *b,
                              const double *d, double *out)
    int mg_path_supported(int path)
    int mg_best_path()
    int bn_set_path(int path)
    int bn_get_path()

ctypedef fused real:
    float
    double

BLOCK_ROWS = 256
cdef Py_ssize_t _BLOCK = 256


cdef void _reduce(double[:, :, ::1] partial, double[::1] first, double[::1] second) noexcept nogil:
    """first[k], second[k] = the sums over blocks of partial[:, 0, k], partial[:, 1, k], added in
    block order (the same bits for any thread count)."""
    cdef Py_ssize_t b, k
    cdef double s1, s2
    for k in range(partial.shape[2]):
        s1 = 0
        s2 = 0
        for b in range(partial.shape[0]):
            s1 += partial[b, 0, k]
            s2 += partial[b, 1, k]
        first[k] = s1
        second[k] = s2


def moments(const real[:, ::1] x, double[::1] mean, double[::1] var, int num_threads):
    """mean[c] = sum_p x[p, c] / P;  var[c] = sum_p (x[p, c] - mean[c])^2 / P (biased)."""
    cdef Py_ssize_t p = x.shape[0], c = x.shape[1]
    cdef Py_ssize_t nblocks = (p + _BLOCK - 1) // _BLOCK
    cdef Py_ssize_t b, r0, k
    cdef double s1, s2
    if p == 0:
        mean[:] = 0
        var[:] = 0
        return
    partial_arr = np.zeros((nblocks, 2, c), dtype=np.float64)
    cdef double[:, :, ::1] partial = partial_arr
    shift_arr = np.asarray(x[0], dtype=np.float64).copy()
    cdef double[::1] shift = shift_arr
    if c == 0:
        return
    for b in prange(nblocks, nogil=True, schedule="static", num_threads=num_threads):
        r0 = b * _BLOCK
        if real is float:
            bn_moments_rows_f32(&x[r0, 0], min(_BLOCK, p - r0), c, &shift[0], &partial[b, 0, 0],
                                &partial[b, 1, 0])
        else:
            bn_moments_rows_f64(&x[r0, 0], min(_BLOCK, p - r0), c, &shift[0], &partial[b, 0, 0],
                                &partial[b, 1, 0])
    _reduce(partial, mean, var)        # S1 and S2 for now
    for k in range(c):
        s1, s2 = mean[k], var[k]
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
    cdef Py_ssize_t b, r0, k
    cdef int clip = lo > -INFINITY or hi < INFINITY
    if p == 0 or c == 0:
        sum_g[:] = 0
        sum_gxc[:] = 0
        return
    cdef double[:, :, ::1] partial = np.zeros((nblocks, 2, c), dtype=np.float64)
    for b in prange(nblocks, nogil=True, schedule="static", num_threads=num_threads):
        r0 = b * _BLOCK
        if real is float:
            bn_sums_rows_f32(&x[r0, 0], &g[r0, 0], min(_BLOCK, p - r0), c, &mean[0], &center[0],
                             &scale[0], &shift[0], lo, hi, clip, &partial[b, 0, 0],
                             &partial[b, 1, 0])
        else:
            bn_sums_rows_f64(&x[r0, 0], &g[r0, 0], min(_BLOCK, p - r0), c, &mean[0], &center[0],
                             &scale[0], &shift[0], lo, hi, clip, &partial[b, 0, 0],
                             &partial[b, 1, 0])
    _reduce(partial, sum_g, sum_gxc)
    for k in range(c):   # the loops took x - mean with the mean rounded to x's type: put it back
        sum_gxc[k] = sum_gxc[k] + sum_g[k] * (<double>(<real>mean[k]) - mean[k])


def normalize(const real[:, ::1] x, const real[::1] center, const real[::1] scale,
              const real[::1] shift, real lo, real hi, real[:, ::1] out, int num_threads):
    """out[p, c] = clip((x[p, c] - center[c]) * scale[c] + shift[c], lo, hi).

    Centred first (as TF's fused batch norm): x * scale + (shift - center * scale) would lose the
    digits of x - center when the mean is large compared with the spread. The clip is a fused ReLU
    (lo = 0) or ReLU6 (lo = 0, hi = 6); infinite bounds leave the value alone."""
    cdef Py_ssize_t p = x.shape[0], c = x.shape[1]
    cdef Py_ssize_t nblocks = (p + _BLOCK - 1) // _BLOCK
    cdef Py_ssize_t b, r0
    if p == 0 or c == 0:
        return
    for b in prange(nblocks, nogil=True, schedule="static", num_threads=num_threads):
        r0 = b * _BLOCK
        if real is float:
            bn_normalize_rows_f32(&x[r0, 0], min(_BLOCK, p - r0), c, &center[0], &scale[0],
                                  &shift[0], lo, hi, &out[r0, 0])
        else:
            bn_normalize_rows_f64(&x[r0, 0], min(_BLOCK, p - r0), c, &center[0], &scale[0],
                                  &shift[0], lo, hi, &out[r0, 0])


def normalize_backward(const real[:, ::1] g, const real[:, ::1] x, const real[::1] center,
                       const real[::1] scale, const real[::1] shift, real lo, real hi,
                       const real[::1] a, const real[::1] b, const real[::1] d, real[:, ::1] out,
                       int num_threads):
    """out[p, c] = a[c] * g'[p, c] + b[c] * (x[p, c] - center[c]) + d[c], g' as in
    :func:`backward_sums` (the training backward; the inference one has b = d = 0)."""
    cdef Py_ssize_t p = x.shape[0], c = x.shape[1]
    cdef Py_ssize_t nblocks = (p + _BLOCK - 1) // _BLOCK
    cdef Py_ssize_t blk, r0
    cdef int clip = lo > -INFINITY or hi < INFINITY
    if p == 0 or c == 0:
        return
    for blk in prange(nblocks, nogil=True, schedule="static", num_threads=num_threads):
        r0 = blk * _BLOCK
        if real is float:
            bn_backward_rows_f32(&g[r0, 0], &x[r0, 0], min(_BLOCK, p - r0), c, &center[0],
                                 &scale[0], &shift[0], lo, hi, clip, &a[0], &b[0], &d[0],
                                 &out[r0, 0])
        else:
            bn_backward_rows_f64(&g[r0, 0], &x[r0, 0], min(_BLOCK, p - r0), c, &center[0],
                                 &scale[0], &shift[0], lo, hi, clip, &a[0], &b[0], &d[0],
                                 &out[r0, 0])


cdef void normalize_block(const bn_real *x, ptrdiff_t rows, ptrdiff_t C, const bn_real *center,
                          const bn_real *scale, const bn_real *shift, bn_real lo, bn_real hi,
                          bn_real *out) noexcept nogil:
    """:func:`normalize` on ``rows`` rows of C values, on this thread (batchnorm.pxd: for the
    kernels that stage a batch norm's output themselves)."""
    if bn_real is float:
        bn_normalize_rows_f32(x, rows, C, center, scale, shift, lo, hi, out)
    else:
        bn_normalize_rows_f64(x, rows, C, center, scale, shift, lo, hi, out)


# ---- the instruction set ("path"): include/batchnorm_rows.h; backend.simd names them and sets every module's --
bn_set_path(mg_best_path())  # the fastest this CPU has (backend.simd may choose another)


def _path_index():
    """The path the loops run on now: 0 base, 1 avx2, 2 avx512."""
    return bn_get_path()


def _set_path_index(int path):
    """Run the loops on path ``path`` from now on; False (and no change) when this CPU cannot."""
    return bn_set_path(path) == 0
