# The structs that depthwise.pyx's loops share, and how a thread stages rows into its scratch:
# Cython reads this file (the .pyx's own .pxd) before depthwise.pyx. ``Geo`` is a
# depthwise_plan.Plan as C sees it; ``Work`` is one thread's scratch memory; ``_stage`` copies
# one source row into it; _forward_row_direct and _grad_kernel_row_direct read rows where they
# lie instead (read depthwise.pyx's docstring first).
from libc.stddef cimport ptrdiff_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from .batchnorm cimport normalize_block
from .depthwise_simd cimport corr_span, dw_prefetch, posix_memalign, real, repeat, wgrad_span


cdef struct Geo:
    Py_ssize_t N, H, W, C, M, CM, KH, KW, OH, OW
    Py_ssize_t sh, sw, dh, dw, pt, pl
    Py_ssize_t src_h, src_w, src_c  # rows, columns, channels of the array rows are staged from
    Py_ssize_t first, width         # a staged row holds source columns [first, first + width)
    Py_ssize_t slots                # staged rows kept per thread
    bint slot_by_row                # slot = row % slots (reused by the next rows), else tap row i
    const Py_ssize_t *cols          # forward, grad_kernel: the kernel columns j that meet the
    Py_ssize_t ncols                #   image for some output column, ncols of them
    Py_ssize_t per_chunk            # grad_kernel: output rows per chunk (a function of the shape)
    bint direct                     # forward, grad_kernel: read x where it lies, no staged rows
    const Py_ssize_t *col_ranges    #   (depthwise_plan._read_in_place): (t0, t1) of each column,
    const Py_ssize_t *ranges        #   the distinct non-empty ones (nranges of them),
    Py_ssize_t nranges
    Py_ssize_t inner_first, inner_last   # and the pixels that every column sees (Plan.inner)
    # a batch norm's map staged in place of a plain copy (the ``prologue`` of the forward and the
    # kernel gradient): staged value = clip((x - center) * scale + shift, lo, hi) per channel;
    # center, scale, shift point to C values of the arrays' type, NULL for a plain copy
    const void *pre_center
    const void *pre_scale
    const void *pre_shift
    double pre_lo, pre_hi
    # (the fields of depthwise_plan.Plan, which explains them)


cdef struct Work:
    # per-thread scratch; ``rows`` and ``expanded`` hold float or double
    ptrdiff_t *src_off
    ptrdiff_t *w_off
    ptrdiff_t *row_off
    ptrdiff_t *row_tap
    Py_ssize_t *tags      # which source row (n*src_h + row) each slot holds, -1 for none
    void *rows            # slots x width x CM staged rows
    void *expanded        # W x CM: grad_input's row before summing over m (M > 1)


# ---- per-thread work space and staged rows ---------------------------------------------------

cdef inline Work *_work_alloc(Geo *g, size_t itemsize, bint expanded) noexcept nogil:
    """One thread's scratch, or NULL when memory is short (the caller raises MemoryError)."""
    cdef Py_ssize_t s, taps = g.KH * g.KW
    cdef Work *w = <Work *>malloc(sizeof(Work))
    if w == NULL:
        return NULL
    w.src_off = <ptrdiff_t *>malloc((2 * taps + 2 * g.KH) * sizeof(ptrdiff_t))
    w.tags = <Py_ssize_t *>malloc(g.slots * sizeof(Py_ssize_t))
    # staged rows start on a cache line, so no vector load of them straddles two lines (none
    # when x is read where it lies)
    w.rows = NULL
    if posix_memalign(&w.rows, 64, (1 if g.direct else max(g.slots * g.width * g.CM, 1))
                      * itemsize) != 0:
        w.rows = NULL
    w.expanded = malloc(max(g.W * g.CM, 1) * itemsize) if expanded else NULL
    if w.src_off == NULL or w.tags == NULL or w.rows == NULL or (expanded and w.expanded == NULL):
        _work_free(w)
        return NULL
    w.w_off = w.src_off + taps
    w.row_off = w.w_off + taps
    w.row_tap = w.row_off + g.KH
    for s in range(g.slots):
        w.tags[s] = -1
    return w


cdef inline void _work_free(Work *w) noexcept nogil:
    if w != NULL:
        free(w.src_off)
        free(w.tags)
        free(w.rows)
        free(w.expanded)
        free(w)


cdef inline ptrdiff_t _stage(const real *src, Geo *g, Py_ssize_t n, Py_ssize_t row, Py_ssize_t slot,
                      Work *w) noexcept nogil:
    """Offset (in w.rows) of source row (n, row) staged in ``slot``: source columns
    [first, first + width), zeros where they fall outside the row; copied only if the slot does
    not hold that row already."""
    cdef Py_ssize_t key = n * g.src_h + row
    cdef Py_ssize_t lo = max(g.first, 0), hi = min(g.first + g.width, g.src_w)
    cdef ptrdiff_t offset = slot * g.width * g.CM
    cdef real *dst = <real *>w.rows + offset
    cdef const real *src_row = src + key * g.src_w * g.src_c
    if w.tags[slot] == key:
        return offset
    if hi <= lo:   # the window only sees padding
        memset(dst, 0, g.width * g.CM * sizeof(real))
        w.tags[slot] = key
        return offset
    memset(dst, 0, (lo - g.first) * g.CM * sizeof(real))
    dst += (lo - g.first) * g.CM
    if g.pre_scale != NULL:   # a batch norm's output, made here from its input (M = 1)
        normalize_block(src_row + lo * g.CM, hi - lo, g.CM, <const real *>g.pre_center,
                        <const real *>g.pre_scale, <const real *>g.pre_shift, <real>g.pre_lo,
                        <real>g.pre_hi, dst)
    elif g.src_c == g.CM:     # one source value per output channel: a plain copy
        memcpy(dst, src_row + lo * g.CM, (hi - lo) * g.CM * sizeof(real))
    else:                     # x with M > 1: channel c repeated M times
        repeat(src_row + lo * g.src_c, dst, (hi - lo) * g.src_c, g.M)
    memset(dst + (hi - lo) * g.CM, 0, (g.first + g.width - hi) * g.CM * sizeof(real))
    w.tags[slot] = key
    if key + 2 < g.N * g.src_h:  # a row this thread will stage soon: start loading it now
        dw_prefetch(src + (key + 2) * g.src_w * g.src_c + lo * g.src_c,
                    (hi - lo) * g.src_c * sizeof(real))
    return offset


cdef inline Py_ssize_t _window_taps(const real *x, Geo *g, Py_ssize_t n, Py_ssize_t oh,
                             Work *w) noexcept nogil:
    """Taps of output row (n, oh) that meet the image: offsets of their first pixel in the
    staged rows (w.src_off) and of their weights (w.w_off). Returns how many."""
    cdef Py_ssize_t i, j, k, ih, nt = 0
    cdef ptrdiff_t row
    if g.ncols == 0:
        return 0
    for i in range(g.KH):
        ih = oh * g.sh - g.pt + i * g.dh
        if ih < 0 or ih >= g.H:
            continue
        row = _stage(x, g, n, ih, ih % g.slots if g.slot_by_row else i, w)
        for k in range(g.ncols):
            j = g.cols[k]
            w.src_off[nt] = row + (j * g.dw - g.pl - g.first) * g.CM
            w.w_off[nt] = (i * g.KW + j) * g.CM
            nt += 1
    return nt


# ---- rows read where they lie (Geo.direct: depthwise.pyx's docstring) --------------------------

cdef inline Py_ssize_t _taps_at(Geo *g, Py_ssize_t n, Py_ssize_t oh, Py_ssize_t t0, Py_ssize_t t1,
                                bint exact, Work *w) noexcept nogil:
    """The taps of output row (n, oh) whose column sees the image for every pixel t0 .. t1-1
    (``exact``: the columns whose range is exactly [t0, t1)), in the staged order (tap row i,
    then column), as offsets into x (of pixel t0) and into the kernel. Returns how many."""
    cdef Py_ssize_t i, ih, k, lo, hi, nt = 0
    for i in range(g.KH):
        ih = oh * g.sh - g.pt + i * g.dh
        if ih < 0 or ih >= g.H:
            continue
        for k in range(g.ncols):
            lo, hi = g.col_ranges[2 * k], g.col_ranges[2 * k + 1]
            if (lo == t0 and hi == t1) if exact else (lo <= t0 and t1 <= hi):
                w.src_off[nt] = ((n * g.H + ih) * g.W + t0 * g.sw - g.pl + g.cols[k] * g.dw) * g.C
                w.w_off[nt] = (i * g.KW + g.cols[k]) * g.CM
                nt += 1
    return nt


cdef inline void _edge_pixel(const real *x, const real *kern, real *out, Geo *g, Py_ssize_t n,
                             Py_ssize_t oh, Py_ssize_t t, Work *w) noexcept nogil:
    """Pixel t of output row (n, oh) (``out`` points at the row) with the taps that see the
    image there."""
    cdef Py_ssize_t nt = _taps_at(g, n, oh, t, t + 1, False, w)
    corr_span(x, w.src_off, kern, w.w_off, nt, out + t * g.CM, 1, g.sw * g.CM, g.CM, g.CM)


cdef inline void _forward_row_direct(const real *x, const real *kern, real *out, Geo *g,
                                     Py_ssize_t row, Work *w) noexcept nogil:
    """Output row ``row`` read from x where it lies (M = 1, no prologue): the pixels whose
    window lies inside the image in one span with every tap, each pixel at the edges with the
    taps that meet the image there. The taps left out would have added zero products of the
    padding, so the sums are the staged ones, tap by tap in the same order (for a finite
    kernel, as 0 * inf is NaN; and up to the sign of a zero sum: see depthwise.pyx)."""
    cdef Py_ssize_t n = row // g.OH, oh = row % g.OH, t, nt
    cdef Py_ssize_t first = g.inner_first, last = g.inner_last   # every column in the image
    out += row * g.OW * g.CM
    if first < last:
        nt = _taps_at(g, n, oh, first, last, False, w)
        corr_span(x, w.src_off, kern, w.w_off, nt, out + first * g.CM, last - first,
                  g.sw * g.CM, g.CM, g.CM)
    for t in range(first):   # (inner is (OW, OW) when no pixel sees every column)
        _edge_pixel(x, kern, out, g, n, oh, t, w)
    for t in range(last, g.OW):
        _edge_pixel(x, kern, out, g, n, oh, t, w)


cdef inline void _grad_kernel_row_direct(const real *x, const real *gout, real *partial, Geo *g,
                                         Py_ssize_t row, Work *w) noexcept nogil:
    """One output row's share of the kernel gradient, read from x where it lies (M = 1, no
    prologue): for each range [t0, t1) of output pixels that some kernel columns see inside the
    image (Plan.ranges, depthwise_plan.column_range), the taps of those columns, summed over
    those pixels. Each tap has its own sums, so their order does not matter."""
    cdef Py_ssize_t n = row // g.OH, oh = row % g.OH, r, t0, t1, nt
    for r in range(g.nranges):
        t0, t1 = g.ranges[2 * r], g.ranges[2 * r + 1]
        nt = _taps_at(g, n, oh, t0, t1, True, w)
        wgrad_span(x, w.src_off, partial, w.w_off, nt, gout + (row * g.OW + t0) * g.CM,
                   t1 - t0, g.sw * g.CM, g.CM)
