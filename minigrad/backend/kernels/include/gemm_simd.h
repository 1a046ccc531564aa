/* gemm_simd.h: the small matrix products of the convolutions, written out plainly first, then
 * register-blocked and vectorised over columns.
 *
 * A 1x1 convolution on NHWC data is one matrix product: its input is a (P, K) matrix of P = N*H*W
 * pixels and K channels, its kernel a (K, N) matrix, its output (P, N). In a MobileNet K and N are
 * 16 to 1024 and P is thousands to hundreds of thousands: tall, thin products, for which a
 * general BLAS spends much of its time packing and starting threads (and its own thread pool
 * fights the kernels' OpenMP team for the cores). Two products cover the forward pass and both
 * gradients (row-major matrices, each with its own row stride ld*):
 *
 *   gm_nn:  c[m, n] = sum_k a[m, k] * b[k, n]    (forward: a = x, b = kernel;
 *                                                  input gradient: a = G, b = kernel^T)
 *   gm_tn:  c[k, n] = sum_p a[p, k] * g[p, n]    (kernel gradient: a = x, g = G)
 *
 * Read gm_nn_plain and gm_tn_plain first: they fix the order of every sum (k = 0, 1, ... for
 * gm_nn; p = 0, 1, ... for gm_tn, each started at 0). The vectorised versions add the same
 * products in the same order; as in depthwise_simd.h, the one freedom left is the compiler's fusing
 * of `acc += a * b` into one multiply-add on the FMA paths, so they equal the plain loops bit for
 * bit when every product is exact, and otherwise differ by one rounding of some products
 * (tests/test_gemm_kernels.py checks both).
 *
 * Why they are fast: a block of GM_ROWS rows x 2 vectors of columns keeps its 2*GM_ROWS
 * accumulators in registers for the whole sum; per step of the sum it loads two vectors (a row
 * of b, or of g) and broadcasts GM_ROWS scalars of a, for 2*GM_ROWS multiply-adds. Nothing is
 * packed or copied: b (at most a few hundred KB) stays in the cache while the rows of a stream
 * by. The loops over rows and vectors have compile-time bounds (always_inline with constant
 * arguments) so GCC unrolls them; columns are covered by two vectors, one vector, one half
 * vector, then plain C.
 *
 * Threads (gemm.pyx): gm_nn's rows are split between threads, each row written by one thread;
 * gm_tn's sum over p is cut into blocks of rows fixed by the shape alone, each block summed into
 * a partial result whichever thread runs it, and the partials added in block order. So no
 * result depends on the thread count.
 *
 * Paths: as depthwise_simd.h, compiled once per instruction set (simd_cpu.h) from one source,
 * the path chosen at import (gm_set_path). GM_ROWS is 8 with AVX-512's 32 registers (16
 * accumulators), 6 with AVX2's 16, and 4 on the baseline path.
 */
#ifndef MINIGRAD_GEMM_SIMD_H
#define MINIGRAD_GEMM_SIMD_H

#include <stddef.h>
#include <string.h>

#include "simd_cpu.h"

/* ---- the plain loops ------------------------------------------------------------------------ */

/* c = a @ b as written above, in float: each c element starts at 0 and adds k = 0, 1, ... */
static void gm_nn_plain(const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c,
                        ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t K, ptrdiff_t N)
{
    for (ptrdiff_t m = 0; m < M; m++)
        for (ptrdiff_t n = 0; n < N; n++) {
            float acc = 0;
            for (ptrdiff_t k = 0; k < K; k++)
                acc += a[m * lda + k] * b[k * ldb + n];
            c[m * ldc + n] = acc;
        }
}

/* c = a^T @ g as written above, in float: each c element starts at 0 and adds p = 0, 1, ... */
static void gm_tn_plain(const float *a, ptrdiff_t lda, const float *g, ptrdiff_t ldg, float *c,
                        ptrdiff_t ldc, ptrdiff_t P, ptrdiff_t K, ptrdiff_t N)
{
    for (ptrdiff_t k = 0; k < K; k++)
        for (ptrdiff_t n = 0; n < N; n++) {
            float acc = 0;
            for (ptrdiff_t p = 0; p < P; p++)
                acc += a[p * lda + k] * g[p * ldg + n];
            c[k * ldc + n] = acc;
        }
}

/* ---- the vectorised versions, one per instruction set --------------------------------------- */

#define GM_CAT_(a, b) a##_##b
#define GM_CAT(a, b) GM_CAT_(a, b)
/* GM_NAME(gm_nn) is gm_nn_f32_avx2 while GM_SUFFIX is f32 and GM_PATH avx2; GM_WNAME adds the
 * vector width in bytes (gm_nn_block_f32_avx512_64). */
#define GM_NAME(name) GM_CAT(GM_CAT(name, GM_SUFFIX), GM_PATH)
#define GM_WNAME(name) GM_CAT(GM_NAME(name), GM_WIDTH)

#ifdef MG_X86_PATHS
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
#define GM_PATH avx512
#define GM_FUSED 1
#define GM_VBYTES 64
#define GM_HALF 32
#define GM_ROWS 8
#include "gemm_simd_path.h"
#undef GM_PATH
#undef GM_FUSED
#undef GM_VBYTES
#undef GM_HALF
#undef GM_ROWS
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define GM_PATH avx2
#define GM_FUSED 1
#define GM_VBYTES 32
#define GM_HALF 16
#define GM_ROWS 6
#include "gemm_simd_path.h"
#undef GM_PATH
#undef GM_FUSED
#undef GM_VBYTES
#undef GM_HALF
#undef GM_ROWS
#pragma GCC pop_options
#endif

#define GM_PATH base
#define GM_FUSED 0
#define GM_VBYTES 32
#define GM_HALF 16
#define GM_ROWS 4
#include "gemm_simd_path.h"
#undef GM_PATH
#undef GM_FUSED
#undef GM_VBYTES
#undef GM_HALF
#undef GM_ROWS

/* ---- choosing the path ---------------------------------------------------------------------- */

typedef void (*gm_f32_t)(const float *, ptrdiff_t, const float *, ptrdiff_t, float *, ptrdiff_t,
                         ptrdiff_t, ptrdiff_t, ptrdiff_t);
typedef void (*gm_f64_t)(const double *, ptrdiff_t, const double *, ptrdiff_t, double *,
                         ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t);

typedef struct {
    gm_f32_t nn_f32, tn_f32;
    gm_f64_t nn_f64, tn_f64;
} gm_path_t;

#define GM_PATH_TABLE(p) { gm_nn_f32_##p, gm_tn_f32_##p, gm_nn_f64_##p, gm_tn_f64_##p }

/* MG_PATH_CHOICE (simd_cpu.h) expands to gm_paths, gm_current, gm_set_path and
 * gm_get_path. */
MG_PATH_CHOICE(gm, gm_path_t, GM_PATH_TABLE)

/* The functions gemm.pyx calls: the chosen path's. GM_DISPATCH expands to gm_nn_f32, gm_tn_f32,
 * gm_nn_f64 and gm_tn_f64. */
#define GM_DISPATCH(T, S)                                                                         \
    static inline void gm_nn_##S(const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, T *c,     \
                                 ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t K, ptrdiff_t N)            \
    {                                                                                             \
        gm_current.nn_##S(a, lda, b, ldb, c, ldc, M, K, N);                                       \
    }                                                                                             \
    static inline void gm_tn_##S(const T *a, ptrdiff_t lda, const T *g, ptrdiff_t ldg, T *c,     \
                                 ptrdiff_t ldc, ptrdiff_t P, ptrdiff_t K, ptrdiff_t N)            \
    {                                                                                             \
        gm_current.tn_##S(a, lda, g, ldg, c, ldc, P, K, N);                                       \
    }
GM_DISPATCH(float, f32)
GM_DISPATCH(double, f64)

#endif
