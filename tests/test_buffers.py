"""The buffer pool (minigrad/backend/buffers.py): arrays are handed out again only once nobody
holds them, the pool stays within its byte budget, and every op takes its arrays from this one pool."""
import numpy as np

from minigrad.backend import buffers as _buffers
from minigrad.backend.buffers import BufferPool


def test_buffer_pool_hands_out_only_arrays_no_one_holds():
    pool = BufferPool(max_bytes=1 << 20, min_bytes=1024)
    a = pool.empty((64, 64), np.float32)
    assert pool.empty((64, 64), np.float32) is not a        # a is held here
    first = id(a)
    view = a[1:]
    del a
    b = pool.empty((64, 64), np.float32)                    # the view keeps the first one busy
    assert id(b) != first
    del view
    assert id(pool.empty((64, 64), np.float32)) == first     # now it is free again
    assert pool.empty((64, 64), np.float64) is not b         # dtype is part of the key
    assert not pool.zeros((64, 64), np.float32).any()
    before = pool.nbytes
    pool.empty((4, 4), np.float32)                           # under min_bytes: not pooled
    assert pool.nbytes == before
    pool.clear()
    assert pool.nbytes == 0


def test_buffer_pool_reshapes_a_free_array_of_the_same_size_in_place():
    pool = BufferPool(max_bytes=1 << 20, min_bytes=1024)
    a = pool.empty((64, 64), np.float32)
    a[:] = 1.0
    first = id(a)
    del a
    b = pool.empty((16, 8, 32), np.float32)                  # 16 KiB too: the same array
    assert id(b) == first and b.shape == (16, 8, 32)
    assert b.base is None and b.flags.c_contiguous and b.flags.owndata   # no view
    assert pool.nbytes == 64 * 64 * 4
    c = pool.empty((64, 64), np.float32)                     # b is held: a second array
    assert c is not b and not np.shares_memory(b, c) and c.shape == (64, 64)
    assert pool.empty((32, 32), np.float32) is not b         # another size: another array
    assert pool.empty((64, 32), np.float64) is not b         # same bytes, another dtype
    size = 64 * 64 * 4
    assert pool.nbytes == 3 * size + 32 * 32 * 4             # b, c, the float64 and the small one
    assert pool.release(b) and pool.nbytes == 2 * size + 32 * 32 * 4


def test_on_a_miss_the_pool_keeps_free_only_as_much_as_is_in_use_or_keep_free():
    size = 64 * 64 * 4
    pool = BufferPool(max_bytes=1 << 30, min_bytes=1024, keep_free=2 * size)
    old = [pool.empty((64, 64), np.float32) for _ in range(6)]     # one batch size
    ids = {id(a) for a in old}
    del old
    for _ in range(3):                                             # a steady loop: no miss
        again = [pool.empty((64, 64), np.float32) for _ in range(6)]
        assert {id(a) for a in again} == ids
        del again
    assert pool.nbytes == 6 * size
    new = pool.empty((32, 32), np.float32)                # another size: a miss; 6 free arrays
    assert pool.nbytes == 2 * size + new.nbytes           # keep_free of them are kept
    held = [pool.empty((64, 64), np.float32) for _ in range(5)]   # 2 reused, 3 new (misses)
    assert pool.nbytes == 5 * size + new.nbytes           # in use: never let go
    del held
    # a new size: on the first miss 5 arrays are free and only `new` is in use, so 3 of them go;
    # on the next misses the big arrays in use let the 2 left stay
    big = [pool.empty((128, 64), np.float32) for _ in range(3)]
    assert pool.nbytes == 2 * size + new.nbytes + 3 * 2 * size
    assert all(b.shape == (128, 64) for b in big)


def test_buffer_pool_lets_go_of_least_recently_used_shapes():
    size = 64 * 64 * 4
    pool = BufferPool(max_bytes=3 * size, min_bytes=1024)
    old = [pool.empty((64, 64), np.float32) for _ in range(3)]
    assert pool.nbytes == 3 * size
    del old                                                  # free, but still pooled
    held = [pool.empty((32, 128), np.float32) for _ in range(3)]   # same bytes, a new shape
    assert pool.nbytes == 3 * size                           # the free (64, 64) arrays went
    extra = pool.empty((32, 128), np.float32)                # full of arrays in use: not pooled
    assert pool.nbytes == 3 * size and all(extra is not h for h in held)


def test_every_op_module_uses_the_one_engine_pool():
    from minigrad.ops import activation, conv, depthwise, linalg, noise, normalization, pooling
    for module in (activation, conv, depthwise, linalg, noise, normalization, pooling):
        assert module.buffers is _buffers.buffers
        assert not hasattr(module, "BufferPool")


def test_module_functions_share_the_pool():
    a = _buffers.empty((512, 512), np.float32)
    assert _buffers.pooled_bytes() >= a.nbytes
    b = _buffers.empty((512, 512), np.float32)
    assert not np.shares_memory(a, b)
    assert not _buffers.zeros((512, 512), np.float32).any()


def test_release_hands_an_array_over_for_good():
    pool = BufferPool()
    a = pool.empty((256, 256), np.float32)
    held = pool.nbytes
    assert pool.release(a) and pool.nbytes == held - a.nbytes
    assert not pool.release(a)                       # no longer the pool's
    b = pool.empty((256, 256), np.float32)           # a new array takes its place in the pool
    assert b is not a and pool.nbytes == held
    assert not pool.release(np.empty((256, 256), np.float32))


def test_a_leaf_keeps_a_pooled_gradient_without_a_copy_and_the_pool_never_hands_it_out():
    """The engine keeps the op's dL/dx as the leaf's .grad, without a copy and without knowing of
    the pool; the pool sees that the leaf holds it and hands out other arrays until it lets go."""
    import minigrad as mg

    shape = (8, 16, 16, 32)   # only dL/dx has this shape: the output is strided down to 8x8
    x = mg.Tensor(np.random.default_rng(0).normal(size=shape).astype(np.float32),
                  requires_grad=True)
    k = mg.Tensor(np.ones((3, 3, 32, 1), np.float32))
    nbytes = int(np.prod(shape)) * 4          # the pool keeps arrays by size and dtype
    pooled = _buffers.buffers._arrays.setdefault((nbytes, np.dtype(np.float32)), [])
    mg.ops.depthwise_conv2d(x, k, strides=2, padding="same").sum().backward()
    first = x.grad
    # the op wrote dL/dx into a pooled array, and that array itself is the gradient: no copy
    assert first.base is None and any(a is first for a in pooled)
    assert _buffers.empty(shape, np.float32) is not first      # x holds it: not handed out
    expected = first.copy()
    x.zero_grad()
    mg.ops.depthwise_conv2d(x, k, strides=2, padding="same").sum().backward()
    assert x.grad is not first
    assert np.array_equal(first, expected)           # a later step never overwrote it
