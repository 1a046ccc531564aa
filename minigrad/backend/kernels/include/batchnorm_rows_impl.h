/* batchnorm_rows_impl.h: the row loops of batchnorm_rows.h for one type BN_T (float or double)
 * and one path BN_PATH. Included by batchnorm_rows_types.h; batchnorm_rows.h says what they
 * compute. */

static void BN_NAME(bn_moments_rows)(const BN_T *restrict x, ptrdiff_t rows, ptrdiff_t C,
                                     const double *restrict shift, double *restrict s1,
                                     double *restrict s2)
{
    ptrdiff_t r = 0;
    for (; r + 4 <= rows; r += 4) {   /* 4 rows per update of s1, s2: see the file's comment */
        const BN_T *restrict x0 = x + r * C;
        for (ptrdiff_t k = 0; k < C; k++) {
            double d0 = (double)x0[k] - shift[k], d1 = (double)x0[C + k] - shift[k];
            double d2 = (double)x0[2 * C + k] - shift[k], d3 = (double)x0[3 * C + k] - shift[k];
            s1[k] += (d0 + d1) + (d2 + d3);
            s2[k] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3);
        }
    }
    for (; r < rows; r++) {
        const BN_T *restrict xr = x + r * C;
        for (ptrdiff_t k = 0; k < C; k++) {
            double d = (double)xr[k] - shift[k];
            s1[k] += d;
            s2[k] += d * d;
        }
    }
}

/* 1 when the fused clip lets the gradient through at x: lo < (x - center) * scale + beta < hi. */
static inline int BN_NAME(bn_inside)(BN_T x, BN_T center, BN_T scale, BN_T beta, BN_T lo, BN_T hi)
{
    BN_T y = (x - center) * scale + beta;
    return (y > lo) & (y < hi);
}

/* `clip` is 0 when there is no clip (lo = -inf, hi = inf): then g' = g. The clip's test is a
 * select of values already loaded (`inside ? g : 0` with g loaded either way, `&` not `&&`), which
 * GCC vectorises on every instruction set; a load *under* the condition is only vectorised with
 * AVX-512's masked loads, and elsewhere became a branch per value, mispredicted half the time
 * (a portable build's step took 3.7 times as long). */
static void BN_NAME(bn_sums_rows)(const BN_T *restrict x, const BN_T *restrict g, ptrdiff_t rows,
                                  ptrdiff_t C, const double *restrict mean,
                                  const BN_T *restrict center, const BN_T *restrict scale,
                                  const BN_T *restrict beta, BN_T lo, BN_T hi, int clip,
                                  double *restrict sg, double *restrict sgx)
{
    ptrdiff_t r = 0;
    /* 4 rows per update of sg, sgx: their share in BN_T, then added to the double sums. x - mean
     * is taken with mean rounded to BN_T (mf): exact when x and mf are within a factor 2 of each
     * other (Sterbenz), so a large mean loses nothing; the rounding of the mean itself is put
     * back in double, as sum(g') * (mf - mean). With a clip, g' is selected in the same loop (a
     * select of BN_T values, which GCC vectorises). */
#define BN_PASS(xi, gi)                                                                           \
    (BN_NAME(bn_inside)((xi), center[k], scale[k], beta[k], lo, hi) ? (gi) : (BN_T)0)
#define BN_SUMS4(CLIP)                                                                            \
    for (ptrdiff_t k = 0; k < C; k++) {                                                           \
        const BN_T mf = (BN_T)mean[k];                                                            \
        const BN_T x0 = xr[k], x1 = xr[C + k], x2 = xr[2 * C + k], x3 = xr[3 * C + k];            \
        const BN_T g0 = gr[k], g1 = gr[C + k], g2 = gr[2 * C + k], g3 = gr[3 * C + k];            \
        const BN_T e0 = CLIP ? BN_PASS(x0, g0) : g0, e1 = CLIP ? BN_PASS(x1, g1) : g1;            \
        const BN_T e2 = CLIP ? BN_PASS(x2, g2) : g2, e3 = CLIP ? BN_PASS(x3, g3) : g3;            \
        const BN_T s4 = (e0 + e1) + (e2 + e3);                                                    \
        const BN_T p4 = (e0 * (x0 - mf) + e1 * (x1 - mf)) + (e2 * (x2 - mf) + e3 * (x3 - mf));    \
        sg[k] += (double)s4;                                                                      \
        sgx[k] += (double)p4 + (double)s4 * ((double)mf - mean[k]);                               \
    }
    for (; r + 4 <= rows; r += 4) {
        const BN_T *restrict xr = x + r * C;
        const BN_T *restrict gr = g + r * C;
        if (clip) {
            BN_SUMS4(1)
        } else {
            BN_SUMS4(0)
        }
    }
#undef BN_SUMS4
#undef BN_PASS
    for (; r < rows; r++) {           /* the last rows of the block, one at a time */
        const BN_T *restrict xr = x + r * C;
        const BN_T *restrict gr = g + r * C;
        for (ptrdiff_t k = 0; k < C; k++) {
            BN_T e = gr[k];
            if (clip && !BN_NAME(bn_inside)(xr[k], center[k], scale[k], beta[k], lo, hi))
                e = 0;
            sg[k] += (double)e;
            sgx[k] += (double)e * ((double)xr[k] - mean[k]);
        }
    }
}

static void BN_NAME(bn_normalize_rows)(const BN_T *restrict x, ptrdiff_t rows, ptrdiff_t C,
                                       const BN_T *restrict center, const BN_T *restrict scale,
                                       const BN_T *restrict beta, BN_T lo, BN_T hi,
                                       BN_T *restrict out)
{
    for (ptrdiff_t r = 0; r < rows; r++) {
        const BN_T *restrict xr = x + r * C;
        BN_T *restrict o = out + r * C;
        for (ptrdiff_t k = 0; k < C; k++) {
            BN_T y = (xr[k] - center[k]) * scale[k] + beta[k];
            y = y < lo ? lo : y;
            o[k] = y > hi ? hi : y;
        }
    }
}

static void BN_NAME(bn_backward_rows)(const BN_T *restrict g, const BN_T *restrict x,
                                      ptrdiff_t rows, ptrdiff_t C, const BN_T *restrict center,
                                      const BN_T *restrict scale, const BN_T *restrict beta,
                                      BN_T lo, BN_T hi, int clip, const BN_T *restrict a,
                                      const BN_T *restrict b, const BN_T *restrict d,
                                      BN_T *restrict out)
{
    for (ptrdiff_t r = 0; r < rows; r++) {
        const BN_T *restrict xr = x + r * C;
        const BN_T *restrict gr = g + r * C;
        BN_T *restrict o = out + r * C;
        if (clip) {
            for (ptrdiff_t k = 0; k < C; k++) {
                BN_T y = (xr[k] - center[k]) * scale[k] + beta[k];
                BN_T gk = gr[k];
                BN_T gv = ((y > lo) & (y < hi)) ? gk : (BN_T)0;
                o[k] = a[k] * gv + b[k] * (xr[k] - center[k]) + d[k];
            }
        } else {
            for (ptrdiff_t k = 0; k < C; k++)
                o[k] = a[k] * gr[k] + b[k] * (xr[k] - center[k]) + d[k];
        }
    }
}
