"""repeat, resize_linear, resize_bilinear: values against NumPy and torch, gradients by finite
differences, argument errors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.ops.resize import interpolation_matrix, repeat, resize_bilinear, resize_linear
from minigrad.testing import gradcheck


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("shape,repeats,axis", [((2, 3), 2, 0), ((2, 3, 4), 3, 1), ((2, 3), 1, -1)])
def test_repeat_matches_numpy_and_gradchecks(shape, repeats, axis):
    x = _x(shape)
    np.testing.assert_array_equal(repeat(x, repeats, axis).numpy(), np.repeat(x, repeats, axis))
    gradcheck(lambda t: repeat(t, repeats, axis), [x])


def test_repeat_gradient_sums_the_copies():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (repeat(x, 3, 0) * mg.Tensor(np.arange(6.0))).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [0 + 1 + 2, 3 + 4 + 5])


def test_interpolation_matrix_half_pixel_centers():
    # 2 -> 4: output pixels sit at input coordinates -0.25 (clamped), 0.25, 0.75, 1.25 (edge)
    np.testing.assert_allclose(interpolation_matrix(2, 4),
                               [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]])
    # 4 -> 2 (downsizing): coordinates 0.5 and 2.5
    np.testing.assert_allclose(interpolation_matrix(4, 2), [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
    np.testing.assert_allclose(interpolation_matrix(1, 3), [[1], [1], [1]])
    for n, m in [(3, 7), (5, 2), (4, 4)]:
        np.testing.assert_allclose(interpolation_matrix(n, m).sum(axis=1), 1.0)
    np.testing.assert_allclose(interpolation_matrix(4, 4), np.eye(4))


@pytest.mark.parametrize("shape,size,axis", [((2, 3, 2), 6, 1), ((4, 2), 3, 0), ((2, 5), 2, 1)])
def test_resize_linear_gradchecks(shape, size, axis):
    gradcheck(lambda t: resize_linear(t, size, axis), [_x(shape)])


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_resize_bilinear_gradchecks(data_format):
    gradcheck(lambda t: resize_bilinear(t, (5, 4), data_format), [_x((1, 2, 3, 2))])


@pytest.mark.parametrize("size", [(6, 8), (5, 3), (2, 2)])
def test_resize_bilinear_matches_torch(size):
    torch = pytest.importorskip("torch")
    x = _x((2, 3, 4, 5)).astype(np.float32)          # NCHW, as torch wants
    expected = torch.nn.functional.interpolate(torch.tensor(x), size=size, mode="bilinear",
                                               align_corners=False, antialias=False).numpy()
    got = resize_bilinear(x, size, "channels_first").numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    got_last = resize_bilinear(x.transpose(0, 2, 3, 1), size, "channels_last").numpy()
    np.testing.assert_allclose(got_last.transpose(0, 3, 1, 2), expected, rtol=1e-5, atol=1e-6)


def test_resize_keeps_float32():
    assert resize_bilinear(_x((1, 2, 2, 1)).astype(np.float32), (4, 4)).dtype == np.float32


@pytest.mark.parametrize("call,match", [
    (lambda: repeat(np.ones(3), 0, 0), "repeat: repeats must be a positive integer, got 0"),
    (lambda: repeat(np.ones(3), 2.0, 0), "repeats must be a positive integer, got 2.0"),
    (lambda: repeat(np.ones(3), 2, 1), "repeat: axis must be"),
    (lambda: resize_linear(np.ones(3), -1, 0), "resize_linear: size must be a positive"),
    (lambda: resize_bilinear(np.ones((2, 3)), (2, 2)), "resize_bilinear: x must be a 4-D"),
    (lambda: resize_bilinear(np.ones((1, 2, 2, 1)), 4), "size must be a \\(height, width\\)"),
    (lambda: resize_bilinear(np.ones((1, 2, 2, 1)), (4, 0)), "size must be a positive"),
    (lambda: resize_bilinear(np.ones((1, 2, 2, 1)), (4, 4), "nhwc"), "data_format must be"),
])
def test_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
