"""The fused batch norm -> convolution ops (minigrad/ops/fused.py) and the ``prologue`` of the
depthwise and product kernels: bit for bit the unfused ops on every instruction-set path and thread
count, a float64 gradcheck, the NumPy twins, and the argument checks."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.backend import kernels
from minigrad.ops import _matmul
from minigrad.ops.conv import conv2d
from minigrad.ops.depthwise import depthwise_conv2d
from minigrad.ops.fused import batch_norm_depthwise_conv2d, batch_norm_pointwise_conv2d
from minigrad.ops.normalization import batch_norm_train
from minigrad.testing import gradcheck

_dw = kernels.get("depthwise", "compiled")
_bn = kernels.get("batchnorm", "compiled")
_twin = kernels.get("depthwise", "reference")
_gemm = kernels.get("gemm", "compiled")
_gemm_twin = kernels.get("gemm", "reference")


def _inputs(rng, shape, kh, dtype):
    n, h, w, c = shape
    x = (3 * rng.standard_normal(shape) + 1).astype(dtype)   # many values clip at 0 and 6
    kernel = rng.standard_normal((kh, kh, c, 1)).astype(dtype)
    gamma = rng.uniform(0.5, 2, c).astype(dtype)
    beta = rng.standard_normal(c).astype(dtype)
    return x, kernel, gamma, beta


_FUSED = {"depthwise": batch_norm_depthwise_conv2d, "pointwise": batch_norm_pointwise_conv2d}


def _both(kind, x, kernel, gamma, beta, activation, **conv):
    """Values and every gradient of the fused op (``kind`` "depthwise" or "pointwise") and of the
    batch norm and the convolution one after the other."""
    results = []
    for fused in (True, False):
        xt, kt, gt, bt = (mg.Tensor(a, requires_grad=True) for a in (x, kernel, gamma, beta))
        if fused:
            y, mean, var = _FUSED[kind](xt, gt, bt, kt, 1e-3, activation, **conv)
        else:
            a, mean, var = batch_norm_train(xt, gt, bt, 1e-3, activation=activation)
            y = (depthwise_conv2d if kind == "depthwise" else conv2d)(a, kt, **conv)
        weights = np.linspace(-1, 1, y.numpy().size).reshape(y.shape).astype(x.dtype)
        (y * mg.Tensor(weights)).sum().backward()
        results.append([y.numpy(), mean, var, xt.grad, kt.grad, gt.grad, bt.grad])
    return results


def _assert_bit_for_bit(results):
    for got, want in zip(*results):
        np.testing.assert_array_equal(got, want)


# -- the kernels' prologue ------------------------------------------------------------------------
def _geometry(h, w, k, stride, dilation, padding):
    from minigrad.ops.geometry import conv_geometry
    (oh, ow), (pt, _), (pl, _) = conv_geometry((h, w), (k, k), (stride, stride),
                                               (dilation, dilation), padding)
    return (oh, ow), (stride, stride, dilation, dilation, pt, pl)


@pytest.mark.parametrize("path", ["base", "avx2", "avx512"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bounds", [(0.0, 6.0), (0.0, np.inf), (-np.inf, np.inf)])
def test_the_kernels_stage_exactly_what_normalize_writes(each_path, path, dtype, bounds):
    """Forward, kernel gradient and both gradients with a prologue: the same bits as
    batchnorm.normalize's output fed to the plain kernels, for 1 to 3 threads."""
    each_path(path)
    rng = np.random.default_rng(7)
    for shape, k, stride, dilation, padding in [((2, 9, 11, 5), 3, 1, 1, "same"),
                                                ((3, 14, 14, 32), 3, 2, 1, "same"),
                                                ((1, 7, 7, 19), 5, 1, 1, "valid"),
                                                ((2, 8, 6, 17), 3, 2, 2, "same"),
                                                ((1, 1, 1, 3), 3, 1, 1, "same")]:
        x, kernel, _, _ = _inputs(rng, shape, k, dtype)
        c = shape[3]
        center, shift = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
        scale = rng.uniform(0.5, 2, c).astype(dtype)
        prologue = (center, scale, shift) + bounds
        mapped = np.empty_like(x)
        _bn.normalize(x.reshape(-1, c), center, scale, shift, dtype(bounds[0]), dtype(bounds[1]),
                      mapped.reshape(-1, c), 2)
        out_hw, geometry = _geometry(shape[1], shape[2], k, stride, dilation, padding)
        want = np.empty((shape[0], *out_hw, c), dtype)
        _dw.depthwise_forward(mapped, kernel, want, *geometry, 2)
        g = rng.standard_normal(want.shape).astype(dtype)
        want_gx, want_gk = np.empty_like(x), np.empty_like(kernel)
        _dw.depthwise_backward(mapped, kernel, g, want_gx, want_gk, *geometry, 2)
        for threads in (1, 2, 3):
            out, gx, gk, gk_alone = (np.full_like(a, np.nan) for a in (want, x, kernel, kernel))
            _dw.depthwise_forward(x, kernel, out, *geometry, threads, prologue)
            _dw.depthwise_backward(x, kernel, g, gx, gk, *geometry, threads, prologue)
            _dw.depthwise_grad_kernel(x, g, gk_alone, *geometry, threads, prologue)
            for got, expected in ((out, want), (gx, want_gx), (gk, want_gk), (gk_alone, want_gk)):
                np.testing.assert_array_equal(got, expected)
        twin = np.empty_like(want)
        _twin.depthwise_forward(x, kernel, twin, *geometry, 1, prologue)
        np.testing.assert_allclose(twin, want, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-5 if dtype == np.float32 else 1e-12)


def test_a_bad_prologue_is_refused_before_the_kernels_run():
    x = np.ones((1, 4, 4, 2), np.float32)
    kernel, out = np.ones((3, 3, 2, 1), np.float32), np.empty((1, 2, 2, 2), np.float32)
    ok = (np.zeros(2, np.float32), np.ones(2, np.float32), np.zeros(2, np.float32), 0.0, 6.0)
    geometry = (1, 1, 1, 1, 0, 0, 1)
    with pytest.raises(ValueError, match=r"prologue scale must be a C-contiguous float32 array "
                                         r"of shape \(2,\), got float64 array of shape \(2,\)"):
        _dw.depthwise_forward(x, kernel, out, *geometry, (ok[0], np.ones(2)) + ok[2:])
    with pytest.raises(ValueError, match=r"prologue center must be .* of shape \(2,\), got "
                                         r"float32 array of shape \(3,\)"):
        _dw.depthwise_forward(x, kernel, out, *geometry, (np.zeros(3, np.float32),) + ok[1:])
    with pytest.raises(TypeError, match="prologue must be None or a tuple"):
        _dw.depthwise_forward(x, kernel, out, *geometry, list(ok))
    with pytest.raises(TypeError, match="prologue hi must be a number, got 'six'"):
        _dw.depthwise_forward(x, kernel, out, *geometry, ok[:4] + ("six",))
    multiplier = np.ones((3, 3, 2, 2), np.float32)
    with pytest.raises(ValueError, match="a prologue needs depth multiplier 1"):
        _dw.depthwise_grad_kernel(x, np.ones((1, 2, 2, 4), np.float32), multiplier, *geometry,
                                  ok)


# -- the op ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu6", "relu", None])
@pytest.mark.parametrize("conv", [{"strides": 1, "padding": "same"},
                                  {"strides": 2, "padding": "same"},
                                  {"strides": 1, "padding": "valid", "dilation_rate": 2}])
def test_the_fused_op_is_the_two_ops_bit_for_bit(dtype, activation, conv):
    x, kernel, gamma, beta = _inputs(np.random.default_rng(1), (3, 10, 9, 6), 3, dtype)
    _assert_bit_for_bit(_both("depthwise", x, kernel, gamma, beta, activation, **conv))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9), c=st.integers(1, 20),
       k=st.integers(1, 4), stride=st.integers(1, 3), padding=st.sampled_from(["same", "valid"]),
       seed=st.integers(0, 2**16))
def test_drawn_shapes_agree_with_the_two_ops(n, h, w, c, k, stride, padding, seed):
    if padding == "valid" and (k > h or k > w):
        k = 1
    x, kernel, gamma, beta = _inputs(np.random.default_rng(seed), (n, h, w, c), k, np.float32)
    _assert_bit_for_bit(_both("depthwise", x, kernel, gamma, beta, "relu6", strides=stride,
                              padding=padding))


@pytest.mark.parametrize("activation", ["relu6", None])
def test_gradcheck_float64(activation):
    rng = np.random.default_rng(3)
    x, kernel, gamma, beta = _inputs(rng, (2, 5, 4, 3), 3, np.float64)
    if activation is None:
        x = x / 3

    def fn(xt, kt, gt, bt):
        return batch_norm_depthwise_conv2d(xt, gt, bt, kt, 1e-3, activation, strides=2,
                                           padding="same")[0]
    assert gradcheck(fn, [x, kernel, gamma, beta])


def test_without_gamma_and_beta_and_with_some_gradients_only():
    x, kernel, _, _ = _inputs(np.random.default_rng(5), (2, 6, 6, 4), 3, np.float32)
    for needs in [(True, False), (False, True)]:
        results = []
        for fused in (True, False):
            xt = mg.Tensor(x, requires_grad=needs[0])
            kt = mg.Tensor(kernel, requires_grad=needs[1])
            if fused:
                y = batch_norm_depthwise_conv2d(xt, None, None, kt, activation="relu6",
                                                padding="same")[0]
            else:
                a = batch_norm_train(xt, None, None, activation="relu6")[0]
                y = depthwise_conv2d(a, kt, padding="same")
            y.sum().backward()
            results.append((y.numpy(), xt.grad, kt.grad))
        for got, want in zip(*results):
            if want is None:
                assert got is None
            else:
                np.testing.assert_array_equal(got, want)


def test_arguments_are_checked_first():
    x, kernel, gamma, beta = _inputs(np.random.default_rng(0), (1, 4, 4, 2), 3, np.float32)
    with pytest.raises(ValueError, match="batch_norm_depthwise_conv2d: the depth multiplier "
                                         r"\(depthwise_kernel.shape\[3\]\) must be 1, got 2"):
        batch_norm_depthwise_conv2d(x, gamma, beta, np.ones((3, 3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="must have one dtype, float32 or float64, got float32 "
                                         "and float64"):
        batch_norm_depthwise_conv2d(x, gamma, beta, kernel.astype(np.float64))
    with pytest.raises(ValueError, match=r"gamma must have shape \(2,\)"):
        batch_norm_depthwise_conv2d(x, gamma[:1], beta, kernel)
    with pytest.raises(ValueError, match="activation must be None, 'linear', 'relu' or 'relu6', "
                                         "got 'tanh'"):
        batch_norm_depthwise_conv2d(x, gamma, beta, kernel, activation="tanh")
    with pytest.raises(ValueError, match="x must be 4-D"):
        batch_norm_depthwise_conv2d(x[0], gamma, beta, kernel)
    with pytest.raises(ValueError, match="every channel needs at least one value"):
        batch_norm_depthwise_conv2d(x[:0], gamma, beta, kernel)


# -- the 1x1 convolution: the product kernels' prologue, and the op ------------------------------
@pytest.mark.parametrize("path", ["base", "avx2", "avx512"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_products_stage_exactly_what_normalize_writes(each_path, path, dtype):
    """a @ b and a^T @ g with a prologue: the bits of normalize's output fed to the plain
    products, for 1 to 3 threads, across the 64-row tasks, 64-column chunks and blocks of the sum."""
    each_path(path)
    rng = np.random.default_rng(11)
    # (K = 65, 129: a last chunk of one column, staged with a row stride that is not 1, as a's)
    for p, k, n in [(5, 3, 1), (50, 7, 9), (700, 70, 33), (2100, 130, 16), (3000, 64, 128),
                    (300, 65, 3), (1100, 129, 1), (40, 1, 3), (200, 193, 7)]:
        a = (3 * rng.standard_normal((p, k))).astype(dtype)
        b, g = rng.standard_normal((k, n)).astype(dtype), rng.standard_normal((p, n)).astype(dtype)
        center, shift = rng.standard_normal(k).astype(dtype), rng.standard_normal(k).astype(dtype)
        prologue = (center, rng.uniform(0.5, 2, k).astype(dtype), shift, 0.0, 6.0)
        mapped = np.empty_like(a)
        _bn.normalize(a, prologue[0], prologue[1], shift, dtype(0), dtype(6), mapped, 2)
        want, want_tn = np.empty((p, n), dtype), np.empty((k, n), dtype)
        _gemm.matmul(mapped, b, want, 2)
        _gemm.matmul_tn(mapped, g, want_tn, 2)
        for threads in (1, 2, 3):
            out, out_tn = np.full_like(want, np.nan), np.full_like(want_tn, np.nan)
            _gemm.matmul(a, b, out, threads, prologue)
            _gemm.matmul_tn(a, g, out_tn, threads, prologue)
            np.testing.assert_array_equal(out, want)
            np.testing.assert_array_equal(out_tn, want_tn)
        twin, twin_tn = np.empty_like(want), np.empty_like(want_tn)
        _gemm_twin.matmul(a, b, twin, 1, prologue)
        _gemm_twin.matmul_tn(a, g, twin_tn, 1, prologue)
        tol = 1e-4 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(twin, want, rtol=tol, atol=tol)
        np.testing.assert_allclose(twin_tn, want_tn, rtol=tol, atol=tol * p)


def test_a_bad_product_prologue_is_refused_before_the_kernels_run():
    a, b, out = np.ones((4, 3), np.float32), np.ones((3, 2), np.float32), np.empty((4, 2), np.float32)
    g, out_tn = np.ones((4, 2), np.float32), np.empty((3, 2), np.float32)
    ok = (np.zeros(3, np.float32), np.ones(3, np.float32), np.zeros(3, np.float32), 0.0, 6.0)
    with pytest.raises(ValueError, match=r"matmul: prologue shift must be a C-contiguous float32 "
                                         r"array of shape \(3,\), got float32 array of shape \(2,\)"):
        _gemm.matmul(a, b, out, 1, ok[:2] + (np.zeros(2, np.float32),) + ok[3:])
    strided = np.zeros(6, np.float32)[::2]
    with pytest.raises(ValueError, match=r"prologue center .* got float32 array of shape \(3,\) "
                                         r"\(not C-contiguous\)"):
        _gemm.matmul(a, b, out, 1, (strided,) + ok[1:])
    with pytest.raises(TypeError, match="matmul_tn: prologue must be None or a tuple"):
        _gemm.matmul_tn(a, g, out_tn, 1, ok[:4])
    with pytest.raises(TypeError, match="matmul_tn: prologue lo must be a number, got None"):
        _gemm.matmul_tn(a, g, out_tn, 1, ok[:3] + (None, 6.0))
    for threads in (0, -1):
        with pytest.raises(ValueError, match=f"matmul: num_threads must be >= 1, got {threads}"):
            _gemm.matmul(a, b, out, threads)
        with pytest.raises(ValueError, match="matmul_tn: num_threads must be >= 1"):
            _gemm.matmul_tn(a, g, out_tn, threads, ok)
    with pytest.raises(ValueError, match="a prologue needs the product kernels"):
        _matmul.matmul(a.astype(np.float16), b.astype(np.float16), prologue=ok)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu6", "relu", None])
@pytest.mark.parametrize("shape,filters", [((3, 10, 9, 6), 5), ((2, 20, 30, 70), 33),
                                           ((2, 5, 5, 65), 3), ((1, 6, 7, 129), 1),
                                           ((1, 2, 2, 800), 700)])   # 560,000 weights: BLAS
def test_the_fused_1x1_op_is_the_two_ops_bit_for_bit(dtype, activation, shape, filters):
    rng = np.random.default_rng(2)
    x, _, gamma, beta = _inputs(rng, shape, 1, dtype)
    kernel = rng.standard_normal((1, 1, shape[3], filters)).astype(dtype)
    if shape[3] * filters > _matmul.MAX_KERNEL_ELEMENTS:
        assert not _matmul.kernels_take(x.reshape(-1, shape[3]), kernel.reshape(shape[3], -1))
    _assert_bit_for_bit(_both("pointwise", x, kernel, gamma, beta, activation))


@pytest.mark.parametrize("activation", ["relu6", None])
def test_gradcheck_1x1_float64(activation):
    rng = np.random.default_rng(4)
    x, _, gamma, beta = _inputs(rng, (2, 3, 4, 3), 1, np.float64)
    kernel = rng.standard_normal((1, 1, 3, 2))
    if activation is None:
        x = x / 3

    def fn(xt, kt, gt, bt):
        return batch_norm_pointwise_conv2d(xt, gt, bt, kt, 1e-3, activation)[0]
    assert gradcheck(fn, [x, kernel, gamma, beta])


def test_1x1_arguments_are_checked_first():
    x, _, gamma, beta = _inputs(np.random.default_rng(0), (1, 4, 4, 2), 1, np.float32)
    with pytest.raises(ValueError, match=r"batch_norm_pointwise_conv2d: kernel must have shape "
                                         r"\(1, 1, 2, filters\) with filters >= 1 for x of shape "
                                         r"\(1, 4, 4, 2\), got \(3, 3, 2, 4\)"):
        batch_norm_pointwise_conv2d(x, gamma, beta, np.ones((3, 3, 2, 4), np.float32))
    with pytest.raises(ValueError, match=r"with filters >= 1 for x of shape \(1, 4, 4, 2\), got "
                                         r"\(1, 1, 2, 0\)"):
        batch_norm_pointwise_conv2d(x, gamma, beta, np.ones((1, 1, 2, 0), np.float32))
    with pytest.raises(ValueError, match="x must be 4-D"):
        batch_norm_pointwise_conv2d(x[0], gamma, beta, np.ones((1, 1, 2, 4), np.float32))
    with pytest.raises(ValueError, match="x and kernel must have one dtype"):
        batch_norm_pointwise_conv2d(x, gamma, beta, np.ones((1, 1, 2, 4)))


@pytest.mark.parametrize("path", ["base", "avx2", "avx512"])
def test_the_fused_1x1_op_is_bit_for_bit_on_every_path(each_path, path):
    each_path(path)
    rng = np.random.default_rng(9)
    for shape, filters in [((2, 5, 5, 65), 3), ((1, 33, 33, 129), 1), ((2, 3, 3, 1), 2),
                           ((2, 16, 16, 32), 64)]:
        x, _, gamma, beta = _inputs(rng, shape, 1, np.float32)
        kernel = rng.standard_normal((1, 1, shape[3], filters)).astype(np.float32)
        _assert_bit_for_bit(_both("pointwise", x, kernel, gamma, beta, "relu6"))
