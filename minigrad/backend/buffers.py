"""The engine's one pool of large arrays, reused so that hot loops do not fault in fresh memory.

Why: a fresh multi-megabyte ``np.empty`` is memory the operating system has not handed over yet;
the first write to each 4 KiB page traps into the kernel (a "page fault"), and on this kind of
machine that first touch runs at a few GB/s, slower than a depthwise convolution that fills the
array. A training step asks for the same shapes every iteration, so every op (convolutions,
pooling, normalisation, activations, bias_add, dropout) takes its large outputs, gradients and
scratch arrays from here, and an array is handed out again once nothing else refers to it.

Arrays are pooled by size, not by shape: a free array of the same number of bytes and dtype is
reshaped in place (``ndarray.resize`` to the same number of elements moves no data) and handed
out for any shape. One array then serves every activation of that size (a 256-image batch of
28x28x16 and of 14x14x64 are both 12.8 MB), so the pool holds about as much as is in use at
once; keyed by shape it held one array per distinct shape, far more for a forward pass through
many layers (157 MB instead of ~50 MB for examples/mnist_mobilenet.py's model at batch 256).

When the sizes change (another batch size: the last, smaller batch of an epoch, validation,
``evaluate`` at batch 256 after training at 64), the arrays of the old sizes would sit in the
pool unused. So on every miss (a new array must be made) the pool counts the bytes that are free
and in use, and keeps free at most ``keep_free`` bytes or as many as are in use, whichever is
more, letting go of the sizes used least recently first. A steady loop (the same step again and
again) never misses after its first pass, so nothing it needs is let go.

How it stays safe: a Tensor, an attribute saved on a graph node, a NumPy view or slice: each holds
a reference to the pooled array (NumPy views point at the array that owns the memory), so while
anyone still uses it, its reference count is above what the pool alone holds and it is not handed
out again. It becomes reusable once the last holder is gone (when the graph that kept it is freed).

>>> a = empty((1024, 1024), np.float32)
>>> a.shape, a.dtype.name
((1024, 1024), 'float32')
>>> b = empty((1024, 1024), np.float32)
>>> np.shares_memory(a, b)   # a is still alive: b gets another buffer
False
"""
import math
import sys
import threading

import numpy as np


def _free_refcount():
    """What ``sys.getrefcount`` reports, in :meth:`BufferPool.empty`'s loop, for an array that only
    the pool holds (measured, not assumed: the interpreter's own references vary by version)."""
    arrays = [np.empty(1)]
    for a in arrays:
        return sys.getrefcount(a)


_FREE = _free_refcount()


class BufferPool:
    """Large arrays handed out again once no one else holds them.

    ``empty(shape, dtype)`` returns a pooled array of that size and dtype whose only reference is
    the pool's own, reshaped to ``shape``, else a new array, which joins the pool. When the pool
    would grow past ``max_bytes`` it first lets go of free arrays of the sizes used least
    recently (a new batch size, say), and past that the new array is simply not pooled. Arrays
    under ``min_bytes`` are not pooled: malloc serves those from memory it already has. On each
    miss, free arrays beyond ``max(keep_free, bytes in use)`` are let go (least recently used
    sizes first).

    >>> pool = BufferPool()
    >>> a = pool.empty((256, 256), np.float32)
    >>> pool.empty((256, 256), np.float32) is a       # a is in use: a second array
    False
    >>> address = id(a); del a                        # no one holds the first one any more
    >>> id(pool.empty((256, 256), np.float32)) == address
    True
    >>> b = pool.empty((128, 512), np.float32)        # the same size: the same array, reshaped
    >>> id(b) == address, b.shape
    (True, (128, 512))
    """

    def __init__(self, max_bytes=1 << 30, min_bytes=1 << 17, keep_free=1 << 26):
        self.max_bytes, self.min_bytes, self.keep_free = max_bytes, min_bytes, keep_free
        self._arrays = {}          # (nbytes, dtype) -> [arrays], least recently used key first
        self._bytes = 0
        self._lock = threading.Lock()

    def empty(self, shape, dtype):
        """An uninitialised C-contiguous array of ``shape`` and ``dtype``."""
        shape, dtype = tuple(shape), np.dtype(dtype)
        nbytes = dtype.itemsize * int(math.prod(shape))   # np.prod would cost ~3 us a call
        if nbytes < self.min_bytes:
            return np.empty(shape, dtype)
        key = (nbytes, dtype)
        with self._lock:
            arrays = self._arrays.pop(key, [])
            self._arrays[key] = arrays                # most recently used: last
            for a in arrays:
                if sys.getrefcount(a) <= _FREE:
                    if a.shape != shape:
                        # free, so no view sees it: a new shape of the same elements, in place
                        a.resize(shape, refcheck=False)
                    return a
            self._trim_free()
            a = np.empty(shape, dtype)
            if self._bytes + nbytes > self.max_bytes:
                self._evict(nbytes)
            if self._bytes + nbytes <= self.max_bytes:
                arrays.append(a)
                self._bytes += nbytes
            return a

    def _trim_free(self):
        """Keep at most ``max(keep_free, bytes in use)`` bytes of free arrays, letting go of the
        least recently used sizes first (called on a miss, so never in a steady loop)."""
        free = used = 0
        for arrays in self._arrays.values():
            for a in arrays:
                if sys.getrefcount(a) <= _FREE:
                    free += a.nbytes
                else:
                    used += a.nbytes
        budget = max(self.keep_free, used)
        if free <= budget:
            return
        for arrays in self._arrays.values():
            kept = []
            for a in arrays:
                if free > budget and sys.getrefcount(a) <= _FREE:
                    free -= a.nbytes
                    self._bytes -= a.nbytes
                else:
                    kept.append(a)
            arrays[:] = kept        # in place: empty() holds the list of its own key

    def _evict(self, nbytes):
        """Drop free arrays, least recently used sizes first, until ``nbytes`` more would fit."""
        for arrays in self._arrays.values():
            kept = []
            for a in arrays:
                if self._bytes + nbytes > self.max_bytes and sys.getrefcount(a) <= _FREE:
                    self._bytes -= a.nbytes
                else:
                    kept.append(a)
            arrays[:] = kept        # in place: empty() holds the list of its own key

    def release(self, array):
        """Stop pooling ``array`` (the caller keeps it for good); True if the pool held it.

        The engine calls this before it stores a pooled array as a leaf's ``.grad``: the array
        then belongs to the leaf, and no copy is needed.
        """
        with self._lock:
            arrays = self._arrays.get((array.nbytes, array.dtype))
            for i, a in enumerate(arrays or ()):
                if a is array:
                    del arrays[i]
                    self._bytes -= array.nbytes
                    return True
        return False

    def zeros(self, shape, dtype):
        """Like :meth:`empty`, filled with zeros."""
        a = self.empty(shape, dtype)
        a.fill(0)
        return a

    def clear(self):
        """Forget every pooled array (those in use stay valid; memory returns as they are freed)."""
        with self._lock:
            self._arrays.clear()
            self._bytes = 0

    @property
    def nbytes(self):
        """Bytes the pool holds (in use or free)."""
        return self._bytes


# The one pool every op uses, and its methods as functions: ``_buffers.empty(shape, dtype)``.
buffers = BufferPool()
empty = buffers.empty
zeros = buffers.zeros
release = buffers.release
clear = buffers.clear


def pooled_bytes():
    """Bytes the engine's pool holds now, in use or not."""
    return buffers.nbytes
