/* batchnorm_rows_impl.h: the row loops of batchnorm_rows.h for one type BN_T (float or double)
 * and one path BN_PATH. Included by batchnorm_rows_types.h; batchnorm_rows.h says what they
 * compute. */

static void BN_NAME(bn_moments_rows)(const BN_T *restrict x, ptrdiff_t rows, ptrdiff_t C,
                                     const double *restrict shift, double *restrict s1,
                                     double *restrict s2)
{
    ptrdiff_t r = 0;
    /* 4 rows per update of s1, s2 (see the file's comment). Here each value is taken to double
     * first: summed in float, as bn_sums_rows does, the loop ran 1.4 times as fast, but a square
     * of x - shift above about 1.8e19 overflowed to inf (every finite float32 is fine in double),
     * and a first row far from the mean (the shift) left only float's digits of the variance
     * after the cancellation in S2 - S1^2/P: errors of 1e-4 instead of 1e-11. */
    for (; r + 4 <= rows; r += 4) {
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
    /* 8 rows per update of sg, sgx: their share in BN_T, then added to the double sums (4 rows
     * at first; 8 made the loop about 1.25 times as fast, as it is bound by its arithmetic, not
     * by memory: a block in L2 takes as long as one in L3). x - mean is taken with the
     * mean rounded to BN_T (mf): exact when x and mf are within a factor 2 of each other
     * (Sterbenz), so a large mean loses nothing. So sgx here is sum g' * (x - mf); the caller
     * adds sum(g') * (mf - mean), the rounding of the mean, once at the end. With a clip, g' is
     * selected in the same loop (a select of BN_T values, which GCC vectorises). */
#define BN_PASS(xi, gi)                                                                           \
    (BN_NAME(bn_inside)((xi), center[k], scale[k], beta[k], lo, hi) ? (gi) : (BN_T)0)
#define BN_SUMS8(CLIP)                                                                            \
    for (ptrdiff_t k = 0; k < C; k++) {                                                           \
        const BN_T mf = (BN_T)mean[k];                                                            \
        BN_T e[8], p[8];                                                                          \
        for (int i = 0; i < 8; i++) {                                                             \
            const BN_T xi = xr[i * C + k], gi = gr[i * C + k];                                    \
            e[i] = CLIP ? BN_PASS(xi, gi) : gi;                                                   \
            p[i] = e[i] * (xi - mf);                                                              \
        }                                                                                         \
        sg[k] += (double)(((e[0] + e[1]) + (e[2] + e[3])) + ((e[4] + e[5]) + (e[6] + e[7])));     \
        sgx[k] += (double)(((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])));    \
    }
    for (; r + 8 <= rows; r += 8) {
        const BN_T *restrict xr = x + r * C;
        const BN_T *restrict gr = g + r * C;
        if (clip) {
            BN_SUMS8(1)
        } else {
            BN_SUMS8(0)
        }
    }
#undef BN_SUMS8
#undef BN_PASS
    for (; r < rows; r++) {           /* the last rows of the block, one at a time */
        const BN_T *restrict xr = x + r * C;
        const BN_T *restrict gr = g + r * C;
        for (ptrdiff_t k = 0; k < C; k++) {
            BN_T e = gr[k];
            if (clip && !BN_NAME(bn_inside)(xr[k], center[k], scale[k], beta[k], lo, hi))
                e = 0;
            sg[k] += (double)e;
            sgx[k] += (double)e * ((double)xr[k] - (double)(BN_T)mean[k]);
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
