"""OpenMP settings that must be in the environment before the first kernel loads.

libgomp reads them once, when the first Cython kernel (and with it libgomp) is loaded, so
``minigrad/__init__.py`` imports this module before anything else. A value the user has set wins:
``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` of their own, and minigrad sets neither.

Why a short spin (``GOMP_SPINCOUNT=30000``): a training step runs dozens of kernels with a little
Python between them. Threads that sleep the moment a kernel ends (``OMP_WAIT_POLICY=PASSIVE``)
must be woken by the kernel system for the next one, every time; threads that spin a little
(30000 polls, well under a millisecond) are still awake when it starts. Measured on the 2-core
VM, 3 interleaved rounds, ``train_on_batch`` medians of 120 steps: the MNIST MobileNet of
examples/mnist_mobilenet.py 24.0-26.9 ms passive, 18.7-22.6 ms with the spin; a Dense 784-512-512
MLP, batch 128: 6.9-8.7 ms passive, 5.6-8.0 ms with the spin.

This spin only pays because no step wakes a second thread pool any more: the convolutions' and
Dense layers' matrix products run on minigrad's own kernels (``ops/_matmul.py``), not in NumPy's
OpenBLAS. When they did, OpenBLAS's threads and a spinning OpenMP team fought over the cores, and
PASSIVE was the lesser evil (a step was 2-4x slower with libgomp's default spin).

OPENBLAS_THREAD_TIMEOUT=4 makes NumPy's OpenBLAS workers (for the products still left to NumPy:
batched ``matmul``, float16) sleep almost at once after a product instead of spinning on a core
the kernels need next. OpenBLAS reads it when NumPy loads, so it only takes effect when minigrad
is imported before NumPy (as the examples do).
"""
import os

if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "30000")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
