"""The convolutions' matrix products (``kernels/gemm.pyx``, ``include/gemm_simd.h``) against
their NumPy twin: on every instruction-set path this CPU has, in float32 and float64, for shapes
with full, half and scalar column parts and row remainders, bit-identical for any thread count."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minigrad.backend import simd
from minigrad.backend.kernels import gemm as fast
from minigrad.backend.kernels.reference import gemm as ref


def _operands(rng, m, k, n, dtype, exact=False):
    """a (m, k), b (k, n), g (m, n). ``exact``: small integers, so that every product and every
    partial sum is exact and any order of the sums (and FMA or not) gives the same bits."""
    if exact:
        draw = lambda *s: rng.integers(-4, 5, s).astype(dtype)  # noqa: E731
    else:
        draw = lambda *s: rng.standard_normal(s).astype(dtype)  # noqa: E731
    return draw(m, k), draw(k, n), draw(m, n)


def _products(module, a, b, g, threads):
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    module.matmul(a, b, out, threads)
    out_tn = np.empty((a.shape[1], g.shape[1]), a.dtype)
    module.matmul_tn(a, g, out_tn, threads)
    return out, out_tn


SHAPES = [
    (1, 1, 1), (7, 3, 5), (9, 9, 16), (13, 16, 32), (64, 32, 64), (70, 64, 33),
    (130, 128, 128), (255, 17, 24),
    (2100, 24, 40), (2100, 130, 20),   # two partial blocks and a rest; then 3 chunks of out's rows
]


@pytest.mark.parametrize("path", ["base", "avx2", "avx512"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_path_matches_the_twin_and_not_the_thread_count(each_path, path, dtype):
    each_path(path)
    rng = np.random.default_rng(0)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for m, k, n in SHAPES:
        a, b, g = _operands(rng, m, k, n, dtype)
        results = [_products(fast, a, b, g, threads) for threads in (1, 2, 3)]
        for got in results[1:]:
            assert all(np.array_equal(x, y) for x, y in zip(results[0], got)), \
                f"{path} {(m, k, n)}: thread counts differ"
        for got, want in zip(results[0], _products(ref, a, b, g, 1)):
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max(),
                                       err_msg=f"{path} {(m, k, n)}")


@pytest.mark.parametrize("path", ["base", "avx2", "avx512"])
def test_exact_sums_give_the_numpy_bits_on_every_path(each_path, path):
    each_path(path)
    rng = np.random.default_rng(1)
    for m, k, n in SHAPES:
        a, b, g = _operands(rng, m, k, n, np.float32, exact=True)
        for got, want in zip(_products(fast, a, b, g, 2), _products(ref, a, b, g, 1)):
            assert np.array_equal(got, want), (path, m, k, n)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(0, 80), k=st.integers(0, 40), n=st.integers(0, 70),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_drawn_shapes_match_the_twin(m, k, n, dtype, seed):
    a, b, g = _operands(np.random.default_rng(seed), m, k, n, dtype)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(_products(fast, a, b, g, 2), _products(ref, a, b, g, 1)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * (np.abs(want).max(initial=0)))


def test_the_sum_is_cut_into_equal_blocks_by_its_length_alone():
    """matmul_tn's partial sums: the fewest blocks of at most BLOCK_ROWS rows, rounded up to a
    power of two up to BLOCKS_MULTIPLE and to a multiple of it past that, so that 2, 4 or 8
    threads get equal shares; and the product is each block's partial, added in block order."""
    blocks = {p: fast._sum_blocks(p) for p in (0, 1, 1024, 1025, 2049, 3136, 4097, 8192, 8193,
                                                12544, 50176)}
    assert blocks == {0: 1, 1: 1, 1024: 1, 1025: 2, 2049: 4, 3136: 4, 4097: 8, 8192: 8,
                      8193: 16, 12544: 16, 50176: 56}
    for p, n in blocks.items():
        assert -(-p // n) <= fast.BLOCK_ROWS, p
    # the exact partition: block b holds rows [b * P // n, (b + 1) * P // n), summed on its own
    rng = np.random.default_rng(5)
    a, _, g = _operands(rng, 2100, 5, 9, np.float32)
    n = fast._sum_blocks(2100)
    want = np.zeros((5, 9), np.float32)
    for blk in range(n):
        rows = slice(blk * 2100 // n, (blk + 1) * 2100 // n)
        part = np.empty((5, 9), np.float32)
        fast.matmul_tn(np.ascontiguousarray(a[rows]), np.ascontiguousarray(g[rows]), part, 1)
        want = part if blk == 0 else want + part
    for threads in (1, 2, 3):
        got = np.empty((5, 9), np.float32)
        fast.matmul_tn(a, g, got, threads)
        np.testing.assert_array_equal(got, want)


def test_the_plain_loops_are_the_formulas():
    rng = np.random.default_rng(2)
    a, b, g = _operands(rng, 11, 7, 19, np.float32, exact=True)
    out = np.empty((11, 19), np.float32)
    fast._nn_plain_float32(a, b, out)
    assert np.array_equal(out, a @ b)
    out_tn = np.empty((7, 19), np.float32)
    fast._tn_plain_float32(a, g, out_tn)
    assert np.array_equal(out_tn, a.T @ g)
    # not exact: the vector blocks add in the plain loops' order, so they differ from them by at
    # most the FMA's single rounding of a product (a few ulps of the sum)
    a, b, g = _operands(rng, 37, 29, 45, np.float32)
    fast._nn_plain_float32(a, b, out := np.empty((37, 45), np.float32))
    vec = np.empty_like(out)
    fast.matmul(a, b, vec, 1)
    np.testing.assert_allclose(vec, out, rtol=1e-5, atol=1e-5 * np.abs(out).max())


def test_bad_arguments_are_refused_before_any_c_code():
    a = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match=r"matmul: b must have 3 rows"):
        fast.matmul(a, np.ones((2, 5), np.float32), np.empty((4, 5), np.float32), 1)
    with pytest.raises(ValueError, match=r"matmul: out must have shape \(4, 5\)"):
        fast.matmul(a, np.ones((3, 5), np.float32), np.empty((5, 4), np.float32), 1)
    with pytest.raises(ValueError, match=r"matmul_tn: g must have 4 rows"):
        fast.matmul_tn(a, np.ones((3, 5), np.float32), np.empty((3, 5), np.float32), 1)
    with pytest.raises(ValueError, match=r"matmul_tn: out must have shape \(3, 5\)"):
        fast.matmul_tn(a, np.ones((4, 5), np.float32), np.empty((4, 5), np.float32), 1)
    with pytest.raises((TypeError, ValueError)):
        fast.matmul(a, np.ones((3, 5), np.float64), np.empty((4, 5), np.float32), 1)


def test_empty_sums_are_zero():
    out = np.full((3, 4), 7.0, np.float32)
    fast.matmul(np.ones((3, 0), np.float32), np.ones((0, 4), np.float32), out, 2)
    assert not out.any()
    out_tn = np.full((2, 4), 7.0, np.float32)
    fast.matmul_tn(np.ones((0, 2), np.float32), np.ones((0, 4), np.float32), out_tn, 2)
    assert not out_tn.any()


def test_the_path_is_set_with_the_depthwise_kernels(each_path):
    for path in simd.available():
        each_path(path)
        assert simd._module_paths() == {"depthwise": path, "gemm": path, "batchnorm": path}


def test_the_ops_read_a_transposed_matrix_without_copying_it():
    """im2col of a one-channel image gives a transposed view (9, P).T: the products read it with
    the other kernel, and get NumPy's result."""
    from minigrad.ops import _matmul
    rng = np.random.default_rng(4)
    at = rng.standard_normal((9, 700)).astype(np.float32)   # a = at.T, (700, 9), F-ordered
    b = rng.standard_normal((9, 16)).astype(np.float32)
    g = rng.standard_normal((700, 16)).astype(np.float32)
    np.testing.assert_allclose(_matmul.matmul(at.T, b), at.T @ b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_matmul.matmul_tn(at.T, g), at @ g, rtol=1e-5, atol=1e-4)
    # float16 is not the kernels': NumPy's product
    h = at.T.astype(np.float16)
    assert _matmul.matmul(h, b.astype(np.float16)).dtype == np.float16


def test_a_training_step_of_a_convolution_runs_every_product_on_the_kernels(monkeypatch):
    """The products of a 1x1 convolution (forward, input gradient, kernel gradient) and of a
    one-channel 3x3 stem (forward, kernel gradient) at MobileNet-on-MNIST sizes all run on
    minigrad's kernels, not in NumPy's BLAS (whose threads would fight the kernels' for the
    cores), and the kernel gradient is NumPy's."""
    import minigrad as mg
    from minigrad.ops import _matmul
    calls = []

    class Spy:
        """The kernel module, counting the products asked of it."""
        def __getattr__(self, name):
            def product(*args):
                calls.append(name)
                return getattr(fast, name)(*args)
            return product

    monkeypatch.setattr(_matmul, "_gemm", Spy())
    rng = np.random.default_rng(7)
    for x_shape, k_shape, products in [((64, 28, 28, 16), (1, 1, 16, 32), 3),
                                       ((64, 28, 28, 1), (3, 3, 1, 16), 2)]:
        x = mg.Tensor(rng.standard_normal(x_shape).astype(np.float32),
                      requires_grad=products == 3)
        k = mg.Tensor(rng.standard_normal(k_shape).astype(np.float32), requires_grad=True)
        calls.clear()
        y = mg.ops.conv2d(x, k, padding="same")
        (y * y).sum().backward()
        assert len(calls) == products, calls
    x = rng.standard_normal((64 * 28 * 28, 16)).astype(np.float32)
    g = rng.standard_normal((64 * 28 * 28, 32)).astype(np.float32)
    want = x.T @ g
    np.testing.assert_allclose(_matmul.matmul_tn(x, g), want, rtol=1e-4,
                               atol=1e-4 * np.abs(want).max())
