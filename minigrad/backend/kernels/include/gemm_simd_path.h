/* gemm_simd_path.h: gm_nn and gm_tn in float and double for one path (instruction set) GM_PATH,
 * with vectors of GM_VBYTES bytes (GM_HALF for the last columns) and blocks of GM_ROWS rows.
 * Included once per path by gemm_simd.h, which documents what they compute; do not include it
 * directly. */

#define GM_T float
#define GM_SUFFIX f32
#define GM_WIDTH GM_VBYTES
#include "gemm_simd_block.h"
#undef GM_WIDTH
#define GM_WIDTH GM_HALF
#include "gemm_simd_block.h"
#undef GM_WIDTH
#include "gemm_simd_impl.h"
#undef GM_T
#undef GM_SUFFIX

#define GM_T double
#define GM_SUFFIX f64
#define GM_WIDTH GM_VBYTES
#include "gemm_simd_block.h"
#undef GM_WIDTH
#define GM_WIDTH GM_HALF
#include "gemm_simd_block.h"
#undef GM_WIDTH
#include "gemm_simd_impl.h"
#undef GM_T
#undef GM_SUFFIX
