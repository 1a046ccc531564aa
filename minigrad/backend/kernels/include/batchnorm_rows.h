/* batchnorm_rows.h: the loops of batchnorm.pyx over a run of rows of a (P, C) array, channels
 * innermost.
 *
 * batchnorm.pyx cuts the rows into blocks and hands each block to one of these functions; they do
 * the arithmetic. They are plain C over pointers marked `restrict` (no two of them overlap), so
 * that GCC vectorises the loop over channels: the Cython memoryview loops they replace computed
 * the same sums but left GCC unsure whether the output row overlaps the input, and ran about
 * three times slower than memory. Each is written once for float and once for double
 * (BN_T/BN_SUFFIX, as depthwise_simd_path.h); the sums are kept in double whatever the data's
 * type (bn_sums_rows sums each group of 8 rows in the data's type first).
 *
 * For each row r of the block and channel k < C (y: the normalised, clipped value; g': the
 * gradient where the clip lets it through, g elsewhere 0):
 *
 *   bn_moments_rows:   s1[k] += x - shift[k];  s2[k] += (x - shift[k])^2
 *   bn_sums_rows:      sg[k] += g';  sgx[k] += g' * (x - m[k])   (m: mean rounded to BN_T)
 *   bn_normalize_rows: out = clip((x - center[k]) * scale[k] + beta[k], lo, hi)
 *   bn_backward_rows:  out = a[k] * g' + b[k] * (x - center[k]) + d[k]
 *
 * Every sum adds the rows in order into the accumulators the caller zeroed, a group of rows at a
 * time, then the last rows one by one: bn_moments_rows adds ((r0 + r1) + (r2 + r3)) in double,
 * bn_sums_rows (((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))) in BN_T, to the accumulator
 * (one update of it per group, not a chain of dependent ones). */
#ifndef MINIGRAD_BATCHNORM_ROWS_H
#define MINIGRAD_BATCHNORM_ROWS_H

#include <stddef.h>

#include "simd_cpu.h"

/* Compiled once per instruction set ("path", simd_cpu.h) from the same source, as the depthwise
 * and matrix-product loops are, and the path chosen at import (bn_set_path): a portable build
 * (no -march=native) runs AVX2 or AVX-512 code where the CPU has it. The loops are plain C left
 * to GCC's vectoriser, so a path is the same code compiled for wider registers; every path sums
 * in the same order (the rows in order, in the same groups), and the results differ between
 * paths only where FMA rounds a product once instead of twice. BN_NAME(bn_sums_rows) is
 * bn_sums_rows_f32_avx2 while BN_SUFFIX is f32 and BN_PATH avx2. */
#define BN_CAT_(a, b) a##_##b
#define BN_CAT(a, b) BN_CAT_(a, b)
#define BN_NAME(name) BN_CAT(BN_CAT(name, BN_SUFFIX), BN_PATH)

#ifdef MG_X86_PATHS
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
#define BN_PATH avx512
#include "batchnorm_rows_types.h"
#undef BN_PATH
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define BN_PATH avx2
#include "batchnorm_rows_types.h"
#undef BN_PATH
#pragma GCC pop_options
#endif

#define BN_PATH base
#include "batchnorm_rows_types.h"
#undef BN_PATH

/* ---- choosing the path ---------------------------------------------------------------------- */

#define BN_TYPEDEFS(T, S)                                                                         \
    typedef void (*bn_moments_##S##_t)(const T *, ptrdiff_t, ptrdiff_t, const double *, double *, \
                                       double *);                                                 \
    typedef void (*bn_sums_##S##_t)(const T *, const T *, ptrdiff_t, ptrdiff_t, const double *,   \
                                    const T *, const T *, const T *, T, T, int, double *,         \
                                    double *);                                                    \
    typedef void (*bn_normalize_##S##_t)(const T *, ptrdiff_t, ptrdiff_t, const T *, const T *,   \
                                         const T *, T, T, T *);                                   \
    typedef void (*bn_backward_##S##_t)(const T *, const T *, ptrdiff_t, ptrdiff_t, const T *,    \
                                        const T *, const T *, T, T, int, const T *, const T *,    \
                                        const T *, T *);
BN_TYPEDEFS(float, f32)
BN_TYPEDEFS(double, f64)

typedef struct {
    bn_moments_f32_t moments_f32;
    bn_sums_f32_t sums_f32;
    bn_normalize_f32_t normalize_f32;
    bn_backward_f32_t backward_f32;
    bn_moments_f64_t moments_f64;
    bn_sums_f64_t sums_f64;
    bn_normalize_f64_t normalize_f64;
    bn_backward_f64_t backward_f64;
} bn_path_t;

#define BN_PATH_TABLE(p)                                                                          \
    { bn_moments_rows_f32_##p, bn_sums_rows_f32_##p, bn_normalize_rows_f32_##p,                   \
      bn_backward_rows_f32_##p, bn_moments_rows_f64_##p, bn_sums_rows_f64_##p,                    \
      bn_normalize_rows_f64_##p, bn_backward_rows_f64_##p }

/* MG_PATH_CHOICE (simd_cpu.h) expands to bn_paths, bn_current, bn_set_path and
 * bn_get_path. */
MG_PATH_CHOICE(bn, bn_path_t, BN_PATH_TABLE)

/* The functions batchnorm.pyx calls: the chosen path's. */
#define BN_DISPATCH(T, S)                                                                         \
    static inline void bn_moments_rows_##S(const T *x, ptrdiff_t rows, ptrdiff_t C,              \
                                           const double *shift, double *s1, double *s2)           \
    {                                                                                             \
        bn_current.moments_##S(x, rows, C, shift, s1, s2);                                        \
    }                                                                                             \
    static inline void bn_sums_rows_##S(const T *x, const T *g, ptrdiff_t rows, ptrdiff_t C,      \
                                        const double *mean, const T *center, const T *scale,      \
                                        const T *beta, T lo, T hi, int clip, double *sg,          \
                                        double *sgx)                                              \
    {                                                                                             \
        bn_current.sums_##S(x, g, rows, C, mean, center, scale, beta, lo, hi, clip, sg, sgx);     \
    }                                                                                             \
    static inline void bn_normalize_rows_##S(const T *x, ptrdiff_t rows, ptrdiff_t C,            \
                                             const T *center, const T *scale, const T *beta,      \
                                             T lo, T hi, T *out)                                  \
    {                                                                                             \
        bn_current.normalize_##S(x, rows, C, center, scale, beta, lo, hi, out);                   \
    }                                                                                             \
    static inline void bn_backward_rows_##S(const T *g, const T *x, ptrdiff_t rows, ptrdiff_t C, \
                                            const T *center, const T *scale, const T *beta,       \
                                            T lo, T hi, int clip, const T *a, const T *b,         \
                                            const T *d, T *out)                                   \
    {                                                                                             \
        bn_current.backward_##S(g, x, rows, C, center, scale, beta, lo, hi, clip, a, b, d, out);  \
    }
BN_DISPATCH(float, f32)
BN_DISPATCH(double, f64)

#endif
