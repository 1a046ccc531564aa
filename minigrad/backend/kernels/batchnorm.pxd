# What batchnorm.pyx shares with the other kernel modules at the C level: the per-channel map of a
# batch norm (and its fused clip) on a block of rows, so that a kernel that reads a batch norm's
# output can compute it itself as it stages its input (depthwise.pyx does), instead of reading
# an array the batch norm wrote. One function, one instruction-set choice (this module's path):
# the staged values have the bits of ``batchnorm.normalize``'s output.
from libc.stddef cimport ptrdiff_t

ctypedef fused bn_real:
    float
    double

cdef void normalize_block(const bn_real *x, ptrdiff_t rows, ptrdiff_t C, const bn_real *center,
                          const bn_real *scale, const bn_real *shift, bn_real lo, bn_real hi,
                          bn_real *out) noexcept nogil
