"""What the ops run on: the compiled kernels, their NumPy twins, the buffer pool and the threads.

* :mod:`~minigrad.backend.kernels`: Cython/OpenMP kernels (``*.pyx``), the plain-Python plans
  they follow (``*_plan.py``), and a pure-NumPy twin of every kernel module
  (``kernels/reference/``, the same function names and arguments).
* :mod:`~minigrad.backend.buffers`: the one pool of large arrays that ops take outputs from.
* :mod:`~minigrad.backend.threads`: how many threads the kernels use, and how they were built.
* :mod:`~minigrad.backend.openmp_env`: OpenMP settings that must be set before any kernel loads
  (imported first, here).

Which kernels run is chosen once, when minigrad is imported, by the environment variable
``MINIGRAD_KERNELS``: ``compiled`` (the default) or ``reference``, which runs the whole library on
the NumPy twins, slowly, so that a student can step through a twin inside a real ``fit()``::

    MINIGRAD_KERNELS=reference python examples/mnist_mobilenet.py --limit 500 --epochs 1

Nothing here knows about Tensors or autograd: kernels take NumPy arrays and write into arrays the
caller allocated.
"""
from . import openmp_env  # noqa: F401  (first: OpenMP reads its settings when a kernel loads)
