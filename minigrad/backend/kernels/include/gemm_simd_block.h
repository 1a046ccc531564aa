/* gemm_simd_block.h: register blocks for one scalar type GM_T and one vector width GM_WIDTH
 * (bytes). Included four times per path by gemm_simd_path.h; gemm_simd.h documents what they
 * compute. Every name is written GM_WNAME(x): x, the type's suffix, the path and the width
 * (gm_nn_block_f32_avx512_64, ...). */

typedef GM_T GM_WNAME(gm_vec) __attribute__((vector_size(GM_WIDTH)));
#define GM_VEC GM_WNAME(gm_vec)
/* Lanes per vector: 16, 8 or 4 floats; 8, 4 or 2 doubles. */
#define GM_L ((ptrdiff_t)(GM_WIDTH / sizeof(GM_T)))

/* Unaligned load/store: memcpy of a vector compiles to one vmovups and has no aliasing trouble. */
static inline GM_VEC GM_WNAME(gm_load)(const GM_T *p)
{
    GM_VEC v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void GM_WNAME(gm_store)(GM_T *p, GM_VEC v)
{
    memcpy(p, &v, sizeof v);
}

/* ---- gm_nn: c = a @ b ----------------------------------------------------------------------- */

/* R rows x V vectors of columns of c; a, b and c already point at the block's first row and
 * column. R and V are constants at every call site, so the loops unroll and the R x V
 * accumulators live in registers: each row of b is loaded once per k and used R times, each
 * a[r, k] broadcast once and used V times. Every lane sums its k = 0, 1, ... in order. */
static inline __attribute__((always_inline)) void GM_WNAME(gm_nn_block)(
    const GM_T *a, ptrdiff_t lda, const GM_T *b, ptrdiff_t ldb, ptrdiff_t K, GM_T *c,
    ptrdiff_t ldc, const int R, const int V)
{
    GM_VEC acc[GM_ROWS][2];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            acc[r][v] = (GM_VEC){0};
    for (ptrdiff_t k = 0; k < K; k++) {
        GM_VEC bv[2];
        for (int v = 0; v < V; v++)
            bv[v] = GM_WNAME(gm_load)(b + k * ldb + v * GM_L);
        for (int r = 0; r < R; r++) {
            const GM_T ar = a[r * lda + k];
            for (int v = 0; v < V; v++)
                acc[r][v] += bv[v] * ar;
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            GM_WNAME(gm_store)(c + r * ldc + v * GM_L, acc[r][v]);
}

/* R rows, columns [n, N) in blocks of two vectors, then one; returns the first column left for a
 * narrower width. */
static inline __attribute__((always_inline)) ptrdiff_t GM_WNAME(gm_nn_columns)(
    const GM_T *a, ptrdiff_t lda, const GM_T *b, ptrdiff_t ldb, ptrdiff_t K, GM_T *c,
    ptrdiff_t ldc, ptrdiff_t n, ptrdiff_t N, const int R)
{
    for (; n + 2 * GM_L <= N; n += 2 * GM_L)
        GM_WNAME(gm_nn_block)(a, lda, b + n, ldb, K, c + n, ldc, R, 2);
    for (; n + GM_L <= N; n += GM_L)
        GM_WNAME(gm_nn_block)(a, lda, b + n, ldb, K, c + n, ldc, R, 1);
    return n;
}

/* ---- gm_tn: c = a^T @ g --------------------------------------------------------------------- */

/* R rows of c (columns k of a) x V vectors of columns, summed over the P rows of a and g, then
 * written to c. Each row of g is loaded once per p and used R times; a[p, k .. k+R) are
 * neighbours in memory. Every lane sums its p = 0, 1, ... in order. */
static inline __attribute__((always_inline)) void GM_WNAME(gm_tn_block)(
    const GM_T *a, ptrdiff_t lda, const GM_T *g, ptrdiff_t ldg, ptrdiff_t P, GM_T *c,
    ptrdiff_t ldc, const int R, const int V)
{
    GM_VEC acc[GM_ROWS][2];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            acc[r][v] = (GM_VEC){0};
    for (ptrdiff_t p = 0; p < P; p++) {
        GM_VEC gv[2];
        for (int v = 0; v < V; v++)
            gv[v] = GM_WNAME(gm_load)(g + p * ldg + v * GM_L);
        for (int r = 0; r < R; r++) {
            const GM_T ar = a[p * lda + r];
            for (int v = 0; v < V; v++)
                acc[r][v] += gv[v] * ar;
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            GM_WNAME(gm_store)(c + r * ldc + v * GM_L, acc[r][v]);
}

static inline __attribute__((always_inline)) ptrdiff_t GM_WNAME(gm_tn_columns)(
    const GM_T *a, ptrdiff_t lda, const GM_T *g, ptrdiff_t ldg, ptrdiff_t P, GM_T *c,
    ptrdiff_t ldc, ptrdiff_t n, ptrdiff_t N, const int R)
{
    for (; n + 2 * GM_L <= N; n += 2 * GM_L)
        GM_WNAME(gm_tn_block)(a, lda, g + n, ldg, P, c + n, ldc, R, 2);
    for (; n + GM_L <= N; n += GM_L)
        GM_WNAME(gm_tn_block)(a, lda, g + n, ldg, P, c + n, ldc, R, 1);
    return n;
}

#undef GM_VEC
#undef GM_L
