"""Shape ops (minigrad/ops/shape.py): reshape, transpose, indexing, concatenate, stack, pad.
Forward against NumPy, gradients against central differences, and errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import ops
from minigrad.testing import gradcheck
from conftest import seeds, shapes, uniform


def check(fn, reference, *inputs):
    """fn's forward equals reference's on float64 inputs (shape and values), and gradcheck passes."""
    out = fn(*[mg.Tensor(x) for x in inputs])
    expected = reference(*inputs)
    assert out.shape == np.shape(expected)
    np.testing.assert_array_equal(out.data, expected)
    assert out.data.flags.c_contiguous
    assert gradcheck(fn, list(inputs))


@settings(max_examples=40, deadline=None)
@given(shape=shapes(), seed=seeds, data=st.data())
def test_reshape(shape, seed, data):
    x = uniform(np.random.default_rng(seed), shape)
    size = x.size
    divisors = [d for d in range(1, size + 1) if size % d == 0] or [1]
    d = data.draw(st.sampled_from(divisors))
    new_shape = (d, -1) if size else data.draw(st.sampled_from([(0,), (2, 0), (3, 0, 1)]))
    check(lambda t: ops.reshape(t, new_shape), lambda a: a.reshape(new_shape), x)
    check(lambda t: t.reshape(*new_shape), lambda a: a.reshape(new_shape), x)


@settings(max_examples=40, deadline=None)
@given(shape=shapes(), seed=seeds, data=st.data())
def test_transpose(shape, seed, data):
    x = uniform(np.random.default_rng(seed), shape)
    axes = tuple(data.draw(st.permutations(range(x.ndim))))
    negative = tuple(a - x.ndim for a in axes)
    check(lambda t: ops.transpose(t, axes), lambda a: a.transpose(axes), x)
    check(lambda t: t.transpose(*negative), lambda a: a.transpose(axes), x)
    check(lambda t: t.T, lambda a: a.T, x)
    check(lambda t: ops.transpose(t), lambda a: a.transpose(), x)


@settings(max_examples=50, deadline=None)
@given(shape=shapes(min_dims=1), seed=seeds, data=st.data())
def test_basic_indexing(shape, seed, data):
    x = uniform(np.random.default_rng(seed), shape)
    index = data.draw(hnp.basic_indices(shape, allow_ellipsis=True, allow_newaxis=True))
    check(lambda t: t[index], lambda a: a[index], x)


@settings(max_examples=40, deadline=None)
@given(shape=shapes(min_dims=1, min_side=1), seed=seeds, data=st.data())
def test_advanced_indexing_sums_repeated_elements(shape, seed, data):
    x = uniform(np.random.default_rng(seed), shape)
    rows = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=5))
    check(lambda t: t[rows], lambda a: a[np.array(rows)], x)
    mask = data.draw(hnp.arrays(np.bool_, shape))
    check(lambda t: t[mask], lambda a: a[mask], x)


def test_mixed_index_gradient_counts_repeats():
    x = mg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = x[[0, 0, 2], 1:3]
    np.testing.assert_array_equal(y.data, np.arange(12.0).reshape(3, 4)[[0, 0, 2], 1:3])
    y.sum().backward()
    expected = np.zeros((3, 4))
    expected[0, 1:3] = 2
    expected[2, 1:3] = 1
    np.testing.assert_array_equal(x.grad, expected)
    assert gradcheck(lambda t: t[(np.array([2, 0]), slice(None, None, -1))], [np.ones((3, 2))])


def test_indexing_a_vector_with_an_int_gives_a_0d_tensor():
    x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[1]
    assert y.shape == ()
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


@st.composite
def join_case(draw, new_axis):
    """A list of shapes that concatenate (equal but along ``axis``) or stack (all equal)."""
    base = draw(shapes(min_dims=0 if new_axis else 1))
    ndim = len(base) + (1 if new_axis else 0)
    axis = draw(st.integers(-ndim, ndim - 1))
    count = draw(st.integers(1, 3))
    if new_axis:
        return [base] * count, axis
    out = []
    for _ in range(count):
        s = list(base)
        s[axis] = draw(st.integers(0, 3))
        out.append(tuple(s))
    return out, axis


@settings(max_examples=40, deadline=None)
@given(case=join_case(new_axis=False), seed=seeds)
def test_concatenate(case, seed):
    shape_list, axis = case
    rng = np.random.default_rng(seed)
    xs = [uniform(rng, s) for s in shape_list]
    check(lambda *ts: ops.concatenate(list(ts), axis=axis),
          lambda *arrays: np.concatenate(arrays, axis=axis), *xs)


@settings(max_examples=40, deadline=None)
@given(case=join_case(new_axis=True), seed=seeds)
def test_stack(case, seed):
    shape_list, axis = case
    rng = np.random.default_rng(seed)
    xs = [uniform(rng, s) for s in shape_list]
    check(lambda *ts: ops.stack(ts, axis=axis), lambda *arrays: np.stack(arrays, axis=axis), *xs)


@settings(max_examples=40, deadline=None)
@given(shape=shapes(), seed=seeds, data=st.data(), value=st.sampled_from([0.0, -1.5]))
def test_pad(shape, seed, data, value):
    x = uniform(np.random.default_rng(seed), shape)
    widths = tuple(data.draw(st.tuples(st.integers(0, 2), st.integers(0, 2))) for _ in shape)
    check(lambda t: ops.pad(t, widths, constant_values=value),
          lambda a: np.pad(a, widths, constant_values=value) if a.ndim else a, x)  # NumPy: no 0-d


def test_pad_accepts_numpy_shorthands():
    x = np.ones((2, 3))
    np.testing.assert_array_equal(ops.pad(x, 1).data, np.pad(x, 1))
    np.testing.assert_array_equal(ops.pad(x, (1, 2)).data, np.pad(x, (1, 2)))
    np.testing.assert_array_equal(ops.pad(x, ((0, 1),)).data, np.pad(x, ((0, 1),)))


def test_shape_ops_keep_float32():
    x = mg.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    outs = [x.reshape(3, 2), x.T, x[0], ops.concatenate([x, x]), ops.stack([x, x]), ops.pad(x, 1)]
    for out in outs:
        assert out.dtype == np.float32
        out.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda x: ops.reshape(x, 4, 2), ValueError,
     r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into shape \(4, 2\)"),
    (lambda x: ops.transpose(x, 0, 0), ValueError, r"transpose: axes \(0, 0\) are not a permutation"),
    (lambda x: ops.transpose(x, 0, 2), ValueError, r"transpose: axes \(0, 2\) are not a permutation"),
    (lambda x: ops.transpose(x, 0), ValueError, r"transpose: axes \(0,\) are not a permutation"),
    (lambda x: x[2], IndexError, r"getitem: index 2 does not fit a tensor of shape \(2, 3\)"),
    (lambda x: x[0, 0, 0], IndexError, "getitem: index"),
    (lambda x: ops.concatenate([x, mg.Tensor(np.ones((3, 3)))], axis=1), ValueError,
     r"concatenate: shapes \[\(2, 3\), \(3, 3\)\] do not match outside axis 1"),
    (lambda x: ops.concatenate([], axis=0), ValueError, "concatenate: tensors must be a non-empty list"),
    (lambda x: ops.concatenate([x], axis=2), ValueError, "concatenate: axis 2 is out of range for rank 2"),
    (lambda x: ops.stack([x, x.T]), ValueError, r"stack: shapes \[\(2, 3\), \(3, 2\)\] do not match exactly"),
    (lambda x: ops.pad(x, ((1, 1), (1, 1), (1, 1))), ValueError, "pad: pad_width .* does not fit a tensor of rank 2"),
    (lambda x: ops.pad(x, -1), ValueError, "pad: pad_width must be non-negative, got -1"),
])
def test_errors_name_the_op_and_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call(mg.Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("call, who", [
    (lambda: ops.reshape("abc", 3), "reshape"),
    (lambda: ops.transpose(None), "transpose"),
    (lambda: ops.getitem("abc", 0), "getitem"),
    (lambda: ops.concatenate([mg.Tensor([1.0]), "a"]), "concatenate"),
    (lambda: ops.stack([mg.Tensor([1.0]), [None]]), "stack"),
    (lambda: ops.pad("abc", 1), "pad"),
])
def test_non_numeric_inputs_raise_type_error_naming_the_op(call, who):
    with pytest.raises(TypeError, match=f"{who}: every input must be a Tensor, an array or a number"):
        call()


def test_shape_ops_take_arrays_lists_and_numbers():
    np.testing.assert_array_equal(ops.reshape([[1.0, 2.0]], 2).data, [1.0, 2.0])
    out = ops.concatenate([mg.Tensor(np.ones(2, dtype=np.float64)), [3.0]])
    np.testing.assert_array_equal(out.data, [1.0, 1.0, 3.0])
    np.testing.assert_array_equal(ops.stack([1.0, mg.Tensor(2.0)]).data, [1.0, 2.0])
    np.testing.assert_array_equal(mg.Tensor([5.0, 6.0])[mg.Tensor([1.0]).data.astype(int)].data, [6.0])
