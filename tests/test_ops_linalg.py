"""The matrix product and bias_add (minigrad/ops/linalg.py): forward against NumPy, gradients
against central differences, vector and batched matmul, and errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import ops
from minigrad.ops.linalg import bias_add
from minigrad.testing import gradcheck
from conftest import MAX_SIDE, broadcastable_shapes, seeds, uniform


@st.composite
def matmul_shapes(draw):
    """Shapes (a, b) that np.matmul accepts: vectors, matrices, broadcast batch dimensions."""
    n, k, m = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(max_dims=2))
    a = draw(st.sampled_from([(k,), batch_a + (n, k)]))
    b = draw(st.sampled_from([(k,), batch_b + (k, m)]))
    return a, b


@settings(max_examples=50, deadline=None)
@given(ab=matmul_shapes(), seed=seeds)
def test_matmul_matches_numpy_and_gradcheck(ab, seed):
    rng = np.random.default_rng(seed)
    a, b = uniform(rng, ab[0]), uniform(rng, ab[1])
    out = ops.matmul(mg.Tensor(a), mg.Tensor(b))
    expected = np.matmul(a, b)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(ops.matmul, [a, b])
    assert gradcheck(lambda a, b: a @ b, [a, b])


def test_matmul_with_zero_sized_dimensions():
    a, b = np.ones((0, 3)), np.ones((3, 2))
    out = ops.matmul(a, b)
    assert out.shape == (0, 2)
    ta, tb = mg.Tensor(np.ones((2, 0)), requires_grad=True), mg.Tensor(np.ones((0, 3)), requires_grad=True)
    y = ta @ tb  # an empty inner dimension: the product is all zeros
    np.testing.assert_array_equal(y.data, np.zeros((2, 3)))
    y.sum().backward()
    assert ta.grad.shape == (2, 0) and tb.grad.shape == (0, 3)


def test_matmul_with_an_ndarray_on_either_side():
    t = mg.Tensor(np.eye(2), requires_grad=True)
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal((m @ t).data, m)
    np.testing.assert_array_equal((t @ m).data, m)


@pytest.mark.parametrize("sa, sb, message", [
    ((2, 3), (4, 5), r"matmul: a has shape \(2, 3\) and b has shape \(4, 5\).*\(3\).*\(4\)"),
    ((3,), (2,), r"matmul: a has shape \(3,\) and b has shape \(2,\)"),
    ((2, 2, 3), (3, 3, 1), r"matmul: the batch dimensions of a \(2,\) and b \(3,\) do not broadcast"),
    ((), (3,), r"matmul: both operands need at least one dimension, got shapes \(\) and \(3,\)"),
])
def test_matmul_shape_errors_name_both_shapes(sa, sb, message):
    with pytest.raises(ValueError, match=message):
        ops.matmul(mg.Tensor(np.ones(sa)), mg.Tensor(np.ones(sb)))
    with pytest.raises(ValueError, match=message):
        mg.Tensor(np.ones(sa)) @ mg.Tensor(np.ones(sb))



@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=2, max_size=4),
       st.sampled_from(["channels_last", "channels_first"]), st.integers(0, 99))
def test_bias_add_matches_broadcasting(shape, data_format, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    axis = len(shape) - 1 if data_format == "channels_last" else 1
    b = rng.standard_normal(shape[axis])
    bshape = [1] * len(shape)
    bshape[axis] = -1
    xt, bt = mg.Tensor(x, requires_grad=True), mg.Tensor(b, requires_grad=True)
    y = bias_add(xt, bt, data_format)
    np.testing.assert_allclose(y.numpy(), x + b.reshape(bshape))
    g = rng.standard_normal(shape)
    y.backward(g)
    np.testing.assert_allclose(xt.grad, g)
    np.testing.assert_allclose(bt.grad, g.sum(axis=tuple(a for a in range(len(shape)) if a != axis)),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,data_format", [((3, 4), "channels_last"), ((2, 3, 3, 2), "channels_last"),
                                               ((2, 3, 3, 2), "channels_first")])
def test_bias_add_gradcheck(shape, data_format):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    b = rng.standard_normal(shape[-1] if data_format == "channels_last" else shape[1])
    assert gradcheck(lambda a, c: bias_add(a, c, data_format), [x, b])


def test_bias_add_keeps_float32():
    x = mg.Tensor(np.ones((4, 2, 2, 3), dtype=np.float32), requires_grad=True)
    b = mg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = bias_add(x, b)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == b.grad.dtype == np.float32
    assert b.grad.tolist() == [16.0, 16.0, 16.0]


def test_bias_add_bad_arguments():
    with pytest.raises(ValueError, match=r"bias_add: bias must have shape \(3,\) to match the channel "
                                         r"axis 1 of x \(shape \(2, 3\), data_format='channels_last'\), "
                                         r"got shape \(2,\)"):
        bias_add(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"bias_add: bias must have shape \(5,\) .*channels_first"):
        bias_add(np.ones((2, 5, 3, 3)), np.ones(3), "channels_first")
    with pytest.raises(ValueError, match=r"bias_add: x must have rank >= 2 .*got shape \(3,\)"):
        bias_add(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"bias_add: data_format must be .*got 'NHWC'"):
        bias_add(np.ones((2, 3)), np.ones(3), "NHWC")


def test_op_outputs_in_use_are_not_overwritten_by_later_calls():
    from minigrad.ops.conv import conv2d
    from minigrad.ops.normalization import batch_norm_train
    from minigrad.ops.pooling import max_pool2d
    rng = np.random.default_rng(0)
    ops = [lambda x: conv2d(x, np.ones((1, 1, 8, 8), np.float32)),
           lambda x: conv2d(x, np.ones((3, 3, 8, 8), np.float32), padding="same"),
           lambda x: batch_norm_train(x, None, None)[0],
           lambda x: max_pool2d(x, 2),
           lambda x: bias_add(x, np.ones(8, np.float32))]
    for op in ops:
        x1 = mg.Tensor(rng.standard_normal((8, 16, 16, 8)).astype(np.float32), requires_grad=True)
        y1 = op(x1)
        kept = y1.numpy().copy()
        for _ in range(3):
            x2 = mg.Tensor(rng.standard_normal((8, 16, 16, 8)).astype(np.float32), requires_grad=True)
            op(x2).sum().backward()
        np.testing.assert_array_equal(y1.numpy(), kept)
        y1.sum().backward()
        grad = x1.grad.copy()
        op(x2).sum().backward()
        np.testing.assert_array_equal(x1.grad, grad)

