/* depthwise_simd_impl.h: body of the micro-kernels for one scalar type DW_T (float or double).
 * Included twice by depthwise_simd.h, which documents what the functions compute; do not include
 * it directly. */

typedef DW_T DW_NAME(dw_vec) __attribute__((vector_size(DW_VBYTES)));
#define DW_VEC DW_NAME(dw_vec)
/* Lanes per vector: 8 floats or 4 doubles. */
#define DW_L ((ptrdiff_t)(DW_VBYTES / sizeof(DW_T)))

/* Unaligned load/store: memcpy of a vector compiles to one vmovups and has no aliasing trouble. */
static inline DW_VEC DW_NAME(dw_load)(const DW_T *p)
{
    DW_VEC v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void DW_NAME(dw_store)(DW_T *p, DW_VEC v)
{
    memcpy(p, &v, sizeof v);
}

/* ---- dw_corr_span ------------------------------------------------------------------------- */

/* P pixels x V vectors of channels; src, w and dst already point at this block's first pixel and
 * channel. P and V are constants at every call site, so the loops unroll into registers. */
static inline __attribute__((always_inline)) void DW_NAME(dw_corr_block)(
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
            wv[v] = DW_NAME(dw_load)(wq + v * DW_L);
        for (int p = 0; p < P; p++)
            for (int v = 0; v < V; v++)
                acc[p][v] += DW_NAME(dw_load)(s + p * src_step + v * DW_L) * wv[v];
    }
    for (int p = 0; p < P; p++)
        for (int v = 0; v < V; v++)
            DW_NAME(dw_store)(dst + p * dst_step + v * DW_L, acc[p][v]);
}

/* The last channels (fewer than one vector), one at a time. */
static inline void DW_NAME(dw_corr_scalar)(
    const DW_T *src, const ptrdiff_t *src_off, const DW_T *w, const ptrdiff_t *w_off,
    ptrdiff_t ntaps, DW_T *dst, ptrdiff_t src_step, ptrdiff_t dst_step, ptrdiff_t pixels,
    ptrdiff_t nchan)
{
    for (ptrdiff_t p = 0; p < pixels; p++)
        for (ptrdiff_t c = 0; c < nchan; c++) {
            DW_T acc = 0;
            for (ptrdiff_t q = 0; q < ntaps; q++)
                acc += src[src_off[q] + p * src_step + c] * w[w_off[q] + c];
            dst[p * dst_step + c] = acc;
        }
}

/* P pixels starting at pixel t: every channel block of them. */
static inline __attribute__((always_inline)) void DW_NAME(dw_corr_pixels)(
    const DW_T *src, const ptrdiff_t *src_off, const DW_T *w, const ptrdiff_t *w_off,
    ptrdiff_t ntaps, DW_T *dst, ptrdiff_t src_step, ptrdiff_t dst_step, ptrdiff_t channels,
    const int P)
{
    ptrdiff_t c = 0;
    for (; c + 2 * DW_L <= channels; c += 2 * DW_L)
        DW_NAME(dw_corr_block)(src + c, src_off, w + c, w_off, ntaps, dst + c, src_step, dst_step,
                               P, 2);
    for (; c + DW_L <= channels; c += DW_L)
        DW_NAME(dw_corr_block)(src + c, src_off, w + c, w_off, ntaps, dst + c, src_step, dst_step,
                               P, 1);
    if (c < channels)
        DW_NAME(dw_corr_scalar)(src + c, src_off, w + c, w_off, ntaps, dst + c, src_step, dst_step,
                                P, channels - c);
}

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

/* Q taps x V vectors of channels, summed over `count` pixels, then added to gk. */
static inline __attribute__((always_inline)) void DW_NAME(dw_wgrad_block)(
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
            gv[v] = DW_NAME(dw_load)(g + t * g_step + v * DW_L);
        for (int q = 0; q < Q; q++)
            for (int v = 0; v < V; v++)
                acc[q][v] += DW_NAME(dw_load)(s[q] + t * src_step + v * DW_L) * gv[v];
    }
    for (int q = 0; q < Q; q++)
        for (int v = 0; v < V; v++) {
            DW_T *o = gk + gk_off[q] + v * DW_L;
            DW_NAME(dw_store)(o, DW_NAME(dw_load)(o) + acc[q][v]);
        }
}

/* All taps for V vectors of channels, in groups of DW_TAPS (the remainder: a group of 1..3). */
static inline __attribute__((always_inline)) void DW_NAME(dw_wgrad_channels)(
    const DW_T *src, const ptrdiff_t *src_off, DW_T *gk, const ptrdiff_t *gk_off, ptrdiff_t ntaps,
    const DW_T *g, ptrdiff_t count, ptrdiff_t src_step, ptrdiff_t g_step, const int V)
{
    ptrdiff_t q = 0;
    for (; q + DW_TAPS <= ntaps; q += DW_TAPS)
        DW_NAME(dw_wgrad_block)(src, src_off + q, gk, gk_off + q, g, count, src_step, g_step,
                                DW_TAPS, V);
    switch (ntaps - q) {
    case 3:
        DW_NAME(dw_wgrad_block)(src, src_off + q, gk, gk_off + q, g, count, src_step, g_step, 3, V);
        break;
    case 2:
        DW_NAME(dw_wgrad_block)(src, src_off + q, gk, gk_off + q, g, count, src_step, g_step, 2, V);
        break;
    case 1:
        DW_NAME(dw_wgrad_block)(src, src_off + q, gk, gk_off + q, g, count, src_step, g_step, 1, V);
        break;
    default:
        break;
    }
}

static void DW_NAME(dw_wgrad_span)(
    const DW_T *src, const ptrdiff_t *src_off, DW_T *gk, const ptrdiff_t *gk_off, ptrdiff_t ntaps,
    const DW_T *g, ptrdiff_t count, ptrdiff_t src_step, ptrdiff_t channels)
{
    if (count <= 0)
        return;
    ptrdiff_t c = 0;
    for (; c + 2 * DW_L <= channels; c += 2 * DW_L)
        DW_NAME(dw_wgrad_channels)(src + c, src_off, gk + c, gk_off, ntaps, g + c, count, src_step,
                                   channels, 2);
    for (; c + DW_L <= channels; c += DW_L)
        DW_NAME(dw_wgrad_channels)(src + c, src_off, gk + c, gk_off, ntaps, g + c, count, src_step,
                                   channels, 1);
    for (; c < channels; c++)
        for (ptrdiff_t q = 0; q < ntaps; q++) {
            DW_T acc = 0;
            for (ptrdiff_t t = 0; t < count; t++)
                acc += src[src_off[q] + t * src_step + c] * g[t * channels + c];
            gk[gk_off[q] + c] += acc;
        }
}

#undef DW_VEC
#undef DW_L
