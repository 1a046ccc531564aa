/* depthwise_simd_path.h: every vectorised function for one path (instruction set) DW_PATH, with
 * vectors of DW_VBYTES bytes (DW_HALF for the last channels) and DW_TAPS taps per kernel-gradient
 * block. Included once per path by depthwise_simd.h, which documents what the functions compute;
 * do not include it directly. */
#if DW_TAPS != 4 && DW_TAPS != 9
#error "dw_wgrad_taps writes out the remainder cases for DW_TAPS 4 and 9 only"
#endif

/* float: dw_corr_span_f32_<path>, dw_wgrad_span_f32_<path>, dw_repeat_f32_<path> and
 * dw_sum_groups_f32_<path>, which depthwise_simd.h's dispatch calls; the first two compute what
 * dw_corr_span_plain and dw_wgrad_span_plain compute, in their order. */
#define DW_T float
#define DW_SUFFIX f32
#define DW_WIDTH DW_VBYTES
#include "depthwise_simd_block.h"
#undef DW_WIDTH
#define DW_WIDTH DW_HALF
#include "depthwise_simd_block.h"
#undef DW_WIDTH
#include "depthwise_simd_impl.h"
#undef DW_T
#undef DW_SUFFIX

/* double: dw_corr_span_f64_<path> and the others, the same code (the same order of every sum)
 * in double. */
#define DW_T double
#define DW_SUFFIX f64
#define DW_WIDTH DW_VBYTES
#include "depthwise_simd_block.h"
#undef DW_WIDTH
#define DW_WIDTH DW_HALF
#include "depthwise_simd_block.h"
#undef DW_WIDTH
#include "depthwise_simd_impl.h"
#undef DW_T
#undef DW_SUFFIX

