/* depthwise_simd.h: the two inner loops of the depthwise convolution, vectorised over channels.
 *
 * The Cython kernels (depthwise.pyx) walk rows, pick the taps that fall inside the image and call
 * one of two micro-kernels on a run ("span") of pixels of one row. Both work on NHWC data where
 * the last axis has `channels` values (C*M: the input is expanded to one value per output channel
 * when the depth multiplier M > 1), so consecutive channels are consecutive in memory and one
 * GCC vector holds DW_VBYTES / sizeof(T) of them (16 floats or 8 doubles with AVX-512, 8 floats
 * or 4 doubles with AVX2).
 *
 *   dw_corr_span:  dst[t*dst_step + c]  = sum_q src[src_off[q] + t*src_step + c] * w[w_off[q] + c]
 *   dw_wgrad_span: gk[gk_off[q] + c]   += sum_t src[src_off[q] + t*src_step + c] * g[t*channels + c]
 *
 * for t < count, c < channels, q < ntaps. With a depth multiplier M > 1, dw_repeat expands a
 * row of x to one value per output channel and dw_sum_groups adds the M channels of the input
 * gradient back together. A "tap" is one (i, j) position of the filter window,
 * given as two offsets (elements) so that the caller decides which taps are inside the image.
 * The forward pass and the input gradient are both dw_corr_span (a correlation); the kernel
 * gradient is dw_wgrad_span (a sum over pixels of input times output gradient).
 *
 * Why it is fast: the accumulators of a block of P pixels x 2 vectors of channels stay in
 * registers for the whole tap loop (each filter vector is loaded once per tap and used P times),
 * and the loops over P and V have compile-time bounds (always_inline with constant arguments),
 * so GCC unrolls them and keeps every accumulator in a register. The channels are covered by
 * full-width vectors, then at most one half-width vector (so 24 channels under AVX-512 are one
 * 16-wide and one 8-wide vector, not 8 scalar leftovers), then a scalar loop. (Measured and not
 * kept: blocks of 6 pixels, and a 3-tap variant loading each input vector once per window row;
 * neither was faster on the AMD EPYC this was tuned on.)
 *
 * Determinism: every output element is summed in a fixed order (taps in the order given; pixels
 * t = 0, 1, ... for the kernel gradient) that does not depend on the thread that runs the call,
 * and the vector width only decides which lanes are computed together, never the order of a sum.
 *
 * Layout of the code: depthwise_simd_block.h holds the register blocks for one scalar type and
 * one vector width; it is included four times (float and double, full and half width).
 * depthwise_simd_impl.h holds the span functions for one scalar type, built on those blocks; it
 * is included twice (suffixes _f32 and _f64).
 */
#ifndef MINIGRAD_DEPTHWISE_SIMD_H
#define MINIGRAD_DEPTHWISE_SIMD_H

#include <stddef.h>
#include <string.h>

/* One register: 64 bytes with AVX-512 (-march=native on a CPU that has it), else 32 bytes (AVX);
 * DW_HALF, half of it, for the last channels.
 * Without AVX (portable builds) GCC splits each 32-byte operation in two SSE instructions, which
 * is still correct and reasonably fast. */
#if defined(__AVX512F__)
#define DW_VBYTES 64
#define DW_HALF 32
#else
#define DW_VBYTES 32
#define DW_HALF 16
#endif
/* Pixels per register block of dw_corr_span, taps per block of dw_wgrad_span. A kernel-gradient
 * block keeps DW_TAPS x 2 vector accumulators in registers: with AVX-512's 32 registers all 9 taps
 * of a 3x3 window fit (each gradient vector is then loaded once per pixel, not three times:
 * 1-8% faster backward, bench_depthwise_ab.py); AVX2's 16 registers hold 4 taps. */
#define DW_PIXELS 4
#if defined(__AVX512F__)
#define DW_TAPS 9
#else
#define DW_TAPS 4
#endif
#if DW_TAPS != 4 && DW_TAPS != 9
#error "dw_wgrad_taps writes out the remainder cases for DW_TAPS 4 and 9 only"
#endif

/* Ask for `bytes` bytes from p to be brought into the cache (one prefetch per 64-byte line), to
 * be read (dw_prefetch) or written (dw_prefetch_write). */
static inline void dw_prefetch(const void *p, size_t bytes)
{
    const char *c = (const char *)p;
    for (size_t i = 0; i < bytes; i += 64)
        __builtin_prefetch(c + i, 0, 3);
}

static inline void dw_prefetch_write(void *p, size_t bytes)
{
    char *c = (char *)p;
    for (size_t i = 0; i < bytes; i += 64)
        __builtin_prefetch(c + i, 1, 3);
}

#define DW_CAT_(a, b) a##_##b
#define DW_CAT(a, b) DW_CAT_(a, b)
#define DW_NAME(name) DW_CAT(name, DW_SUFFIX)
/* Names of the blocks of one width: dw_corr_block_f32_64 and the like. */
#define DW_WNAME(name) DW_CAT(DW_NAME(name), DW_WIDTH)

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

#endif
