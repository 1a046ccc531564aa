"""Small matrix products for the convolutions: ``out = a @ b`` and ``out = a^T @ g``.

What they compute is the NumPy twin's (``reference/gemm.py``): two lines of ``np.matmul``. A 1x1
convolution is one such product per pass: forward ``x (P, K) @ kernel (K, N)``, input gradient
``G (P, N) @ kernel^T (N, K)``, kernel gradient ``x^T @ G``. The register blocks are in
``include/gemm_simd.h`` (read its comment for why they are fast); this module checks the
arguments, then shares the work between threads so that no result depends on how many there are:

* :func:`matmul`: the M rows of ``out`` in tasks of ``ROWS_PER_TASK`` rows (fewer for a short a);
  each row is written by one thread, its sums over k taken in order.
* :func:`matmul_tn`: the sum over the P rows is cut into equal blocks of at most ``BLOCK_ROWS``
  rows, their number fixed by P alone (:func:`_sum_blocks`); each block sums into its own partial
  (K, N) result, whichever thread runs it, and the partials are added in block order. The tasks
  are (block, ``ROWS_PER_TASK`` rows of out) pairs.

Arrays: 2-D, C-contiguous, float32 or float64 (one type per call); ``out`` is preallocated by the
caller and fully overwritten.

``prologue`` = (center, scale, shift, lo, hi): ``a`` is read through a batch norm and its clip,
``clip((a - center) * scale + shift, lo, hi)`` per column (K values each), as the batch-norm
module computes it (``batchnorm.pxd``). Each task first stages its rows (columns) of ``a`` so
mapped into a per-thread buffer, then multiplies the buffer: a 1x1 convolution that reads a batch
norm's output computes that output itself, which is then never written to memory. The products
are those of the mapped ``a``, bit for bit.
"""
import numpy as np

from cython.parallel cimport parallel, prange, threadid
from libc.stddef cimport ptrdiff_t

from ..buffers import buffers
from .batchnorm cimport normalize_block
from .prologue import check_prologue

cdef extern from "gemm_simd.h" nogil:
    void gm_nn_plain(const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c,
                     ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t K, ptrdiff_t N)
    void gm_tn_plain(const float *a, ptrdiff_t lda, const float *g, ptrdiff_t ldg, float *c,
                     ptrdiff_t ldc, ptrdiff_t P, ptrdiff_t K, ptrdiff_t N)
    void gm_nn_f32(const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c,
                   ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t K, ptrdiff_t N)
    void gm_nn_f64(const double *a, ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c,
                   ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t K, ptrdiff_t N)
    void gm_tn_f32(const float *a, ptrdiff_t lda, const float *g, ptrdiff_t ldg, float *c,
                   ptrdiff_t ldc, ptrdiff_t P, ptrdiff_t K, ptrdiff_t N)
    void gm_tn_f64(const double *a, ptrdiff_t lda, const double *g, ptrdiff_t ldg, double *c,
                   ptrdiff_t ldc, ptrdiff_t P, ptrdiff_t K, ptrdiff_t N)
    int mg_path_supported(int path)
    int mg_best_path()
    int gm_set_path(int path)
    int gm_get_path()

ctypedef fused real:
    float
    double

#: rows of ``out`` per parallel task
ROWS_PER_TASK = 64
#: rows of the sum per partial result of :func:`matmul_tn`, at most (see :func:`_sum_blocks`)
BLOCK_ROWS = 1024
#: a sum of more than this many blocks is cut into a multiple of it (fewer: a power of two)
BLOCKS_MULTIPLE = 8
cdef Py_ssize_t _TASK = 64, _BLOCK = 1024, _MULTIPLE = 8


cpdef Py_ssize_t _sum_blocks(Py_ssize_t P):
    """How many blocks :func:`matmul_tn` cuts a sum over P rows into: the fewest blocks of at
    most BLOCK_ROWS rows, rounded up to a power of two (1, 2, 4, 8), or past BLOCKS_MULTIPLE to
    a multiple of it. Block b holds rows [b * P // nblocks, (b + 1) * P // nblocks): equal to a
    row, so that 2, 4 or 8 threads get equal shares. (Cut in blocks of exactly 1024 rows, P = 3136
    made 3 full blocks and one of 64 rows, and 2 threads took 1.5 times as long as one half.)
    Rounding up costs partial results to add: at most 16/9 times as many as the fewest blocks
    (9 -> 16). The cut depends on P alone: the same partials, the same bits, for any thread
    count."""
    cdef Py_ssize_t nblocks = (P + _BLOCK - 1) // _BLOCK, power = 1
    if nblocks > _MULTIPLE:
        return (nblocks + _MULTIPLE - 1) // _MULTIPLE * _MULTIPLE
    while power < nblocks:
        power *= 2
    return power


cdef inline void _nn(const real *a, ptrdiff_t lda, const real *b, ptrdiff_t ldb, real *c,
                     ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t K, ptrdiff_t N) noexcept nogil:
    if real is float:
        gm_nn_f32(a, lda, b, ldb, c, ldc, M, K, N)
    else:
        gm_nn_f64(a, lda, b, ldb, c, ldc, M, K, N)


cdef inline void _tn(const real *a, ptrdiff_t lda, const real *g, ptrdiff_t ldg, real *c,
                     ptrdiff_t ldc, ptrdiff_t P, ptrdiff_t K, ptrdiff_t N) noexcept nogil:
    if real is float:
        gm_tn_f32(a, lda, g, ldg, c, ldc, P, K, N)
    else:
        gm_tn_f64(a, lda, g, ldg, c, ldc, P, K, N)


cdef struct Pre:
    # the prologue as the loops read it: C values each, of the arrays' type (NULL: none)
    const void *center
    const void *scale
    const void *shift
    double lo, hi


cdef Pre _pre(prologue, const real[:, ::1] a, int num_threads, who) except *:
    """The checked prologue (see the module docstring) for the K columns of a (and a check of
    ``num_threads``); the arrays stay alive in ``prologue`` while the loops run."""
    if num_threads < 1:
        raise ValueError(f"{who}: num_threads must be >= 1, got {num_threads}")
    cdef Pre pre
    pre.center = pre.scale = pre.shift = NULL
    pre.lo = pre.hi = 0
    prologue = check_prologue(who, prologue, a.shape[1],
                              np.float32 if real is float else np.float64)
    if prologue is None or a.shape[1] == 0:
        return pre
    cdef const real[::1] center = prologue[0], scale = prologue[1], shift = prologue[2]
    pre.center, pre.scale, pre.shift = &center[0], &scale[0], &shift[0]
    pre.lo, pre.hi = prologue[3], prologue[4]
    return pre


cdef inline void _stage(const real *a, ptrdiff_t lda, ptrdiff_t rows, ptrdiff_t cols,
                        const Pre *pre, ptrdiff_t k0, real *dst) noexcept nogil:
    """dst (rows x cols, packed) = the prologue's map of a's rows, columns k0 .. k0 + cols."""
    cdef ptrdiff_t r
    if lda == cols:   # whole rows: one call
        normalize_block(a, rows, cols, <const real *>pre.center + k0,
                        <const real *>pre.scale + k0, <const real *>pre.shift + k0,
                        <real>pre.lo, <real>pre.hi, dst)
        return
    for r in range(rows):
        normalize_block(a + r * lda, 1, cols, <const real *>pre.center + k0,
                        <const real *>pre.scale + k0, <const real *>pre.shift + k0,
                        <real>pre.lo, <real>pre.hi, dst + r * cols)


cdef _check_out(who, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t *shape, a_shape, b_shape):
    """out's shape before any C code runs (a wrong one would be written past its end). The dtypes
    need no check: a, b and out share the fused type ``real``, so Cython refuses a mix."""
    if shape[0] != rows or shape[1] != cols:
        raise ValueError(f"{who}: out must have shape {(rows, cols)} for a of shape {a_shape} "
                         f"and b of shape {b_shape}, got {(shape[0], shape[1])}")


def matmul(const real[:, ::1] a, const real[:, ::1] b, real[:, ::1] out, int num_threads,
           prologue=None):
    """out = a @ b: a (M, K), b (K, N), out (M, N); a read through ``prologue`` if given."""
    cdef Py_ssize_t M = a.shape[0], K = a.shape[1], N = b.shape[1]
    if b.shape[0] != K:
        raise ValueError(f"matmul: b must have {K} rows (the columns of a), got shape "
                         f"{tuple(b.shape)[:2]}")
    _check_out("matmul", M, N, out.shape, (M, K), (b.shape[0], N))
    cdef Pre pre = _pre(prologue, a, num_threads, "matmul")
    if M == 0 or N == 0:
        return
    if K == 0:
        out[:, :] = 0
        return
    cdef ptrdiff_t lda = a.strides[0] // sizeof(real), ldb = b.strides[0] // sizeof(real)
    cdef ptrdiff_t ldc = out.strides[0] // sizeof(real)
    # rows per task: ROWS_PER_TASK, or fewer (a multiple of 8) so that a short a (a Dense layer's
    # batch) still gives every thread rows; no sum depends on it (a row is one task's)
    cdef Py_ssize_t task = _TASK, t, m0
    if M < 2 * _TASK * num_threads:
        task = max(8, ((M + 2 * num_threads - 1) // (2 * num_threads) + 7) // 8 * 8)
    cdef Py_ssize_t ntasks = (M + task - 1) // task, rows
    cdef real[:, ::1] stage
    cdef real *buf = NULL
    if pre.scale != NULL:   # a task's staged rows of a: one row of scratch per thread
        stage = _scratch(num_threads, task * K, a)
    with nogil, parallel(num_threads=num_threads):
        if pre.scale != NULL:   # this thread's row (assigned here: private to the thread)
            buf = &stage[threadid(), 0]
        for t in prange(ntasks, schedule="static"):
            m0 = t * task
            rows = min(task, M - m0)
            if buf == NULL:
                _nn(&a[m0, 0], lda, &b[0, 0], ldb, &out[m0, 0], ldc, rows, K, N)
            else:
                _stage(&a[m0, 0], lda, rows, K, &pre, 0, buf)
                _nn(buf, K, &b[0, 0], ldb, &out[m0, 0], ldc, rows, K, N)


cdef _scratch(int num_threads, Py_ssize_t size, const real[:, ::1] like):
    """One row of ``size`` values of a's type per thread, from the buffer pool
    (backend/buffers.py): scratch made fresh in every call, by malloc or np.empty, is memory the
    system hands over again, page by page (162 page faults in an MNIST step when matmul_tn's
    staging buffers and partials were)."""
    return buffers.empty((num_threads, size), np.float32 if real is float else np.float64)


def matmul_tn(const real[:, ::1] a, const real[:, ::1] g, real[:, ::1] out, int num_threads,
              prologue=None):
    """out = a^T @ g: a (P, K), g (P, N), out (K, N); a read through ``prologue`` if given."""
    cdef Py_ssize_t P = a.shape[0], K = a.shape[1], N = g.shape[1]
    if g.shape[0] != P:
        raise ValueError(f"matmul_tn: g must have {P} rows (the rows of a), got shape "
                         f"{tuple(g.shape)[:2]}")
    _check_out("matmul_tn", K, N, out.shape, (P, K), (g.shape[0], N))
    cdef Pre pre = _pre(prologue, a, num_threads, "matmul_tn")
    if K == 0 or N == 0:
        return
    if P == 0:
        out[:, :] = 0
        return
    # tasks: (block of the sum, chunk of _TASK rows of out), so that a short sum (a 3x3 window on
    # one channel: P = 9) still gives every thread rows to do
    cdef Py_ssize_t nblocks = _sum_blocks(P), nchunks = (K + _TASK - 1) // _TASK
    cdef Py_ssize_t blk, k, n
    if nblocks == 1:   # one block: the tasks write out itself
        _tn_tasks(a, g, out, &pre, nblocks, nchunks, num_threads)
        return
    # scratch from the buffer pool, as the staging rows (see _scratch)
    partial_arr = buffers.empty((nblocks, K, N), np.float32 if real is float else np.float64)
    cdef real[:, :, ::1] partial = partial_arr
    cdef real[:, ::1] partial_rows = partial_arr.reshape(nblocks * K, N)
    _tn_tasks(a, g, partial_rows, &pre, nblocks, nchunks, num_threads)
    for k in prange(K, nogil=True, schedule="static", num_threads=num_threads):
        # out[k] = partial 0 + partial 1 + ...: block order, the same bits for any thread count;
        # a row at a time, so the adds run along n as vectors
        _add_rows(&partial[0, k, 0], K * N, nblocks, &out[k, 0], N)


cdef inline void _add_rows(const real *first, Py_ssize_t step, Py_ssize_t count, real *out,
                           Py_ssize_t n) noexcept nogil:
    """out[:n] = first[:n] + first[step:step + n] + ... (count rows, added in that order)."""
    cdef Py_ssize_t i, j
    for j in range(n):
        out[j] = first[j]
    for i in range(1, count):
        for j in range(n):
            out[j] = out[j] + first[i * step + j]


cdef void _tn_tasks(const real[:, ::1] a, const real[:, ::1] g, real[:, ::1] out, const Pre *pre,
                    Py_ssize_t nblocks, Py_ssize_t nchunks, int num_threads) except *:
    """:func:`matmul_tn`'s tasks, (block of the sum, chunk of columns of a) pairs: each sums its
    block (one of the ``nblocks`` of :func:`_sum_blocks`) into rows blk * K + k0 .. of ``out``,
    which is out itself for one block, else the (nblocks * K, N) partials. With a prologue each task first stages its block x chunk of a (up
    to 256 KB of float32) in its thread's row of :func:`_scratch`."""
    cdef Py_ssize_t P = a.shape[0], K = a.shape[1], N = g.shape[1]
    cdef Py_ssize_t t, blk, p0, k0, rows, cols
    cdef ptrdiff_t lda = a.strides[0] // sizeof(real), ldg = g.strides[0] // sizeof(real)
    cdef ptrdiff_t ldo = out.strides[0] // sizeof(real)
    cdef real[:, ::1] stage
    cdef real *buf = NULL
    if pre.scale != NULL:   # each row >= a block x chunk (every block has at most _BLOCK rows)
        stage = _scratch(num_threads, min(_BLOCK, P) * min(_TASK, K), a)
    with nogil, parallel(num_threads=num_threads):
        if pre.scale != NULL:   # this thread's row (assigned here: private to the thread)
            buf = &stage[threadid(), 0]
        for t in prange(nblocks * nchunks, schedule="static"):
            blk = t // nchunks
            p0 = blk * P // nblocks
            k0 = (t % nchunks) * _TASK
            rows, cols = (blk + 1) * P // nblocks - p0, min(_TASK, K - k0)
            if buf == NULL:
                _tn(&a[p0, k0], lda, &g[p0, 0], ldg, &out[blk * K + k0, 0], ldo, rows, cols, N)
            else:
                _stage(&a[p0, k0], lda, rows, cols, pre, k0, buf)
                _tn(buf, cols, &g[p0, 0], ldg, &out[blk * K + k0, 0], ldo, rows, cols, N)


# ---- the plain loops of include/gemm_simd.h, for the tests -------------------------------------

def _nn_plain_float32(const float[:, ::1] a, const float[:, ::1] b, float[:, ::1] out):
    """gm_nn_plain: out = a @ b in float, the order of every sum the vector blocks follow."""
    _check_out("_nn_plain_float32", a.shape[0], b.shape[1], out.shape, (a.shape[0], a.shape[1]),
               (b.shape[0], b.shape[1]))
    if b.shape[0] != a.shape[1]:
        raise ValueError("_nn_plain_float32: b must have as many rows as a has columns")
    if a.shape[0] and b.shape[1] and a.shape[1]:
        gm_nn_plain(&a[0, 0], a.strides[0] // 4, &b[0, 0], b.strides[0] // 4, &out[0, 0],
                    out.strides[0] // 4, a.shape[0], a.shape[1], b.shape[1])


def _tn_plain_float32(const float[:, ::1] a, const float[:, ::1] g, float[:, ::1] out):
    """gm_tn_plain: out = a^T @ g in float (one block: no partials)."""
    _check_out("_tn_plain_float32", a.shape[1], g.shape[1], out.shape, (a.shape[0], a.shape[1]),
               (g.shape[0], g.shape[1]))
    if g.shape[0] != a.shape[0]:
        raise ValueError("_tn_plain_float32: g must have as many rows as a")
    if a.shape[0] and a.shape[1] and g.shape[1]:
        gm_tn_plain(&a[0, 0], a.strides[0] // 4, &g[0, 0], g.strides[0] // 4, &out[0, 0],
                    out.strides[0] // 4, a.shape[0], a.shape[1], g.shape[1])


# ---- the instruction set ("path"): include/simd_cpu.h; backend.simd names them and sets every module's --
gm_set_path(mg_best_path())  # the fastest this CPU has (backend.simd may choose another)


def _path_index():
    """The path the loops run on now: 0 base, 1 avx2, 2 avx512."""
    return gm_get_path()


def _set_path_index(int path):
    """Run the loops on path ``path`` from now on; False (and no change) when this CPU cannot."""
    return gm_set_path(path) == 0
