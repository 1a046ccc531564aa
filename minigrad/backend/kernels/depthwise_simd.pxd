# The C micro-kernels of ``include/depthwise_simd.h`` as Cython sees them, and the fused-type
# wrappers that pick the float or double version: ``cimport``-ed by ``depthwise.pyx``.
#
# For t < count, c < channels, q < ntaps (read the header's comment for how they are made fast):
#
# * ``corr_span``:  dst[t*dst_step + c] = sum_q src[src_off[q] + t*src_step + c] * w[w_off[q] + c]
# * ``wgrad_span``: gk[gk_off[q] + c] += sum_t src[src_off[q] + t*src_step + c] * g[t*channels + c]
# * ``repeat``: every value of src repeated M times (a row of x, one value per output channel);
# * ``sum_groups``: dst[i] = sum of src[i*M .. i*M + M - 1] (the M channels back onto one);
# * ``dw_prefetch``, ``dw_prefetch_write``: ask the processor for memory that will be read (written)
#   soon.
#
# The header generates dw_corr_span_f32 / _f64 and the others below with macros; its plain loops
# dw_corr_span_plain and dw_wgrad_span_plain (float) say in ordinary C what the first two compute,
# in the same order. Only the tests call the plain loops, through depthwise.pyx's
# _corr_span_float32 and _wgrad_span_float32.
from libc.stddef cimport ptrdiff_t

ctypedef fused real:
    float
    double

cdef extern from "depthwise_simd.h" nogil:
    void dw_prefetch(const void *p, size_t nbytes)
    void dw_prefetch_write(void *p, size_t nbytes)
    void dw_corr_span_plain(const float *src, const ptrdiff_t *src_off, const float *w,
                            const ptrdiff_t *w_off, ptrdiff_t ntaps, float *dst, ptrdiff_t count,
                            ptrdiff_t src_step, ptrdiff_t dst_step, ptrdiff_t channels)
    void dw_wgrad_span_plain(const float *src, const ptrdiff_t *src_off, float *gk,
                             const ptrdiff_t *gk_off, ptrdiff_t ntaps, const float *g,
                             ptrdiff_t count, ptrdiff_t src_step, ptrdiff_t channels)
    void dw_corr_span_f32(const float *src, const ptrdiff_t *src_off, const float *w,
                          const ptrdiff_t *w_off, ptrdiff_t ntaps, float *dst, ptrdiff_t count,
                          ptrdiff_t src_step, ptrdiff_t dst_step, ptrdiff_t channels)
    void dw_corr_span_f64(const double *src, const ptrdiff_t *src_off, const double *w,
                          const ptrdiff_t *w_off, ptrdiff_t ntaps, double *dst, ptrdiff_t count,
                          ptrdiff_t src_step, ptrdiff_t dst_step, ptrdiff_t channels)
    void dw_wgrad_span_f32(const float *src, const ptrdiff_t *src_off, float *gk,
                           const ptrdiff_t *gk_off, ptrdiff_t ntaps, const float *g,
                           ptrdiff_t count, ptrdiff_t src_step, ptrdiff_t channels)
    void dw_wgrad_span_f64(const double *src, const ptrdiff_t *src_off, double *gk,
                           const ptrdiff_t *gk_off, ptrdiff_t ntaps, const double *g,
                           ptrdiff_t count, ptrdiff_t src_step, ptrdiff_t channels)
    void dw_repeat_f32(const float *src, float *dst, ptrdiff_t n, ptrdiff_t M)
    void dw_repeat_f64(const double *src, double *dst, ptrdiff_t n, ptrdiff_t M)
    void dw_sum_groups_f32(const float *src, float *dst, ptrdiff_t n, ptrdiff_t M)
    void dw_sum_groups_f64(const double *src, double *dst, ptrdiff_t n, ptrdiff_t M)
    # which instruction set ("path") the functions above run: 0 base, 1 avx2, 2 avx512
    int dw_path_supported(int path)
    int dw_best_path()
    int dw_set_path(int path)
    int dw_get_path()

cdef inline void corr_span(const real *src, const ptrdiff_t *src_off, const real *w,
                           const ptrdiff_t *w_off, Py_ssize_t ntaps, real *dst, Py_ssize_t count,
                           Py_ssize_t src_step, Py_ssize_t dst_step,
                           Py_ssize_t channels) noexcept nogil:
    if real is float:
        dw_corr_span_f32(src, src_off, w, w_off, ntaps, dst, count, src_step, dst_step, channels)
    else:
        dw_corr_span_f64(src, src_off, w, w_off, ntaps, dst, count, src_step, dst_step, channels)


cdef inline void wgrad_span(const real *src, const ptrdiff_t *src_off, real *gk,
                            const ptrdiff_t *gk_off, Py_ssize_t ntaps, const real *g,
                            Py_ssize_t count, Py_ssize_t src_step,
                            Py_ssize_t channels) noexcept nogil:
    if real is float:
        dw_wgrad_span_f32(src, src_off, gk, gk_off, ntaps, g, count, src_step, channels)
    else:
        dw_wgrad_span_f64(src, src_off, gk, gk_off, ntaps, g, count, src_step, channels)


cdef inline void repeat(const real *src, real *dst, Py_ssize_t n,
                        Py_ssize_t M) noexcept nogil:
    if real is float:
        dw_repeat_f32(src, dst, n, M)
    else:
        dw_repeat_f64(src, dst, n, M)


cdef inline void sum_groups(const real *src, real *dst, Py_ssize_t n,
                            Py_ssize_t M) noexcept nogil:
    if real is float:
        dw_sum_groups_f32(src, dst, n, M)
    else:
        dw_sum_groups_f64(src, dst, n, M)


cdef extern from "stdlib.h" nogil:
    int posix_memalign(void **memptr, size_t alignment, size_t size)   # 64-byte aligned rows
