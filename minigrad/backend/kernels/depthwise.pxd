# The structs that depthwise.pyx's loops share: Cython reads this file (the .pyx's own .pxd)
# before depthwise.pyx. ``Geo`` is a depthwise_plan.Plan as C sees it; ``Work`` is one thread's
# scratch memory.
from libc.stddef cimport ptrdiff_t


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
