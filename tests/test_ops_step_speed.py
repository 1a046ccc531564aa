"""The shortcuts a training step takes for speed give what the plain code gives: the fast paths
of argument checks; and the convolution's weight gradient has the same bits on 1 and 2 threads."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.ops._common import check_axis

@pytest.mark.parametrize("kernel_shape, groups", [((1, 1, 8, 16), 1), ((3, 3, 8, 16), 1),
                                                  ((3, 3, 4, 16), 2)])
def test_conv_weight_gradient_same_on_one_and_two_threads(kernel_shape, groups):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 9, 9, 8), dtype=np.float32)
    k = rng.standard_normal(kernel_shape, dtype=np.float32)
    seed = rng.standard_normal((4, 9, 9, 16), dtype=np.float32)
    grads = []
    before = mg.get_num_threads()
    try:
        for n in (1, 2):
            mg.set_num_threads(n)
            kt = mg.Tensor(k, requires_grad=True)
            mg.ops.conv2d(mg.Tensor(x), kt, padding="same", groups=groups).backward(seed)
            grads.append(kt.grad)
    finally:
        mg.set_num_threads(before)
    assert np.array_equal(grads[0], grads[1])
    # against the definition: dL/dK[i, j, c, f] = sum x_pad[n, h+i, w+j, c] * G[n, h, w, f]
    kh = kernel_shape[0]
    pad = kh // 2
    xp = np.pad(x.astype(np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    cg, fg = 8 // groups, 16 // groups
    ref = np.zeros(kernel_shape)
    for g in range(groups):
        for i in range(kh):
            for j in range(kh):
                win = xp[:, i:i + 9, j:j + 9, g * cg:(g + 1) * cg]
                ref[i, j, :, g * fg:(g + 1) * fg] = np.einsum(
                    "nhwc,nhwf->cf", win, seed[..., g * fg:(g + 1) * fg].astype(np.float64))
    np.testing.assert_allclose(grads[0], ref, rtol=1e-4, atol=1e-4)


def test_check_axis_fast_path_keeps_the_rules():
    assert check_axis(-1, (2, 3), "f") == 1
    assert check_axis(np.int64(0), (2, 3), "f") == 0
    for bad in (True, 1.0, "1", 2, -3):
        with pytest.raises(ValueError, match="axis must be an integer"):
            check_axis(bad, (2, 3), "f")


def test_batch_norm_checks_keep_refusing_bad_numbers():
    from minigrad.ops.normalization import batch_norm_train, moving_average_update
    x = np.ones((2, 3), np.float32)
    for bad in (-1.0, float("nan"), True, "0.1"):
        with pytest.raises(ValueError, match="epsilon"):
            batch_norm_train(x, None, None, epsilon=bad)
    assert batch_norm_train(x, None, None, epsilon=np.float32(1e-3))[0].shape == (2, 3)
    with pytest.raises(ValueError, match="at least one value"):
        batch_norm_train(np.ones((0, 3), np.float32), None, None)
    for bad in (1.5, -0.1, float("nan"), False, None):
        with pytest.raises(ValueError, match="momentum"):
            moving_average_update(np.zeros(2), np.ones(2), bad)
    assert moving_average_update(np.zeros(2), np.ones(2), 1).tolist() == [0.0, 0.0]



def test_normalize_tuple_fast_paths_keep_the_rules():
    from minigrad.ops.geometry import normalize_tuple
    assert normalize_tuple(2, 2, "strides", "f") == (2, 2)
    assert normalize_tuple((1, 3), 2, "strides", "f") == (1, 3)
    assert normalize_tuple((0, 0), 2, "pad", "f", allow_zero=True) == (0, 0)
    got = normalize_tuple((np.int64(2), 1), 2, "strides", "f")
    assert got == (2, 1) and all(type(v) is int for v in got)
    for bad, error in (((1, 0), ValueError), (0, ValueError), ((1, 2, 3), ValueError),
                       ((True, 1), TypeError), (True, TypeError), ((1.0, 1), TypeError),
                       ((1, -1), ValueError)):
        with pytest.raises(error, match="strides must be"):
            normalize_tuple(bad, 2, "strides", "f")


def test_conv2d_groups_fast_path_keeps_the_rules():
    x, k = np.ones((1, 4, 4, 4), np.float32), np.ones((1, 1, 2, 4), np.float32)
    assert mg.ops.conv2d(x, k, groups=2).shape == (1, 4, 4, 4)
    assert mg.ops.conv2d(x, k, groups=np.int64(2)).shape == (1, 4, 4, 4)
    for bad in (0, -1, True, 2.0):
        with pytest.raises((ValueError, TypeError), match="groups"):
            mg.ops.conv2d(x, k, groups=bad)
