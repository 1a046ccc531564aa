"""minigrad.testing.gradcheck: it passes right gradients, and it catches wrong ones, saying where."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.engine import Function
from minigrad.testing import gradcheck


class WrongSquare(Function):
    """x**2 with a deliberately wrong backward: 2x everywhere but at element [1, 2] (3x there)."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x * x

    @staticmethod
    def backward(ctx, grad):
        g = 2 * ctx.x * grad
        g[1, 2] *= 1.5
        return g


class ForgetsSecondInput(Function):
    """a * b whose backward forgets b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a * b

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.b, None


class LosesPrecision(Function):
    """2x whose backward returns float32."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return (2 * grad).astype(np.float32)


def test_passes_right_gradients_and_returns_true():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    assert gradcheck(lambda a, b: (a * b).exp().sum(axis=0), [a, b]) is True
    assert gradcheck(lambda a: a * a, [mg.Tensor(a)]) is True  # Tensors are accepted too


def test_catches_a_wrong_backward_and_names_input_and_element():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    with pytest.raises(AssertionError, match=r"gradcheck: input 0, element \(1, 2\): analytic "
                                             r"gradient [\d.]+ != numerical [\d.]+"):
        gradcheck(WrongSquare.apply, [x])


def test_catches_a_missing_gradient_of_the_second_input():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    with pytest.raises(AssertionError, match=r"gradcheck: input 1, element \(0,\): analytic "
                                             r"gradient 0 != numerical"):
        gradcheck(ForgetsSecondInput.apply, [a, b])


def test_catches_a_gradient_that_lost_precision():
    with pytest.raises(AssertionError, match="gradient of input 0 is float32, expected float64"):
        gradcheck(LosesPrecision.apply, [np.ones(2)])


def test_works_in_float64_on_a_copy_of_the_inputs():
    x = np.array([1.0, 2.0], dtype=np.float32)[::-1]  # float32 and not contiguous
    before = x.copy()
    seen = []

    def fn(t):
        seen.append(t.dtype)
        return t.exp()

    assert gradcheck(fn, [x])
    assert seen and all(dtype == np.float64 for dtype in seen)
    np.testing.assert_array_equal(x, before)


def test_zero_size_and_0d_inputs():
    assert gradcheck(lambda t: t * 2, [np.ones((0, 3))])
    assert gradcheck(lambda t: (t * t).sum(), [np.array(1.5)])


def test_argument_errors():
    with pytest.raises(TypeError, match="gradcheck: inputs must be a list of arrays or Tensors, got ndarray"):
        gradcheck(lambda t: t, np.ones(2))
    with pytest.raises(TypeError, match="gradcheck: fn must return a Tensor, got float"):
        gradcheck(lambda t: 1.0, [np.ones(2)])
