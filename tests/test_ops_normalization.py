"""Batch normalisation: the kernels against their NumPy twins, the ops against the textbook
formulas, finite differences and (when installed) PyTorch."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.backend.kernels import batchnorm as kernels
from minigrad.backend.kernels.reference import batchnorm as twins
from minigrad.ops.activation import relu, relu6
from minigrad.ops.normalization import batch_norm, batch_norm_train, moving_average_update
from minigrad.testing import gradcheck

# every test here runs twice: on the compiled kernels and on their NumPy twins
pytestmark = pytest.mark.usefixtures("op_kernels")


def textbook_train(x, gamma, beta, eps, axis):
    axes = tuple(a for a in range(x.ndim) if a != axis % x.ndim)
    shape = [1] * x.ndim
    shape[axis] = -1
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    xhat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    g = 1.0 if gamma is None else gamma.reshape(shape)
    b = 0.0 if beta is None else beta.reshape(shape)
    return g * xhat + b, mean, var


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 700), st.integers(1, 9), st.sampled_from([np.float32, np.float64]),
       st.sampled_from([(-np.inf, np.inf), (0.0, np.inf), (0.0, 6.0)]), st.integers(0, 99))
def test_kernels_equal_their_numpy_twins(p, c, dtype, bounds, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((p, c)) * 3 + 5).astype(dtype)
    g = rng.standard_normal((p, c)).astype(dtype)
    a, b, d, center, scale, shift = (rng.standard_normal(c).astype(dtype) for _ in range(6))
    lo, hi = bounds
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)
    results = []
    for fns in [(kernels.moments, kernels.backward_sums, kernels.normalize,
                 kernels.normalize_backward),
                (twins.moments, twins.backward_sums, twins.normalize, twins.normalize_backward)]:
        moments, sums, normalize, normalize_backward = fns
        mean, var, sg, sgx = (np.empty(c) for _ in range(4))
        y, y2 = np.empty_like(x), np.empty_like(x)
        moments(x, mean, var, 2)
        sums(x, g, mean, center, scale, shift, lo, hi, sg, sgx, 2)
        normalize(x, center, scale, shift, lo, hi, y, 2)
        normalize_backward(g, x, center, scale, shift, lo, hi, a, b, d, y2, 2)
        results.append((mean, var, sg, sgx, y, y2))
    for ours, twin in zip(*results):
        np.testing.assert_allclose(ours, twin, **tol)


def test_kernel_sums_do_not_depend_on_the_thread_count():
    x = np.random.default_rng(0).standard_normal((5000, 7)).astype(np.float32)
    out = []
    for threads in (1, 2, 3):
        mean, var, sg, sgx = (np.empty(7) for _ in range(4))
        kernels.moments(x, mean, var, threads)
        ones = np.ones(7, np.float32)
        kernels.backward_sums(x, x, mean, ones, ones, ones, 0.0, 6.0, sg, sgx, threads)
        out.append(np.concatenate([mean, var, sg, sgx]))
    assert (out[0] == out[1]).all() and (out[0] == out[2]).all()


def test_backward_sums_accurate_when_the_mean_is_large():
    # sum(g * (x - mean)) with x = 1000 +- 0.01: the kernels take x - mean in float32 with the
    # mean rounded to float32 (exact here) and put the mean's rounding back in double
    rng = np.random.default_rng(2)
    x = (1000.0 + rng.standard_normal((4099, 5)) * 0.01).astype(np.float32)
    g = rng.standard_normal((4099, 5)).astype(np.float32)
    mean, var, sg, sgx = (np.empty(5) for _ in range(4))
    kernels.moments(x, mean, var, 2)
    # the clip of (x - mean) + 3 to (0, 6) passes every x here
    center, ones, three = mean.astype(np.float32), np.ones(5, np.float32), np.full(5, 3, np.float32)
    for lo, hi in [(-np.inf, np.inf), (0.0, 6.0)]:
        kernels.backward_sums(x, g, mean, center, ones, three, np.float32(lo), np.float32(hi),
                              sg, sgx, 2)
        x64, g64 = x.astype(np.float64), g.astype(np.float64)
        np.testing.assert_allclose(sg, g64.sum(axis=0), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(sgx, (g64 * (x64 - mean)).sum(axis=0), rtol=1e-5, atol=1e-7)


def test_statistics_keep_double_digits_for_any_finite_float32():
    """The shifted sums use x[0] as the shift; summed in float32 they lost the variance's digits
    when x[0] lay far from the mean, and squares above 1.8e19 overflowed to inf."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50176, 2)).astype(np.float32)
    x[0] = 1000.0                                   # a first row far from the mean
    mean, var = np.empty(2), np.empty(2)
    kernels.moments(x, mean, var, 2)
    np.testing.assert_allclose(var, x.astype(np.float64).var(axis=0), rtol=1e-9)
    huge = np.zeros((16, 1), np.float32)
    huge[8:] = 2e19
    kernels.moments(huge, mean[:1], var[:1], 1)
    np.testing.assert_allclose(var[:1], [1e38], rtol=1e-6)


def test_variance_accurate_when_the_mean_is_large():
    # E[x^2] - E[x]^2 in float32 would lose every digit here; the shifted sums do not
    x = (1000.0 + np.random.default_rng(1).standard_normal((4096, 3)) * 0.01).astype(np.float32)
    _, mean, var = batch_norm_train(x, None, None)
    np.testing.assert_allclose(var, x.astype(np.float64).var(axis=0), rtol=1e-3)
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(axis=0), rtol=1e-6)


@pytest.mark.parametrize("shape,axis", [((2, 3, 3, 4), -1), ((2, 4, 3, 3), 1), ((5, 3), -1),
                                        ((5, 3), 0)])
@pytest.mark.parametrize("use_gamma,use_beta", [(True, True), (False, True), (True, False),
                                                (False, False)])
def test_batch_norm_train_matches_the_formula_and_gradcheck(shape, axis, use_gamma, use_beta):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 2 + 1
    c = shape[axis]
    gamma = rng.uniform(0.5, 2, c) if use_gamma else None
    beta = rng.standard_normal(c) if use_beta else None
    y, mean, var = batch_norm_train(x, gamma, beta, 1e-3, axis)
    ref, ref_mean, ref_var = textbook_train(x, gamma, beta, 1e-3, axis)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-12)
    np.testing.assert_allclose(var, ref_var, rtol=1e-10)    # biased: divided by the count
    params = [q for q in (gamma, beta) if q is not None]

    def fn(xt, *ps):
        it = iter(ps)
        g = next(it) if use_gamma else None
        b = next(it) if use_beta else None
        return batch_norm_train(xt, g, b, 1e-3, axis)[0]
    assert gradcheck(fn, [x, *params])


def test_batch_norm_train_closed_form_matches_autograd_of_the_formula():
    rng = np.random.default_rng(3)
    x, gamma, beta = rng.standard_normal((6, 4)), rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    g = rng.standard_normal((6, 4))
    ts = [mg.Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    batch_norm_train(*ts, 1e-3)[0].backward(g)
    us = [mg.Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    mean = us[0].mean(axis=0, keepdims=True)
    var = ((us[0] - mean) ** 2).mean(axis=0, keepdims=True)
    ((us[0] - mean) / (var + 1e-3).sqrt() * us[1] + us[2]).backward(g)
    for t, u in zip(ts, us):
        np.testing.assert_allclose(t.grad, u.grad, rtol=1e-10, atol=1e-12)


def test_batch_norm_train_float32_and_returned_stats():
    x = np.random.default_rng(2).standard_normal((8, 5, 5, 3)).astype(np.float32)
    xt = mg.Tensor(x, requires_grad=True)
    gamma = mg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y, mean, var = batch_norm_train(xt, gamma, None)
    assert y.dtype == mean.dtype == var.dtype == np.float32
    y.sum().backward()
    assert xt.grad.dtype == gamma.grad.dtype == np.float32
    # sum(y) does not depend on x (it is N*sum(beta)): the gradient is ~0
    assert np.abs(xt.grad).max() < 1e-4


@pytest.mark.parametrize("shape,axis", [((2, 3, 3, 4), -1), ((2, 4, 3, 2), 1), ((5, 3), 0)])
@pytest.mark.parametrize("use_gamma,use_beta", [(True, True), (False, False), (True, False)])
def test_batch_norm_inference_matches_the_formula_and_gradcheck(shape, axis, use_gamma, use_beta):
    rng = np.random.default_rng(1)
    c = shape[axis]
    x, mean, var = rng.standard_normal(shape), rng.standard_normal(c), rng.uniform(0.5, 2, c)
    gamma = rng.uniform(0.5, 2, c) if use_gamma else None
    beta = rng.standard_normal(c) if use_beta else None
    bshape = [1] * len(shape)
    bshape[axis] = -1
    ref = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-3)
    ref = ref * (1 if gamma is None else gamma.reshape(bshape)) + (0 if beta is None else
                                                                  beta.reshape(bshape))
    y = batch_norm(x, gamma, beta, mean, var, 1e-3, axis)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-10)
    params = [q for q in (gamma, beta) if q is not None]

    def fn(xt, m, v, *ps):
        it = iter(ps)
        g = next(it) if use_gamma else None
        b = next(it) if use_beta else None
        return batch_norm(xt, g, b, m, v, 1e-3, axis)
    assert gradcheck(fn, [x, mean, var, *params])


@pytest.mark.parametrize("activation,fn", [("relu", relu), ("relu6", relu6)])
@pytest.mark.parametrize("training", [True, False])
def test_fused_activation_equals_the_activation_after(activation, fn, training):
    rng = np.random.default_rng(4)
    x, gamma, beta = rng.standard_normal((6, 3, 3, 4)), rng.uniform(1, 4, 4), rng.uniform(0, 5, 4)
    mean, var = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    g = rng.standard_normal(x.shape)

    def run(fused):
        ts = [mg.Tensor(a, requires_grad=True) for a in (x, gamma, beta, mean, var)]
        if training:
            y = batch_norm_train(*ts[:3], 1e-3, activation=activation if fused else None)[0]
        else:
            y = batch_norm(*ts, 1e-3, activation=activation if fused else None)
        y = y if fused else fn(y)
        y.backward(g)
        return [y.numpy()] + [t.grad for t in ts[:3 if training else 5]]
    fused, plain = run(True), run(False)
    assert (fused[0] == 0).any() and (activation == "relu" or (fused[0] == 6).any())
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    fn_train = lambda *t: batch_norm_train(*t, 1e-3, activation=activation)[0]  # noqa: E731
    assert gradcheck(fn_train, [x[:2], gamma, beta])
    assert gradcheck(lambda *t: batch_norm(*t, 1e-3, activation=activation),
                     [x[:2], gamma, beta, mean, var])


def test_moving_average_update_is_keras_formula():
    moving = np.array([1.0, 2.0], dtype=np.float32)
    out = moving_average_update(moving, np.array([3.0, 0.0]), 0.99)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, moving * 0.99 + np.float32([3.0, 0.0]) * (1.0 - 0.99))
    with pytest.raises(ValueError, match=r"moving_average_update: momentum must be a number in "
                                         r"\[0, 1\], got 1.5"):
        moving_average_update(moving, moving, 1.5)
    with pytest.raises(ValueError, match=r"moving_average_update: value has shape \(3,\), "
                                         r"expected the shape of moving \(2,\)"):
        moving_average_update(moving, np.ones(3), 0.9)


def test_batch_norm_bad_arguments():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"batch_norm_train: axis must be an integer in \[-2, 1\] "
                                         r"for x of shape \(2, 3\), got 2"):
        batch_norm_train(x, None, None, axis=2)
    with pytest.raises(ValueError, match=r"batch_norm_train: gamma must have shape \(3,\), the size "
                                         r"of axis 1 of x \(shape \(2, 3\)\), got shape \(2,\)"):
        batch_norm_train(x, np.ones(2), None)
    with pytest.raises(ValueError, match=r"batch_norm_train: epsilon must be a non-negative number, "
                                         r"got -1"):
        batch_norm_train(x, None, None, epsilon=-1)
    with pytest.raises(ValueError, match=r"batch_norm_train: x has shape \(0, 3\): every channel "
                                         r"needs at least one value"):
        batch_norm_train(np.ones((0, 3)), None, None)
    with pytest.raises(ValueError, match=r"batch_norm: variance must have shape \(3,\).*got shape "
                                         r"\(3, 1\)"):
        batch_norm(x, None, None, np.zeros(3), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"batch_norm: axis must be an integer .*got 1.0"):
        batch_norm(x, None, None, np.zeros(3), np.ones(3), axis=1.0)
    with pytest.raises(ValueError, match=r"batch_norm_train: activation must be None, 'linear', "
                                         r"'relu' or 'relu6', got 'tanh'"):
        batch_norm_train(x, None, None, activation="tanh")
    with pytest.raises(ValueError, match=r"batch_norm: x must have at least one axis"):
        batch_norm(np.float64(1.0), None, None, np.zeros(1), np.ones(1))


def test_batch_norm_train_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x, gamma, beta = rng.standard_normal((4, 5, 6, 3)), rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    g = rng.standard_normal(x.shape)
    ts = [mg.Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    y, mean, var = batch_norm_train(*ts, 1e-3)
    y.backward(g)
    us = [torch.tensor(a, requires_grad=True) for a in (x.transpose(0, 3, 1, 2), gamma, beta)]
    yt = torch.nn.functional.batch_norm(us[0], None, None, us[1], us[2], training=True, eps=1e-3)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(ts[0].grad, us[0].grad.numpy().transpose(0, 2, 3, 1), rtol=1e-9,
                               atol=1e-10)
    np.testing.assert_allclose(ts[1].grad, us[1].grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(ts[2].grad, us[2].grad.numpy(), rtol=1e-9)
