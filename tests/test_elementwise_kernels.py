"""The Cython elementwise kernels (minigrad/backend/kernels/elementwise.pyx) against their NumPy
twins (reference/elementwise.py), thread-count determinism, and the kernels' own argument checks."""
import numpy as np
import pytest

from minigrad.backend.kernels import elementwise as fast
from minigrad.backend.kernels.reference import elementwise as ref


def _erf_inputs(dtype, size=5000):
    """Normal values (where gelu evaluates erf), the tails where erf rounds to +-1, and the
    special values: signed zeros, infinities, nan."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(size) * 3, rng.uniform(-30, 30, 200),
                        [0.0, -0.0, 1e-300, -1e-30, 6.0, -6.0, np.inf, -np.inf, np.nan]])
    return x.astype(dtype)


def _erf(module, x, threads=1):
    out = np.full_like(x, 7.0)   # not a value erf gives: every element must be written
    module.erf(x, out, threads)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_matches_the_numpy_twin_within_two_ulp(dtype):
    # the kernel calls C's erf, the twin Python's math.erf: not always the same implementation,
    # so the two may differ in the last bits; both are accurate to about an ulp
    x = _erf_inputs(dtype)
    got, want = _erf(fast, x), _erf(ref, x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(x))
    finite = ~np.isnan(x)
    ulp = np.spacing(np.abs(want[finite]).astype(dtype))
    assert (np.abs(got[finite] - want[finite]) <= 2 * ulp).all()
    np.testing.assert_array_equal(got[np.isinf(x)], np.sign(x[np.isinf(x)]))   # erf(+-inf) = +-1
    assert np.signbit(_erf(fast, np.array([-0.0], dtype)))[0]                  # erf(-0) = -0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_does_not_depend_on_the_thread_count(dtype):
    x = _erf_inputs(dtype, size=(1 << 16) + 5)
    one = _erf(fast, x, 1)
    for threads in (2, 3, 8):
        np.testing.assert_array_equal(_erf(fast, x, threads), one)


def test_erf_in_place_and_on_empty_arrays():
    x = _erf_inputs(np.float64)
    want = _erf(fast, x)
    fast.erf(x, x, 2)   # gelu computes erf in place: each element is read before it is written
    np.testing.assert_array_equal(x, want)
    empty = np.empty(0, np.float32)
    fast.erf(empty, empty, 1)
    ref.erf(empty, empty, 1)


@pytest.mark.parametrize("module", [fast, ref], ids=["cython", "numpy"])
def test_erf_reference_and_kernel_share_one_signature(module):
    x = np.array([0.0, 1.0], np.float64)
    out = np.zeros(2, np.float64)
    module.erf(x, out, num_threads=1)
    assert out[0] == 0 and abs(out[1] - 0.8427007929497149) < 1e-15


def test_erf_refuses_what_could_write_out_of_bounds_or_reinterpret_memory():
    x = np.zeros(8, np.float32)
    with pytest.raises(ValueError, match=r"erf: x and out must have the same length, got 8 and 4"):
        fast.erf(x, np.zeros(4, np.float32), 1)
    with pytest.raises(ValueError, match=r"erf: num_threads must be >= 1, got 0"):
        fast.erf(x, np.zeros(8, np.float32), 0)
    with pytest.raises((TypeError, ValueError)):   # one dtype per call
        fast.erf(x, np.zeros(8, np.float64), 1)
    with pytest.raises((TypeError, ValueError)):   # float32 or float64 only
        fast.erf(x.astype(np.int32), np.zeros(8, np.int32), 1)
    with pytest.raises((TypeError, ValueError)):
        fast.erf(x.astype(np.float16), np.zeros(8, np.float16), 1)
    with pytest.raises(ValueError):                # flat and C-contiguous only
        fast.erf(x[::2], np.zeros(4, np.float32), 1)
    out = np.zeros(8, np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError):                # the output must be writable
        fast.erf(x, out, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu6_kernels_equal_their_numpy_twins(dtype):
    x = np.concatenate([np.linspace(-3, 9, 4001), [0.0, -0.0, 6.0, np.inf, -np.inf, np.nan]])
    x = x.astype(dtype)
    grad = np.random.default_rng(0).standard_normal(x.size).astype(dtype)
    for module in (fast, ref):
        y = np.full_like(x, 7.0)
        module.relu6_forward(x, y, 2)
        gx = np.full_like(x, 7.0)
        module.relu6_backward(x, grad, gx, 2)
        if module is fast:
            want_y, want_gx = y, gx
    np.testing.assert_array_equal(y, want_y)            # NaN stays NaN in both
    np.testing.assert_array_equal(gx, want_gx)
    np.testing.assert_array_equal(want_y, np.clip(x, 0, 6))
    inside = (x > 0) & (x < 6)
    np.testing.assert_array_equal(want_gx, np.where(inside, grad, 0))   # 0 at the kinks 0 and 6
