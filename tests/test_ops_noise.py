"""dropout (minigrad/ops/noise.py): inverted scaling, its gradient, seeds, noise_shape, errors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.ops.noise import dropout
from minigrad.testing import gradcheck


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
    with pytest.raises(ValueError, match=r"dropout: rate must be a finite number in \[0, 1\], "
                                         r"got 1.5"):
        dropout(np.ones(3), 1.5)
    # a value of the wrong kind is a TypeError (the project's rule, _checks.py)
    with pytest.raises(TypeError, match=r"dropout: rate must be .*got True"):
        dropout(np.ones(3), True)
    with pytest.raises(TypeError, match=r"dropout: rate must be .*got 'x'"):
        dropout(np.ones(3), "x")
    with pytest.raises(ValueError, match=r"dropout: noise_shape \(1,\) must have one entry per axis "
                                         r"of x \(shape \(2, 3\)\)"):
        dropout(np.ones((2, 3)), 0.5, noise_shape=(1,))
    with pytest.raises(ValueError, match=r"dropout: noise_shape \(2, 2\) does not broadcast to the "
                                         r"shape of x \(2, 3\)"):
        dropout(np.ones((2, 3)), 0.5, noise_shape=(2, 2))

