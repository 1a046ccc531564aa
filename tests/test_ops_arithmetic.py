"""Elementwise arithmetic (minigrad/ops/arithmetic.py): forward against NumPy, gradients against
central differences, broadcasting in every direction, Python numbers, dtypes and errors."""
import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
from minigrad import ops
from minigrad.testing import gradcheck
from conftest import broadcastable_shapes, seeds, shapes, uniform

# name: (minigrad op, NumPy reference, value range of a, value range of b)
BINARY = {
    "add": (ops.add, np.add, dict(), dict()),
    "sub": (ops.sub, np.subtract, dict(), dict()),
    "mul": (ops.mul, np.multiply, dict(), dict()),
    "div": (ops.div, np.divide, dict(), dict(low=0.5, high=2.0, away_from_zero=True)),
    "maximum": (ops.maximum, np.maximum, dict(), dict()),
    "minimum": (ops.minimum, np.minimum, dict(), dict()),
    # a > 0, so that d(a**p)/dp = a**p ln a exists
    "power": (ops.power, np.power, dict(low=0.5, high=2.0), dict(low=-2.0, high=2.0)),
}

# name: (minigrad op, NumPy reference, value range of x)
UNARY = {
    "neg": (ops.neg, np.negative, dict()),
    "exp": (ops.exp, np.exp, dict()),
    "log": (ops.log, np.log, dict(low=0.2, high=3.0)),
    "sqrt": (ops.sqrt, np.sqrt, dict(low=0.2, high=3.0)),
    "abs": (ops.abs, np.abs, dict(low=0.1, high=2.0, away_from_zero=True)),
    "square": (ops.square, np.square, dict()),
    "clip": (lambda x: ops.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), dict()),
    "clip_min_only": (lambda x: ops.clip(x, min_value=0.3), lambda x: np.maximum(x, 0.3), dict()),
    "clip_max_only": (lambda x: ops.clip(x, max_value=0.3), lambda x: np.minimum(x, 0.3), dict()),
}
# where an op's derivative jumps: drawn values are kept 1e-3 away from them
KINKS = {"clip": (-0.5, 0.7), "clip_min_only": (0.3,), "clip_max_only": (0.3,)}


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=30, deadline=None)
@given(pair=broadcastable_shapes(), seed=seeds)
def test_binary_op_matches_numpy_and_gradcheck(name, pair, seed):
    fn, reference, a_range, b_range = BINARY[name]
    rng = np.random.default_rng(seed)
    a, b = uniform(rng, pair[0], **a_range), uniform(rng, pair[1], **b_range)
    out = fn(mg.Tensor(a), mg.Tensor(b))
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, reference(a, b), rtol=1e-12)
    assert gradcheck(fn, [a, b])


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=10, deadline=None)
@given(pair=broadcastable_shapes(), seed=seeds)
def test_binary_op_keeps_float32(name, pair, seed):
    fn, reference, a_range, b_range = BINARY[name]
    rng = np.random.default_rng(seed)
    a = uniform(rng, pair[0], dtype=np.float32, **a_range)
    b = uniform(rng, pair[1], dtype=np.float32, **b_range)
    ta, tb = mg.Tensor(a, requires_grad=True), mg.Tensor(b, requires_grad=True)
    out = fn(ta, tb)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference(a, b), rtol=1e-6)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert ta.grad.dtype == np.float32 and ta.grad.shape == a.shape
    assert tb.grad.dtype == np.float32 and tb.grad.shape == b.shape


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=30, deadline=None)
@given(shape=shapes(), seed=seeds)
def test_unary_op_matches_numpy_and_gradcheck(name, shape, seed):
    fn, reference, x_range = UNARY[name]
    x = uniform(np.random.default_rng(seed), shape, **x_range)
    for kink in KINKS.get(name, ()):  # central differences across a kink see half of each slope
        x = np.where(np.abs(x - kink) < 1e-3, kink + 2e-3, x)
    out = fn(mg.Tensor(x))
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, reference(x), rtol=1e-12)
    assert gradcheck(fn, [x])
    x32 = x.astype(np.float32)
    assert fn(mg.Tensor(x32)).dtype == np.float32


@settings(max_examples=30, deadline=None)
@given(shapes3=broadcastable_shapes(num_shapes=3), seed=seeds)
def test_where_matches_numpy_and_gradcheck(shapes3, seed):
    rng = np.random.default_rng(seed)
    condition = rng.uniform(size=shapes3[0]) > 0.5
    a, b = uniform(rng, shapes3[1]), uniform(rng, shapes3[2])
    out = ops.where(condition, mg.Tensor(a), mg.Tensor(b))
    np.testing.assert_array_equal(out.data, np.where(condition, a, b))
    assert gradcheck(lambda a, b: ops.where(condition, a, b), [a, b])


def test_where_takes_a_tensor_condition_and_numbers():
    out = ops.where(mg.Tensor([1.0, 0.0]), 1.0, mg.Tensor([2.0, 3.0]))
    np.testing.assert_array_equal(out.data, [1.0, 3.0])


def test_python_numbers_on_either_side_of_every_operator():
    x = np.array([0.5, 1.5, 2.0])
    t = mg.Tensor(x, requires_grad=True)
    cases = [
        (t + 2, x + 2), (2 + t, 2 + x), (t - 2, x - 2), (2 - t, 2 - x), (t * 3, x * 3),
        (3 * t, 3 * x), (t / 4, x / 4), (4 / t, 4 / x), (t ** 2, x ** 2), (2 ** t, 2 ** x),
        (-t, -x),
    ]
    for out, expected in cases:
        assert out.dtype == np.float64
        np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(lambda t: 4 / t - 2 ** t + (2 - t) * 3, [x])


def test_numbers_take_the_tensor_dtype():
    t = mg.Tensor(np.ones(3, dtype=np.float32))
    for out in (t * 2.5, 2.5 * t, t + 1, t / np.float64(3.0), t ** 2):
        assert out.dtype == np.float32


def test_an_ndarray_on_the_left_gives_a_tensor():
    t = mg.Tensor([1.0, 2.0], requires_grad=True)
    out = np.array([3.0, 4.0], dtype=np.float32) * t
    assert isinstance(out, mg.Tensor)
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [3.0, 4.0])


def test_constants_are_shared_but_not_writable():
    t = mg.Tensor([1.0, 2.0])
    a, b = t * 0.25, t * 0.25  # the second 0.25 comes from the cache: the results must not mix
    np.testing.assert_array_equal(a.data, [0.25, 0.5])
    np.testing.assert_array_equal(b.data, [0.25, 0.5])
    zero = mg.Tensor([1.0]) * -0.0  # -0.0 and 0.0 are equal keys: they must still differ
    assert np.signbit(zero.data[0])
    assert not np.signbit((mg.Tensor([1.0]) * 0.0).data[0])


def test_maximum_and_minimum_split_the_gradient_of_ties():
    a = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mg.Tensor([1.0, 5.0, 0.0], requires_grad=True)
    ops.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad, [0.5, 1.0, 0.0])
    a.zero_grad()
    b.zero_grad()
    ops.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 1.0, 0.0])


def test_power_gradient_at_zero_exponent_is_zero():
    x = mg.Tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_power_with_integer_exponent_of_negative_base():
    assert gradcheck(lambda x: x ** 3, [np.array([-1.5, 0.5, 2.0])])


def test_clip_passes_no_gradient_outside_and_keeps_float32():
    x = mg.Tensor([-2.0, 0.0, 2.0], requires_grad=True)
    y = ops.clip(x, np.float64(-1.0), np.float64(1.0))  # float64 bounds must not promote
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(x.clip(-1, 1).data, [-1.0, 0.0, 1.0])


def test_cast_changes_dtype_and_casts_the_gradient_back():
    x = mg.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = ops.cast(x, "float64")
    assert y.dtype == np.float64 and x.astype(np.float64).dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    assert gradcheck(lambda t: ops.cast(t, np.float64) * 2, [np.array([1.0, -1.0])])


def test_errors_name_the_op_and_the_argument():
    t = mg.Tensor([1.0])
    with pytest.raises(ValueError, match="clip: give min_value, max_value or both"):
        ops.clip(t)
    with pytest.raises(ValueError, match=r"clip: min_value \(2\) must not exceed max_value \(1\)"):
        ops.clip(t, 2, 1)
    with pytest.raises(TypeError, match="cast: dtype must be float32 or float64, got int32"):
        ops.cast(t, "int32")
    with pytest.raises(TypeError, match="Add: every input must be .* got str"):
        t + "a"
    with pytest.raises(TypeError, match="Mul: every input must be .* got NoneType"):
        ops.mul(t, None)
    with pytest.raises(TypeError, match="Exp: .*numeric"):
        ops.exp([object()])
