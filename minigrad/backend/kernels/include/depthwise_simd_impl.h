/* depthwise_simd_impl.h: the span functions for one scalar type DW_T (float or double), built on
 * the blocks of depthwise_simd_block.h at full (DW_VBYTES) and half (DW_HALF) width. Included
 * twice by depthwise_simd.h, which documents what the functions compute; do not include it
 * directly. Every name here is written DW_NAME(x), which expands to x_f32 in the float copy and
 * x_f64 in the double one: DW_NAME(dw_corr_span) is dw_corr_span_f32 / dw_corr_span_f64. */

#define DW_FULL(name) DW_CAT(DW_NAME(name), DW_VBYTES)
#define DW_HALFW(name) DW_CAT(DW_NAME(name), DW_HALF)

/* acc + x * y in the plain loops of the last channels, rounded as the vector blocks round it
 * (simd_cpu.h says why it is spelt out) */
#define DW_MADD(x, y, acc) MG_MADD(DW_FUSED, x, y, acc)

/* ---- dw_corr_span ------------------------------------------------------------------------- */

/* The last channels (fewer than a half vector), one at a time: dw_corr_span_plain's loop for
 * those channels. Expands to dw_corr_scalar_f32 and dw_corr_scalar_f64. */
static inline void DW_NAME(dw_corr_scalar)(
    const DW_T *src, const ptrdiff_t *src_off, const DW_T *w, const ptrdiff_t *w_off,
    ptrdiff_t ntaps, DW_T *dst, ptrdiff_t src_step, ptrdiff_t dst_step, ptrdiff_t pixels,
    ptrdiff_t nchan)
{
    for (ptrdiff_t p = 0; p < pixels; p++)
        for (ptrdiff_t c = 0; c < nchan; c++) {
            DW_T acc = 0;
            for (ptrdiff_t q = 0; q < ntaps; q++)
                acc = DW_MADD(src[src_off[q] + p * src_step + c], w[w_off[q] + c], acc);
            dst[p * dst_step + c] = acc;
        }
}

/* P pixels starting at pixel t: full vectors, at most one half vector, then scalars. Expands to
 * dw_corr_pixels_f32 and dw_corr_pixels_f64. */
static inline __attribute__((always_inline)) void DW_NAME(dw_corr_pixels)(
    const DW_T *src, const ptrdiff_t *src_off, const DW_T *w, const ptrdiff_t *w_off,
    ptrdiff_t ntaps, DW_T *dst, ptrdiff_t src_step, ptrdiff_t dst_step, ptrdiff_t channels,
    const int P)
{
    ptrdiff_t c = DW_FULL(dw_corr_channels)(src, src_off, w, w_off, ntaps, dst, src_step,
                                            dst_step, 0, channels, P);
    c = DW_HALFW(dw_corr_channels)(src, src_off, w, w_off, ntaps, dst, src_step, dst_step, c,
                                   channels, P);
    if (c < channels)
        DW_NAME(dw_corr_scalar)(src + c, src_off, w + c, w_off, ntaps, dst + c, src_step, dst_step,
                                P, channels - c);
}

/* DW_NAME(dw_corr_span) expands to dw_corr_span_f32 and dw_corr_span_f64, the functions the
 * kernels call (through corr_span in depthwise_simd.pxd). They must compute what
 * dw_corr_span_plain (depthwise_simd.h) computes, in its order: every dst element is 0 plus the
 * taps q = 0, 1, ... one by one; the blocks only decide which elements are computed side by
 * side in registers. (Bit for bit when the products are exact: see depthwise_simd.h.) */
static void DW_NAME(dw_corr_span)(
    const DW_T *src, const ptrdiff_t *src_off, const DW_T *w, const ptrdiff_t *w_off,
    ptrdiff_t ntaps, DW_T *dst, ptrdiff_t count, ptrdiff_t src_step, ptrdiff_t dst_step,
    ptrdiff_t channels)
{
    ptrdiff_t t = 0;
    for (; t + DW_PIXELS <= count; t += DW_PIXELS)
        DW_NAME(dw_corr_pixels)(src + t * src_step, src_off, w, w_off, ntaps, dst + t * dst_step,
                                src_step, dst_step, channels, DW_PIXELS);
    /* the last 1..3 pixels in one smaller block (a constant P again, so still in registers) */
    src += t * src_step;
    dst += t * dst_step;
    switch (count - t) {
    case 3:
        DW_NAME(dw_corr_pixels)(src, src_off, w, w_off, ntaps, dst, src_step, dst_step, channels, 3);
        break;
    case 2:
        DW_NAME(dw_corr_pixels)(src, src_off, w, w_off, ntaps, dst, src_step, dst_step, channels, 2);
        break;
    case 1:
        DW_NAME(dw_corr_pixels)(src, src_off, w, w_off, ntaps, dst, src_step, dst_step, channels, 1);
        break;
    default:
        break;
    }
}

/* ---- dw_wgrad_span ------------------------------------------------------------------------ */

/* DW_NAME(dw_wgrad_span) expands to dw_wgrad_span_f32 and dw_wgrad_span_f64 (called through
 * wgrad_span in depthwise_simd.pxd). They must compute what dw_wgrad_span_plain
 * (depthwise_simd.h) computes, in its order: each gk element gets its sum over the pixels
 * t = 0, 1, ..., started at 0, added once. The loop at the end is that plain loop itself (its
 * two outer loops swapped), for the channels no vector covers. */
static void DW_NAME(dw_wgrad_span)(
    const DW_T *src, const ptrdiff_t *src_off, DW_T *gk, const ptrdiff_t *gk_off, ptrdiff_t ntaps,
    const DW_T *g, ptrdiff_t count, ptrdiff_t src_step, ptrdiff_t channels)
{
    if (count <= 0)
        return;
    ptrdiff_t c = DW_FULL(dw_wgrad_channels)(src, src_off, gk, gk_off, ntaps, g, count, src_step,
                                             0, channels);
    c = DW_HALFW(dw_wgrad_channels)(src, src_off, gk, gk_off, ntaps, g, count, src_step, c,
                                    channels);
    for (; c < channels; c++)
        for (ptrdiff_t q = 0; q < ntaps; q++) {
            DW_T acc = 0;
            for (ptrdiff_t t = 0; t < count; t++)
                acc = DW_MADD(src[src_off[q] + t * src_step + c], g[t * channels + c], acc);
            gk[gk_off[q] + c] += acc;
        }
}

/* ---- depth multiplier M > 1 --------------------------------------------------------------- */

/* dst[i*M + m] = src[i] for i < n, m < M: each input channel repeated M times, so that a staged
 * row has one value per output channel. Inlined with a constant M, GCC vectorises the loop.
 * A plain loop already; expands to dw_repeat_m_f32 and dw_repeat_m_f64. */
static inline __attribute__((always_inline)) void DW_NAME(dw_repeat_m)(
    const DW_T *src, DW_T *dst, ptrdiff_t n, ptrdiff_t M)
{
    for (ptrdiff_t i = 0; i < n; i++)
        for (ptrdiff_t m = 0; m < M; m++)
            dst[i * M + m] = src[i];
}

/* dst[i] = 0 + src[i*M] + src[i*M + 1] + ... + src[i*M + M-1], added in that order: the M
 * output channels of input channel i summed back onto it (the input gradient). A plain loop
 * already; expands to dw_sum_groups_m_f32 and dw_sum_groups_m_f64. */
static inline __attribute__((always_inline)) void DW_NAME(dw_sum_groups_m)(
    const DW_T *src, DW_T *dst, ptrdiff_t n, ptrdiff_t M)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        DW_T acc = 0;
        for (ptrdiff_t m = 0; m < M; m++)
            acc += src[i * M + m];
        dst[i] = acc;
    }
}

/* The common depth multipliers 2, 3, 4 as constants (vectorised), any other M as it comes: the
 * same loops as above, so the same results. DW_NAME(dw_repeat) expands to dw_repeat_f32 and
 * dw_repeat_f64, DW_NAME(dw_sum_groups) to dw_sum_groups_f32 and dw_sum_groups_f64: the
 * functions depthwise_simd.pxd declares. */
#define DW_BY_M(fn)                                                                               \
    switch (M) {                                                                                  \
    case 2: fn(src, dst, n, 2); break;                                                            \
    case 3: fn(src, dst, n, 3); break;                                                            \
    case 4: fn(src, dst, n, 4); break;                                                            \
    default: fn(src, dst, n, M);                                                                  \
    }

static void DW_NAME(dw_repeat)(const DW_T *src, DW_T *dst, ptrdiff_t n, ptrdiff_t M)
{
    DW_BY_M(DW_NAME(dw_repeat_m))
}

static void DW_NAME(dw_sum_groups)(const DW_T *src, DW_T *dst, ptrdiff_t n, ptrdiff_t M)
{
    DW_BY_M(DW_NAME(dw_sum_groups_m))
}

#undef DW_BY_M
#undef DW_FULL
#undef DW_HALFW
#undef DW_MADD
