"""Conv2DTranspose and ops.conv2d_transpose: values against a loop-by-loop NumPy reference, float64
gradcheck (fixed and hypothesis-drawn shapes), the layer harness, Keras 3 as oracle (layer and
op, from Keras's own get_config), model files (TF.js folder, .keras, .h5) with TF.js and Keras 3
predicting minigrad's saved model, and errors that name the argument."""
import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import layers
from minigrad.layers.conv_transpose import Conv2DTranspose
from minigrad.ops.conv_transpose import conv2d_transpose, deconv_output_length
from minigrad.testing import gradcheck
from keras_oracle import match_keras_layer
from layer_harness import randomize_weights, run_layer_test, saved_and_loaded
from test_tfjs_interop import _tfjs_predict


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def reference_conv_transpose(x, k, strides, padding, output_padding, dilation):
    """NHWC: every input pixel adds x[i, j] @ k[a, b].T at (i*s + a*d, j*s + b*d) of the full
    output, one pixel and tap at a time; the output is the window [crop, crop + out) of it, with
    crop = max(full - out, 0) // 2 and out from Keras's rule."""
    n, h, w, _ = x.shape
    kh, kw, f, _ = k.shape
    (sh, sw), (dh, dw) = strides, dilation
    ops = output_padding or (None, None)
    oh = deconv_output_length(h, kh, sh, padding, ops[0], dh)
    ow = deconv_output_length(w, kw, sw, padding, ops[1], dw)
    fh, fw = (h - 1) * sh + (kh - 1) * dh + 1, (w - 1) * sw + (kw - 1) * dw + 1
    full = np.zeros((n, max(fh, oh), max(fw, ow), f))
    for i, j, a, b in itertools.product(range(h), range(w), range(kh), range(kw)):
        full[:, i * sh + a * dh, j * sw + b * dw] += x[:, i, j] @ k[a, b].T
    ct, cl = max(fh - oh, 0) // 2, max(fw - ow, 0) // 2
    return full[:, ct:ct + oh, cl:cl + ow]


# -- the output-size rule (Keras's deconv_output_length) -------------------------------------------
@pytest.mark.parametrize("n,k,s,padding,op,d,expected", [
    (4, 3, 2, "valid", None, 1, 9), (4, 3, 2, "same", None, 1, 8),
    (4, 1, 3, "valid", None, 1, 12),                       # eff < stride: n * s
    (4, 3, 2, "valid", 1, 1, 10), (4, 3, 2, "same", 1, 1, 8), (4, 4, 2, "same", 1, 1, 7),
    (5, 3, 1, "valid", None, 2, 9), (5, 3, 1, "same", 0, 2, 5), (None, 3, 2, "same", None, 1, None),
])
def test_deconv_output_length(n, k, s, padding, op, d, expected):
    assert deconv_output_length(n, k, s, padding, op, d) == expected


# -- op: values and gradients ----------------------------------------------------------------------
CASES = [  # strides, padding, output_padding, dilation, kernel (kh, kw)
    ((1, 1), "valid", None, (1, 1), (3, 3)), ((2, 2), "same", None, (1, 1), (3, 3)),
    ((3, 2), "valid", None, (1, 1), (2, 3)), ((2, 3), "same", (1, 2), (1, 1), (4, 3)),
    ((1, 1), "same", None, (2, 1), (3, 2)), ((2, 2), "valid", (1, 0), (2, 2), (2, 3)),
    ((3, 3), "same", None, (1, 1), (1, 1)), ((1, 2), "same", (0, 1), (1, 1), (2, 2)),
]


@pytest.mark.parametrize("strides,padding,op,dilation,khw", CASES)
def test_op_matches_the_reference_forward_and_backward(strides, padding, op, dilation, khw):
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal((2, 3, 4, 3)), rng.standard_normal(khw + (2, 3))
    want = reference_conv_transpose(x, k, strides, padding, op, dilation)
    got = conv2d_transpose(x, k, strides, padding, op, "channels_last", dilation)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    # channels_first is the same numbers, transposed
    cf = conv2d_transpose(x.transpose(0, 3, 1, 2), k, strides, padding, op, "channels_first",
                          dilation)
    np.testing.assert_allclose(cf.numpy(), want.transpose(0, 3, 1, 2), rtol=1e-10, atol=1e-12)
    for df, xin in (("channels_last", x), ("channels_first", x.transpose(0, 3, 1, 2))):
        assert gradcheck(lambda a, b: conv2d_transpose(a, b, strides, padding, op, df, dilation),
                         [xin, k])


@st.composite
def transpose_cases(draw):
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    op = draw(st.one_of(st.none(), st.tuples(st.integers(0, strides[0] - 1),
                                             st.integers(0, strides[1] - 1))))
    return dict(n=draw(st.integers(1, 2)), h=draw(st.integers(1, 4)), w=draw(st.integers(1, 4)),
                cin=draw(st.integers(1, 3)), f=draw(st.integers(1, 3)),
                khw=(draw(st.integers(1, 4)), draw(st.integers(1, 4))), strides=strides, op=op,
                dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
                padding=draw(st.sampled_from(["valid", "same"])),
                data_format=draw(st.sampled_from(["channels_last", "channels_first"])),
                seed=draw(st.integers(0, 99)))


@settings(max_examples=40, deadline=None)
@given(transpose_cases())
def test_op_gradcheck_on_drawn_shapes(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["h"], case["w"], case["cin"]))
    k = rng.standard_normal(case["khw"] + (case["f"], case["cin"]))
    args = (case["strides"], case["padding"], case["op"], case["data_format"], case["dilation"])
    want = reference_conv_transpose(x, k, case["strides"], case["padding"], case["op"],
                                    case["dilation"])
    if case["data_format"] == "channels_first":
        x, want = x.transpose(0, 3, 1, 2), want.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(conv2d_transpose(x, k, *args).numpy(), want, rtol=1e-10,
                               atol=1e-12)
    assert gradcheck(lambda a, b: conv2d_transpose(a, b, *args), [x, k])


def test_op_float32_and_an_empty_batch():
    x, k = _x((2, 3, 3, 2)), _x((3, 3, 4, 2), seed=1)
    y = conv2d_transpose(x, k, strides=2, padding="same")
    assert y.dtype == np.float32 and y.shape == (2, 6, 6, 4)
    xt = mg.Tensor(np.zeros((0, 3, 3, 2), np.float32), requires_grad=True)
    kt = mg.Tensor(k, requires_grad=True)
    out = conv2d_transpose(xt, kt, strides=2)
    assert out.shape == (0, 7, 7, 4)
    out.sum().backward()
    assert xt.grad.shape == (0, 3, 3, 2) and not kt.grad.any()


def test_op_is_exported():
    assert mg.ops.conv2d_transpose is conv2d_transpose


# -- layer: the harness ------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,shape,expected", [
    (dict(filters=2, kernel_size=3), (2, 3, 4, 3), (2, 5, 6, 2)),
    (dict(filters=2, kernel_size=3, strides=2, padding="same"), (2, 3, 4, 3), (2, 6, 8, 2)),
    (dict(filters=3, kernel_size=(2, 3), strides=3), (1, 2, 3, 2), (1, 6, 9, 3)),
    (dict(filters=2, kernel_size=3, strides=2, output_padding=1), (2, 3, 3, 2), (2, 8, 8, 2)),
    (dict(filters=2, kernel_size=4, strides=(2, 3), padding="same", output_padding=(1, 2)),
     (1, 3, 3, 2), (1, 5, 8, 2)),
    (dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"), (1, 4, 4, 2),
     (1, 4, 4, 2)),
    (dict(filters=2, kernel_size=3, strides=2, data_format="channels_first"), (2, 3, 3, 4),
     (2, 2, 7, 9)),
    (dict(filters=3, kernel_size=2, strides=2, use_bias=False, activation="relu",
          data_format="channels_first"), (1, 2, 3, 3), (1, 3, 6, 6)),
])
def test_harness(kwargs, shape, expected):
    x = _x(shape)
    layer, y = run_layer_test(Conv2DTranspose, kwargs, shape, input_data=x,
                              expected_output_shape=expected,
                              expected_num_weights=2 if kwargs.get("use_bias", True) else 1)
    channels = shape[1] if layer.data_format == "channels_first" else shape[-1]
    assert layer.kernel.shape == layer.kernel_size + (layer.filters, channels)
    # the values: the NumPy reference, plus the bias, through the activation
    xl = x.transpose(0, 2, 3, 1) if layer.data_format == "channels_first" else x
    want = reference_conv_transpose(xl.astype(np.float64), layer.kernel.numpy(), layer.strides,
                                    layer.padding, layer.output_padding, layer.dilation_rate)
    if layer.use_bias:
        want = want + layer.bias.numpy()
    if kwargs.get("activation") == "relu":
        want = np.maximum(want, 0)
    if layer.data_format == "channels_first":
        want = want.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)


def test_config_keys_defaults_and_registration():
    layer = Conv2DTranspose(4, 3, name="up")
    config = layer.get_config()
    assert list(config)[:10] == ["name", "trainable", "dtype", "filters", "kernel_size", "strides",
                                 "padding", "output_padding", "data_format", "dilation_rate"]
    assert config["output_padding"] is None and config["strides"] == [1, 1]
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert Conv2DTranspose(4, 3, strides=2, output_padding=1).get_config()["output_padding"] == \
        [1, 1]
    assert layers.Conv2DTranspose is Conv2DTranspose
    entry = json.loads(json.dumps(layers.serialize(layer)))
    for name in ("Conv2DTranspose", "Convolution2DTranspose"):
        entry["class_name"] = name
        assert type(layers.deserialize(entry)) is Conv2DTranspose


def test_kernel_regularizer_and_constraint_apply():
    layer = Conv2DTranspose(2, 2, kernel_regularizer=mg.regularizers.L2(0.1),
                            kernel_constraint=mg.constraints.NonNeg())
    y = layer(_x((1, 2, 2, 3)))
    assert y.shape == (1, 3, 3, 2) and len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0].numpy()),
                               0.1 * float((layer.kernel.numpy() ** 2).sum()), rtol=1e-5)
    assert layer.kernel_constraint is not None


# -- Keras 3 as oracle -----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,shape", [
    (dict(filters=3, kernel_size=3), (2, 4, 5, 2)),
    (dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 4, 5, 2)),
    (dict(filters=3, kernel_size=3, strides=2, padding="same", output_padding=1), (2, 4, 5, 2)),
    (dict(filters=2, kernel_size=(2, 3), strides=(3, 2), output_padding=(2, 0)), (1, 3, 3, 3)),
    (dict(filters=2, kernel_size=(2, 3), strides=(3, 2), data_format="channels_first"),
     (2, 3, 4, 5)),
    (dict(filters=2, kernel_size=4, strides=2, padding="same", output_padding=(0, 1),
          data_format="channels_first", activation="tanh"), (2, 3, 4, 5)),
    (dict(filters=2, kernel_size=3, dilation_rate=2, padding="same", use_bias=False,
          activation="relu"), (1, 5, 5, 3)),
    (dict(filters=4, kernel_size=1, strides=3, padding="valid"), (2, 2, 3, 2)),
])
def test_matches_keras3(keras, kwargs, shape):
    match_keras_layer(keras, "Conv2DTranspose", kwargs, shape)


def test_config_from_keras_is_kept_key_for_key(keras):
    kwargs = dict(filters=3, kernel_size=(2, 3), strides=2, padding="same", output_padding=(1, 0),
                  data_format="channels_first", activation="relu", use_bias=False,
                  kernel_regularizer="l2", bias_regularizer="l1", kernel_constraint="non_neg",
                  bias_constraint="max_norm", kernel_initializer="he_normal")
    theirs = keras.layers.Conv2DTranspose(**kwargs).get_config()
    ours = layers.deserialize({"class_name": "Conv2DTranspose", "config": theirs})
    config = ours.get_config()
    assert set(config) == set(theirs)
    for key in ("name", "trainable", "filters", "kernel_size", "strides", "padding",
                "output_padding", "data_format", "dilation_rate", "activation", "use_bias"):
        assert config[key] == (list(theirs[key]) if isinstance(theirs[key], tuple)
                               else theirs[key]), key
    assert isinstance(ours.kernel_regularizer, mg.regularizers.L2)
    assert isinstance(ours.kernel_constraint, mg.constraints.NonNeg)
    assert isinstance(ours.bias_constraint, mg.constraints.MaxNorm)
    assert type(ours.kernel_initializer).__name__ == "HeNormal"


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_a_keras_3_saved_model_loads_and_predicts_the_same(keras, tmp_path, ext):
    pytest.importorskip("h5py")
    inputs = keras.Input((3, 4, 2))
    h = keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1,
                                     activation="relu")(inputs)
    out = keras.layers.Conv2DTranspose(2, (2, 3), strides=(1, 2), dilation_rate=1,
                                       data_format="channels_last")(h)
    theirs = keras.Model(inputs, out)
    x = np.random.default_rng(6).standard_normal((2, 3, 4, 2)).astype(np.float32)
    theirs.save(tmp_path / f"k{ext}")
    ours = mg.models.load_model(tmp_path / f"k{ext}")
    np.testing.assert_allclose(ours.predict(x), np.asarray(theirs.predict(x, verbose=0)),
                               rtol=1e-4, atol=1e-5)


def test_the_op_matches_keras_ops_conv_transpose(keras):
    rng = np.random.default_rng(4)
    for k, s, d, padding, op in itertools.product([1, 2, 3, 4], [1, 2, 3], [1, 2],
                                                  ["valid", "same"], [None, 0, 1, 2]):
        if (op is not None and op >= s) or (s > 1 and d > 1):
            continue                       # Keras refuses both
        x = rng.standard_normal((1, 3, 4, 2)).astype(np.float32)
        kernel = rng.standard_normal((k, k, 3, 2)).astype(np.float32)
        want = keras.ops.convert_to_numpy(keras.ops.conv_transpose(
            x, kernel, strides=s, padding=padding, output_padding=op, dilation_rate=d))
        got = conv2d_transpose(x, kernel, s, padding, op, "channels_last", d).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5,
                                   err_msg=f"k={k} s={s} d={d} {padding} op={op}")


# -- model files ---------------------------------------------------------------------------------
def _decoder(data_format="channels_last"):
    shape = (3, 3, 2) if data_format == "channels_last" else (2, 3, 3)
    inputs = layers.Input(shape=shape)
    h = Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu",
                        data_format=data_format, name="up1")(inputs)
    h = Conv2DTranspose(2, 2, strides=1, padding="valid", data_format=data_format,
                        name="up2")(h)
    out = layers.Conv2D(1, 1, data_format=data_format, name="head")(h)
    model = mg.models.Model(inputs, out)
    rng = randomize_weights(model, seed=2)
    return model, rng.standard_normal((2,) + shape).astype(np.float32)


@pytest.mark.parametrize("name", ["folder", "m.keras", "m.h5"])
def test_model_files_round_trip(tmp_path, name):
    model, x = _decoder()
    again = saved_and_loaded(model, tmp_path, name)
    assert [type(layer).__name__ for layer in again.layers].count("Conv2DTranspose") == 2
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_keras_3_loads_the_saved_model_and_predicts_the_same(keras, tmp_path, ext):
    pytest.importorskip("h5py")
    model, x = _decoder(data_format="channels_first")
    model.save(tmp_path / f"m{ext}")
    theirs = keras.saving.load_model(tmp_path / f"m{ext}")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), model.predict(x),
                               rtol=1e-4, atol=1e-5)


def test_tfjs_predicts_the_same(node, tmp_path):
    # TF.js's Conv2DTranspose has no output_padding or dilation: strides and both paddings
    model, x = _decoder()
    model.save(tmp_path / "model")
    np.testing.assert_allclose(_tfjs_predict(node, tmp_path / "model", x, tmp_path),
                               model.predict(x), rtol=1e-4, atol=1e-5)


# -- errors that name the argument ------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,error,match", [
    (dict(filters=2, kernel_size=3, strides=2, output_padding=2), ValueError,
     r"output_padding must be strictly less than strides.*\(2, 2\)"),
    (dict(filters=2, kernel_size=3, output_padding=(0, 1)), ValueError, r"output_padding"),
    (dict(filters=2, kernel_size=3, strides=2, output_padding=-1), ValueError, r"output_padding"),
    (dict(filters=2, kernel_size=3, strides=2, output_padding=0.5), TypeError, r"output_padding"),
    (dict(filters=2, kernel_size=3, padding="full"), ValueError, r"padding must be 'valid' or "
                                                                 r"'same', got 'full'"),
    (dict(filters=None, kernel_size=3), TypeError, r"filters"),
    (dict(filters=0, kernel_size=3), ValueError, r"filters"),
    (dict(filters=2, kernel_size=(3, 0)), ValueError, r"kernel_size"),
    (dict(filters=2, kernel_size=3, data_format="nhwc"), ValueError, r"data_format"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        Conv2DTranspose(**kwargs)


def test_bad_inputs_are_named():
    layer = Conv2DTranspose(2, 3)
    with pytest.raises(ValueError, match=r"rank 4.*\(2, 3, 4\)"):
        layer(_x((2, 3, 4)))
    layer(_x((1, 3, 3, 2)))
    with pytest.raises(ValueError, match=r"channels"):
        layer(_x((1, 3, 3, 5)))
    k = _x((3, 3, 4, 2))
    with pytest.raises(ValueError, match=r"kernel has 2 input channels .* x has 3 channels"):
        conv2d_transpose(_x((1, 3, 3, 3)), k)
    with pytest.raises(ValueError, match=r"x must be a 4-D tensor"):
        conv2d_transpose(_x((3, 3, 2)), k)
    with pytest.raises(ValueError, match=r"kernel must be a 4-D tensor"):
        conv2d_transpose(_x((1, 3, 3, 2)), k[0])
    with pytest.raises(ValueError, match=r"output_padding .* strides"):
        conv2d_transpose(_x((1, 3, 3, 2)), k, strides=(2, 1), output_padding=(1, 1))
    with pytest.raises(ValueError, match=r"padding must be"):
        conv2d_transpose(_x((1, 3, 3, 2)), k, padding="causal")
    with pytest.raises(ValueError, match=r"non-empty spatial axes"):
        conv2d_transpose(np.zeros((1, 0, 3, 2), np.float32), k)
