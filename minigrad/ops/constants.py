"""Numbers met by the arithmetic ops, as constant Tensors reused from one call to the next.

In ``2 * x`` the 2 becomes a constant Tensor (``Function.constant``): a 0-d array and a Tensor
around it, which cost about as much as the multiplication itself. A training loop meets the same
few numbers at every step (a 0.5, a learning rate), so the arithmetic ops keep one Tensor per
(value, dtype) instead: 5.18 vs 5.68 us/op in ``benchmarks/bench_engine.py`` (a, b numbers).
They are read-only, so sharing them between graphs is safe. The cache is bounded: cleared when
it grows large.

>>> import numpy as np
>>> a = reused_constant(0.25, np.dtype(np.float32))
>>> a is reused_constant(0.25, np.dtype(np.float32)), a.data.flags.writeable
(True, False)
"""
import numpy as np

from ..engine.tensor import Tensor

_reused = {}
_MAX_REUSED = 1024


def reused_constant(value, dtype):
    """``Function.constant(value, dtype)``, the same read-only Tensor for the same arguments."""
    key = (value, dtype)
    t = _reused.get(key)
    if t is None:
        data = np.array(value, dtype=dtype)
        data.flags.writeable = False
        t = Tensor._from_op(data, None)
        if value:  # 0.0 == -0.0 as dict keys, but they differ (1 / -0.0): zeros are not kept
            if len(_reused) >= _MAX_REUSED:
                _reused.clear()
            _reused[key] = t
    return t
