/* depthwise_simd_block.h: register blocks for one scalar type DW_T and one vector width DW_WIDTH
 * (bytes). Included four times by depthwise_simd.h, which documents what they compute; do not
 * include it directly. Each *_channels function covers channels [c, ...) with vectors of this
 * width, two at a time then one, and returns the first channel it left for a narrower width.
 * Every name here is written DW_WNAME(x), which expands to x, the type's suffix and the width:
 * DW_WNAME(dw_corr_block) is dw_corr_block_f32_64, dw_corr_block_f32_32, dw_corr_block_f64_64
 * and dw_corr_block_f64_32 under AVX-512 (widths 32 and 16 under AVX2). */

typedef DW_T DW_WNAME(dw_vec) __attribute__((vector_size(DW_WIDTH)));
#define DW_VEC DW_WNAME(dw_vec)
/* Lanes per vector: 16, 8 or 4 floats; 8, 4 or 2 doubles. */
#define DW_L ((ptrdiff_t)(DW_WIDTH / sizeof(DW_T)))

/* Unaligned load/store: memcpy of a vector compiles to one vmovups and has no aliasing trouble. */
static inline DW_VEC DW_WNAME(dw_load)(const DW_T *p)
{
    DW_VEC v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void DW_WNAME(dw_store)(DW_T *p, DW_VEC v)
{
    memcpy(p, &v, sizeof v);
}

/* ---- dw_corr_span's blocks ---------------------------------------------------------------- */

/* P pixels x V vectors of channels; src, w and dst already point at this block's first pixel and
 * channel. P and V are constants at every call site, so the loops unroll into registers.
 * dw_corr_span_plain's loops with t and c in blocks: each vector lane is one (t, c) of it,
 * summed over the taps q in the same order. */
static inline __attribute__((always_inline)) void DW_WNAME(dw_corr_block)(
    const DW_T *src, const ptrdiff_t *src_off, const DW_T *w, const ptrdiff_t *w_off,
    ptrdiff_t ntaps, DW_T *dst, ptrdiff_t src_step, ptrdiff_t dst_step, const int P, const int V)
{
    DW_VEC acc[DW_PIXELS][2];
    for (int p = 0; p < P; p++)
        for (int v = 0; v < V; v++)
            acc[p][v] = (DW_VEC){0};
    for (ptrdiff_t q = 0; q < ntaps; q++) {
        const DW_T *s = src + src_off[q];
        const DW_T *wq = w + w_off[q];
        DW_VEC wv[2];
        for (int v = 0; v < V; v++)
            wv[v] = DW_WNAME(dw_load)(wq + v * DW_L);
        for (int p = 0; p < P; p++)
            for (int v = 0; v < V; v++)
                acc[p][v] += DW_WNAME(dw_load)(s + p * src_step + v * DW_L) * wv[v];
    }
    for (int p = 0; p < P; p++)
        for (int v = 0; v < V; v++)
            DW_WNAME(dw_store)(dst + p * dst_step + v * DW_L, acc[p][v]);
}

/* P pixels, channels [c, ...) in blocks of two vectors, then one. */
static inline __attribute__((always_inline)) ptrdiff_t DW_WNAME(dw_corr_channels)(
    const DW_T *src, const ptrdiff_t *src_off, const DW_T *w, const ptrdiff_t *w_off,
    ptrdiff_t ntaps, DW_T *dst, ptrdiff_t src_step, ptrdiff_t dst_step, ptrdiff_t c,
    ptrdiff_t channels, const int P)
{
    for (; c + 2 * DW_L <= channels; c += 2 * DW_L)
        DW_WNAME(dw_corr_block)(src + c, src_off, w + c, w_off, ntaps, dst + c, src_step,
                                dst_step, P, 2);
    for (; c + DW_L <= channels; c += DW_L)
        DW_WNAME(dw_corr_block)(src + c, src_off, w + c, w_off, ntaps, dst + c, src_step,
                                dst_step, P, 1);
    return c;
}

/* ---- dw_wgrad_span's blocks --------------------------------------------------------------- */

/* Q taps x V vectors of channels, summed over `count` pixels, then added to gk:
 * dw_wgrad_span_plain's loops with q and c in blocks; each lane sums its pixels t in order. */
static inline __attribute__((always_inline)) void DW_WNAME(dw_wgrad_block)(
    const DW_T *src, const ptrdiff_t *src_off, DW_T *gk, const ptrdiff_t *gk_off, const DW_T *g,
    ptrdiff_t count, ptrdiff_t src_step, ptrdiff_t g_step, const int Q, const int V)
{
    DW_VEC acc[DW_TAPS][2];
    const DW_T *s[DW_TAPS];
    for (int q = 0; q < Q; q++) {
        s[q] = src + src_off[q];
        for (int v = 0; v < V; v++)
            acc[q][v] = (DW_VEC){0};
    }
    for (ptrdiff_t t = 0; t < count; t++) {
        DW_VEC gv[2];
        for (int v = 0; v < V; v++)
            gv[v] = DW_WNAME(dw_load)(g + t * g_step + v * DW_L);
        for (int q = 0; q < Q; q++)
            for (int v = 0; v < V; v++)
                acc[q][v] += DW_WNAME(dw_load)(s[q] + t * src_step + v * DW_L) * gv[v];
    }
    for (int q = 0; q < Q; q++)
        for (int v = 0; v < V; v++) {
            DW_T *o = gk + gk_off[q] + v * DW_L;
            DW_WNAME(dw_store)(o, DW_WNAME(dw_load)(o) + acc[q][v]);
        }
}

/* All taps for V vectors of channels, in groups of DW_TAPS (the remainder: one smaller group;
 * its size is a constant in each case, so its accumulators stay in registers too). */
static inline __attribute__((always_inline)) void DW_WNAME(dw_wgrad_taps)(
    const DW_T *src, const ptrdiff_t *src_off, DW_T *gk, const ptrdiff_t *gk_off, ptrdiff_t ntaps,
    const DW_T *g, ptrdiff_t count, ptrdiff_t src_step, ptrdiff_t g_step, const int V)
{
    ptrdiff_t q = 0;
    for (; q + DW_TAPS <= ntaps; q += DW_TAPS)
        DW_WNAME(dw_wgrad_block)(src, src_off + q, gk, gk_off + q, g, count, src_step, g_step,
                                 DW_TAPS, V);
    /* the remainder, 1 .. DW_TAPS - 1 taps (DW_TAPS is 4 or 9, see depthwise_simd.h) */
#define DW_WGRAD_REST(k)                                                                          \
    case k:                                                                                       \
        DW_WNAME(dw_wgrad_block)(src, src_off + q, gk, gk_off + q, g, count, src_step, g_step,    \
                                 k, V);                                                           \
        break;
    switch (ntaps - q) {
#if DW_TAPS > 4
    DW_WGRAD_REST(8) DW_WGRAD_REST(7) DW_WGRAD_REST(6) DW_WGRAD_REST(5) DW_WGRAD_REST(4)
#endif
    DW_WGRAD_REST(3) DW_WGRAD_REST(2) DW_WGRAD_REST(1)
    default:
        break;
    }
#undef DW_WGRAD_REST
}

/* Channels [c, ...) in blocks of two vectors, then one. */
static inline ptrdiff_t DW_WNAME(dw_wgrad_channels)(
    const DW_T *src, const ptrdiff_t *src_off, DW_T *gk, const ptrdiff_t *gk_off, ptrdiff_t ntaps,
    const DW_T *g, ptrdiff_t count, ptrdiff_t src_step, ptrdiff_t c, ptrdiff_t channels)
{
    for (; c + 2 * DW_L <= channels; c += 2 * DW_L)
        DW_WNAME(dw_wgrad_taps)(src + c, src_off, gk + c, gk_off, ntaps, g + c, count, src_step,
                                channels, 2);
    for (; c + DW_L <= channels; c += DW_L)
        DW_WNAME(dw_wgrad_taps)(src + c, src_off, gk + c, gk_off, ntaps, g + c, count, src_step,
                                channels, 1);
    return c;
}

#undef DW_VEC
#undef DW_L
