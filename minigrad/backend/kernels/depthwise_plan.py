"""The plan of a depthwise kernel call: the plain-Python arithmetic done once per call, before the
``nogil`` loops of ``depthwise.pyx`` start.

``depthwise.pyx`` computes one row at a time (read its docstring first). Before its loops run, it
needs to know, from the shapes and the geometry alone:

* which kernel columns can meet the image, and which input columns a *staged* row must hold
  (:func:`x_columns`; for the input gradient, :func:`column_phases`);
* how many staged rows each thread keeps (:func:`slots`);
* how the kernel gradient's output rows are cut into chunks (:func:`chunking`): a function of the
  shape only, which is what makes the gradient the same, bit for bit, for any thread count;
* that no argument can make the C code read or write out of bounds (:func:`check_arguments`,
  :func:`check_scratch`; :func:`check_span` for a micro-kernel called alone).

:func:`forward_plan`, :func:`grad_input_plan` and :func:`grad_kernel_plan` put it together in a
:class:`Plan`, whose fields are those of the ``Geo`` struct the loops read. Python ints throughout:
``-(-a // b)`` is the exact ceiling of a / b, and floor division of negative numbers is exact
(the ``.pyx`` compiles with C division, which would truncate towards zero).

The checks and plans are cached (``functools.lru_cache``): a training step makes the same calls
every iteration, and a cache hit costs ~0.2 us where planning a call costs 4-10 us (the input
gradient's column phases most), as much as a small kernel itself. So a plan is never changed
after it is made (its arrays are read-only).

>>> p = forward_plan((1, 5, 5, 2), (3, 3, 2, 1), (5, 5), (1, 1, 1, 1, 1, 1), itemsize=4)
>>> p.cols.tolist(), p.first, p.width    # all 3 columns; staged rows: input columns -1 .. 5
([0, 1, 2], -1, 7)
>>> p.slots, p.slot_by_row               # 3 staged rows kept, slot = row % 3
(3, True)
"""
import functools

import numpy as np

# Partial kernel gradients (chunks of output rows) at most. A property of the shape only, never
# of the thread count: that is what makes the kernel gradient reproducible.
MAX_CHUNKS = 32
# Index arithmetic is done in 64 bits; refuse geometry so large that it could overflow.
INDEX_LIMIT = 1 << 60
# Per-thread staging buffers above this many bytes: refuse rather than try.
SCRATCH_LIMIT = 1 << 31


@functools.lru_cache(maxsize=256)   # cached: see the module docstring (an error is not cached)
def check_arguments(who, x_shape, kernel_shape, out_shape, strides, dilations, pads, num_threads):
    """Refuse (ValueError) any argument that could make the C code read or write out of bounds.

    >>> check_arguments("f", (1, 5, 5, 2), (3, 3, 2, 2), (1, 5, 5, 3), (1, 1), (1, 1), (1, 1), 1)
    Traceback (most recent call last):
    ...
    ValueError: f: shapes do not fit: x (N, H, W, C) (1, 5, 5, 2), kernel (KH, KW, C, M) (3, 3, 2, 2), output (N, OH, OW, C*M) (1, 5, 5, 3)
    """
    n, h, w, c = x_shape
    kh, kw, kc, m = kernel_shape
    on, oh, ow, oc = out_shape
    if kc != c or on != n or oc != c * m:
        raise ValueError(f"{who}: shapes do not fit: x (N, H, W, C) {tuple(x_shape)}, kernel "
                         f"(KH, KW, C, M) {tuple(kernel_shape)}, output (N, OH, OW, C*M) "
                         f"{tuple(out_shape)}")
    if kh < 1 or kw < 1:
        raise ValueError(f"{who}: kernel size must be at least 1x1, got {kh}x{kw}")
    if min(strides) < 1 or min(dilations) < 1 or min(pads) < 0:
        raise ValueError(f"{who}: strides and dilations must be >= 1 and pads >= 0, got strides "
                         f"{strides}, dilations {dilations}, pads {pads}")
    if num_threads < 1:
        raise ValueError(f"{who}: num_threads must be >= 1, got {num_threads}")
    for size, out, k, s, d, p in ((h, oh, kh, strides[0], dilations[0], pads[0]),
                                  (w, ow, kw, strides[1], dilations[1], pads[1])):
        if size + out * s + k * d + p + s >= INDEX_LIMIT:
            raise ValueError(f"{who}: geometry too large for 64-bit indices (size {size}, output "
                             f"{out}, kernel {k}, stride {s}, dilation {d}, pad {p})")


def check_span(who, ntaps, count, channels, *arrays):
    """Refuse a call of one micro-kernel alone (``depthwise._corr_span_float32``,
    ``_wgrad_span_float32``, for the tests) that would leave one of its arrays. Each of ``arrays``
    is (name, size, offsets, step): the span uses elements o + t*step + c of it for t < count,
    c < channels and each o of ``offsets`` (one per tap; None: the single offset 0).

    >>> check_span("f", 2, 3, 4, ("src", 13, [0, 1], 4))    # elements 0 .. 12: inside
    >>> check_span("f", 2, 3, 4, ("src", 12, [0, 1], 4))
    Traceback (most recent call last):
    ...
    ValueError: f: src has 12 elements, but offsets 0 .. 1 + t*4 + c (t < 3, c < 4) reach element 12
    """
    if min(ntaps, count, channels) < 0:
        raise ValueError(f"{who}: ntaps {ntaps}, count {count} and channels {channels} must be >= 0")
    for name, size, offsets, step in arrays:
        if offsets is not None and len(offsets) != ntaps:
            raise ValueError(f"{who}: {name} has {len(offsets)} offsets for {ntaps} taps")
        starts = [0] if offsets is None else [int(o) for o in offsets]
        last = max(starts, default=0) + (count - 1) * step + channels - 1
        if count and channels and starts and (step < 0 or min(starts) < 0 or last >= size):
            raise ValueError(f"{who}: {name} has {size} elements, but offsets {min(starts)} .. "
                             f"{max(starts)} + t*{step} + c (t < {count}, c < {channels}) reach "
                             f"element {last}")


def x_columns(W, OW, KW, sw, dw, pl):
    """Kernel columns j whose input column ow*sw - pl + j*dw is inside [0, W) for some output
    column ow, and the span [first, first + width) of input columns they read (padding included).

    >>> x_columns(W=4, OW=4, KW=3, sw=1, dw=5, pl=5)   # dilation 5: only the centre column meets
    ([1], 0, 4)
    """
    cols = [j for j in range(KW) if (OW - 1) * sw - pl + j * dw >= 0 and j * dw - pl < W]
    if not cols:
        return cols, 0, 1
    first = cols[0] * dw - pl
    return cols, first, (OW - 1) * sw + cols[len(cols) - 1] * dw - pl + 1 - first


def column_phases(W, OW, KW, sw, dw, pl):
    """The input gradient's columns, by phase. Input columns iw = p + t*sw (t < T = ceil((W - p) /
    sw)) of phase p < min(sw, W) receive tap j exactly when (p + pl - j*dw) is a multiple of sw,
    from output column ow = t + base_j. Taps whose ow never falls in [0, OW) are left out.

    Returns (phases, first, width): phases[p] = [ntaps, j0, base0, j1, base1, ...] (an intp
    array, zero-padded to 1 + 2*KW); staged rows of grad_out hold its columns
    [first, first + width), every ow read.

    >>> phases, first, width = column_phases(W=5, OW=3, KW=3, sw=2, dw=1, pl=1)
    >>> phases.tolist()     # even columns get taps 1 (ow = t) ... odd ones taps 0 and 2
    [[1, 1, 0, 0, 0, 0, 0], [2, 0, 1, 2, 0, 0, 0]]
    >>> first, width
    (0, 3)
    """
    phases = np.zeros((min(sw, W), 1 + 2 * KW), dtype=np.intp)
    low, high = None, None
    for p in range(min(sw, W)):
        t_count = (W - p + sw - 1) // sw
        taps = [(j, (p + pl - j * dw) // sw) for j in range(KW) if (p + pl - j * dw) % sw == 0]
        taps = [(j, base) for j, base in taps if base + t_count > 0 and base < OW]
        phases[p, 0] = len(taps)
        for k, (j, base) in enumerate(taps):
            phases[p, 1 + 2 * k: 3 + 2 * k] = (j, base)
            low = base if low is None else min(low, base)
            high = base + t_count if high is None else max(high, base + t_count)
    if low is None:
        return phases, 0, 1
    return phases, low, high - low


def slots(KH, span):
    """(slots, by_row): rows ``span`` apart at most are read together; keep them all (the next
    rows reuse them) unless a large dilation makes that many, then one slot per tap row.

    >>> slots(3, 3), slots(3, 2001)
    ((3, True), (3, False))
    """
    return (span, True) if span <= 2 * KH + 2 else (KH, False)


def chunking(rows):
    """(rows per chunk, number of chunks) for the kernel gradient's N*OH output rows: at most
    MAX_CHUNKS chunks, a function of the shape only.

    >>> chunking(8 * 14)     # 112 rows: 28 chunks of 4
    (4, 28)
    >>> chunking(63)         # 32 chunks of 2, the last one of 1 row
    (2, 32)
    """
    per_chunk = -(-int(rows) // MAX_CHUNKS)
    return per_chunk, -(-int(rows) // per_chunk)


class Plan:
    """What the loops of one call read (the ``Geo`` struct of depthwise.pyx): sizes N, H, W, C, M,
    CM = C*M, KH, KW, OH, OW; geometry sh, sw, dh, dw, pt (pad_top), pl (pad_left); the array rows
    are staged from (src_h rows, src_w columns, src_c channels: x, or grad_out for grad_input), the
    span [first, first + width) of its columns a staged row holds, and how many staged rows a
    thread keeps (slots; slot_by_row: slot = row % slots, else the tap row i).

    Set by the plans that need them: ``cols`` (forward, grad_kernel: an intp array of the kernel
    columns that meet the image) and ``ncols``;
    ``phases`` (grad_input, :func:`column_phases`); ``per_chunk`` and ``nchunks`` (gradients);
    ``direct``, ``col_ranges``, ``ranges`` and ``inner`` (forward, grad_kernel:
    :func:`_read_in_place`)."""

    def __init__(self, x_shape, kernel_shape, out_hw, geometry):
        self.N, self.H, self.W, self.C = x_shape
        self.KH, self.KW, self.M = kernel_shape[0], kernel_shape[1], kernel_shape[3]
        self.CM = self.C * self.M
        self.OH, self.OW = out_hw
        self.sh, self.sw, self.dh, self.dw, self.pt, self.pl = geometry
        self.src_h, self.src_w, self.src_c = self.H, self.W, self.C
        self.slots, self.slot_by_row = slots(self.KH, (self.KH - 1) * self.dh + 1)
        self.first, self.width = 0, 1
        self.cols, self.ncols, self.phases = None, 0, None
        self.per_chunk, self.nchunks = 0, 0
        self.direct, self.col_ranges, self.ranges, self.inner = False, None, None, (0, 0)


def check_scratch(who, plan, itemsize):
    """Refuse staging buffers too large to allocate per thread."""
    nbytes = int(plan.slots) * int(plan.width) * int(plan.CM) * int(itemsize)
    if nbytes > SCRATCH_LIMIT:
        raise ValueError(f"{who}: staging {plan.slots} rows of {plan.width} columns x {plan.CM} "
                         f"channels needs {nbytes} bytes per thread; refused (limit "
                         f"{SCRATCH_LIMIT})")


def _x_plan(x_shape, kernel_shape, out_hw, geometry, itemsize, who):
    """Rows of x are staged (forward, grad_kernel), holding the columns that the kernel columns
    meeting the image read."""
    p = Plan(x_shape, kernel_shape, out_hw, geometry)
    cols, p.first, p.width = x_columns(p.W, p.OW, p.KW, p.sw, p.dw, p.pl)
    p.cols, p.ncols = np.array(cols, dtype=np.intp), len(cols)
    p.cols.flags.writeable = False
    check_scratch(who, p, itemsize)
    return p


@functools.lru_cache(maxsize=256)
def forward_plan(x_shape, kernel_shape, out_hw, geometry, itemsize):
    """The forward's plan: rows of x are staged (see :func:`x_columns`). ``geometry`` is
    (sh, sw, dh, dw, pad_top, pad_left), ``itemsize`` the bytes of one float."""
    return _read_in_place(_x_plan(x_shape, kernel_shape, out_hw, geometry, itemsize,
                                  "depthwise_forward"))


@functools.lru_cache(maxsize=256)
def grad_kernel_plan(x_shape, kernel_shape, out_hw, geometry, itemsize):
    """grad_kernel: the forward's staging, and the N*OH output rows cut into chunks of
    ``per_chunk`` rows (``nchunks`` of them), each summed into its own partial gradient.

    >>> p = grad_kernel_plan((2, 14, 14, 8), (3, 3, 8, 1), (14, 14), (1, 1, 1, 1, 1, 1), 4)
    >>> p.per_chunk, p.nchunks
    (1, 28)
    """
    p = _x_plan(x_shape, kernel_shape, out_hw, geometry, itemsize, "depthwise_grad_kernel")
    p.per_chunk, p.nchunks = chunking(p.N * p.OH)
    return _read_in_place(p)


def _read_in_place(p):
    """Whether the forward or kernel gradient of plan ``p`` reads x where it lies instead of
    staging padded rows (``p.direct``), and what it then needs: ``p.col_ranges``, row k the
    output pixels [t0, t1) that kernel column cols[k] sees inside the image (:func:`column_range`;
    t1 <= t0: none); ``p.ranges``, the distinct non-empty ones, in column order; and ``p.inner``
    = [first, last), the pixels that see the image through every column that sees it at all
    (first = last = OW: none). A tap then leaves out the pixels whose input is padding: the
    forward computes the pixels in ``p.inner`` in one span and each other pixel with the taps it
    sees, the kernel gradient sums the taps of each range's columns over its pixels. The zero
    products left out change no value (for a finite G and kernel: 0 * inf is NaN in the staged
    sum, as in the twin's; rows outside the image were always left out).

    Used for a depth multiplier of 1, without a prologue, where that is cheaper than staging:
    for strides > 1 both ways, or when every column sees the same pixels. A stride-2 output row
    stages two new input rows (row stride) for its 9 taps x OW pixels, and the copies took about
    half the kernel gradient's time (64x64x28x28, 3x3, stride 2: 0.95 -> 0.43 ms on one thread)
    and a third of the forward's (0.33 -> 0.22 ms, 2 threads; with the arrays in memory, not in
    the cache, the two ways take about as long). A column stride of 1 gives a 'same' 3x3 kernel
    three ranges (j = 0 starts a pixel late, j = 2 ends one early), which split the kernel
    gradient's 9 taps into three blocks of three, each reading G again: 1.2-1.4 times slower
    than staging at stride 1, about 5% slower at strides (2, 1), equal at (1, 2).

    >>> p = _read_in_place(forward_plan.__wrapped__((1, 28, 28, 8), (3, 3, 8, 1), (14, 14),
    ...                                             (2, 2, 1, 1, 0, 0), 4))
    >>> p.col_ranges.tolist(), p.inner, p.direct   # 'same', stride 2: column 2 ends a pixel early
    ([[0, 14], [0, 14], [0, 13]], (0, 13), True)
    >>> p.ranges.tolist()                           # the kernel gradient's two groups of columns
    [[0, 14], [0, 13]]
    """
    p.col_ranges = np.array([column_range(p.W, p.OW, j, p.sw, p.dw, p.pl) for j in p.cols],
                            dtype=np.intp).reshape(p.ncols, 2)
    p.col_ranges.flags.writeable = False
    seen = list(dict.fromkeys((t0, t1) for t0, t1 in p.col_ranges.tolist() if t1 > t0))
    p.ranges = np.array(seen, dtype=np.intp).reshape(len(seen), 2)
    p.ranges.flags.writeable = False
    p.direct = p.M == 1 and len(seen) > 0 and (p.sh > 1 and p.sw > 1 or len(seen) == 1)
    first = max((t0 for t0, _ in seen), default=p.OW)
    last = min((t1 for _, t1 in seen), default=p.OW)
    p.inner = (first, last) if first < last else (p.OW, p.OW)
    return p


def column_range(W, OW, j, sw, dw, pl):
    """(t0, t1): the output pixels t0 <= t < t1 for which kernel column j reads input column
    t*sw - pl + j*dw inside the image [0, W) (t1 <= t0: none). Along any axis of any
    convolution: ``ops.conv.tap_ranges`` asks it too.

    >>> column_range(28, 14, 2, 2, 1, 0)     # 'same', stride 2: column 2 of pixel 13 is padding
    (0, 13)
    >>> [column_range(5, 5, j, 1, 1, 1) for j in range(3)]    # 'same', stride 1
    [(1, 5), (0, 5), (0, 4)]
    """
    t0 = max(0, -((j * dw - pl) // sw))                  # first t with t*sw - pl + j*dw >= 0
    t1 = min(OW, -((j * dw - pl - W) // sw))             # first t reading a column >= W
    return t0, t1


@functools.lru_cache(maxsize=256)
def grad_input_plan(x_shape, kernel_shape, out_hw, geometry, itemsize):
    """grad_input: staged rows are rows of grad_out (already one value per output channel), by
    column phase; an input row receives from output rows at most ((KH-1)*dh)//sh + 1 apart. The
    N*H input rows are handed out in the kernel gradient's ``nchunks`` chunks (so that both
    gradients can share one thread team).

    >>> p = grad_input_plan((1, 5, 5, 2), (3, 3, 2, 1), (3, 3), (2, 2, 1, 1, 1, 1), 4)
    >>> (p.src_h, p.src_w, p.src_c), (p.slots, p.slot_by_row), p.nchunks
    ((3, 3, 2), (2, True), 3)
    """
    p = Plan(x_shape, kernel_shape, out_hw, geometry)
    p.phases, p.first, p.width = column_phases(p.W, p.OW, p.KW, p.sw, p.dw, p.pl)
    p.phases.flags.writeable = False
    p.src_h, p.src_w, p.src_c = p.OH, p.OW, p.CM
    p.slots, p.slot_by_row = slots(p.KH, ((p.KH - 1) * p.dh) // p.sh + 1)
    check_scratch("depthwise_grad_input", p, itemsize)
    p.nchunks = chunking(p.N * p.OH)[1]
    return p
