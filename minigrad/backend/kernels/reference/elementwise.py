"""NumPy twin of ``elementwise.pyx``: relu6, its derivative, and erf, on flat arrays.

>>> x = np.array([-1.0, 3.0, 6.0, 8.0])
>>> y, g = np.empty(4), np.empty(4)
>>> relu6_forward(x, y, 1)
>>> relu6_backward(x, np.ones(4), g, 1)
>>> y.tolist(), g.tolist()                  # the derivative is 0 at the kinks 0 and 6 too
([0.0, 3.0, 6.0, 6.0], [0.0, 1.0, 0.0, 0.0])
"""
import math

import numpy as np


def relu6_forward(x, out, num_threads):
    """out[i] = min(max(x[i], 0), 6)."""
    np.clip(x, 0, 6, out=out)


def relu6_backward(x, grad, out, num_threads):
    """out[i] = grad[i] where 0 < x[i] < 6, else 0 (the derivative of relu6, 0 at the kinks).

    ``x`` may be relu6's input or its output: 0 < x < 6 exactly where 0 < relu6(x) < 6."""
    out[...] = np.where((x > 0) & (x < 6), grad, 0)


def erf(x, out, num_threads):
    """out[i] = erf(x[i]): Python's ``math.erf`` on every element (clear, but one Python call per
    element, so about 10x slower than the kernel, which calls C's ``erf``)."""
    out[...] = np.vectorize(math.erf, otypes=[np.float64])(x)
