"""conv2d against a loop-by-loop NumPy reference, finite differences and (when installed) PyTorch."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.ops.conv import conv2d, tap_ranges
from minigrad.ops.geometry import conv_geometry
from minigrad.testing import gradcheck


def reference_conv(x, k, strides, padding, dilation):
    """y[n, o, q, co] = sum over taps of x[n, o*sh + i*dh - pt, q*sw + j*dw - pl, ci] * k[i, j, ci, co],
    one output pixel at a time (padding reads 0); also returns the index map for the gradients."""
    n, h, w, cin = x.shape
    kh, kw, _, cout = k.shape
    (oh, ow), (pt, _), (pl, _) = conv_geometry((h, w), (kh, kw), strides, dilation, padding)
    y = np.zeros((n, oh, ow, cout))
    reads = []   # (o, q, r, s, i, j): output (o, q) reads pixel (r, s) through tap (i, j)
    for o in range(oh):
        for q in range(ow):
            for i in range(kh):
                for j in range(kw):
                    r, s = o * strides[0] + i * dilation[0] - pt, q * strides[1] + j * dilation[1] - pl
                    if 0 <= r < h and 0 <= s < w:
                        reads.append((o, q, r, s, i, j))
                        y[:, o, q, :] += x[:, r, s, :] @ k[i, j]
    return y, reads


def reference_conv_grads(x, k, g, reads):
    gx, gk = np.zeros_like(x), np.zeros_like(k)
    for o, q, r, s, i, j in reads:
        gx[:, r, s, :] += g[:, o, q, :] @ k[i, j].T
        gk[i, j] += x[:, r, s, :].T @ g[:, o, q, :]
    return gx, gk


def _run(x, k, **kw):
    xt, kt = mg.Tensor(x, requires_grad=True), mg.Tensor(k, requires_grad=True)
    y = conv2d(xt, kt, **kw)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(g)
    return y.numpy(), xt.grad, kt.grad, g


@st.composite
def conv_cases(draw):
    stride = draw(st.integers(1, 3))
    dilation = 1 if stride > 1 else draw(st.integers(1, 3))
    return dict(n=draw(st.integers(1, 2)), h=draw(st.integers(1, 8)), w=draw(st.integers(1, 8)),
                cin=draw(st.integers(1, 3)), cout=draw(st.integers(1, 3)),
                kh=draw(st.integers(1, 4)), kw=draw(st.integers(1, 4)),
                strides=(stride, draw(st.integers(1, 3)) if stride > 1 else 1),
                dilation=(dilation, draw(st.integers(1, 2)) if dilation > 1 else 1),
                padding=draw(st.sampled_from(["valid", "same"])), seed=draw(st.integers(0, 99)))


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_conv2d_matches_loop_reference(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["h"], case["w"], case["cin"]))
    k = rng.standard_normal((case["kh"], case["kw"], case["cin"], case["cout"]))
    y, gx, gk, g = _run(x, k, strides=case["strides"], padding=case["padding"],
                        dilation_rate=case["dilation"])
    ref, reads = reference_conv(x, k, case["strides"], case["padding"], case["dilation"])
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)
    ref_gx, ref_gk = reference_conv_grads(x, k, g, reads)
    np.testing.assert_allclose(gx, ref_gx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gk, ref_gk, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kh,kw,strides,dilation,padding", [
    (1, 1, (1, 1), (1, 1), "valid"),     # the pointwise fast path
    (1, 1, (2, 1), (1, 1), "same"),
    (3, 3, (1, 1), (1, 1), "same"),
    (3, 2, (2, 2), (1, 1), "same"),      # odd total padding: the extra pixel bottom/right
    (3, 3, (1, 1), (2, 1), "same"),
    (2, 3, (1, 2), (1, 1), "valid"),
])
def test_conv2d_gradcheck(kh, kw, strides, dilation, padding):
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((2, 5, 4, 2)), rng.standard_normal((kh, kw, 2, 3))
    assert gradcheck(lambda a, b: conv2d(a, b, strides, padding, dilation_rate=dilation), [x, k])


def test_conv2d_channels_first_gradcheck():
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((3, 3, 2, 2))
    assert gradcheck(lambda a, b: conv2d(a, b, 2, "same", "channels_first"), [x, k])


def test_channels_first_is_the_transposed_channels_last():
    rng = np.random.default_rng(2)
    x, k = rng.standard_normal((2, 7, 6, 3)), rng.standard_normal((3, 2, 3, 4))
    last = conv2d(x, k, (2, 1), "same").numpy()
    first = conv2d(x.transpose(0, 3, 1, 2), k, (2, 1), "same", "channels_first").numpy()
    np.testing.assert_allclose(first, last.transpose(0, 3, 1, 2), rtol=1e-12)


def test_same_padding_puts_the_extra_pixel_bottom_right():
    # 4 pixels, k=2, stride 1: total padding 1, all of it after the image
    x = np.arange(4.0).reshape(1, 1, 4, 1)
    y = conv2d(x, np.ones((1, 2, 1, 1)), padding="same").numpy().ravel()
    assert y.tolist() == [1.0, 3.0, 5.0, 3.0]


def test_pointwise_is_a_matrix_product():
    rng = np.random.default_rng(3)
    x, k = rng.standard_normal((2, 3, 4, 5)).astype(np.float32), rng.standard_normal((1, 1, 5, 6))
    k = k.astype(np.float32)
    y = conv2d(x, k)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), x @ k[0, 0], rtol=1e-5, atol=1e-6)


def test_valid_window_larger_than_input_gives_an_empty_output_and_zero_gradients():
    x, k = mg.Tensor(np.ones((2, 2, 3, 1)), requires_grad=True), mg.Tensor(np.ones((3, 3, 1, 4)),
                                                                           requires_grad=True)
    y = conv2d(x, k)
    assert y.shape == (2, 0, 1, 4)
    (y.sum() + (x * 1.0).sum() * 0).backward()
    assert not x.grad.any() and k.grad.shape == (3, 3, 1, 4) and not k.grad.any()


def test_input_gradient_skipped_when_not_needed_and_dtypes_kept():
    x = mg.Tensor(np.ones((1, 4, 4, 1), dtype=np.float32))
    k = mg.Tensor(np.ones((3, 3, 1, 2)), requires_grad=True)          # float64
    y = conv2d(x, k, padding="same")
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad is None and k.grad.dtype == np.float64
    assert k.grad[1, 1, 0, 0] == 16.0 and k.grad[0, 0, 0, 0] == 9.0


def test_tap_ranges_cover_exactly_the_real_pixels():
    for n_in, k, s, d, pad in [(5, 3, 2, 1, 1), (2, 3, 1, 5, 5), (7, 4, 3, 1, 0)]:
        n_out = (n_in + 2 * pad - ((k - 1) * d + 1)) // s + 1
        for t, (o0, o1, r0) in enumerate(tap_ranges(n_in, n_out, k, s, d, pad)):
            real = [o for o in range(n_out) if 0 <= o * s + t * d - pad < n_in]
            assert list(range(o0, o1)) == real
            if real:
                assert r0 == o0 * s + t * d - pad


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(padding="full"), ValueError, "conv2d: padding must be 'valid' or 'same', got 'full'"),
    (dict(strides=0), ValueError, r"conv2d: strides must be a positive integer.*got 0"),
    (dict(strides=(1, 2, 3)), ValueError, r"conv2d: strides .*length 3"),
    (dict(strides=1.5), TypeError, r"conv2d: strides .*got 1.5"),
    (dict(dilation_rate=(1, -1)), ValueError, r"conv2d: dilation_rate .*got \(1, -1\)"),
    (dict(strides=2, dilation_rate=2), ValueError, r"conv2d: strides \(2, 2\) and dilation_rate "
                                                    r"\(2, 2\) cannot both be above 1"),
    (dict(data_format="NHWC"), ValueError, r"conv2d: data_format must be 'channels_last' or "
                                           r"'channels_first', got 'NHWC'"),
])
def test_conv2d_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 1)), **kwargs)


def test_conv2d_bad_shapes():
    with pytest.raises(ValueError, match=r"conv2d: x must be a 4-D tensor \(N, H, W, C\) for "
                                         r"data_format='channels_last', got shape \(4, 4, 2\)"):
        conv2d(np.ones((4, 4, 2)), np.ones((3, 3, 2, 1)))
    with pytest.raises(ValueError, match=r"conv2d: kernel must be a 4-D tensor .*got shape \(3, 3, 2\)"):
        conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match=r"conv2d: kernel has 3 input channels .* but x has 2 "
                                         r"channels"):
        conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"conv2d: kernel has 2 input channels .* but x has 4 "
                                         r"channels .*channels_first"):
        conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 1)), data_format="channels_first")


@pytest.mark.parametrize("kh,stride,dilation,padding", [
    (3, 1, 1, "same"), (3, 2, 1, "same"), (4, 3, 1, "same"), (3, 1, 2, "same"), (2, 2, 1, "valid"),
    (1, 1, 1, "valid")])
def test_conv2d_matches_torch(kh, stride, dilation, padding):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(kh * 10 + stride)
    x, k = rng.standard_normal((2, 9, 8, 3)), rng.standard_normal((kh, kh, 3, 4))
    y, gx, gk, g = _run(x, k, strides=stride, padding=padding, dilation_rate=dilation)
    _, (pt, pb), (pl, pr) = conv_geometry((9, 8), (kh, kh), (stride,) * 2, (dilation,) * 2, padding)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    kt = torch.tensor(k.transpose(3, 2, 0, 1), requires_grad=True)
    yt = F.conv2d(F.pad(xt, (pl, pr, pt, pb)), kt, stride=stride, dilation=dilation)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gx, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gk, kt.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-10)
