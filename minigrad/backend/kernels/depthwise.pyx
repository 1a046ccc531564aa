"""Depthwise 2-D convolution: forward, gradient w.r.t. the input, gradient w.r.t. the kernel.

The math, shapes and argument meanings are those of the NumPy twins in ``reference/depthwise.py``
(read it first): x (N, H, W, C), kernel (KH, KW, C, M), out / grad_out (N, OH, OW, C*M) with output
channel c*M + m, strides, dilations, pad_top and pad_left from ``minigrad.ops.geometry``; the
output size is the shape of ``out`` / ``grad_out``. All arrays NHWC, C-contiguous, float32 or
float64 (one type per call); outputs are preallocated by the caller and fully overwritten.

The reference pads the whole input with zeros, then slides the window. Here each thread does the
same one row at a time: a "staged" row is one input row copied into a small per-thread buffer
with the zeros of the padding left and right of it (and, when the depth multiplier M > 1, every
channel c repeated M times, so that there is one input value per output channel). Rows above or
below the image are not staged: their taps are simply left out, and so are the taps of a window
column that never meets the image (huge dilations). So the vectorised micro-kernels of
``include/depthwise_simd.h`` always run over whole output rows with no bounds checks, and read
memory that sits in L1/L2. A staged row stays in its slot while the thread's next output rows
use it. Where the copy costs more than it saves, the forward and the kernel gradient read x where
it lies instead: M = 1, no prologue, and strides > 1 both ways (an output row then stages two or
more new input rows for few sums) or no padding met (``depthwise_plan._read_in_place``). A tap
then simply leaves out the output pixels whose input is padding: the forward computes the pixels
that see the whole window in one span and each edge pixel alone with its taps inside the image,
the kernel gradient sums each tap over the pixels it sees. The zero products left out change no
value, and no bit but one: a forward sum whose products all underflow can end as -0 where a
padding tap would have made it +0 (on the FMA paths). (At stride 1 the edge pixels alone cost
more than the copy saves: measured on 7x7 to 112x112.)

How the work is split, and why no result depends on the thread count:

* forward: ``prange`` over output rows (n, oh); a row is written by one thread only.
* grad_kernel: the N*OH output rows are cut into a fixed list of chunks that depends on the shape
  only. Each chunk sums into its own partial gradient, whichever thread runs it; the partials are
  then added in chunk order. Same chunks, same order, same bits for 1 or 64 threads.
* grad_input: input rows (n, ih), each written by one thread, reading staged rows of grad_out,
  handed out with the same chunks, so that depthwise_backward runs both gradients in one thread
  team (one loop, _gradient_team, serves all three entry points). With a stride s a row splits in
  s "phases", each a stride-1 correlation with a fixed subset of the taps
  (``depthwise_plan.column_phases``): no tap is tried and thrown away.

Each thread prefetches the row it will stage two rows later and the output row it writes next:
inside a network the arrays come from memory, and the kernels would otherwise wait for them.

A ``prologue`` = (center, scale, shift, lo, hi) (M = 1) makes the forward and the kernel
gradient read x through a batch norm and its clip, clip((x - center) * scale + shift, lo, hi)
per channel: the batch-norm module's own loop (``batchnorm.pxd``) makes each staged row, so
the values have the bits of ``batchnorm.normalize``'s output (the padding stays zero).

What can be worked out before the loops (columns and rows to stage, phases, chunks, checks) is
plain Python in ``depthwise_plan.py``; each entry point copies its plan into a ``Geo`` struct,
and only then enters ``nogil`` code.
"""
import numpy as np

from .depthwise_plan import (check_arguments, check_span, forward_plan, grad_input_plan,
                             grad_kernel_plan)
from .prologue import check_prologue

from cython.parallel cimport parallel, prange
from libc.stddef cimport ptrdiff_t
from libc.string cimport memset

from .depthwise_simd cimport (corr_span, dw_best_path, dw_corr_span_f32, dw_corr_span_plain,
                              dw_get_path, dw_path_supported, dw_prefetch_write, dw_set_path,
                              dw_wgrad_span_f32, dw_wgrad_span_plain, real, sum_groups,
                              wgrad_span)
# (Geo, Work and the staging of rows, _work_alloc, _work_free, _stage and _window_taps, and the
# rows read in place, _forward_row_direct and _grad_kernel_row_direct, are in depthwise.pxd,
# which Cython reads first)

# ---- the plan (depthwise_plan.py) as the struct the loops read ---------------------------------

cdef tuple _shape(Py_ssize_t *shape):
    return (shape[0], shape[1], shape[2], shape[3])


cdef Geo _geo(plan, prologue=None) except *:
    """The fields of a depthwise_plan.Plan in a Geo, and the checked ``prologue`` (None: a plain
    copy); g.cols and g.pre_* point into ``plan.cols`` and the prologue's arrays, so the caller
    keeps those alive while g is in use."""
    cdef Geo g
    cdef const Py_ssize_t[::1] cols
    cdef const Py_ssize_t[:, ::1] col_ranges, ranges
    g.N, g.H, g.W, g.C, g.M, g.CM = plan.N, plan.H, plan.W, plan.C, plan.M, plan.CM
    g.KH, g.KW, g.OH, g.OW = plan.KH, plan.KW, plan.OH, plan.OW
    g.sh, g.sw, g.dh, g.dw, g.pt, g.pl = plan.sh, plan.sw, plan.dh, plan.dw, plan.pt, plan.pl
    g.src_h, g.src_w, g.src_c = plan.src_h, plan.src_w, plan.src_c
    g.first, g.width, g.slots, g.slot_by_row = plan.first, plan.width, plan.slots, plan.slot_by_row
    g.cols, g.ncols, g.per_chunk = NULL, plan.ncols, plan.per_chunk
    g.pre_center = g.pre_scale = g.pre_shift = NULL
    g.pre_lo, g.pre_hi = 0, 0
    if prologue is not None and plan.C > 0:   # (C,) arrays of the kernel's type: checked
        g.pre_center = <const void *><size_t>prologue[0].ctypes.data
        g.pre_scale = <const void *><size_t>prologue[1].ctypes.data
        g.pre_shift = <const void *><size_t>prologue[2].ctypes.data
        g.pre_lo, g.pre_hi = prologue[3], prologue[4]
    if g.ncols > 0:
        cols = plan.cols
        g.cols = &cols[0]
    g.direct, g.col_ranges, g.ranges, g.nranges = False, NULL, NULL, 0
    g.inner_first, g.inner_last = plan.inner
    if plan.direct and prologue is None:   # (plan.direct implies ncols > 0 and a range)
        col_ranges, ranges = plan.col_ranges, plan.ranges
        g.direct, g.col_ranges = True, &col_ranges[0, 0]
        g.ranges, g.nranges = &ranges[0, 0], ranges.shape[0]
    return g


# ---- forward ----------------------------------------------------------------------------------

def depthwise_forward(const real[:, :, :, ::1] x, const real[:, :, :, ::1] kernel,
                      real[:, :, :, ::1] out, Py_ssize_t stride_h, Py_ssize_t stride_w,
                      Py_ssize_t dilation_h, Py_ssize_t dilation_w, Py_ssize_t pad_top,
                      Py_ssize_t pad_left, int num_threads, prologue=None):
    """out[n, oh, ow, c*M + m] = sum_{i,j} xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] kernel[i, j, c, m]
    (x read through ``prologue``, if given: see the module docstring)."""
    check_arguments("depthwise_forward", _shape(x.shape), _shape(kernel.shape), _shape(out.shape),
                    (stride_h, stride_w), (dilation_h, dilation_w), (pad_top, pad_left),
                    num_threads)
    prologue = check_prologue("depthwise_forward", prologue, x.shape[3],
                              np.float32 if real is float else np.float64, kernel.shape[3])
    if out.shape[0] * out.shape[1] * out.shape[2] * out.shape[3] == 0:
        return
    if x.shape[1] == 0 or x.shape[2] == 0:
        out[...] = 0
        return
    plan = forward_plan(_shape(x.shape), _shape(kernel.shape), _shape(out.shape)[1:3],
                        (stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left),
                        sizeof(real))
    cdef Geo g = _geo(plan, prologue)
    cdef const real *xp = &x[0, 0, 0, 0]
    cdef const real *kp = &kernel[0, 0, 0, 0]
    cdef real *op = &out[0, 0, 0, 0]
    cdef Py_ssize_t row, nt = 0
    cdef Work *w = NULL
    cdef int failed[1]
    failed[0] = 0
    with nogil, parallel(num_threads=num_threads):
        w = _work_alloc(&g, sizeof(real), False)   # assigned here: private to each thread
        if w == NULL:
            failed[0] = 1
        for row in prange(g.N * g.OH, schedule="static"):
            if not failed[0]:
                if row + 1 < g.N * g.OH:  # the next output row, very likely this thread's
                    dw_prefetch_write(op + (row + 1) * g.OW * g.CM, g.OW * g.CM * sizeof(real))
                if g.direct:
                    _forward_row_direct(xp, kp, op, &g, row, w)
                else:
                    nt = _window_taps(xp, &g, row // g.OH, row % g.OH, w)
                    corr_span(<real *>w.rows, w.src_off, kp, w.w_off, nt, op + row * g.OW * g.CM,
                              g.OW, g.sw * g.CM, g.CM, g.CM)
        _work_free(w)
    if failed[0]:
        raise MemoryError("depthwise_forward: could not allocate per-thread scratch memory")


# ---- gradient w.r.t. the input ----------------------------------------------------------------

cdef void _grad_input_row(const real *gout, const real *kern, real *gx, Geo *g, Py_ssize_t row,
                          const Py_ssize_t *phases, Py_ssize_t nphases, Work *w) noexcept nogil:
    cdef Py_ssize_t n = row // g.H, ih = row % g.H
    cdef Py_ssize_t i, a, r, k, p, nt, ntaps, nrows = 0, width = 1 + 2 * g.KW
    cdef const Py_ssize_t *ph
    cdef real *dst = gx + row * g.W * g.C if g.M == 1 else <real *>w.expanded
    if row + 1 < g.N * g.H:  # the next row of grad_x, very likely this thread's
        dw_prefetch_write(gx + (row + 1) * g.W * g.C, g.W * g.C * sizeof(real))
    # output rows whose window tap i lands on input row ih: oh*sh = ih + pt - i*dh
    for i in range(g.KH):
        a = ih + g.pt - i * g.dh
        if a < 0 or a % g.sh != 0 or a // g.sh >= g.OH:
            continue
        w.row_off[nrows] = _stage(gout, g, n, a // g.sh,
                                  (a // g.sh) % g.slots if g.slot_by_row else i, w)
        w.row_tap[nrows] = i
        nrows += 1
    for p in range(nphases):
        ph = phases + p * width
        ntaps = ph[0]
        nt = 0
        for r in range(nrows):
            for k in range(ntaps):
                w.src_off[nt] = w.row_off[r] + (ph[2 + 2 * k] - g.first) * g.CM
                w.w_off[nt] = (w.row_tap[r] * g.KW + ph[1 + 2 * k]) * g.CM
                nt += 1
        corr_span(<real *>w.rows, w.src_off, kern, w.w_off, nt, dst + p * g.CM,
                  (g.W - p + g.sw - 1) // g.sw, g.CM, g.sw * g.CM, g.CM)
    if g.M > 1:  # sum the expanded channels c*M + m back onto input channel c
        sum_groups(dst, gx + row * g.W * g.C, g.W * g.C, g.M)


def depthwise_grad_input(const real[:, :, :, ::1] grad_out, const real[:, :, :, ::1] kernel,
                         real[:, :, :, ::1] grad_x, Py_ssize_t stride_h, Py_ssize_t stride_w,
                         Py_ssize_t dilation_h, Py_ssize_t dilation_w, Py_ssize_t pad_top,
                         Py_ssize_t pad_left, int num_threads):
    """grad_x = dL/dx: each tap sends sum_m G * kernel back to the pixel it read."""
    geometry = (stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left)
    check_arguments("depthwise_grad_input", _shape(grad_x.shape), _shape(kernel.shape),
                    _shape(grad_out.shape), geometry[:2], geometry[2:4], geometry[4:], num_threads)
    if grad_x.shape[0] * grad_x.shape[1] * grad_x.shape[2] * grad_x.shape[3] == 0:
        return
    if grad_out.shape[1] == 0 or grad_out.shape[2] == 0 or kernel.shape[3] == 0:
        grad_x[...] = 0
        return
    plan = grad_input_plan(_shape(grad_x.shape), _shape(kernel.shape), _shape(grad_out.shape)[1:3],
                           geometry, sizeof(real))
    cdef Geo g = _geo(plan)
    cdef const Py_ssize_t[:, ::1] phases = plan.phases
    cdef Py_ssize_t nchunks = plan.nchunks
    cdef const real *no_x = NULL        # typed NULLs: no kernel gradient here
    cdef real *no_grad_kernel = NULL
    cdef real *no_partials = NULL
    if _gradient_team(&g, NULL, no_x, &kernel[0, 0, 0, 0], &grad_out[0, 0, 0, 0],
                      &grad_x[0, 0, 0, 0], no_grad_kernel, no_partials, nchunks,
                      &phases[0, 0], phases.shape[0], num_threads) < 0:
        raise MemoryError("depthwise_grad_input: could not allocate per-thread scratch memory")


# ---- gradient w.r.t. the kernel ---------------------------------------------------------------

cdef void _grad_kernel_chunk(const real *x, const real *gout, real *partial, Geo *g,
                             Py_ssize_t chunk, Py_ssize_t size, Work *w) noexcept nogil:
    """Sum the kernel gradient of one chunk of output rows into ``partial`` (size elements)."""
    cdef Py_ssize_t row, nt
    memset(partial, 0, size * sizeof(real))
    for row in range(chunk * g.per_chunk, min((chunk + 1) * g.per_chunk, g.N * g.OH)):
        if g.direct:
            _grad_kernel_row_direct(x, gout, partial, g, row, w)
            continue
        nt = _window_taps(x, g, row // g.OH, row % g.OH, w)
        wgrad_span(<real *>w.rows, w.src_off, partial, w.w_off, nt, gout + row * g.OW * g.CM,
                   g.OW, g.sw * g.CM, g.CM)


cdef inline void _sum_partials(const real *partials, real *out, Py_ssize_t nchunks,
                               Py_ssize_t size, Py_ssize_t e) noexcept nogil:
    """Element e of the kernel gradient: the partials added in chunk order."""
    cdef real acc = 0
    cdef Py_ssize_t chunk
    for chunk in range(nchunks):
        acc = acc + partials[chunk * size + e]
    out[e] = acc


def depthwise_grad_kernel(const real[:, :, :, ::1] x, const real[:, :, :, ::1] grad_out,
                          real[:, :, :, ::1] grad_kernel, Py_ssize_t stride_h, Py_ssize_t stride_w,
                          Py_ssize_t dilation_h, Py_ssize_t dilation_w, Py_ssize_t pad_top,
                          Py_ssize_t pad_left, int num_threads, prologue=None):
    """grad_kernel[i, j, c, m] = sum_{n,oh,ow} xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] G[n, oh, ow, c*M + m]
    (x read through ``prologue``, as in :func:`depthwise_forward`)."""
    geometry = (stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left)
    check_arguments("depthwise_grad_kernel", _shape(x.shape), _shape(grad_kernel.shape),
                    _shape(grad_out.shape), geometry[:2], geometry[2:4], geometry[4:], num_threads)
    prologue = check_prologue("depthwise_grad_kernel", prologue, x.shape[3],
                              np.float32 if real is float else np.float64, grad_kernel.shape[3])
    cdef Py_ssize_t size = (grad_kernel.shape[0] * grad_kernel.shape[1] * grad_kernel.shape[2]
                            * grad_kernel.shape[3])
    if size == 0:
        return
    if (grad_out.shape[0] * grad_out.shape[1] * grad_out.shape[2] == 0 or x.shape[1] == 0
            or x.shape[2] == 0):
        grad_kernel[...] = 0
        return
    plan = grad_kernel_plan(_shape(x.shape), _shape(grad_kernel.shape), _shape(grad_out.shape)[1:3],
                            geometry, sizeof(real))
    cdef Geo g = _geo(plan, prologue)
    # row k: chunk k's partial sum of the kernel gradient
    cdef real[:, ::1] partials = np.empty((plan.nchunks, size),
                                          dtype=np.float32 if real is float else np.float64)
    cdef const real *no_kernel = NULL   # typed NULLs: no input gradient here
    cdef real *no_grad_x = NULL
    if _gradient_team(NULL, &g, &x[0, 0, 0, 0], no_kernel, &grad_out[0, 0, 0, 0], no_grad_x,
                      &grad_kernel[0, 0, 0, 0], &partials[0, 0], partials.shape[0], NULL, 0,
                      num_threads) < 0:
        raise MemoryError("depthwise_grad_kernel: could not allocate per-thread scratch memory")


# ---- the gradients' thread team, and both gradients at once -----------------------------------

cdef int _gradient_team(Geo *gi, Geo *gk, const real *x, const real *kernel, const real *gout,
                        real *grad_x, real *grad_kernel, real *partials, Py_ssize_t nchunks,
                        const Py_ssize_t *phases, Py_ssize_t nphases,
                        int num_threads) noexcept nogil:
    """grad_x (geometry gi) and/or grad_kernel (geometry gk, chunk partials in ``partials``) in
    one OpenMP team; a NULL grad_x or grad_kernel is not computed. Returns -1 when a thread could
    not allocate its scratch memory, else 0.

    The threads take the kernel gradient's fixed chunks of output rows (``nchunks``, from
    depthwise_plan.chunking). For each: first a proportional share of the N*H rows of grad_x
    (each written by one thread, so its value does not depend on which), then the chunk's partial,
    which finds the rows of grad_out that grad_x just staged still in the core's cache. Then the
    partials are added in chunk order. Same chunks, same order: the same bits for any thread
    count.
    """
    cdef Geo *g = gi if gi != NULL else gk
    cdef Py_ssize_t rows_in = g.N * g.H, size = g.KH * g.KW * g.C * g.M
    cdef Py_ssize_t chunk, row, e
    cdef Work *wi = NULL
    cdef Work *wk = NULL
    cdef int failed[1]
    failed[0] = 0
    with parallel(num_threads=num_threads):
        # assigned here: private to each thread
        wi = _work_alloc(gi, sizeof(real), gi.M > 1) if grad_x != NULL else NULL
        wk = _work_alloc(gk, sizeof(real), False) if grad_kernel != NULL else NULL
        if (grad_x != NULL and wi == NULL) or (grad_kernel != NULL and wk == NULL):
            failed[0] = 1
        for chunk in prange(nchunks, schedule="dynamic"):
            if not failed[0]:
                if grad_x != NULL:
                    for row in range(chunk * rows_in // nchunks,
                                     (chunk + 1) * rows_in // nchunks):
                        _grad_input_row(gout, kernel, grad_x, gi, row, phases, nphases, wi)
                if grad_kernel != NULL:
                    _grad_kernel_chunk(x, gout, partials + chunk * size, gk, chunk, size, wk)
        _work_free(wi)
        _work_free(wk)
    if failed[0]:
        return -1
    if grad_kernel != NULL:
        # after the team, not inside it: another barrier there costs more (waiting threads
        # sleep) than these few adds, except for large kernels
        for e in prange(size, schedule="static", num_threads=num_threads if size >= 4096 else 1):
            _sum_partials(partials, grad_kernel, nchunks, size, e)
    return 0


def depthwise_backward(const real[:, :, :, ::1] x, const real[:, :, :, ::1] kernel,
                       const real[:, :, :, ::1] grad_out, real[:, :, :, ::1] grad_x,
                       real[:, :, :, ::1] grad_kernel, Py_ssize_t stride_h, Py_ssize_t stride_w,
                       Py_ssize_t dilation_h, Py_ssize_t dilation_w, Py_ssize_t pad_top,
                       Py_ssize_t pad_left, int num_threads, prologue=None):
    """grad_x and grad_kernel at once: the same bits as depthwise_grad_input and
    depthwise_grad_kernel, in one OpenMP team instead of two (``prologue``: the kernel gradient
    reads x through it, as in :func:`depthwise_forward`).

    Starting a team is not free: threads that have gone to sleep between kernels (after a short
    spin, see minigrad/backend/openmp_env.py) must be woken, which cost ~0.1 ms per call on the
    2-core VM this was measured on; and the kernel gradient then reads grad_out from the cache
    (_gradient_team).
    """
    geometry = (stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left)
    check_arguments("depthwise_backward", _shape(x.shape), _shape(kernel.shape),
                    _shape(grad_out.shape), geometry[:2], geometry[2:4], geometry[4:], num_threads)
    prologue = check_prologue("depthwise_backward", prologue, x.shape[3],
                              np.float32 if real is float else np.float64, kernel.shape[3])
    if _shape(grad_x.shape) != _shape(x.shape) or _shape(grad_kernel.shape) != _shape(kernel.shape):
        raise ValueError(f"depthwise_backward: grad_x {_shape(grad_x.shape)} and grad_kernel "
                         f"{_shape(grad_kernel.shape)} must have the shapes of x "
                         f"{_shape(x.shape)} and kernel {_shape(kernel.shape)}")
    if (x.shape[0] * x.shape[1] * x.shape[2] * x.shape[3] == 0 or grad_out.shape[1] == 0
            or grad_out.shape[2] == 0 or kernel.shape[3] == 0):
        # degenerate sizes: the separate kernels already handle every one of them
        depthwise_grad_input(grad_out, kernel, grad_x, *geometry, num_threads)
        depthwise_grad_kernel(x, grad_out, grad_kernel, *geometry, num_threads, prologue)
        return
    out_hw = _shape(grad_out.shape)[1:3]
    plan_i = grad_input_plan(_shape(x.shape), _shape(kernel.shape), out_hw, geometry, sizeof(real))
    plan_k = grad_kernel_plan(_shape(x.shape), _shape(kernel.shape), out_hw, geometry, sizeof(real))
    cdef Geo gi = _geo(plan_i), gk = _geo(plan_k, prologue)   # grad_out is staged as it is
    cdef const Py_ssize_t[:, ::1] phases = plan_i.phases
    cdef real[:, ::1] partials = np.empty((plan_k.nchunks, gk.KH * gk.KW * gk.CM),
                                          dtype=np.float32 if real is float else np.float64)
    if _gradient_team(&gi, &gk, &x[0, 0, 0, 0], &kernel[0, 0, 0, 0], &grad_out[0, 0, 0, 0],
                      &grad_x[0, 0, 0, 0], &grad_kernel[0, 0, 0, 0], &partials[0, 0],
                      partials.shape[0], &phases[0, 0], phases.shape[0], num_threads) < 0:
        raise MemoryError("depthwise_backward: could not allocate per-thread scratch memory")


# ---- one span, float32, vectorised or the plain loop it must equal (tests and docs/02 compare)

def _corr_span_float32(const float[::1] src, const ptrdiff_t[::1] src_off, const float[::1] w,
                       const ptrdiff_t[::1] w_off, float[::1] dst, Py_ssize_t count,
                       Py_ssize_t src_step, Py_ssize_t dst_step, Py_ssize_t channels, bint plain):
    """dw_corr_span_f32 on 1-D arrays, or dw_corr_span_plain when ``plain``."""
    cdef Py_ssize_t ntaps = len(src_off)
    check_span("_corr_span_float32", ntaps, count, channels, ("src", len(src), src_off, src_step),
               ("w", len(w), w_off, 0), ("dst", len(dst), None, dst_step))
    (dw_corr_span_plain if plain else dw_corr_span_f32)(
        &src[0], &src_off[0], &w[0], &w_off[0], ntaps, &dst[0], count, src_step, dst_step, channels)


def _wgrad_span_float32(const float[::1] src, const ptrdiff_t[::1] src_off, float[::1] gk,
                        const ptrdiff_t[::1] gk_off, const float[::1] g, Py_ssize_t count,
                        Py_ssize_t src_step, Py_ssize_t channels, bint plain):
    """dw_wgrad_span_f32 on 1-D arrays (adds into gk), or dw_wgrad_span_plain when ``plain``."""
    cdef Py_ssize_t ntaps = len(src_off)
    check_span("_wgrad_span_float32", ntaps, count, channels, ("src", len(src), src_off, src_step),
               ("gk", len(gk), gk_off, 0), ("g", len(g), None, channels))
    (dw_wgrad_span_plain if plain else dw_wgrad_span_f32)(
        &src[0], &src_off[0], &gk[0], &gk_off[0], ntaps, &g[0], count, src_step, channels)


# ---- the instruction set ("path") of the spans: include/depthwise_simd.h, "choosing the path" --
_PATHS = ("base", "avx2", "avx512")
dw_set_path(dw_best_path())  # the fastest this CPU has (backend.simd may choose another)


def _simd_paths():
    """The paths this CPU can run, slowest first ("base" always)."""
    return [name for i, name in enumerate(_PATHS) if dw_path_supported(i)]


def _simd_path():
    """The path the spans run on now."""
    return _PATHS[dw_get_path()]


def _set_simd_path(name):
    """Run the spans on path ``name`` from now on (the tests compare every path)."""
    if name not in _PATHS or dw_set_path(_PATHS.index(name)) < 0:
        raise ValueError(f"simd path must be one of this CPU's {_simd_paths()}, got {name!r}")
