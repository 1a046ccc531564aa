"""A small pool of large arrays, reused so that hot loops do not fault in fresh memory.

Why: a fresh multi-megabyte ``np.empty`` is memory the operating system has not handed over yet;
the first write to each 4 KiB page traps into the kernel (a "page fault"), and on this kind of
machine that first touch runs at a few GB/s, slower than a depthwise convolution that fills the
array. A training step allocates the same shapes every iteration, so keeping those arrays and
reusing them removes the faults.

How it stays safe: the pool keeps each array it made and hands out *views* of it. NumPy makes every
view, slice or reshape of a view point at the same base array, so while anyone still holds
something derived from a buffer, the base's reference count is above what the pool alone holds,
and the buffer is not handed out again. It becomes reusable once the last view is gone (when the
graph that kept it is freed).

>>> a = empty((1024, 1024), np.float32)
>>> a.shape, a.dtype.name
((1024, 1024), 'float32')
>>> b = empty((1024, 1024), np.float32)
>>> np.shares_memory(a, b)   # a is still alive: b gets another buffer
False
"""
import sys
import threading

import numpy as np

# Smaller arrays come from malloc's free lists without page faults anyway.
MIN_BYTES = 1 << 20
# At most this many buffers per (shape, dtype) and this many bytes in all; beyond, plain np.empty.
MAX_PER_KEY = 8
MAX_TOTAL_BYTES = 1 << 30

_lock = threading.Lock()
_pool = {}           # (shape, dtype) -> list of base arrays
_total_bytes = 0


def _refs_when_free():
    """References to a pooled array that nobody else uses, seen from inside the loop of empty()
    (the pool's list, the loop variable, getrefcount's argument): measured, not assumed."""
    arrays = [np.empty(1)]
    for base in arrays:
        return sys.getrefcount(base)


_FREE = _refs_when_free()


def empty(shape, dtype):
    """An uninitialised C-contiguous array like ``np.empty(shape, dtype)``, taken from the pool
    when one of that shape and dtype is no longer referenced anywhere."""
    global _total_bytes
    dtype = np.dtype(dtype)
    shape = tuple(int(n) for n in shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    key = (shape, dtype.str)
    with _lock:
        arrays = _pool.setdefault(key, [])
        for base in arrays:
            if sys.getrefcount(base) <= _FREE:
                return base.view()
        base = np.empty(shape, dtype)
        if len(arrays) < MAX_PER_KEY and _total_bytes + nbytes <= MAX_TOTAL_BYTES:
            arrays.append(base)
            _total_bytes += nbytes
            return base.view()
        return base


def clear():
    """Forget every pooled array (the memory goes back once no view of it is left)."""
    global _total_bytes
    with _lock:
        _pool.clear()
        _total_bytes = 0


def pooled_bytes():
    """Bytes the pool holds now, in use or not."""
    return _total_bytes
