"""Activations and softmax (minigrad/ops/activation.py): forward against NumPy formulas, gradients
against central differences, numerical stability for large inputs, float32, and errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import ops
from minigrad.testing import gradcheck
from conftest import seeds, shapes, uniform

# every test here runs twice: on the compiled kernels and on their NumPy twins
pytestmark = pytest.mark.usefixtures("op_kernels")


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _gelu(x):
    return x * 0.5 * (1 + np.vectorize(math.erf, otypes=[float])(x / math.sqrt(2)))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# name: (minigrad op, NumPy reference); inputs in [-8, 8], kept 0.05 away from 0 (the kink of relu
# and friends), so central differences never straddle a kink. relu6's other kink (6) and
# hard_sigmoid's (+-3) are hit with probability ~1e-7 per element by uniform values.
ACTIVATIONS = {
    "relu": (ops.relu, lambda x: np.maximum(x, 0)),
    "relu6": (ops.relu6, lambda x: np.clip(x, 0, 6)),
    "sigmoid": (ops.sigmoid, _sigmoid),
    "tanh": (ops.tanh, np.tanh),
    "elu": (ops.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "elu_alpha": (lambda x: ops.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    "selu": (ops.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))),
    "softplus": (ops.softplus, lambda x: np.log1p(np.exp(x))),
    "softsign": (ops.softsign, lambda x: x / (1 + np.abs(x))),
    "hard_sigmoid": (ops.hard_sigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "gelu": (ops.gelu, _gelu),
    "swish": (ops.swish, lambda x: x * _sigmoid(x)),
    "leaky_relu": (ops.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    "leaky_relu_alpha": (lambda x: ops.leaky_relu(x, alpha=0.01), lambda x: np.where(x > 0, x, 0.01 * x)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(max_examples=25, deadline=None)
@given(shape=shapes(), seed=seeds)
def test_activation_matches_numpy_and_gradcheck(name, shape, seed):
    fn, reference = ACTIVATIONS[name]
    x = uniform(np.random.default_rng(seed), shape, low=0.05, high=8.0, away_from_zero=True)
    out = fn(mg.Tensor(x))
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, reference(x), rtol=1e-12, atol=1e-15)
    assert gradcheck(fn, [x])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_keeps_float32_and_is_finite_for_large_inputs(name):
    fn, reference = ACTIVATIONS[name]
    x = mg.Tensor(np.array([-1000.0, -3.0, -0.5, 0.5, 3.0, 1000.0], dtype=np.float32),
                  requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        out = fn(x)
        out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()


def test_relu6_kernel_on_large_and_0d_inputs():
    x = np.random.default_rng(0).uniform(-3, 9, size=(1 << 16) + 3).astype(np.float32)
    t = mg.Tensor(x, requires_grad=True)  # above the size where the kernel goes parallel
    y = ops.relu6(t)
    np.testing.assert_array_equal(y.data, np.clip(x, 0, 6))
    y.backward(np.ones_like(x))
    np.testing.assert_array_equal(t.grad, ((x > 0) & (x < 6)).astype(np.float32))
    assert ops.relu6(mg.Tensor(np.float32(7.0))).shape == ()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_kernel_on_large_and_0d_inputs(dtype):
    # above the size where the erf kernel goes parallel; float32 computes Phi in float32, so it
    # is compared with the float64 formulas to float32 precision
    x = np.random.default_rng(0).uniform(-8, 8, size=(1 << 16) + 3)
    t = mg.Tensor(x.astype(dtype), requires_grad=True)
    y = ops.gelu(t)
    assert y.dtype == dtype
    tol = dict(rtol=2e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-15)
    xd = x.astype(dtype).astype(np.float64)
    np.testing.assert_allclose(y.data, _gelu(xd), **tol)
    y.backward(np.ones_like(t.data))
    cdf = _gelu(xd) / np.where(xd == 0, 1, xd)
    derivative = cdf + xd * np.exp(-0.5 * xd * xd) / math.sqrt(2 * math.pi)
    assert t.grad.dtype == dtype
    np.testing.assert_allclose(t.grad, derivative, **tol)
    z = ops.gelu(mg.Tensor(np.array(1.5, dtype)))
    assert z.shape == () and z.dtype == dtype
    np.testing.assert_allclose(z.data, _gelu(np.float64(1.5)), rtol=1e-6)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: ops.leaky_relu(x, alpha="a"), TypeError,
     r"^leaky_relu: alpha must be a finite number, got 'a'$"),
    (lambda x: ops.leaky_relu(x, alpha=None), TypeError,
     r"^leaky_relu: alpha must be a finite number, got None$"),
    (lambda x: ops.leaky_relu(x, alpha=float("nan")), ValueError,   # a number, but not finite
     r"^leaky_relu: alpha must be a finite number, got nan$"),
    (lambda x: ops.leaky_relu(x, alpha=True), TypeError,
     r"^leaky_relu: alpha must be a finite number, got True$"),
    (lambda x: ops.elu(x, alpha="1"), TypeError, r"^elu: alpha must be a finite number, got '1'$"),
])
def test_activation_arguments_are_checked_before_numpy_sees_them(call, error, message):
    with pytest.raises(error, match=message):
        call(mg.Tensor(np.array([-1.0, 2.0], dtype=np.float32)))


def test_leaky_relu_accepts_numpy_numbers_and_integers():
    x = mg.Tensor(np.array([-2.0, 2.0], dtype=np.float32))
    np.testing.assert_array_equal(ops.leaky_relu(x, alpha=np.float64(0.5)).data, [-1.0, 2.0])
    np.testing.assert_array_equal(ops.leaky_relu(x, alpha=1).data, [-2.0, 2.0])
    assert ops.leaky_relu(x, alpha=np.float64(0.5)).dtype == np.float32


def test_activation_methods():
    x = mg.Tensor([-1.0, 2.0])
    np.testing.assert_array_equal(x.relu().data, [0.0, 2.0])
    np.testing.assert_allclose(x.sigmoid().data, _sigmoid(np.array([-1.0, 2.0])), rtol=1e-6)
    np.testing.assert_allclose(x.tanh().data, np.tanh([-1.0, 2.0]), rtol=1e-6)


# -- softmax --------------------------------------------------------------------------------------
def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@st.composite
def shape_and_axis(draw):
    shape = draw(shapes(min_dims=1))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@settings(max_examples=40, deadline=None)
@given(shape_axis=shape_and_axis(), seed=seeds)
def test_softmax_matches_numpy_and_gradcheck(name, shape_axis, seed):
    shape, axis = shape_axis
    x = uniform(np.random.default_rng(seed), shape, low=-5.0, high=5.0)
    fn = getattr(ops, name)
    out = fn(mg.Tensor(x), axis=axis)
    expected = _softmax(x, axis) if x.size else x
    if name == "log_softmax":
        expected = np.log(expected) if x.size else x
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda t: fn(t, axis=axis), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_stable_for_large_inputs(dtype):
    x = np.array([[1000.0, 1000.0, 999.0], [-1000.0, 0.0, 1000.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = ops.softmax(mg.Tensor(x))
        ls = ops.log_softmax(mg.Tensor(x))
    e = math.exp(-1)
    np.testing.assert_allclose(s.data[0], [1 / (2 + e), 1 / (2 + e), e / (2 + e)], rtol=1e-6)
    np.testing.assert_allclose(s.data[1], [0.0, 0.0, 1.0], atol=1e-30)
    np.testing.assert_allclose(ls.data[0], np.log([1 / (2 + e), 1 / (2 + e), e / (2 + e)]), rtol=1e-6)
    np.testing.assert_allclose(ls.data[1], [-2000.0, -1000.0, 0.0], rtol=1e-6)
    assert s.dtype == dtype and ls.dtype == dtype
    x64 = x.astype(np.float64)
    assert gradcheck(lambda t: ops.log_softmax(t), [x64])
    assert gradcheck(lambda t: ops.softmax(t, axis=0), [x64])


def test_softmax_rows_sum_to_one_and_gradient_of_sum_is_zero():
    x = mg.Tensor(np.random.default_rng(1).normal(size=(4, 5)), requires_grad=True)
    s = ops.softmax(x, axis=1)
    np.testing.assert_allclose(s.data.sum(axis=1), np.ones(4), rtol=1e-12)
    s.sum().backward()
    np.testing.assert_allclose(x.grad, np.zeros((4, 5)), atol=1e-12)


@pytest.mark.parametrize("fn", [ops.softmax, ops.log_softmax])
def test_softmax_axis_errors(fn):
    who = fn.__name__
    with pytest.raises(ValueError, match=rf"{who}: axis must be an integer in \[-2, 1\] for x of "
                                         rf"shape \(2, 3\), got 2"):
        fn(mg.Tensor(np.ones((2, 3))), axis=2)
    with pytest.raises(ValueError, match=rf"{who}: x of shape \(\) has no axis, got axis 0"):
        fn(mg.Tensor(1.0), axis=0)
    with pytest.raises(ValueError, match=rf"{who}: axis must be an integer in \[-1, 0\] .* got 0.5"):
        fn(mg.Tensor(np.ones(3)), axis=0.5)


@pytest.mark.parametrize("fn", [ops.softmax, ops.log_softmax, ops.relu, ops.sigmoid, ops.gelu])
def test_non_numeric_input_raises_type_error_naming_the_op(fn):
    with pytest.raises(TypeError, match="every input must be a Tensor, an array or a number"):
        fn("abc")
