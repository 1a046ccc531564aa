"""Max and average pooling kernels on NHWC arrays (channels innermost, so the inner loop over
channels vectorises).

Geometry (all ints, computed once in Python): window (kh, kw), strides (sh, sw), top/left padding
(pt, pl). Output (oh, ow) reads input pixel (oh*sh + i - pt, ow*sw + j - pl) through tap (i, j);
pixels outside the image are padding, which max pooling ignores and average pooling does not count.

* Forward kernels parallelise over (image, output row): every thread writes its own output rows.
* Backward kernels parallelise over images: windows of one image may overlap (stride < window), so
  one thread owns all of an image's input gradient and no two threads add into the same pixel.

The NumPy twins (same signatures) are in :mod:`minigrad.ops.pooling`; tests hold them equal.
"""
from cython.parallel cimport prange
from libc.math cimport INFINITY

ctypedef fused real:
    float
    double


def max_pool_forward(const real[:, :, :, ::1] x, real[:, :, :, ::1] y, int[:, :, :, ::1] argmax,
                     int kh, int kw, int sh, int sw, int pt, int pl, int num_threads):
    """y[n, oh, ow, c] = max of the window; argmax = h*W + w of the first maximum (row by row), or
    -1 for a window with no real pixel (then y is -inf)."""
    cdef Py_ssize_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef Py_ssize_t oh = y.shape[1], ow = y.shape[2]
    cdef Py_ssize_t row, b, o, q, i, j, r, s, k
    cdef real v, best
    cdef int idx
    for row in prange(n * oh, nogil=True, schedule="static", num_threads=num_threads):
        b = row // oh
        o = row % oh
        for q in range(ow):
            for k in range(c):
                y[b, o, q, k] = -INFINITY
                argmax[b, o, q, k] = -1
            for i in range(kh):
                r = o * sh + i - pt
                if r < 0 or r >= h:
                    continue
                for j in range(kw):
                    s = q * sw + j - pl
                    if s < 0 or s >= w:
                        continue
                    idx = <int>(r * w + s)
                    for k in range(c):
                        v = x[b, r, s, k]
                        best = y[b, o, q, k]
                        # strictly greater: on ties the first tap keeps the arg-max, as TF
                        y[b, o, q, k] = v if v > best else best
                        argmax[b, o, q, k] = idx if v > best else argmax[b, o, q, k]


def max_pool_backward(const real[:, :, :, ::1] grad, const int[:, :, :, ::1] argmax,
                      real[:, :, ::1] gx, int num_threads):
    """gx (N, H*W, C), zeroed by the caller: gx[n, argmax[n, oh, ow, c], c] += grad[n, oh, ow, c]."""
    cdef Py_ssize_t n = grad.shape[0], oh = grad.shape[1], ow = grad.shape[2], c = grad.shape[3]
    cdef Py_ssize_t b, o, q, k
    cdef int idx
    for b in prange(n, nogil=True, schedule="static", num_threads=num_threads):
        for o in range(oh):
            for q in range(ow):
                for k in range(c):
                    idx = argmax[b, o, q, k]
                    if idx >= 0:
                        gx[b, idx, k] += grad[b, o, q, k]


def avg_pool_forward(const real[:, :, :, ::1] x, real[:, :, :, ::1] y, int kh, int kw, int sh,
                     int sw, int pt, int pl, int num_threads):
    """y[n, oh, ow, c] = mean of the window's real pixels (TF's 'same' rule for the count)."""
    cdef Py_ssize_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef Py_ssize_t oh = y.shape[1], ow = y.shape[2]
    cdef Py_ssize_t row, b, o, q, i, j, r, s, k, count
    cdef real inv
    for row in prange(n * oh, nogil=True, schedule="static", num_threads=num_threads):
        b = row // oh
        o = row % oh
        for q in range(ow):
            for k in range(c):
                y[b, o, q, k] = 0
            count = 0
            for i in range(kh):
                r = o * sh + i - pt
                if r < 0 or r >= h:
                    continue
                for j in range(kw):
                    s = q * sw + j - pl
                    if s < 0 or s >= w:
                        continue
                    count = count + 1
                    for k in range(c):
                        y[b, o, q, k] += x[b, r, s, k]
            if count > 0:
                inv = 1.0 / count
                for k in range(c):
                    y[b, o, q, k] *= inv


def avg_pool_backward(const real[:, :, :, ::1] grad, real[:, :, :, ::1] gx, int kh, int kw,
                      int sh, int sw, int pt, int pl, int num_threads):
    """gx, zeroed by the caller: every real pixel of a window gets grad / count of that window."""
    cdef Py_ssize_t n = gx.shape[0], h = gx.shape[1], w = gx.shape[2], c = gx.shape[3]
    cdef Py_ssize_t oh = grad.shape[1], ow = grad.shape[2]
    cdef Py_ssize_t b, o, q, i, j, r, s, k, count, r0, r1, s0, s1
    cdef real inv
    for b in prange(n, nogil=True, schedule="static", num_threads=num_threads):
        for o in range(oh):
            r0 = max(o * sh - pt, 0)
            r1 = min(o * sh - pt + kh, h)
            for q in range(ow):
                s0 = max(q * sw - pl, 0)
                s1 = min(q * sw - pl + kw, w)
                count = (r1 - r0) * (s1 - s0)
                if count <= 0:
                    continue
                inv = 1.0 / count
                for r in range(r0, r1):
                    for s in range(s0, s1):
                        for k in range(c):
                            gx[b, r, s, k] += grad[b, o, q, k] * inv
