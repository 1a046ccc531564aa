/* batchnorm_rows.h: the loops of batchnorm.pyx over a run of rows of a (P, C) array, channels
 * innermost.
 *
 * batchnorm.pyx cuts the rows into blocks and hands each block to one of these functions; they do
 * the arithmetic. They are plain C over pointers marked `restrict` (no two of them overlap), so
 * that GCC vectorises the loop over channels: the Cython memoryview loops they replace computed
 * the same sums but left GCC unsure whether the output row overlaps the input, and ran about
 * three times slower than memory. Each is written once for float and once for double
 * (BN_T/BN_SUFFIX, as depthwise_simd_path.h); the sums are in double whatever the data's type.
 *
 * For each row r of the block and channel k < C (y: the normalised, clipped value; g': the
 * gradient where the clip lets it through, g elsewhere 0):
 *
 *   bn_moments_rows:   s1[k] += x - shift[k];  s2[k] += (x - shift[k])^2
 *   bn_sums_rows:      sg[k] += g';  sgx[k] += g' * (x - mean[k])
 *   bn_normalize_rows: out = clip((x - center[k]) * scale[k] + beta[k], lo, hi)
 *   bn_backward_rows:  out = a[k] * g' + b[k] * (x - center[k]) + d[k]
 *
 * Every sum adds the rows in order, r = 0, 1, ..., into the accumulators the caller zeroed. */
#ifndef MINIGRAD_BATCHNORM_ROWS_H
#define MINIGRAD_BATCHNORM_ROWS_H

#include <stddef.h>

#define BN_CAT_(a, b) a##_##b
#define BN_CAT(a, b) BN_CAT_(a, b)
#define BN_NAME(name) BN_CAT(name, BN_SUFFIX)

#define BN_T float
#define BN_SUFFIX f32
#include "batchnorm_rows_impl.h"
#undef BN_T
#undef BN_SUFFIX

#define BN_T double
#define BN_SUFFIX f64
#include "batchnorm_rows_impl.h"
#undef BN_T
#undef BN_SUFFIX

#endif
