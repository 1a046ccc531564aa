/* gemm_simd_impl.h: gm_nn and gm_tn for one scalar type GM_T on one path, built on the blocks of
 * gemm_simd_block.h (full width GM_VBYTES, then half width GM_HALF, then plain C for the last
 * columns). Included by gemm_simd_path.h; gemm_simd.h documents what they compute. */

/* R rows of c = a @ b, every column; R is a constant at each call site. */
static inline __attribute__((always_inline)) void GM_NAME(gm_nn_rows)(
    const GM_T *a, ptrdiff_t lda, const GM_T *b, ptrdiff_t ldb, ptrdiff_t K, GM_T *c,
    ptrdiff_t ldc, ptrdiff_t N, const int R)
{
    ptrdiff_t n = GM_CAT(GM_NAME(gm_nn_columns), GM_VBYTES)(a, lda, b, ldb, K, c, ldc, 0, N, R);
    n = GM_CAT(GM_NAME(gm_nn_columns), GM_HALF)(a, lda, b, ldb, K, c, ldc, n, N, R);
    /* the last w columns (fewer than a half vector): plain C, each row of b read once per k;
     * every sum still over k = 0, 1, ... in order */
    const int w = (int)(N - n);
    GM_T acc[GM_ROWS][GM_HALF / sizeof(GM_T)];
    if (w == 0)
        return;
    for (int r = 0; r < R; r++)
        for (int j = 0; j < w; j++)
            acc[r][j] = 0;
    for (ptrdiff_t k = 0; k < K; k++)
        for (int r = 0; r < R; r++) {
            const GM_T ar = a[r * lda + k];
            for (int j = 0; j < w; j++)
                acc[r][j] += ar * b[k * ldb + n + j];
        }
    for (int r = 0; r < R; r++)
        for (int j = 0; j < w; j++)
            c[r * ldc + n + j] = acc[r][j];
}

/* c[M, N] = a[M, K] @ b[K, N]: rows in blocks of GM_ROWS, then one block of the rest. */
static void GM_NAME(gm_nn)(const GM_T *a, ptrdiff_t lda, const GM_T *b, ptrdiff_t ldb, GM_T *c,
                           ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t K, ptrdiff_t N)
{
    ptrdiff_t m = 0;
    for (; m + GM_ROWS <= M; m += GM_ROWS)
        GM_NAME(gm_nn_rows)(a + m * lda, lda, b, ldb, K, c + m * ldc, ldc, N, GM_ROWS);
#define GM_NN_REST(k)                                                                             \
    case k:                                                                                       \
        GM_NAME(gm_nn_rows)(a + m * lda, lda, b, ldb, K, c + m * ldc, ldc, N, k);                 \
        break;
    switch (M - m) {
#if GM_ROWS > 6
    GM_NN_REST(7) GM_NN_REST(6)
#endif
    GM_NN_REST(5) GM_NN_REST(4) GM_NN_REST(3) GM_NN_REST(2) GM_NN_REST(1)
    default:
        break;
    }
#undef GM_NN_REST
}

/* R rows of c = a^T @ g (columns k .. k+R of a), every column of g. */
static inline __attribute__((always_inline)) void GM_NAME(gm_tn_rows)(
    const GM_T *a, ptrdiff_t lda, const GM_T *g, ptrdiff_t ldg, ptrdiff_t P, GM_T *c,
    ptrdiff_t ldc, ptrdiff_t N, const int R)
{
    ptrdiff_t n = GM_CAT(GM_NAME(gm_tn_columns), GM_VBYTES)(a, lda, g, ldg, P, c, ldc, 0, N, R);
    n = GM_CAT(GM_NAME(gm_tn_columns), GM_HALF)(a, lda, g, ldg, P, c, ldc, n, N, R);
    /* the last w columns, as in gm_nn_rows: every sum over p = 0, 1, ... in order */
    const int w = (int)(N - n);
    GM_T acc[GM_ROWS][GM_HALF / sizeof(GM_T)];
    if (w == 0)
        return;
    for (int r = 0; r < R; r++)
        for (int j = 0; j < w; j++)
            acc[r][j] = 0;
    for (ptrdiff_t p = 0; p < P; p++)
        for (int r = 0; r < R; r++) {
            const GM_T ar = a[p * lda + r];
            for (int j = 0; j < w; j++)
                acc[r][j] += ar * g[p * ldg + n + j];
        }
    for (int r = 0; r < R; r++)
        for (int j = 0; j < w; j++)
            c[r * ldc + n + j] = acc[r][j];
}

/* c[K, N] = a[P, K]^T @ g[P, N]: rows of c in blocks of GM_ROWS, then one block of the rest. */
static void GM_NAME(gm_tn)(const GM_T *a, ptrdiff_t lda, const GM_T *g, ptrdiff_t ldg, GM_T *c,
                           ptrdiff_t ldc, ptrdiff_t P, ptrdiff_t K, ptrdiff_t N)
{
    ptrdiff_t k = 0;
    for (; k + GM_ROWS <= K; k += GM_ROWS)
        GM_NAME(gm_tn_rows)(a + k, lda, g, ldg, P, c + k * ldc, ldc, N, GM_ROWS);
#define GM_TN_REST(r)                                                                             \
    case r:                                                                                       \
        GM_NAME(gm_tn_rows)(a + k, lda, g, ldg, P, c + k * ldc, ldc, N, r);                       \
        break;
    switch (K - k) {
#if GM_ROWS > 6
    GM_TN_REST(7) GM_TN_REST(6)
#endif
    GM_TN_REST(5) GM_TN_REST(4) GM_TN_REST(3) GM_TN_REST(2) GM_TN_REST(1)
    default:
        break;
    }
#undef GM_TN_REST
}
