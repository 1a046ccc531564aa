"""Pure-NumPy twins of the Cython kernels: one module per kernel module, the same function names,
the same arguments, the same results (up to the order of floating-point sums).

Read these first. Each is a few lines of array slicing that says *what* the fast kernel computes;
the ``.pyx`` beside it says *how* to do it quickly. Tests hold each pair equal, and
``MINIGRAD_KERNELS=reference`` runs the whole library on the twins (see :mod:`minigrad.backend`).

Like the kernels, every twin writes into the output arrays it is given and returns None;
``num_threads`` is accepted for the signature's sake (NumPy here runs on one thread).
"""
