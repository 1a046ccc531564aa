"""minigrad.ops.depthwise: gradients (gradcheck), PyTorch agreement, dtypes, what forward keeps,
and a clear error for every bad argument."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.backend.kernels.reference import depthwise as ref
from minigrad.ops.depthwise import DepthwiseConv2D, depthwise_conv2d
from minigrad.ops.geometry import conv_geometry
from minigrad.testing import gradcheck

# every test here runs twice: on the compiled kernels and on their NumPy twins
pytestmark = pytest.mark.usefixtures("op_kernels")


def _reference(x, k, strides, padding, dilation):
    """NHWC forward with the NumPy twin."""
    (oh, ow), (pt, _), (pl, _) = conv_geometry(x.shape[1:3], k.shape[:2], strides, dilation,
                                               padding)
    out = np.empty((x.shape[0], oh, ow, k.shape[2] * k.shape[3]), dtype=x.dtype)
    ref.depthwise_forward(x, k, out, *strides, *dilation, pt, pl, 1)
    return out


GRAD_CASES = [
    dict(shape=(2, 5, 6, 2), kernel=(3, 3, 2, 1), strides=1, padding="valid", dilation_rate=1),
    dict(shape=(1, 6, 6, 2), kernel=(3, 3, 2, 2), strides=2, padding="same", dilation_rate=1),
    dict(shape=(1, 7, 5, 3), kernel=(3, 2, 3, 1), strides=(2, 1), padding="same",
         dilation_rate=(1, 2)),
    dict(shape=(1, 8, 7, 2), kernel=(2, 3, 2, 2), strides=2, padding="same", dilation_rate=2),
    dict(shape=(1, 7, 7, 1), kernel=(3, 3, 1, 3), strides=(1, 3), padding="valid",
         dilation_rate=(2, 1)),
    dict(shape=(1, 2, 5, 6), kernel=(3, 3, 2, 2), strides=1, padding="same", dilation_rate=1,
         data_format="channels_first"),
    dict(shape=(1, 2, 6, 5), kernel=(2, 3, 2, 1), strides=2, padding="valid", dilation_rate=2,
         data_format="channels_first"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: f"{c['kernel']}-s{c['strides']}-"
                         f"{c['padding']}-d{c['dilation_rate']}-{c.get('data_format', 'last')}")
def test_gradcheck_x_and_kernel(case):
    case = dict(case)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case.pop("shape"))
    k = rng.standard_normal(case.pop("kernel"))
    assert gradcheck(lambda a, b: depthwise_conv2d(a, b, **case), [x, k])


def test_forward_matches_reference_in_both_data_formats():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    k = rng.standard_normal((3, 2, 3, 2)).astype(np.float32)
    want = _reference(x, k, (2, 1), "same", (1, 2))
    last = depthwise_conv2d(x, k, strides=(2, 1), padding="same", dilation_rate=(1, 2))
    first = depthwise_conv2d(x.transpose(0, 3, 1, 2), k, strides=(2, 1), padding="SAME",
                             data_format="channels_first", dilation_rate=(1, 2))
    np.testing.assert_allclose(last.numpy(), want, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(first.numpy(), want.transpose(0, 3, 1, 2), atol=1e-5, rtol=1e-5)
    assert first.data.flags.c_contiguous


def test_channels_first_gradients_equal_channels_last_ones():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 7, 6, 4)).astype(np.float32)
    k = rng.standard_normal((3, 3, 4, 2)).astype(np.float32)
    grads = []
    for fmt, xin in (("channels_last", x), ("channels_first", x.transpose(0, 3, 1, 2))):
        xt, kt = mg.Tensor(xin, requires_grad=True), mg.Tensor(k, requires_grad=True)
        y = depthwise_conv2d(xt, kt, strides=2, padding="same", data_format=fmt)
        (y * y).sum().backward()
        gx = xt.grad if fmt == "channels_last" else xt.grad.transpose(0, 2, 3, 1)
        grads.append((gx, kt.grad))
    np.testing.assert_allclose(grads[0][0], grads[1][0], atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(grads[0][1], grads[1][1], atol=1e-4, rtol=1e-5)


# ---- PyTorch: conv2d with groups=C is a depthwise convolution --------------------------------

TORCH_CASES = [
    ((2, 10, 10, 3), (3, 3, 3, 2), (1, 1), "same", (1, 1)),
    ((2, 10, 10, 3), (3, 5, 3, 2), (2, 2), "same", (1, 1)),   # asymmetric 'same' padding
    ((2, 11, 9, 4), (3, 3, 4, 1), (2, 2), "valid", (1, 1)),
    ((2, 12, 13, 5), (3, 3, 5, 1), (2, 2), "same", (2, 2)),   # dilation with stride
    ((1, 14, 12, 3), (3, 2, 3, 3), (2, 3), "same", (3, 2)),
    ((3, 9, 9, 17), (5, 5, 17, 1), (1, 1), "valid", (1, 1)),
    ((2, 16, 16, 32), (3, 3, 32, 1), (2, 2), "same", (2, 2)),
]


def _torch_depthwise(torch, x, k, strides, padding, dilation):
    """NHWC in, NHWC out: F.pad with TensorFlow's padding, then conv2d(groups=C)."""
    F = torch.nn.functional
    n, h, w, c = x.shape
    kh, kw, _, m = k.shape
    _, (pt, pb), (pl, pr) = conv_geometry((h, w), (kh, kw), strides, dilation, padding)
    weight = k.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)   # out channel c*M + m
    y = F.conv2d(F.pad(x.permute(0, 3, 1, 2), (pl, pr, pt, pb)), weight, stride=strides,
                 dilation=dilation, groups=c)
    return y.permute(0, 2, 3, 1)


@pytest.mark.parametrize("x_shape, k_shape, strides, padding, dilation", TORCH_CASES)
def test_forward_and_both_gradients_match_pytorch(x_shape, k_shape, strides, padding, dilation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape).astype(np.float32)
    k = rng.standard_normal(k_shape).astype(np.float32)
    xt, kt = mg.Tensor(x, requires_grad=True), mg.Tensor(k, requires_grad=True)
    y = depthwise_conv2d(xt, kt, strides=strides, padding=padding, dilation_rate=dilation)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)

    tx = torch.tensor(x, requires_grad=True)
    tk = torch.tensor(k, requires_grad=True)
    ty = _torch_depthwise(torch, tx, tk, strides, padding, dilation)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(kt.grad, tk.grad.numpy(), atol=1e-4, rtol=1e-5)


# ---- dtypes, graph bookkeeping, edge cases ---------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_in_output_and_gradients(dtype):
    x = mg.Tensor(np.ones((1, 4, 4, 2), dtype), requires_grad=True)
    k = mg.Tensor(np.ones((3, 3, 2, 1), dtype), requires_grad=True)
    y = depthwise_conv2d(x, k, padding="same")
    y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype and k.grad.dtype == dtype


def test_int_bool_and_float16_inputs_become_float32_and_mixed_dtypes_promote():
    k = np.ones((2, 2, 1, 1), np.float16)
    assert depthwise_conv2d(np.ones((1, 3, 3, 1), np.int64), k).dtype == np.float32
    assert depthwise_conv2d(np.ones((1, 3, 3, 1), bool), k).dtype == np.float32
    assert depthwise_conv2d([[[[1.0], [2.0]], [[3.0], [4.0]]]], k).numpy().item() == 10.0
    x64 = mg.Tensor(np.ones((1, 3, 3, 1)), requires_grad=True)
    k32 = mg.Tensor(np.ones((2, 2, 1, 1), np.float32), requires_grad=True)
    y = depthwise_conv2d(x64, k32)
    y.sum().backward()
    assert y.dtype == np.float64 and x64.grad.dtype == np.float64 and k32.grad.dtype == np.float32


def test_forward_keeps_only_what_the_needed_gradients_read():
    x = np.ones((1, 5, 5, 2), np.float32)
    k = np.ones((3, 3, 2, 1), np.float32)
    only_k = depthwise_conv2d(x, mg.Tensor(k, requires_grad=True))
    assert only_k._node.x is not None and only_k._node.kernel is None
    only_x = depthwise_conv2d(mg.Tensor(x, requires_grad=True), k)
    assert only_x._node.x is None and only_x._node.kernel is not None
    with mg.no_grad():
        assert depthwise_conv2d(mg.Tensor(x, requires_grad=True), k)._node is None


def test_backward_computes_only_the_requested_gradient():
    x = mg.Tensor(np.ones((1, 5, 5, 2), np.float32), requires_grad=True)
    y = depthwise_conv2d(x, np.ones((3, 3, 2, 1), np.float32))
    assert DepthwiseConv2D.backward(y._node, np.ones(y.shape, np.float32))[1] is None


def test_valid_window_larger_than_input_gives_empty_output_and_zero_gradients():
    x = mg.Tensor(np.ones((2, 3, 4, 2), np.float32), requires_grad=True)
    k = mg.Tensor(np.ones((3, 3, 2, 2), np.float32), requires_grad=True)
    y = depthwise_conv2d(x, k, dilation_rate=2)
    assert y.shape == (2, 0, 0, 4)
    y.sum().backward()
    assert x.grad.shape == x.shape and not x.grad.any()
    assert k.grad.shape == k.shape and not k.grad.any()


def test_huge_dilation_with_same_padding_keeps_only_the_centre_tap(op_kernels):
    # the window spans ~2e9 pixels: only its centre meets the image; nothing huge is allocated
    if op_kernels == "reference":
        pytest.skip("the NumPy twin pads the whole input, as the chapter teaches: 2e9 rows of "
                    "zeros do not fit in memory (the kernel leaves out taps that miss the image)")
    rng = np.random.default_rng(5)
    x = mg.Tensor(rng.standard_normal((2, 5, 6, 3)), requires_grad=True)
    k = mg.Tensor(rng.standard_normal((3, 3, 3, 2)), requires_grad=True)
    y = depthwise_conv2d(x, k, padding="same", dilation_rate=10**9)
    want = (x.numpy()[..., None] * k.numpy()[1, 1]).reshape(2, 5, 6, 6)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.broadcast_to(k.numpy()[1, 1].sum(-1), x.shape))
    expected_k = np.zeros((3, 3, 3, 2))
    expected_k[1, 1] = x.numpy().sum(axis=(0, 1, 2))[:, None]
    np.testing.assert_allclose(k.grad, expected_k, rtol=1e-12)


def test_result_does_not_depend_on_the_thread_count():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 20, 20, 24)).astype(np.float32)
    k = rng.standard_normal((3, 3, 24, 2)).astype(np.float32)
    before = mg.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 4):
            mg.set_num_threads(threads)
            xt, kt = mg.Tensor(x, requires_grad=True), mg.Tensor(k, requires_grad=True)
            y = depthwise_conv2d(xt, kt, strides=2, padding="same", dilation_rate=2)
            (y * y).sum().backward()
            results.append((y.numpy(), xt.grad, kt.grad))
    finally:
        mg.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b)


# ---- every bad argument gets a clear error, before any C code runs ---------------------------

X = np.ones((1, 5, 5, 2), np.float32)
K = np.ones((3, 3, 2, 1), np.float32)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(x=np.ones((5, 5, 2))), ValueError, r"depthwise_conv2d: x must be 4-D .*\(5, 5, 2\)"),
    (dict(x=np.ones((1, 1, 5, 5, 2))), ValueError, r"x must be 4-D"),
    (dict(depthwise_kernel=np.ones((3, 3, 2))), ValueError, r"depthwise_kernel must be 4-D"),
    (dict(depthwise_kernel=np.ones((3, 3, 3, 1))), ValueError,
     r"depthwise_kernel has 3 input channels .* x has 2"),
    (dict(data_format="channels_first"), ValueError, r"depthwise_kernel has 2 input channels .* x has 5"),
    (dict(depthwise_kernel=np.ones((0, 3, 2, 1))), ValueError, r"kernel size must be at least 1x1, got 0x3"),
    (dict(depthwise_kernel=np.ones((3, 0, 2, 1))), ValueError, r"kernel size .* got 3x0"),
    (dict(depthwise_kernel=np.ones((3, 3, 2, 0))), ValueError, r"depth multiplier .* got 0"),
    (dict(strides=0), ValueError, r"depthwise_conv2d: strides must be a positive integer .* got 0"),
    (dict(strides=-1), ValueError, r"strides .* got -1"),
    (dict(strides=(1, -2)), ValueError, r"strides .* got \(1, -2\)"),
    (dict(strides=1.5), TypeError, r"strides .* got 1.5"),
    (dict(strides=2.0), TypeError, r"strides .* got 2.0"),
    (dict(strides=True), TypeError, r"strides .* got True"),
    (dict(strides=(1, 1, 1)), ValueError, r"strides .*\(length 3\)"),
    (dict(strides="2"), TypeError, r"strides .* got '2'"),
    (dict(strides=2**40), ValueError, r"strides must be at most"),
    (dict(dilation_rate=0), ValueError, r"dilation_rate must be a positive integer .* got 0"),
    (dict(dilation_rate=-2), ValueError, r"dilation_rate .* got -2"),
    (dict(dilation_rate=(1.5, 1)), TypeError, r"dilation_rate .* got \(1.5, 1\)"),
    (dict(dilation_rate=(False, 1)), TypeError, r"dilation_rate .* got \(False, 1\)"),
    (dict(dilation_rate=(2,)), ValueError, r"dilation_rate .*\(length 1\)"),
    (dict(padding="full"), ValueError, r"depthwise_conv2d: padding must be 'valid' or 'same', got 'full'"),
    (dict(padding=None), ValueError, r"padding .* got None"),
    (dict(data_format="NHWC"), ValueError, r"data_format must be 'channels_last' or 'channels_first', got 'NHWC'"),
    (dict(x=np.ones((1, 5, 5, 2), np.complex64)), TypeError, r"depthwise_conv2d: x must be a real numeric .* complex64"),
    (dict(x=np.array([[[["a"]]]])), TypeError, r"x must be a real numeric .* dtype <U1"),
    (dict(x=np.empty((1, 5, 5, 2), object)), TypeError, r"x must be a real numeric .* object"),
    (dict(x=None), TypeError, r"x must be a real numeric"),
    (dict(depthwise_kernel="kernel"), TypeError, r"depthwise_kernel must be a real numeric"),
    (dict(x=[[[[1.0]], [[1.0, 2.0]]]]), TypeError,
     r"depthwise_conv2d: x must be a real numeric array or Tensor .*got list"),
])
def test_bad_arguments_are_refused_with_a_clear_message(kwargs, error, match):
    args = dict(x=X, depthwise_kernel=K)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        depthwise_conv2d(**args)


# ---- the output buffers come from a pool, and are reused only once nobody holds them ---------

def test_pooled_outputs_are_never_shared_while_alive_and_reused_after():
    from minigrad.backend import buffers as _buffers
    x = np.ones((4, 32, 32, 64), np.float32)            # 1 MiB in, 1 MiB out: pooled sizes
    k = np.ones((3, 3, 64, 1), np.float32)
    first = depthwise_conv2d(x, k, padding="same")
    view = first.numpy()[1:3]                            # something derived from the output
    second = depthwise_conv2d(x, k, padding="same")
    assert not np.shares_memory(first.numpy(), second.numpy())
    first_ptr = first.numpy().ctypes.data
    del first
    third = depthwise_conv2d(x, k, padding="same")      # `view` still holds the first buffer
    assert not np.shares_memory(third.numpy(), view)
    third_ptr = third.numpy().ctypes.data
    del view, third
    fourth = depthwise_conv2d(2 * x, k, padding="same")  # now both are free: one is reused
    assert fourth.numpy().ctypes.data in (first_ptr, third_ptr)
    assert _buffers.pooled_bytes() >= 3 * fourth.numpy().nbytes
    np.testing.assert_array_equal(second.numpy()[0, 5, 5], 9)  # untouched by later calls
    np.testing.assert_array_equal(fourth.numpy()[0, 5, 5], 18)
