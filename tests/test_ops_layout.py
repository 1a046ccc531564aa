"""minigrad/ops/layout.py: channels-first data around channels-last kernels, and flatten."""
import numpy as np
import pytest

from minigrad.ops.layout import flatten, from_channels_last, to_channels_last
from minigrad.testing import gradcheck


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


def test_to_and_from_channels_last_are_inverse_transposes():
    x = np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)
    moved = to_channels_last(x, 1).numpy()
    np.testing.assert_array_equal(moved, x.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(from_channels_last(moved, 1).numpy(), x)
    assert to_channels_last(x, -1) is x and to_channels_last(x, 3) is x
