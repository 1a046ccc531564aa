"""OpenMP settings that must be in the environment before the first kernel loads.

libgomp reads them once, when the first Cython kernel (and with it libgomp) is loaded, so
``minigrad/__init__.py`` imports this module before anything else. A value the user has set wins.

Why PASSIVE: OpenMP threads that finish a kernel spin for ~3 ms (libgomp's default) waiting for
the next one. The matrix products run in NumPy's OpenBLAS, whose own threads then find both cores
busy. Measured on the 2-core VM, one training step of examples/mnist_mobilenet.py (batch 64,
medians of 25 steps, 4 interleaved rounds): 104-212 ms on 2 threads with the default spin,
49-73 ms with PASSIVE (threads sleep at once), 54-79 ms on 1 thread; a shorter spin
(GOMP_SPINCOUNT 20000 or 100000) still took 143-287 ms.

OPENBLAS_THREAD_TIMEOUT=4 makes NumPy's OpenBLAS workers sleep almost at once after a matrix
product, instead of spinning on the core our kernels need next (2 threads, 3 interleaved rounds:
44-48 ms per step with it, 51-58 ms without). OpenBLAS reads it when NumPy loads, so it only takes
effect when minigrad is imported before NumPy (as the examples do).
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
