"""Pooling against loop-by-loop references, the kernels' NumPy twins, finite differences and torch."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.backend.kernels import pooling as kernels
from minigrad.backend.kernels.reference import pooling as twins
from minigrad.ops.geometry import conv_geometry
from minigrad.ops.pooling import avg_pool2d, global_avg_pool2d, max_pool2d
from minigrad.testing import gradcheck

# every test here runs twice: on the compiled kernels and on their NumPy twins
pytestmark = pytest.mark.usefixtures("op_kernels")


def reference_pool(x, g, pool, strides, padding, kind):
    """Output and input gradient, one window at a time: max routes g to the first maximum of the
    window (row by row), avg spreads g / (real pixels of the window)."""
    n, h, w, c = x.shape
    (oh, ow), (pt, _), (pl, _) = conv_geometry((h, w), pool, strides, (1, 1), padding)
    y, gx = np.zeros((n, oh, ow, c)), np.zeros_like(x)
    for b in range(n):
        for o in range(oh):
            for q in range(ow):
                for ch in range(c):
                    pixels = [(r, s) for r in range(o * strides[0] - pt, o * strides[0] - pt + pool[0])
                              for s in range(q * strides[1] - pl, q * strides[1] - pl + pool[1])
                              if 0 <= r < h and 0 <= s < w]
                    values = [x[b, r, s, ch] for r, s in pixels]
                    if kind == "max":
                        best = int(np.argmax(values))      # np.argmax: the first maximum
                        y[b, o, q, ch] = values[best]
                        gx[(b, *pixels[best], ch)] += g[b, o, q, ch]
                    else:
                        y[b, o, q, ch] = np.mean(values)
                        for r, s in pixels:
                            gx[b, r, s, ch] += g[b, o, q, ch] / len(pixels)
    return y, gx


@st.composite
def pool_cases(draw):
    return dict(n=draw(st.integers(1, 2)), h=draw(st.integers(1, 7)), w=draw(st.integers(1, 7)),
                c=draw(st.integers(1, 3)), pool=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
                strides=draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3)))),
                padding=draw(st.sampled_from(["valid", "same"])), seed=draw(st.integers(0, 99)),
                ties=draw(st.booleans()))


@settings(max_examples=60, deadline=None)
@given(pool_cases(), st.sampled_from(["max", "avg"]))
def test_pooling_matches_loop_reference(case, kind):
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["h"], case["w"], case["c"])
    # small integers make ties common: the gradient must still go to the first maximum only
    x = rng.integers(-2, 3, shape).astype(np.float64) if case["ties"] else rng.standard_normal(shape)
    fn = max_pool2d if kind == "max" else avg_pool2d
    xt = mg.Tensor(x, requires_grad=True)
    y = fn(xt, case["pool"], case["strides"], case["padding"])
    g = rng.standard_normal(y.shape)
    y.backward(g)
    strides = case["pool"] if case["strides"] is None else case["strides"]
    ref_y, ref_gx = reference_pool(x, g, case["pool"], strides, case["padding"], kind)
    assert y.shape == ref_y.shape
    np.testing.assert_allclose(y.numpy(), ref_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xt.grad, ref_gx, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(pool_cases(), st.sampled_from([np.float32, np.float64]), st.sampled_from([1, 2]))
def test_kernels_equal_their_numpy_twins(case, dtype, threads):
    rng = np.random.default_rng(case["seed"])
    x = rng.integers(-2, 3, (case["n"], case["h"], case["w"], case["c"])).astype(dtype)
    kh, kw = case["pool"]
    sh, sw = case["strides"] or case["pool"]
    (oh, ow), (pt, _), (pl, _) = conv_geometry(x.shape[1:3], case["pool"], (sh, sw), (1, 1),
                                               case["padding"])
    geometry = (kh, kw, sh, sw, pt, pl)
    y1, y2 = np.empty((2, x.shape[0], oh, ow, x.shape[3]), dtype=dtype)
    a1, a2 = np.empty((2, *y1.shape), dtype=np.int32)
    kernels.max_pool_forward(x, y1, a1, *geometry, threads)
    twins.max_pool_forward(x, y2, a2, *geometry, threads)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(a1, a2)
    g = rng.standard_normal(y1.shape).astype(dtype)
    gx1, gx2 = np.zeros((2, x.shape[0], x.shape[1] * x.shape[2], x.shape[3]), dtype=dtype)
    kernels.max_pool_backward(g, a1, gx1, threads)
    twins.max_pool_backward(g, a2, gx2, threads)
    np.testing.assert_allclose(gx1, gx2, rtol=1e-6)
    kernels.avg_pool_forward(x, y1, *geometry, threads)
    twins.avg_pool_forward(x, y2, *geometry, threads)
    np.testing.assert_allclose(y1, y2, rtol=1e-6, atol=1e-6)
    gx1, gx2 = np.zeros((2, *x.shape), dtype=dtype)
    kernels.avg_pool_backward(g, gx1, *geometry, threads)
    twins.avg_pool_backward(g, gx2, *geometry, threads)
    np.testing.assert_allclose(gx1, gx2, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize("pool,strides,padding,data_format", [
    (2, None, "valid", "channels_last"), (3, 2, "same", "channels_last"),
    ((2, 3), (1, 2), "same", "channels_first"), (3, 1, "valid", "channels_first")])
def test_pooling_gradcheck(fn, pool, strides, padding, data_format):
    x = np.random.default_rng(0).permutation(50).reshape(1, 5, 5, 2) * 0.1   # distinct: no ties
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2)
    assert gradcheck(lambda a: fn(a, pool, strides, padding, data_format), [x])


def test_max_pool_ties_go_to_the_first_maximum():
    x = mg.Tensor(np.ones((1, 2, 2, 1)), requires_grad=True)
    max_pool2d(x, 2).sum().backward()
    assert x.grad[0, :, :, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_same_padding_is_ignored_by_max_and_not_counted_by_avg():
    x = -np.ones((1, 3, 3, 1))
    assert (max_pool2d(x, 2, padding="same").numpy() == -1).all()      # padding never wins
    assert (avg_pool2d(x, 2, padding="same").numpy() == -1).all()      # not diluted by zeros


def test_channels_first_is_the_transposed_channels_last():
    x = np.random.default_rng(4).standard_normal((2, 6, 5, 3))
    for fn in (max_pool2d, avg_pool2d):
        last = fn(x, 3, 2, "same").numpy()
        first = fn(x.transpose(0, 3, 1, 2), 3, 2, "same", "channels_first").numpy()
        np.testing.assert_array_equal(first, last.transpose(0, 3, 1, 2))


def test_valid_window_larger_than_input_is_empty():
    x = mg.Tensor(np.ones((1, 2, 2, 3)), requires_grad=True)
    y = max_pool2d(x, 3)
    assert y.shape == (1, 0, 0, 3)
    y.sum().backward()
    assert x.grad.shape == (1, 2, 2, 3) and not x.grad.any()


@pytest.mark.parametrize("fn,who", [(max_pool2d, "max_pool2d"), (avg_pool2d, "avg_pool2d")])
def test_pooling_bad_arguments(fn, who):
    x = np.ones((1, 4, 4, 1))
    with pytest.raises(ValueError, match=rf"{who}: pool_size must be a positive integer .*got 0"):
        fn(x, 0)
    with pytest.raises(TypeError, match=rf"{who}: pool_size must be .*got 'big'"):
        fn(x, "big")
    with pytest.raises(ValueError, match=rf"{who}: strides .*got \(1, 0\)"):
        fn(x, 2, (1, 0))
    with pytest.raises(ValueError, match=rf"{who}: padding must be 'valid' or 'same', got 'causal'"):
        fn(x, 2, padding="causal")
    with pytest.raises(ValueError, match=rf"{who}: data_format must be .*got 'NCHW'"):
        fn(x, 2, data_format="NCHW")
    with pytest.raises(ValueError, match=rf"{who}: x must be a 4-D tensor \(N, C, H, W\) for "
                                         rf"data_format='channels_first', got shape \(4, 4\)"):
        fn(np.ones((4, 4)), 2, data_format="channels_first")


def test_global_avg_pool():
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(global_avg_pool2d(x).numpy(), x.mean(axis=(1, 2)))
    assert global_avg_pool2d(x, keepdims=True).shape == (2, 1, 1, 5)
    np.testing.assert_allclose(global_avg_pool2d(x, "channels_first", keepdims=True).numpy(),
                               x.mean(axis=(2, 3), keepdims=True))
    for data_format in ("channels_last", "channels_first"):
        for keepdims in (False, True):
            assert gradcheck(lambda a: global_avg_pool2d(a, data_format, keepdims), [x[:1]])
    xf = mg.Tensor(x.astype(np.float32), requires_grad=True)
    global_avg_pool2d(xf).sum().backward()
    assert xf.grad.dtype == np.float32 and np.allclose(xf.grad, 1 / 12)


def test_global_avg_pool_bad_arguments():
    with pytest.raises(ValueError, match=r"global_avg_pool2d: x must be a 4-D tensor"):
        global_avg_pool2d(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"global_avg_pool2d: x has no pixels to average "
                                         r"\(shape \(1, 0, 2, 3\)"):
        global_avg_pool2d(np.ones((1, 0, 2, 3)))
    with pytest.raises(ValueError, match=r"global_avg_pool2d: data_format must be"):
        global_avg_pool2d(np.ones((1, 2, 2, 3)), data_format="last")


@pytest.mark.parametrize("pool,stride,padding", [(2, 2, "valid"), (3, 2, "same"), (3, 1, "same"),
                                                 (2, 1, "valid"), (4, 3, "same")])
def test_pooling_matches_torch(pool, stride, padding):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(pool * 10 + stride)
    x = rng.standard_normal((2, 9, 8, 3))
    _, (pt, pb), (pl, pr) = conv_geometry((9, 8), (pool, pool), (stride,) * 2, (1, 1), padding)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    # TF 'same': the padding never wins a max, and an average counts only real pixels
    ym = F.max_pool2d(F.pad(xt, (pl, pr, pt, pb), value=-np.inf), pool, stride)
    sums = F.avg_pool2d(F.pad(xt, (pl, pr, pt, pb)), pool, stride, divisor_override=1)
    counts = F.avg_pool2d(F.pad(torch.ones_like(xt[:, :1]), (pl, pr, pt, pb)), pool, stride,
                          divisor_override=1)
    for fn, yt in ((max_pool2d, ym), (avg_pool2d, sums / counts)):
        xm = mg.Tensor(x, requires_grad=True)
        y = fn(xm, pool, stride, padding)
        g = rng.standard_normal(y.shape)
        y.backward(g)
        xt.grad = None
        yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)), retain_graph=True)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-12)
        np.testing.assert_allclose(xm.grad, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-12,
                                   atol=1e-12)
