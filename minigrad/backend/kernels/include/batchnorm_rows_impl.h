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

/* g' of rows r .. r+R-1, channels k0 .. k0+n-1, into passed[R][BN_CHUNK]. Written as a select
 * (g loaded whether or not it passes, `&` not `&&`) GCC vectorises it on every instruction set;
 * a load under the condition is only vectorised with AVX-512's masked loads, and elsewhere is a
 * branch per value, mispredicted half the time (20-40 times slower). Written inside the sums,
 * the select between a float and a double sum was left scalar too. */
#define BN_CHUNK 256
static inline void BN_NAME(bn_pass)(const BN_T *restrict x, const BN_T *restrict g, ptrdiff_t C,
                                    ptrdiff_t k0, ptrdiff_t n, int R, const BN_T *restrict center,
                                    const BN_T *restrict scale, const BN_T *restrict beta,
                                    BN_T lo, BN_T hi, BN_T passed[][BN_CHUNK])
{
    for (int i = 0; i < R; i++)
        for (ptrdiff_t k = 0; k < n; k++) {
            BN_T y = (x[i * C + k0 + k] - center[k0 + k]) * scale[k0 + k] + beta[k0 + k];
            BN_T gk = g[i * C + k0 + k];   /* loaded either way: a select, not a branch */
            passed[i][k] = ((y > lo) & (y < hi)) ? gk : (BN_T)0;
        }
}

/* `clip` is 0 when there is no clip (lo = -inf, hi = inf): then g' = g and nothing is staged. */
static void BN_NAME(bn_sums_rows)(const BN_T *restrict x, const BN_T *restrict g, ptrdiff_t rows,
                                  ptrdiff_t C, const double *restrict mean,
                                  const BN_T *restrict center, const BN_T *restrict scale,
                                  const BN_T *restrict beta, BN_T lo, BN_T hi, int clip,
                                  double *restrict sg, double *restrict sgx)
{
    BN_T passed[4][BN_CHUNK];
    ptrdiff_t r = 0;
    for (; r + 4 <= rows; r += 4)     /* 4 rows per update of sg, sgx */
        for (ptrdiff_t k0 = 0; k0 < C; k0 += BN_CHUNK) {
            const ptrdiff_t n = C - k0 < BN_CHUNK ? C - k0 : BN_CHUNK;
            const BN_T *restrict x0 = x + r * C + k0;
            const BN_T *restrict g0 = g + r * C + k0, *restrict g1 = g0 + C;
            const BN_T *restrict g2 = g1 + C, *restrict g3 = g2 + C;
            if (clip) {
                BN_NAME(bn_pass)(x + r * C, g + r * C, C, k0, n, 4, center, scale, beta, lo, hi,
                                 passed);
                g0 = passed[0], g1 = passed[1], g2 = passed[2], g3 = passed[3];
            }
            for (ptrdiff_t k = 0; k < n; k++) {
                double m = mean[k0 + k];
                double e0 = (double)g0[k], e1 = (double)g1[k];
                double e2 = (double)g2[k], e3 = (double)g3[k];
                sg[k0 + k] += (e0 + e1) + (e2 + e3);
                sgx[k0 + k] += (e0 * ((double)x0[k] - m) + e1 * ((double)x0[C + k] - m)) +
                               (e2 * ((double)x0[2 * C + k] - m) + e3 * ((double)x0[3 * C + k] - m));
            }
        }
    for (; r < rows; r++)
        for (ptrdiff_t k0 = 0; k0 < C; k0 += BN_CHUNK) {
            const ptrdiff_t n = C - k0 < BN_CHUNK ? C - k0 : BN_CHUNK;
            const BN_T *restrict xr = x + r * C + k0;
            const BN_T *restrict gr = g + r * C + k0;
            if (clip) {
                BN_NAME(bn_pass)(x + r * C, g + r * C, C, k0, n, 1, center, scale, beta, lo, hi,
                                 passed);
                gr = passed[0];
            }
            for (ptrdiff_t k = 0; k < n; k++) {
                double gv = (double)gr[k];
                sg[k0 + k] += gv;
                sgx[k0 + k] += gv * ((double)xr[k] - mean[k0 + k]);
            }
        }
}
#undef BN_CHUNK

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
