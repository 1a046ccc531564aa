"""bias_add, dropout and flatten: values, finite differences and argument checks."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.ops.nn import bias_add, dropout, flatten
from minigrad.testing import gradcheck


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


def test_dropout_is_inverted_and_its_gradient_is_the_mask():
    x = mg.Tensor(np.ones((200, 50)), requires_grad=True)
    y = dropout(x, 0.3, np.random.default_rng(0))
    kept = y.numpy() != 0
    assert np.allclose(y.numpy()[kept], 1 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.02
    y.backward(np.full(y.shape, 2.0))
    np.testing.assert_allclose(x.grad, 2.0 * y.numpy())


def test_dropout_seeds_rate_zero_and_one():
    x = np.random.default_rng(1).standard_normal((10, 10))
    a, b = dropout(x, 0.5, 42).numpy(), dropout(x, 0.5, 42).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dropout(x, 0.0, 0).numpy(), x)
    assert not dropout(x, 1.0, 0).numpy().any()
    assert dropout(x.astype(np.float32), 0.5).dtype == np.float32
    assert gradcheck(lambda t: dropout(t, 0.5, 3), [x[:3, :3]])


def test_dropout_noise_shape_drops_whole_channels():
    x = np.ones((4, 3, 3, 8))
    y = dropout(x, 0.5, 0, noise_shape=(None, 1, 1, None)).numpy()
    assert (y == y[:, :1, :1, :]).all()          # one decision per (sample, channel)
    assert 0 < (y[:, 0, 0, :] == 0).mean() < 1


def test_dropout_bad_arguments():
    with pytest.raises(ValueError, match=r"dropout: rate must be a number in \[0, 1\], got 1.5"):
        dropout(np.ones(3), 1.5)
    with pytest.raises(ValueError, match=r"dropout: rate must be .*got True"):
        dropout(np.ones(3), True)
    with pytest.raises(ValueError, match=r"dropout: noise_shape \(1,\) must have one entry per axis "
                                         r"of x \(shape \(2, 3\)\)"):
        dropout(np.ones((2, 3)), 0.5, noise_shape=(1,))
    with pytest.raises(ValueError, match=r"dropout: noise_shape \(2, 2\) does not broadcast to the "
                                         r"shape of x \(2, 3\)"):
        dropout(np.ones((2, 3)), 0.5, noise_shape=(2, 2))


def test_flatten_orders_like_keras():
    x = np.arange(24.0).reshape(2, 3, 2, 2)          # channels_first: (N, C, H, W)
    last = flatten(x.transpose(0, 2, 3, 1)).numpy()
    np.testing.assert_array_equal(flatten(x, "channels_first").numpy(), last)
    assert flatten(np.ones((5,))).shape == (5, 1)
    assert gradcheck(lambda t: flatten(t, "channels_first") * np.arange(12.0), [x[:1]])
    with pytest.raises(ValueError, match=r"flatten: data_format must be"):
        flatten(x, "first")
    with pytest.raises(ValueError, match=r"flatten: x must have a batch axis, got a scalar"):
        flatten(np.float64(3.0))


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
