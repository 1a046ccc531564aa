"""The Cython depthwise kernels against their NumPy twins, thread-count determinism, and the
kernels' own argument checks (they must refuse, never crash, whatever they are given)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minigrad.backend.kernels import depthwise as fast
from minigrad.backend.kernels.reference import depthwise as ref
from minigrad.ops.geometry import conv_geometry

KERNELS = ("depthwise_forward", "depthwise_grad_input", "depthwise_grad_kernel")


def make_case(rng, n, h, w, c, m, kernel, strides, dilation, padding, dtype):
    """Random x, kernel and output gradient, the geometry, and the three output shapes."""
    (oh, ow), (pt, _), (pl, _) = conv_geometry((h, w), kernel, strides, dilation, padding)
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    k = rng.standard_normal((*kernel, c, m)).astype(dtype)
    g = rng.standard_normal((n, oh, ow, c * m)).astype(dtype)
    geometry = (*strides, *dilation, pt, pl)
    calls = {
        "depthwise_forward": ((x, k), (n, oh, ow, c * m)),
        "depthwise_grad_input": ((g, k), x.shape),
        "depthwise_grad_kernel": ((x, g), k.shape),
    }
    return calls, geometry


def run(module, name, calls, geometry, threads, fill=np.nan):
    args, shape = calls[name]
    out = np.full(shape, fill, dtype=args[0].dtype)  # NaN: every element must be written
    getattr(module, name)(*args, out, *geometry, threads)
    return out


def run_backward(module, calls, geometry, threads, fill=np.nan):
    """depthwise_backward: (grad_x, grad_kernel) in arrays that start as ``fill``."""
    (grad_out, kernel), x_shape = calls["depthwise_grad_input"]
    (x, _), kernel_shape = calls["depthwise_grad_kernel"]
    grad_x = np.full(x_shape, fill, dtype=x.dtype)
    grad_kernel = np.full(kernel_shape, fill, dtype=x.dtype)
    module.depthwise_backward(x, kernel, grad_out, grad_x, grad_kernel, *geometry, threads)
    return grad_x, grad_kernel


configs = st.fixed_dictionaries({
    "n": st.integers(1, 2), "h": st.integers(1, 9), "w": st.integers(1, 9),
    "c": st.sampled_from([1, 3, 8, 19]), "m": st.integers(1, 5),
    "kernel": st.tuples(st.integers(1, 4), st.integers(1, 4)),
    "strides": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "dilation": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "padding": st.sampled_from(["valid", "same"]),
})


@settings(max_examples=120, deadline=None)
@given(cfg=configs, seed=st.integers(0, 2**16))
def test_cython_matches_numpy_reference_float32(cfg, seed):
    calls, geometry = make_case(np.random.default_rng(seed), dtype=np.float32, **cfg)
    for name in KERNELS:
        got = run(fast, name, calls, geometry, threads=2)
        want = run(ref, name, calls, geometry, threads=1)
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5, err_msg=f"{name} {cfg}")


# shapes with more rows than the kernel gradient has chunks (32), so chunks of several rows and a
# shorter last chunk, wider rows (4-pixel blocks and their leftovers) and channel vectors
larger_configs = st.fixed_dictionaries({
    "n": st.integers(1, 12), "h": st.integers(1, 30), "w": st.integers(1, 30),
    "c": st.integers(1, 40), "m": st.integers(1, 3),
    "kernel": st.tuples(st.integers(1, 5), st.integers(1, 5)),
    "strides": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "dilation": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "padding": st.sampled_from(["valid", "same"]),
})


@settings(max_examples=30, deadline=None)
@given(cfg=larger_configs, seed=st.integers(0, 2**16), threads=st.integers(1, 3))
def test_cython_matches_numpy_reference_on_larger_shapes(cfg, seed, threads):
    calls, geometry = make_case(np.random.default_rng(seed), dtype=np.float64, **cfg)
    for name in KERNELS:
        np.testing.assert_allclose(run(fast, name, calls, geometry, threads),
                                   run(ref, name, calls, geometry, threads=1),
                                   atol=1e-10, rtol=1e-10, err_msg=f"{name} {cfg}")
    for got, want in zip(run_backward(fast, calls, geometry, threads),
                         run_backward(ref, calls, geometry, threads=1)):
        np.testing.assert_allclose(got, want, atol=1e-10, rtol=1e-10, err_msg=f"backward {cfg}")


@settings(max_examples=25, deadline=None)
@given(cfg=configs, seed=st.integers(0, 2**16))
def test_cython_matches_numpy_reference_float64(cfg, seed):
    calls, geometry = make_case(np.random.default_rng(seed), dtype=np.float64, **cfg)
    for name in KERNELS:
        got = run(fast, name, calls, geometry, threads=1)
        want = run(ref, name, calls, geometry, threads=1)
        np.testing.assert_allclose(got, want, atol=1e-12, rtol=1e-12, err_msg=f"{name} {cfg}")


@pytest.mark.parametrize("cfg", [
    # many rows (several kernel-gradient chunks), vector-width channels, the stride-2 path
    dict(n=3, h=23, w=21, c=40, m=1, kernel=(3, 3), strides=(2, 2), dilation=(1, 1), padding="same"),
    # depth multiplier (expanded rows), dilation with stride, channel tails
    dict(n=2, h=17, w=15, c=11, m=2, kernel=(3, 2), strides=(2, 1), dilation=(2, 3), padding="same"),
    dict(n=5, h=12, w=12, c=24, m=1, kernel=(5, 5), strides=(1, 1), dilation=(1, 1), padding="valid"),
    # MobileNet's 3x3 at stride 1, a channel tail, enough rows for every gradient chunk
    dict(n=4, h=14, w=14, c=35, m=1, kernel=(3, 3), strides=(1, 1), dilation=(1, 1), padding="same"),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bit_identical_for_1_2_and_4_threads(cfg, dtype):
    calls, geometry = make_case(np.random.default_rng(7), dtype=dtype, **cfg)
    for name in KERNELS:
        results = [run(fast, name, calls, geometry, threads) for threads in (1, 2, 4)]
        assert np.array_equal(results[0], results[1]), name
        assert np.array_equal(results[0], results[2]), name


@settings(max_examples=60, deadline=None)
@given(cfg=configs, seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float32, np.float64]))
def test_fused_backward_is_the_two_gradient_kernels_bit_for_bit(cfg, seed, dtype):
    """One thread team for both gradients changes nothing: the same bits as the separate
    kernels (for any thread count) and the reference's values."""
    calls, geometry = make_case(np.random.default_rng(seed), dtype=dtype, **cfg)
    separate = (run(fast, "depthwise_grad_input", calls, geometry, threads=1),
                run(fast, "depthwise_grad_kernel", calls, geometry, threads=1))
    for threads in (1, 2, 3):
        fused = run_backward(fast, calls, geometry, threads)
        assert np.array_equal(fused[0], separate[0]) and np.array_equal(fused[1], separate[1])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(fused, run_backward(ref, calls, geometry, threads=1)):
        np.testing.assert_allclose(got, want, atol=tol, rtol=tol, err_msg=str(cfg))


def test_fused_backward_handles_empty_outputs_and_refuses_wrong_shapes():
    rng = np.random.default_rng(0)
    calls, geometry = make_case(rng, 2, 3, 3, 4, 2, (5, 5), (1, 1), (1, 1), "valid", np.float32)
    grad_x, grad_kernel = run_backward(fast, calls, geometry, 2)
    assert not grad_x.any() and not grad_kernel.any()
    x, k, out = _ok_args()
    with pytest.raises(ValueError, match="must have the shapes of x"):
        fast.depthwise_backward(x, k, out, x[:1].copy(), k.copy(), 1, 1, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="must have the shapes of x"):
        fast.depthwise_backward(x, k, out, x.copy(), k[:2].copy(), 1, 1, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="shapes do not fit"):
        fast.depthwise_backward(x, k, out[..., :5].copy(), x.copy(), k.copy(),
                                1, 1, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="num_threads"):
        fast.depthwise_backward(x, k, out, x.copy(), k.copy(), 1, 1, 1, 1, 1, 1, 0)


@pytest.mark.parametrize("n, h, padding", [
    (7, 9, "same"),     # 63 output rows: 32 chunks of 2, the last one of 1
    (3, 11, "same"),    # 33 rows: 17 chunks, the last one of 1
    (14, 28, "same"),   # 392 rows (a last MNIST batch): 31 chunks of 13, the last one of 2
    (5, 13, "valid"),   # 55 rows: 28 chunks, the last one of 1
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_gradient_counts_the_rows_of_an_uneven_last_chunk(n, h, padding, dtype):
    """N*OH output rows that 32 chunks do not divide: the last, shorter chunk is summed too."""
    calls, geometry = make_case(np.random.default_rng(n * h), n=n, h=h, w=6, c=8, m=1,
                                kernel=(3, 3), strides=(1, 1), dilation=(1, 1), padding=padding,
                                dtype=dtype)
    want = run(ref, "depthwise_grad_kernel", calls, geometry, threads=1)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for threads in (1, 2):
        np.testing.assert_allclose(run(fast, "depthwise_grad_kernel", calls, geometry, threads),
                                   want, atol=tol, rtol=tol)
        np.testing.assert_allclose(run_backward(fast, calls, geometry, threads)[1], want,
                                   atol=tol, rtol=tol)


def identity_prologue(c, dtype):
    """A prologue that maps x to itself: the kernels then stage x instead of reading it in place."""
    return np.zeros(c, dtype), np.ones(c, dtype), np.zeros(c, dtype), -np.inf, np.inf


@pytest.mark.parametrize("path", ["base", "avx2", "avx512"])
@settings(max_examples=20, deadline=None,   # each_path only picks the path: fine to share
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cfg=configs.filter(lambda c: min(c["strides"]) > 1 or c["padding"] == "valid"),
       seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float32, np.float64]))
def test_kernels_that_read_x_where_it_lies_give_the_staged_bits(each_path, path, cfg, seed, dtype):
    """With M = 1 and strides > 1 both ways (or every kernel column seeing the same pixels), the
    forward and the kernel gradient read x where it lies and leave out the padding's zero
    products (depthwise_plan._read_in_place). An identity prologue makes the kernels stage x
    instead: the two must give the same bits (x, G and the kernel are finite here), on every
    path and for any thread count."""
    from minigrad.backend.kernels.depthwise_plan import forward_plan, grad_kernel_plan
    each_path(path)
    cfg["m"] = 1
    calls, geometry = make_case(np.random.default_rng(seed), dtype=dtype, **cfg)
    (x, g), k_shape = calls["depthwise_grad_kernel"]
    (_, kernel), out_shape = calls["depthwise_forward"]
    identity = identity_prologue(x.shape[3], dtype)
    staged, staged_out = np.full(k_shape, np.nan, dtype), np.full(out_shape, np.nan, dtype)
    fast.depthwise_grad_kernel(x, g, staged, *geometry, 1, prologue=identity)
    fast.depthwise_forward(x, kernel, staged_out, *geometry, 1, prologue=identity)
    for threads in (1, 2, 3):
        np.testing.assert_array_equal(
            run(fast, "depthwise_grad_kernel", calls, geometry, threads), staged)
        np.testing.assert_array_equal(run_backward(fast, calls, geometry, threads)[1], staged)
        np.testing.assert_array_equal(
            run(fast, "depthwise_forward", calls, geometry, threads), staged_out)
    if g.size:   # (an empty output returns before any plan)
        for plan in (grad_kernel_plan, forward_plan):
            p = plan(x.shape, k_shape, g.shape[1:3], geometry, x.itemsize)
            assert p.direct or not (p.col_ranges[:, 1] > p.col_ranges[:, 0]).any()


@pytest.mark.parametrize("path", ["base", "avx2", "avx512"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_edge_pixel_alone_gets_the_bits_it_gets_in_a_block(each_path, path, dtype):
    """Read in place, the forward computes an edge pixel on its own (a span of one pixel), where
    the staged forward computes it in a block of several; the channels past the last vector
    (5 = 4 + 1 doubles with AVX2) once rounded differently in the two (include/
    depthwise_simd_impl.h, DW_MADD). Shapes that showed it, against the staged bits."""
    each_path(path)
    for shape, strides, dilation in [((2, 9, 11, 5), 2, 1), ((2, 9, 11, 3), 2, 1),
                                     ((2, 8, 6, 17), 2, 2), ((1, 9, 9, 19), 3, 1)]:
        rng = np.random.default_rng(0)
        calls, geometry = make_case(rng, shape[0], shape[1], shape[2], shape[3], 1, (3, 3),
                                    (strides, strides), (dilation, dilation), "same", dtype)
        (x, kernel), out_shape = calls["depthwise_forward"]
        staged = np.empty(out_shape, dtype)
        fast.depthwise_forward(x, kernel, staged, *geometry, 1,
                               prologue=identity_prologue(shape[3], dtype))
        np.testing.assert_array_equal(run(fast, "depthwise_forward", calls, geometry, 2), staged,
                                      err_msg=f"{path} {shape}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_channel_count_up_to_three_full_vectors(dtype):
    """C*M from 1 to 48: every mix of full-width vectors (16 floats / 8 doubles with AVX-512,
    half that with AVX2), the one half-width vector and the scalar leftovers."""
    for c in range(1, 49):
        calls, geometry = make_case(np.random.default_rng(c), n=1, h=5, w=7, c=c, m=1,
                                    kernel=(3, 3), strides=(1, 1), dilation=(1, 1),
                                    padding="same", dtype=dtype)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        for name in KERNELS:
            np.testing.assert_allclose(run(fast, name, calls, geometry, threads=1),
                                       run(ref, name, calls, geometry, threads=1),
                                       atol=tol, rtol=tol, err_msg=f"{name} C={c}")


@pytest.mark.parametrize("w", range(1, 11))
@pytest.mark.parametrize("kh, sh, dh", [(1, 1, 1), (3, 1, 1), (5, 2, 1), (7, 1, 2)])
@pytest.mark.parametrize("c, m", [(1, 1), (8, 1), (19, 2), (32, 1)])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_three_column_kernels_on_narrow_rows(w, kh, sh, dh, c, m, padding):
    """Kernels 3 columns wide (MobileNet's) on rows of 1 to 10 pixels, with 1 to 7 kernel rows,
    row strides and dilations, channel tails (vectors of 8), depth multiplier 2, and rows cut by
    the image border: every pixel block size of the micro-kernels and every border case."""
    calls, geometry = make_case(np.random.default_rng(w + 31 * kh), n=2, h=9, w=w, c=c, m=m,
                                kernel=(kh, 3), strides=(sh, 1), dilation=(dh, 1),
                                padding=padding, dtype=np.float64)
    for name in KERNELS:
        np.testing.assert_allclose(run(fast, name, calls, geometry, threads=2),
                                   run(ref, name, calls, geometry, threads=1),
                                   atol=1e-12, rtol=1e-12, err_msg=name)


def test_forward_by_hand_same_padding_goes_bottom_right():
    # 4x4 input, 2x2 window of ones, stride 2, 'same': out 2x2 with no padding at all;
    # 3x3 input: out 2x2, total pad 1, all of it at the bottom/right (TensorFlow's rule)
    x = np.arange(9, dtype=np.float64).reshape(1, 3, 3, 1)
    k = np.ones((2, 2, 1, 1))
    (oh, ow), (pt, pb), (pl, pr) = conv_geometry((3, 3), (2, 2), (2, 2), (1, 1), "same")
    assert (oh, ow, pt, pb, pl, pr) == (2, 2, 0, 1, 0, 1)
    out = np.empty((1, 2, 2, 1))
    fast.depthwise_forward(x, k, out, 2, 2, 1, 1, pt, pl, 1)
    assert out[0, :, :, 0].tolist() == [[0 + 1 + 3 + 4, 2 + 5], [6 + 7, 8]]


def test_output_channel_is_c_times_m_plus_m():
    x = np.stack([np.full((3, 3), 1.0), np.full((3, 3), 10.0)], axis=-1)[None]  # C = 2
    k = np.zeros((1, 1, 2, 3))
    k[0, 0] = [[1, 2, 3], [4, 5, 6]]                                         # M = 3
    out = np.empty((1, 3, 3, 6))
    fast.depthwise_forward(x, k, out, 1, 1, 1, 1, 0, 0, 1)
    assert out[0, 0, 0].tolist() == [1, 2, 3, 40, 50, 60]


def test_empty_output_gives_zero_gradients():
    rng = np.random.default_rng(0)
    calls, geometry = make_case(rng, 2, 3, 3, 4, 2, (5, 5), (1, 1), (1, 1), "valid", np.float32)
    assert calls["depthwise_forward"][1] == (2, 0, 0, 8)
    assert run(fast, "depthwise_forward", calls, geometry, 2).shape == (2, 0, 0, 8)
    for name in ("depthwise_grad_input", "depthwise_grad_kernel"):
        assert not run(fast, name, calls, geometry, 2).any()
        assert not run(ref, name, calls, geometry, 1).any()


def test_zero_sized_batch_and_channels():
    for n, c in ((0, 3), (2, 0)):
        calls, geometry = make_case(np.random.default_rng(0), n, 5, 5, c, 2, (3, 3), (1, 1),
                                    (1, 1), "same", np.float32)
        for name in KERNELS:
            assert run(fast, name, calls, geometry, 2, fill=1).shape == calls[name][1]
        assert not run(fast, "depthwise_grad_kernel", calls, geometry, 2, fill=1).any()


@pytest.mark.parametrize("module", [fast, ref], ids=["cython", "numpy"])
def test_reference_and_kernel_share_one_signature(module):
    x = np.ones((1, 4, 4, 2), np.float32)
    k = np.ones((3, 3, 2, 1), np.float32)
    out = np.zeros((1, 4, 4, 2), np.float32)
    module.depthwise_forward(x, k, out, stride_h=1, stride_w=1, dilation_h=1, dilation_w=1,
                             pad_top=1, pad_left=1, num_threads=1)
    assert out[0, 1, 1, 0] == 9 and out[0, 0, 0, 0] == 4


# ---- the kernels refuse what could make them read or write out of bounds ------------------

def _ok_args():
    x = np.zeros((2, 5, 5, 3), np.float32)
    k = np.zeros((3, 3, 3, 2), np.float32)
    out = np.zeros((2, 5, 5, 6), np.float32)
    return x, k, out


@pytest.mark.parametrize("change, match", [
    (lambda x, k, o: (x, k, np.zeros((2, 5, 5, 5), np.float32)), "shapes do not fit"),
    (lambda x, k, o: (x, k, np.zeros((1, 5, 5, 6), np.float32)), "shapes do not fit"),
    (lambda x, k, o: (x, np.zeros((3, 3, 2, 2), np.float32), o), "shapes do not fit"),
    (lambda x, k, o: (x, np.zeros((0, 3, 3, 2), np.float32), o), "kernel size"),
])
def test_kernels_refuse_shapes_that_do_not_fit(change, match):
    x, k, out = change(*_ok_args())
    with pytest.raises(ValueError, match=match):
        fast.depthwise_forward(x, k, out, 1, 1, 1, 1, 1, 1, 1)


@pytest.mark.parametrize("geometry, match", [
    ((0, 1, 1, 1, 1, 1, 1), "strides and dilations"),
    ((1, 1, 0, 1, 1, 1, 1), "strides and dilations"),
    ((1, 1, 1, 1, -1, 1, 1), "pads"),
    ((1, 1, 1, 1, 1, 1, 0), "num_threads"),
    ((1, 1, 1, 2**61, 1, 1, 1), "too large"),
])
@pytest.mark.parametrize("name", KERNELS + ("depthwise_backward",))
def test_kernels_refuse_bad_geometry(geometry, match, name):
    x, k, out = _ok_args()
    args = {"depthwise_forward": (x, k, out), "depthwise_grad_input": (out, k, x),
            "depthwise_grad_kernel": (x, out, k),
            "depthwise_backward": (x, k, out, x.copy(), k.copy())}[name]
    with pytest.raises(ValueError, match=match):
        getattr(fast, name)(*args, *geometry)


def test_kernels_refuse_mixed_dtypes_and_non_contiguous_arrays():
    x, k, out = _ok_args()
    with pytest.raises((TypeError, ValueError)):
        fast.depthwise_forward(x.astype(np.float64), k, out, 1, 1, 1, 1, 1, 1, 1)
    with pytest.raises((TypeError, ValueError)):
        fast.depthwise_forward(x[:, :, ::-1], k, out, 1, 1, 1, 1, 1, 1, 1)
    with pytest.raises((TypeError, ValueError)):
        fast.depthwise_forward(x.astype(np.int32), k.astype(np.int32), out.astype(np.int32),
                               1, 1, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError):  # outputs must be writable
        out.flags.writeable = False
        fast.depthwise_forward(x, k, out, 1, 1, 1, 1, 1, 1, 1)


def test_read_only_inputs_are_accepted():
    x, k, out = _ok_args()
    x.flags.writeable = False
    k.flags.writeable = False
    fast.depthwise_forward(x, k, out, 1, 1, 1, 1, 1, 1, 1)
    assert not out.any()


@pytest.mark.parametrize("name", KERNELS + ("depthwise_backward",))
def test_windows_entirely_in_a_huge_padding_give_zeros_quickly(name):
    x, k, out = _ok_args()
    x[...] = 1
    k[...] = 1
    args = {"depthwise_forward": (x, k, out), "depthwise_grad_input": (out + 1, k, x),
            "depthwise_grad_kernel": (x, out + 1, k),
            "depthwise_backward": (x, k, out + 1, np.ones_like(x), np.ones_like(k))}[name]
    getattr(fast, name)(*args, 1, 1, 1, 1, 2**40, 2**40, 2)   # no huge buffer, no hang
    for written in args[2 if name != "depthwise_backward" else 3:]:
        assert not written.any()


def test_arbitrary_pads_and_output_sizes_stay_in_bounds():
    # the kernels bound-check every tap, so even geometry no op would produce is safe and
    # agrees with the reference (windows entirely in the padding give zeros)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 4, 5, 3)).astype(np.float64)
    k = rng.standard_normal((2, 3, 3, 1))
    g = rng.standard_normal((1, 6, 7, 3))
    for pads in ((0, 0), (3, 4), (9, 1)):
        for name, args, shape in (("depthwise_forward", (x, k), g.shape),
                                  ("depthwise_grad_input", (g, k), x.shape),
                                  ("depthwise_grad_kernel", (x, g), k.shape)):
            got, want = np.empty(shape), np.empty(shape)
            getattr(fast, name)(*args, got, 1, 2, 2, 1, *pads, 2)
            getattr(ref, name)(*args, want, 1, 2, 2, 1, *pads, 1)
            np.testing.assert_allclose(got, want, atol=1e-12, err_msg=f"{name} {pads}")


# ---- the micro-kernels alone: include/depthwise_simd.h's vectorised spans (dw_corr_span_f32,
# ---- dw_wgrad_span_f32) against the plain loops they must equal (dw_*_span_plain) ------------

def exact_product_floats(rng, size):
    """float32 values with 12 significant bits (an integer below 4096 times 2**-24 .. 2**0).
    The product of two is exact in float32's 24 bits, so a fused multiply-add (one rounding) and
    a multiply then an add (two) give the same sum; sums of products that far apart in size
    still round, so the order of every sum shows in the bits."""
    mantissa = rng.integers(1, 4096, size) * rng.choice([-1, 1], size)
    return np.ldexp(mantissa, rng.integers(-24, 1, size)).astype(np.float32)


def span_case(rng, floats, ntaps, count, channels, src_step, dst_step):
    """Offsets and arrays for one span: taps read anywhere in src and w (overlaps allowed), while
    the gk ranges of different taps are disjoint, as in the kernels, so every element of gk is
    added to once."""
    src_off = rng.integers(0, 40, ntaps).astype(np.intp)
    w_off = rng.integers(0, 30, ntaps).astype(np.intp)
    gk_off = (rng.permutation(ntaps) * (channels + 3)).astype(np.intp)
    reach = (count - 1) * src_step + channels
    return dict(src=floats(rng, int(src_off.max(initial=0)) + max(reach, 0) + 1), src_off=src_off,
                w=floats(rng, 30 + channels), w_off=w_off, gk0=floats(rng, ntaps * (channels + 3)),
                gk_off=gk_off, g=floats(rng, count * channels), count=count, channels=channels,
                src_step=src_step, dst_step=dst_step)


def corr_span(case, plain):
    dst = np.full(max((case["count"] - 1) * case["dst_step"] + case["channels"], 0), np.nan,
                  np.float32)
    fast._corr_span_float32(case["src"], case["src_off"], case["w"], case["w_off"], dst,
                            case["count"], case["src_step"], case["dst_step"], case["channels"],
                            plain)
    return dst


def wgrad_span(case, plain):
    gk = case["gk0"].copy()
    fast._wgrad_span_float32(case["src"], case["src_off"], gk, case["gk_off"], case["g"],
                             case["count"], case["src_step"], case["channels"], plain)
    return gk


def pixels(case):
    """Index arrays t (count, 1) and c (channels,): element (t, c) of a span."""
    return np.arange(case["count"])[:, None], np.arange(case["channels"])


def corr_span_numpy(case, taps):
    """dw_corr_span_plain's sums in NumPy float32, the taps added in the order ``taps``."""
    t, c = pixels(case)
    acc = np.zeros((case["count"], case["channels"]), np.float32)
    for q in taps:
        acc = acc + case["src"][case["src_off"][q] + t * case["src_step"] + c] * \
            case["w"][case["w_off"][q] + c]
    return acc


def span_shapes():
    """Channels up to three 16-float vectors (AVX-512; 8 with AVX2) with every half-vector and
    scalar tail, pixel counts with every leftover block of dw_corr_span, and tap counts across
    dw_wgrad_span's groups of 9 (AVX-512) or 4 (AVX2); steps of stride 1 to 3."""
    return st.tuples(st.integers(0, 13), st.integers(0, 11), st.integers(0, 50),
                     st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**16))


@settings(max_examples=150, deadline=None)
@given(shape=span_shapes())
def test_vectorised_spans_are_the_plain_loops_bit_for_bit_when_products_are_exact(shape):
    ntaps, count, channels, src_stride, dst_stride, seed = shape
    case = span_case(np.random.default_rng(seed), exact_product_floats, ntaps, count, channels,
                     src_stride * channels, dst_stride * channels)
    vectorised, plain = corr_span(case, plain=False), corr_span(case, plain=True)
    assert np.array_equal(vectorised, plain, equal_nan=True)
    t, c = pixels(case)   # the (t, c) elements are the formula's, in the plain loop's order ...
    assert np.array_equal(vectorised[t * case["dst_step"] + c], corr_span_numpy(case, range(ntaps)))
    assert np.isnan(vectorised).sum() == vectorised.size - count * channels   # ... the rest: NaN
    assert np.array_equal(wgrad_span(case, plain=False), wgrad_span(case, plain=True))


def test_the_bit_for_bit_span_test_sees_the_order_of_the_taps():
    """The exact-product inputs are not so tame that any order gives the same bits: adding the
    taps in reverse changes them (so the test above would catch a reordered sum)."""
    case = span_case(np.random.default_rng(5), exact_product_floats, 9, 8, 40, 40, 40)
    kernel = corr_span(case, plain=False).reshape(8, 40)    # dst_step = channels: no gaps
    assert np.array_equal(kernel, corr_span_numpy(case, range(9)))
    assert not np.array_equal(kernel, corr_span_numpy(case, reversed(range(9))))


@settings(max_examples=60, deadline=None)
@given(shape=span_shapes())
def test_vectorised_spans_are_the_plain_loops_up_to_one_rounding_per_product(shape):
    """Any floats: the compiler may fuse a multiply and an add in one loop and not in the other,
    so each term may be rounded once or twice. Both then stay within the recursive-summation
    bound gamma_n * sum |terms| of the exact sum (n terms, unit roundoff u = 2**-24)."""
    ntaps, count, channels, src_stride, dst_stride, seed = shape
    normal = lambda rng, size: rng.standard_normal(size).astype(np.float32)
    case = span_case(np.random.default_rng(seed), normal, ntaps, count, channels,
                     src_stride * channels, dst_stride * channels)
    gamma = lambda n: n * 2.0**-24 / (1 - n * 2.0**-24)
    t, c = pixels(case)
    x = [case["src"][case["src_off"][q] + t * case["src_step"] + c].astype(np.float64)
         for q in range(ntaps)]                  # (count, channels): what tap q reads
    w = [case["w"][case["w_off"][q] + c] for q in range(ntaps)]
    bound = 2 * gamma(ntaps + 1) * sum((np.abs(x[q] * w[q]) for q in range(ntaps)),
                                       np.zeros((count, channels)))
    fused_or_not = [corr_span(case, plain)[t * case["dst_step"] + c] for plain in (False, True)]
    assert np.all(np.abs(fused_or_not[0].astype(np.float64) - fused_or_not[1]) <= bound)
    g = case["g"].reshape(count, channels).astype(np.float64)
    fused_or_not = [wgrad_span(case, plain) for plain in (False, True)]
    for q in range(ntaps):
        at = case["gk_off"][q] + c
        bound = 2 * gamma(count + 1) * (np.abs(x[q] * g).sum(axis=0) + np.abs(case["gk0"][at]))
        assert np.all(np.abs(fused_or_not[0][at].astype(np.float64) - fused_or_not[1][at]) <= bound)


@pytest.mark.parametrize("change, match", [
    (dict(src_off=np.array([200], np.intp)), "src has 50 elements"),
    (dict(src_off=np.array([-1], np.intp)), "src has 50 elements"),
    (dict(w_off=np.array([0, 1], np.intp)), "w has 2 offsets for 1 taps"),
    (dict(count=-1), "must be >= 0"),
    (dict(dst=np.zeros(10, np.float32)), "dst has 10 elements"),
])
def test_a_span_alone_refuses_what_would_leave_its_arrays(change, match):
    args = dict(src=np.zeros(50, np.float32), src_off=np.array([0], np.intp),
                w=np.zeros(8, np.float32), w_off=np.array([0], np.intp),
                dst=np.zeros(20, np.float32), count=3, src_step=8, dst_step=6, channels=4)
    args.update(change)
    for plain in (False, True):
        with pytest.raises(ValueError, match=match):
            fast._corr_span_float32(*args.values(), plain)


@pytest.mark.parametrize("gk_size, gk_off, g_size, match", [
    (4, [1], 12, "gk has 4 elements"), (8, [0, 4], 12, "gk has 2 offsets for 1 taps"),
    (8, [4], 11, "g has 11 elements"),
])
def test_a_kernel_gradient_span_alone_refuses_what_would_leave_its_arrays(gk_size, gk_off,
                                                                          g_size, match):
    for plain in (False, True):
        with pytest.raises(ValueError, match=match):
            fast._wgrad_span_float32(np.zeros(50, np.float32), np.array([0], np.intp),
                                     np.zeros(gk_size, np.float32), np.array(gk_off, np.intp),
                                     np.zeros(g_size, np.float32), 3, 8, 4, plain)
