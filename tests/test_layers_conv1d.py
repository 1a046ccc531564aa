"""Conv1D, grouped Conv2D, DepthwiseConv1D, SeparableConv1D (and channels_first for every conv
layer): the layer harness, values against a NumPy reference written here, float64 gradchecks of
the ops (conv1d, depthwise_conv1d, grouped conv2d), errors that name the argument, Keras 3 as
oracle (from Keras's own get_config) and TF.js predicting a saved Conv1D model."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import layers
from minigrad.ops.conv import conv2d
from minigrad.ops.conv1d import conv1d, depthwise_conv1d
from minigrad.testing import gradcheck
from keras_oracle import match_keras_layer
from layer_harness import randomize_weights, run_layer_test, saved_and_loaded
from test_tfjs_interop import _tfjs_predict


# -- a NumPy reference, one output step at a time --------------------------------------------------
def _padding(n, k, s, d, padding):
    """(out, pad_before) for one axis, written out independently of minigrad.ops.geometry."""
    eff = (k - 1) * d + 1
    if padding == "valid":
        return max((n - eff) // s + 1, 0), 0
    if padding == "causal":
        return (n - 1) // s + 1, eff - 1
    out = -(-n // s)
    return out, max((out - 1) * s + eff - n, 0) // 2


def reference_conv1d(x, kernel, stride=1, padding="valid", dilation=1, groups=1,
                     depthwise=False, channels_first=False):
    """y[n, o, f] = sum over taps t and the channels c of f's group of
    x[n, o*s + t*d - p, c] * kernel[t, c, f]; depthwise: kernel (k, C, M), output c*M + m."""
    x = np.asarray(x, np.float64)
    if channels_first:
        x = x.transpose(0, 2, 1)
    n, length, c = x.shape
    k = kernel.shape[0]
    out, before = _padding(length, k, stride, dilation, padding)
    width = c * kernel.shape[2] if depthwise else kernel.shape[2]
    y = np.zeros((n, out, width))
    for o in range(out):
        for t in range(k):
            i = o * stride + t * dilation - before
            if not 0 <= i < length:
                continue
            if depthwise:
                y[:, o] += (x[:, i, :, None] * kernel[t]).reshape(n, -1)
                continue
            cg, fg = c // groups, width // groups
            for g in range(groups):
                block = slice(g * fg, (g + 1) * fg)
                y[:, o, block] += x[:, i, g * cg:(g + 1) * cg] @ kernel[t, :, block]
    return y.transpose(0, 2, 1) if channels_first else y


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _with_bias(y, layer, channels_first):
    if layer.bias is None:
        return y
    b = layer.bias.numpy()
    return y + (b[:, None] if channels_first else b)


# -- the harness, and values against the reference -------------------------------------------------
CONV1D_CASES = [
    (dict(filters=3, kernel_size=3), (2, 7, 2)),
    (dict(filters=2, kernel_size=2, strides=2, padding="same", activation="relu"), (2, 7, 3)),
    (dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2), (1, 8, 2)),
    (dict(filters=4, kernel_size=2, groups=2, use_bias=False), (2, 5, 4)),
    (dict(filters=4, kernel_size=3, padding="causal", groups=2, strides=2,
          data_format="channels_first"), (2, 4, 7)),
    (dict(filters=2, kernel_size=3, padding="same", dilation_rate=2,
          data_format="channels_first"), (1, 3, 6)),
]


@pytest.mark.parametrize("kwargs,shape", CONV1D_CASES)
def test_conv1d_harness_and_values(kwargs, shape):
    cf = kwargs.get("data_format") == "channels_first"
    c, groups = shape[1] if cf else shape[-1], kwargs.get("groups", 1)
    shapes = [(kwargs["kernel_size"], c // groups, kwargs["filters"])]
    shapes += [(kwargs["filters"],)] if kwargs.get("use_bias", True) else []
    x = _x(shape)
    layer, y = run_layer_test(layers.Conv1D, kwargs, shape, input_data=x,
                              expected_num_weights=len(shapes), expected_weight_shapes=shapes)
    expected = reference_conv1d(x, layer.kernel.numpy().astype(np.float64), layer.strides[0],
                                layer.padding, layer.dilation_rate[0], groups, channels_first=cf)
    expected = _with_bias(expected, layer, cf)
    if kwargs.get("activation") == "relu":
        expected = np.maximum(expected, 0)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_causal_conv1d_sees_no_future_step():
    layer = layers.Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = _x((1, 9, 2))
    later = x.copy()
    later[:, 5:] += 10.0   # change only steps 5 and after
    y, y_later = layer(x).numpy(), layer(later).numpy()
    np.testing.assert_array_equal(y[:, :5], y_later[:, :5])
    assert not np.allclose(y[:, 5:], y_later[:, 5:])


GROUPED_CONV2D_CASES = [
    (dict(filters=4, kernel_size=3, groups=2, padding="same"), (2, 5, 5, 4)),
    (dict(filters=6, kernel_size=(2, 3), groups=3, strides=(2, 1), use_bias=False), (1, 5, 6, 3)),
    (dict(filters=4, kernel_size=2, groups=4, dilation_rate=2, data_format="channels_first"),
     (2, 4, 5, 4)),
    (dict(filters=2, kernel_size=3, groups=2, padding="same", data_format="channels_first"),
     (1, 4, 4, 3)),
]


@pytest.mark.parametrize("kwargs,shape", GROUPED_CONV2D_CASES)
def test_grouped_conv2d_harness_and_values(kwargs, shape):
    cf = kwargs.get("data_format") == "channels_first"
    c, groups = shape[1] if cf else shape[-1], kwargs["groups"]
    layer = layers.Conv2D(**kwargs)
    shapes = [layer.kernel_size + (c // groups, kwargs["filters"])]
    shapes += [(kwargs["filters"],)] if kwargs.get("use_bias", True) else []
    x = _x(shape)
    layer, y = run_layer_test(layers.Conv2D, kwargs, shape, input_data=x,
                              expected_num_weights=len(shapes), expected_weight_shapes=shapes)
    # each group is a plain convolution of its channel block: compare with group-by-group conv2d
    kernel = layer.kernel.numpy().astype(np.float64)
    xs = x.astype(np.float64)
    cg, fg, axis = c // groups, kwargs["filters"] // groups, 1 if cf else -1
    parts = [conv2d(np.take(xs, range(g * cg, (g + 1) * cg), axis=axis),
                    kernel[..., g * fg:(g + 1) * fg], layer.strides, layer.padding,
                    layer.data_format, layer.dilation_rate).numpy() for g in range(groups)]
    expected = np.concatenate(parts, axis=axis)
    if layer.bias is not None:
        expected += layer.bias.numpy().reshape((1, -1, 1, 1) if cf else (1, 1, 1, -1))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


DEPTHWISE1D_CASES = [
    (dict(kernel_size=3), (2, 6, 2)),
    (dict(kernel_size=2, depth_multiplier=2, strides=2, padding="same", activation="relu"),
     (1, 7, 3)),
    (dict(kernel_size=3, dilation_rate=2, strides=2, use_bias=False), (2, 9, 2)),
    (dict(kernel_size=3, depth_multiplier=3, padding="same", data_format="channels_first"),
     (2, 2, 5)),
    (dict(kernel_size=2, dilation_rate=3, data_format="channels_first"), (1, 3, 7)),
]


@pytest.mark.parametrize("kwargs,shape", DEPTHWISE1D_CASES)
def test_depthwise_conv1d_harness_and_values(kwargs, shape):
    cf = kwargs.get("data_format") == "channels_first"
    c, m = shape[1] if cf else shape[-1], kwargs.get("depth_multiplier", 1)
    shapes = [(kwargs["kernel_size"], c, m)] + ([(c * m,)] if kwargs.get("use_bias", True) else [])
    x = _x(shape)
    layer, y = run_layer_test(layers.DepthwiseConv1D, kwargs, shape, input_data=x,
                              expected_num_weights=len(shapes), expected_weight_shapes=shapes)
    expected = reference_conv1d(x, layer.depthwise_kernel.numpy().astype(np.float64),
                                layer.strides[0], layer.padding, layer.dilation_rate[0],
                                depthwise=True, channels_first=cf)
    expected = _with_bias(expected, layer, cf)
    if kwargs.get("activation") == "relu":
        expected = np.maximum(expected, 0)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


SEPARABLE1D_CASES = [
    (dict(filters=3, kernel_size=3), (2, 6, 2)),
    (dict(filters=2, kernel_size=3, depth_multiplier=2, strides=2, padding="same",
          activation="relu"), (1, 7, 3)),
    (dict(filters=4, kernel_size=2, dilation_rate=2, use_bias=False), (2, 6, 2)),
    (dict(filters=3, kernel_size=3, depth_multiplier=2, padding="same",
          data_format="channels_first"), (2, 2, 5)),
]


@pytest.mark.parametrize("kwargs,shape", SEPARABLE1D_CASES)
def test_separable_conv1d_harness_and_values(kwargs, shape):
    cf = kwargs.get("data_format") == "channels_first"
    c, m, f = shape[1] if cf else shape[-1], kwargs.get("depth_multiplier", 1), kwargs["filters"]
    shapes = [(kwargs["kernel_size"], c, m), (1, c * m, f)]
    shapes += [(f,)] if kwargs.get("use_bias", True) else []
    x = _x(shape)
    layer, y = run_layer_test(layers.SeparableConv1D, kwargs, shape, input_data=x,
                              expected_num_weights=len(shapes), expected_weight_shapes=shapes)
    assert [w.name for w in layer.weights][:2] == ["depthwise_kernel", "pointwise_kernel"]
    mid = reference_conv1d(x, layer.depthwise_kernel.numpy().astype(np.float64), layer.strides[0],
                           layer.padding, layer.dilation_rate[0], depthwise=True,
                           channels_first=cf)
    expected = reference_conv1d(mid, layer.pointwise_kernel.numpy().astype(np.float64),
                                channels_first=cf)
    expected = _with_bias(expected, layer, cf)
    if kwargs.get("activation") == "relu":
        expected = np.maximum(expected, 0)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_one_depthwise_base_for_the_depthwise_and_separable_classes():
    for cls in (layers.DepthwiseConv1D, layers.DepthwiseConv2D, layers.SeparableConv1D,
                layers.SeparableConv2D):
        assert issubclass(cls, layers.BaseDepthwiseConv) and issubclass(cls, layers.BaseConv)
    for cls in (layers.SeparableConv1D, layers.SeparableConv2D):
        assert issubclass(cls, layers.BaseSeparableConv)
    for cls in (layers.Conv1D, layers.DepthwiseConv1D, layers.SeparableConv1D):
        assert getattr(layers, cls.__name__) is cls
        entry = layers.serialize(cls(2, 3) if cls is not layers.DepthwiseConv1D else cls(3))
        assert type(layers.deserialize(entry)) is cls
    for alias, cls in (("Convolution1D", layers.Conv1D),
                       ("SeparableConvolution1D", layers.SeparableConv1D)):
        entry = layers.serialize(cls(2, 3))
        entry["class_name"] = alias
        assert type(layers.deserialize(entry)) is cls


# -- the ops: float64 gradcheck, and hypothesis-drawn grouped convolutions against the reference ---
@pytest.mark.parametrize("kwargs,shape,kshape", [
    (dict(), (2, 5, 2), (3, 2, 3)),
    (dict(strides=2, padding="same"), (1, 6, 2), (2, 2, 2)),
    (dict(padding="causal", dilation_rate=2), (2, 5, 3), (2, 3, 2)),
    (dict(groups=2, padding="same"), (1, 5, 4), (3, 2, 4)),
    (dict(groups=3, padding="causal", strides=2, data_format="channels_first"), (2, 3, 5),
     (2, 1, 3)),
])
def test_conv1d_gradcheck(kwargs, shape, kshape):
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal(shape), rng.standard_normal(kshape)
    assert gradcheck(lambda a, b: conv1d(a, b, **kwargs), [x, k])


@pytest.mark.parametrize("kwargs,shape,kshape", [
    (dict(), (2, 5, 2), (3, 2, 1)),
    (dict(strides=2, dilation_rate=2, padding="same"), (1, 7, 2), (2, 2, 2)),
    (dict(padding="causal", data_format="channels_first"), (2, 3, 4), (2, 3, 2)),
])
def test_depthwise_conv1d_gradcheck(kwargs, shape, kshape):
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal(shape), rng.standard_normal(kshape)
    assert gradcheck(lambda a, b: depthwise_conv1d(a, b, **kwargs), [x, k])


@pytest.mark.parametrize("groups,strides,dilation,padding,data_format", [
    (2, (1, 1), (1, 1), "valid", "channels_last"),
    (2, (2, 1), (1, 1), "same", "channels_last"),
    (4, (1, 1), (2, 1), "same", "channels_first"),
    (4, (1, 1), (1, 1), "valid", "channels_last"),   # one channel per group, 1x2 kernel
])
def test_grouped_conv2d_gradcheck(groups, strides, dilation, padding, data_format):
    rng = np.random.default_rng(2)
    kh = 1 if groups == 4 and padding == "valid" else 2
    x = rng.standard_normal((2, 4, 4, 3) if data_format == "channels_first" else (2, 3, 4, 4))
    k = rng.standard_normal((kh, 2, 4 // groups, 4))
    assert gradcheck(lambda a, b: conv2d(a, b, strides, padding, data_format, dilation, groups),
                     [x, k])


@settings(max_examples=25, deadline=None)
@given(groups=st.integers(1, 3), cg=st.integers(1, 2), fg=st.integers(1, 2),
       length=st.integers(1, 8), k=st.integers(1, 3), stride=st.integers(1, 3),
       dilation=st.integers(1, 2), padding=st.sampled_from(["valid", "same", "causal"]),
       channels_first=st.booleans(), seed=st.integers(0, 99))
def test_conv1d_matches_the_reference(groups, cg, fg, length, k, stride, dilation, padding,
                                      channels_first, seed):
    if stride > 1:
        dilation = 1   # refused together, as in Keras
    rng = np.random.default_rng(seed)
    c, f = groups * cg, groups * fg
    x = rng.standard_normal((2, c, length) if channels_first else (2, length, c))
    kernel = rng.standard_normal((k, cg, f))
    fmt = "channels_first" if channels_first else "channels_last"
    xt, kt = mg.Tensor(x, requires_grad=True), mg.Tensor(kernel, requires_grad=True)
    y = conv1d(xt, kt, stride, padding, fmt, dilation, groups)
    expected = reference_conv1d(x, kernel, stride, padding, dilation, groups,
                                channels_first=channels_first)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)
    # the gradient of sum(y * g): g's correlation back, checked against the reference's adjoint
    g = rng.standard_normal(y.shape)
    (y * g).sum().backward()
    eps = 1e-6
    i = tuple(rng.integers(0, s) for s in x.shape)
    bumped = x.copy()
    bumped[i] += eps
    numeric = ((reference_conv1d(bumped, kernel, stride, padding, dilation, groups,
                                 channels_first=channels_first) - expected) * g).sum() / eps
    assert xt.grad[i] == pytest.approx(numeric, rel=1e-4, abs=1e-6)


# -- errors that name the argument -----------------------------------------------------------------
@pytest.mark.parametrize("make,error,match", [
    (lambda: layers.Conv1D(4, 3, groups=3), ValueError,
     r"Conv1D: groups must divide the number of filters \(4\), got groups=3"),
    (lambda: layers.Conv1D(4, 3, groups=0), ValueError, r"Conv1D: groups must be a positive"),
    (lambda: layers.Conv1D(4, 3, padding="full"), ValueError,
     r"Conv1D: padding must be 'valid', 'same' or 'causal', got 'full'"),
    (lambda: layers.Conv1D(4, 3, strides=2, dilation_rate=2), ValueError,
     r"Conv1D: strides \(2,\) and dilation_rate \(2,\) cannot both be above 1"),
    (lambda: layers.Conv1D(4, (3, 3)), ValueError, r"Conv1D: kernel_size .*length 2"),
    (lambda: layers.Conv1D(None, 3), TypeError, r"Conv1D: filters must be a positive integer"),
    (lambda: layers.Conv1D(4, 3, lora_rank=2), ValueError, r"Conv1D: lora_rank must be None"),
    (lambda: layers.Conv2D(4, 3, padding="causal"), ValueError,
     r"Conv2D: padding must be 'valid' or 'same', got 'causal'"),
    (lambda: layers.DepthwiseConv1D(3, padding="causal"), ValueError,
     r"DepthwiseConv1D: padding must be 'valid' or 'same', got 'causal'"),
    (lambda: layers.SeparableConv1D(2, 3, padding="causal"), ValueError,
     r"SeparableConv1D: padding must be 'valid' or 'same', got 'causal'"),
    (lambda: layers.DepthwiseConv1D(3, depth_multiplier=0), ValueError,
     r"DepthwiseConv1D: depth_multiplier must be a positive integer, got 0"),
    (lambda: layers.DepthwiseConv1D(3, filters=2), TypeError,
     r"DepthwiseConv1D: unexpected keyword argument\(s\) filters"),
    (lambda: layers.SeparableConv1D(2, 3, groups=2), ValueError,
     r"SeparableConv1D: groups must be 1 .*got 2"),
    (lambda: layers.SeparableConv1D(None, 3), TypeError,
     r"SeparableConv1D: filters must be a positive integer, got None"),
])
def test_constructor_errors_name_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_groups_must_divide_the_input_channels_at_build():
    with pytest.raises(ValueError, match=r"Conv1D 'c1': groups must divide the number of input "
                                         r"channels \(3\), got groups=2"):
        layers.Conv1D(4, 3, groups=2, name="c1").build((None, 8, 3))
    with pytest.raises(ValueError, match=r"Conv2D 'c2': groups must divide the number of input "
                                         r"channels \(5\), got groups=2"):
        layers.Conv2D(4, 3, groups=2, data_format="channels_first", name="c2")(_x((1, 5, 6, 6)))


@pytest.mark.parametrize("call,error,match", [
    (lambda: conv1d(np.ones((1, 4, 4, 2)), np.ones((3, 2, 1))), ValueError,
     r"conv1d: x must be a 3-D tensor \(N, L, C\) for data_format='channels_last', got shape "
     r"\(1, 4, 4, 2\)"),
    (lambda: conv1d(np.ones((1, 4, 2)), np.ones((3, 3, 2, 1))), ValueError,
     r"conv1d: kernel must be a 3-D tensor \(k, in_channels / groups, filters\)"),
    (lambda: conv1d(np.ones((1, 4, 2)), np.ones((3, 3, 1))), ValueError,
     r"conv1d: kernel has 3 input channels .* but x has 2 channels"),
    (lambda: conv1d(np.ones((1, 4, 4)), np.ones((3, 2, 3)), groups=2), ValueError,
     r"conv1d: groups must divide the number of filters \(3\), got groups=2"),
    (lambda: conv1d(np.ones((1, 4, 2)), np.ones((3, 2, 1)), padding="full"), ValueError,
     r"conv1d: padding must be 'valid', 'same' or 'causal', got 'full'"),
    (lambda: conv2d(np.ones((1, 4, 4, 6)), np.ones((3, 3, 2, 4)), groups=4), ValueError,
     r"conv2d: groups must divide the number of input channels \(6\), got groups=4"),
    (lambda: conv2d(np.ones((1, 4, 4, 6)), np.ones((3, 3, 2, 4)), groups=2), ValueError,
     r"conv2d: kernel has 2 input channels .* in 2 groups: expected 3 per group"),
    (lambda: conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 4)), groups=True), TypeError,
     r"conv2d: groups must be a positive integer, got True"),
    (lambda: depthwise_conv1d(np.ones((1, 2, 5)), np.ones((3, 5, 1)),
                              data_format="channels_first"), ValueError,
     r"depthwise_conv1d: depthwise_kernel has 5 input channels .* but x has 2"),
    (lambda: depthwise_conv1d(np.ones((1, 5, 2)), np.ones((3, 2))), ValueError,
     r"depthwise_conv1d: depthwise_kernel must be a 3-D tensor"),
])
def test_op_errors_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- Keras 3 as the oracle (forward and gradients, from Keras's own config) ------------------------
KERAS_CASES = [
    ("Conv1D", dict(filters=3, kernel_size=3), (2, 7, 2)),
    ("Conv1D", dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2,
                    activation="relu"), (2, 7, 2)),
    ("Conv1D", dict(filters=4, kernel_size=2, groups=2, strides=2, padding="same",
                    data_format="channels_first"), (2, 4, 7)),
    ("Conv1D", dict(filters=6, kernel_size=3, groups=3, padding="causal",
                    data_format="channels_first"), (2, 3, 6)),
    ("Conv2D", dict(filters=4, kernel_size=3, groups=2, padding="same"), (2, 5, 5, 4)),
    ("Conv2D", dict(filters=6, kernel_size=2, groups=3, data_format="channels_first"),
     (2, 3, 5, 4)),
    ("Conv2D", dict(filters=4, kernel_size=3, groups=4, strides=2, use_bias=False), (1, 6, 6, 4)),
    ("Conv2D", dict(filters=3, kernel_size=2, padding="same", data_format="channels_first"),
     (2, 2, 5, 4)),
    ("DepthwiseConv1D", dict(kernel_size=3), (2, 6, 3)),
    ("DepthwiseConv1D", dict(kernel_size=2, strides=2, depth_multiplier=2, padding="same"),
     (2, 7, 3)),
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2, padding="same",
                             data_format="channels_first"), (2, 3, 6)),
    ("DepthwiseConv1D", dict(kernel_size=2, dilation_rate=2, data_format="channels_first"),
     (1, 2, 7)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same",
                             data_format="channels_first"), (2, 2, 5, 4)),
    ("SeparableConv1D", dict(filters=4, kernel_size=3, depth_multiplier=2, dilation_rate=2),
     (2, 8, 3)),
    ("SeparableConv1D", dict(filters=2, kernel_size=2, strides=2, activation="tanh"), (2, 7, 2)),
    ("SeparableConv1D", dict(filters=4, kernel_size=3, padding="same", strides=2,
                             data_format="channels_first"), (2, 3, 8)),
    ("DepthwiseConv2D", dict(kernel_size=2, dilation_rate=2, use_bias=False,
                             data_format="channels_first"), (1, 3, 5, 5)),
    ("SeparableConv2D", dict(filters=3, kernel_size=3, depth_multiplier=2,
                             data_format="channels_first"), (2, 2, 5, 4)),
    ("SeparableConv2D", dict(filters=2, kernel_size=2, strides=2, padding="same",
                             data_format="channels_first"), (1, 3, 5, 5)),
]


@pytest.mark.parametrize("class_name,kwargs,shape", KERAS_CASES)
def test_matches_keras3(keras, class_name, kwargs, shape):
    match_keras_layer(keras, class_name, kwargs, shape)


def _sequence_model(data_format="channels_last"):
    """A small 1-D model with every new layer (and a grouped Conv2D-free head)."""
    shape = (3, 10) if data_format == "channels_first" else (10, 3)
    inputs = layers.Input(shape=shape)
    h = layers.Conv1D(4, 3, padding="causal", dilation_rate=2, groups=1, activation="relu",
                      data_format=data_format)(inputs)
    h = layers.Conv1D(4, 2, groups=2, strides=2, padding="same", data_format=data_format)(h)
    h = layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same", data_format=data_format)(h)
    h = layers.SeparableConv1D(3, 2, data_format=data_format)(h)
    out = layers.Dense(2)(layers.Flatten()(h))
    model = mg.models.Model(inputs, out)
    rng = randomize_weights(model, seed=4)
    return model, rng.standard_normal((2,) + shape).astype(np.float32)


@pytest.mark.parametrize("name", ["folder", "m.keras", "m.h5"])
def test_model_files_round_trip(tmp_path, name):
    model, x = _sequence_model()
    again = saved_and_loaded(model, tmp_path, name)
    assert [type(layer).__name__ for layer in again.layers[1:5]] == [
        "Conv1D", "Conv1D", "DepthwiseConv1D", "SeparableConv1D"]
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_keras_3_loads_the_saved_model_and_predicts_the_same(keras, tmp_path, data_format):
    pytest.importorskip("h5py")
    model, x = _sequence_model(data_format)
    model.save(tmp_path / "m.keras")
    theirs = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), model.predict(x),
                               rtol=1e-4, atol=1e-5)


# -- TF.js (the Node oracle) -----------------------------------------------------------------------
def test_tfjs_predicts_the_same_for_conv1d(node, tmp_path):
    # TF.js 4.x has Conv1D (no causal padding, no groups) but no DepthwiseConv1D/SeparableConv1D
    inputs = layers.Input(shape=(9, 3))
    h = layers.Conv1D(4, 3, padding="same", dilation_rate=2, activation="relu")(inputs)
    h = layers.Conv1D(2, 2, strides=2)(h)
    out = layers.Dense(3)(layers.Flatten()(h))
    model = mg.models.Model(inputs, out)
    rng = np.random.default_rng(5)
    for w in model.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32))
    x = rng.standard_normal((2, 9, 3)).astype(np.float32)
    model.save(tmp_path / "model")
    np.testing.assert_allclose(_tfjs_predict(node, tmp_path / "model", x, tmp_path),
                               model.predict(x), rtol=1e-4, atol=1e-5)
