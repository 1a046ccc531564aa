"""Reductions (minigrad/ops/reduction.py): forward against NumPy, gradients against central
differences, every kind of axis argument, and errors (matmul: tests/test_ops_linalg.py)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import ops
from minigrad.testing import gradcheck
from conftest import seeds, shapes, uniform


@st.composite
def shape_and_axis(draw, min_side=0):
    """A shape and an axis argument for it: None, an int (maybe negative) or a tuple of them."""
    shape = draw(shapes(min_side=min_side))
    ndim = len(shape)
    if ndim == 0:
        return shape, draw(st.sampled_from([None, 0, -1, ()]))
    one_axis = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes]))
    return shape, draw(st.one_of(st.none(), one_axis, several))


REDUCTIONS = {"sum": (ops.sum, np.sum), "mean": (ops.mean, np.mean), "max": (ops.max, np.max)}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@settings(max_examples=40, deadline=None)
@given(shape_axis=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_reduction_matches_numpy_and_gradcheck(name, shape_axis, keepdims, seed):
    fn, reference = REDUCTIONS[name]
    shape, axis = shape_axis
    x = uniform(np.random.default_rng(seed), shape)
    np_axis = axis if shape else None  # NumPy has no axis 0 on a 0-d array
    axes = range(len(shape)) if axis is None or not shape else (
        (axis,) if isinstance(axis, int) else axis)
    reduced_sizes = [shape[a] for a in axes]
    if name == "max" and 0 in reduced_sizes:
        with pytest.raises(ValueError, match="max: cannot take the maximum over an empty axis"):
            fn(mg.Tensor(x), axis=axis, keepdims=keepdims)
        return
    if name == "mean" and 0 in reduced_sizes:
        return  # the mean of nothing is nan (as in NumPy), and has no gradient to check
    out = fn(mg.Tensor(x), axis=axis, keepdims=keepdims)
    expected = reference(x, axis=np_axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_as_methods_keep_float32(name):
    x = mg.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    out = getattr(x, name)(axis=1)
    assert out.dtype == np.float32 and out.shape == (2,)
    out.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 3)


def test_max_splits_the_gradient_between_ties():
    x = mg.Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


def test_mean_gradient_is_one_over_count():
    x = mg.Tensor(np.ones((2, 4)), requires_grad=True)
    x.mean(axis=(0, 1)).backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 4), 1 / 8))


@pytest.mark.parametrize("axis, message", [
    (2, "axis 2 is out of range for a tensor of rank 2"),
    (-3, "axis -3 is out of range"),
    ((0, 0), r"axis \(0, 0\) names the same axis twice"),
    ((0, -2), r"axis \(0, -2\) names the same axis twice"),
    ((0, 1.0), r"axis \(0, 1.0\) is out of range"),
    (1.0, "axis must be None, an int or a tuple of ints, got 1.0"),
])
def test_bad_axis_raises(axis, message):
    x = mg.Tensor(np.ones((2, 3)))
    for name in REDUCTIONS:
        with pytest.raises(ValueError, match=f"{name}: {message}"):
            getattr(ops, name)(x, axis=axis)


# -- matmul ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, who", [
    (lambda: ops.matmul(mg.Tensor(np.ones(2)), "ab"), "matmul"),
    (lambda: ops.matmul([None], mg.Tensor(np.ones(2))), "matmul"),
    (lambda: ops.sum("ab"), "sum"),
    (lambda: ops.mean({}), "mean"),
    (lambda: ops.max(["a"]), "max"),
])
def test_non_numeric_inputs_raise_type_error_naming_the_op(call, who):
    with pytest.raises(TypeError, match=f"{who}: every input must be a Tensor, an array or a number"):
        call()


def test_reductions_and_matmul_take_arrays_and_lists():
    np.testing.assert_array_equal(ops.sum(np.ones((2, 3)), axis=0).data, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(ops.matmul([[1.0, 2.0]], [[3.0], [4.0]]).data, [[11.0]])
