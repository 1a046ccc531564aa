"""Cython kernels: pure numeric loops on typed memoryviews, ``nogil``, parallel with ``prange``.

Kernels know nothing of Tensors or autograd. Each takes NumPy arrays (C-contiguous, NHWC for images),
writes into an output array the caller allocated, and receives the thread count as an argument.
Every kernel has a pure-NumPy twin in :mod:`minigrad._kernels.reference` that tests hold it equal to.
"""
