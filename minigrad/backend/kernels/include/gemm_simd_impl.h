/* gemm_simd_impl.h: gm_nn and gm_tn for one scalar type GM_T on one path, built on the blocks of
 * gemm_simd_block.h (full width GM_VBYTES, then half width GM_HALF, then plain C for the last
 * columns). Included by gemm_simd_path.h; gemm_simd.h documents what they compute. */

/* lanes of a half-width vector */
#define GM_HALF_L ((ptrdiff_t)(GM_HALF / sizeof(GM_T)))

/* acc + x * y in the plain loops of the last columns, rounded as the vector blocks round it
 * (simd_cpu.h says why it is spelt out) */
#define GM_MADD(x, y, acc) MG_MADD(GM_FUSED, x, y, acc)

/* R rows of c = a @ b, every column; R is a constant at each call site. */
static inline __attribute__((always_inline)) void GM_NAME(gm_nn_rows)(
    const GM_T *a, ptrdiff_t lda, const GM_T *b, ptrdiff_t ldb, ptrdiff_t K, GM_T *c,
    ptrdiff_t ldc, ptrdiff_t N, const int R)
{
    ptrdiff_t n = GM_CAT(GM_NAME(gm_nn_columns), GM_VBYTES)(a, lda, b, ldb, K, c, ldc, 0, N, R);
    n = GM_CAT(GM_NAME(gm_nn_columns), GM_HALF)(a, lda, b, ldb, K, c, ldc, n, N, R);
    /* Fewer than a half vector of columns left: when N allows, one more half-vector block that
     * ends at column N. It overlaps columns already written, and writes them again with the
     * same bits (each lane's sum is the same products in the same order). */
    if (n < N && N >= GM_HALF_L) {
        GM_CAT(GM_NAME(gm_nn_block), GM_HALF)(a, lda, b + N - GM_HALF_L, ldb, K,
                                              c + N - GM_HALF_L, ldc, R, 1);
        n = N;
    }
    /* a matrix narrower than that: plain C, one column at a time, R sums in registers */
    for (; n < N; n++) {
        GM_T acc[GM_ROWS];
        for (int r = 0; r < R; r++)
            acc[r] = 0;
        for (ptrdiff_t k = 0; k < K; k++) {
            const GM_T bk = b[k * ldb + n];
            for (int r = 0; r < R; r++)
                acc[r] = GM_MADD(a[r * lda + k], bk, acc[r]);
        }
        for (int r = 0; r < R; r++)
            c[r * ldc + n] = acc[r];
    }
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
#if GM_ROWS > 4
    GM_NN_REST(5) GM_NN_REST(4)
#endif
    GM_NN_REST(3) GM_NN_REST(2) GM_NN_REST(1)
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
    /* the last columns, as in gm_nn_rows: an overlapping half-vector block, or plain C */
    if (n < N && N >= GM_HALF_L) {
        GM_CAT(GM_NAME(gm_tn_block), GM_HALF)(a, lda, g + N - GM_HALF_L, ldg, P,
                                              c + N - GM_HALF_L, ldc, R, 1);
        n = N;
    }
    for (; n < N; n++) {
        GM_T acc[GM_ROWS];
        for (int r = 0; r < R; r++)
            acc[r] = 0;
        for (ptrdiff_t p = 0; p < P; p++) {
            const GM_T gp = g[p * ldg + n];
            for (int r = 0; r < R; r++)
                acc[r] = GM_MADD(a[p * lda + r], gp, acc[r]);
        }
        for (int r = 0; r < R; r++)
            c[r * ldc + n] = acc[r];
    }
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
#if GM_ROWS > 4
    GM_TN_REST(5) GM_TN_REST(4)
#endif
    GM_TN_REST(3) GM_TN_REST(2) GM_TN_REST(1)
    default:
        break;
    }
#undef GM_TN_REST
}

#undef GM_HALF_L
#undef GM_MADD
