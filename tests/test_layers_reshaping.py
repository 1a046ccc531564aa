"""UpSampling1D/2D, Cropping1D/2D, ZeroPadding1D, Permute, RepeatVector: the layer harness, values
against NumPy, errors that name the argument, and Keras 3 as oracle (forward and gradients, from
Keras's own get_config; skipped without keras)."""
import json

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers
from minigrad.layers.reshaping import (Cropping1D, Cropping2D, Permute, RepeatVector,
                                       UpSampling1D, UpSampling2D, ZeroPadding1D)
from layer_harness import run_layer_test


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# -- harness + values against NumPy ------------------------------------------------------------

@pytest.mark.parametrize("size", [2, 3])
def test_upsampling1d(size):
    x = _x((2, 3, 4))
    _, y = run_layer_test(UpSampling1D, dict(size=size), (2, 3, 4), input_data=x,
                          expected_output_shape=(2, 3 * size, 4))
    np.testing.assert_array_equal(y.numpy(), np.repeat(x, size, axis=1))


@pytest.mark.parametrize("kwargs,shape,expected_shape", [
    (dict(), (2, 3, 4, 2), (2, 6, 8, 2)),
    (dict(size=(3, 1)), (1, 2, 3, 2), (1, 6, 3, 2)),
    (dict(size=2, data_format="channels_first"), (2, 2, 3, 4), (2, 2, 6, 8)),
    (dict(size=(2, 3), interpolation="bilinear"), (2, 3, 2, 2), (2, 6, 6, 2)),
    (dict(size=(3, 2), interpolation="bilinear", data_format="channels_first"), (1, 2, 3, 2),
     (1, 2, 9, 4)),
])
def test_upsampling2d(kwargs, shape, expected_shape):
    x = _x(shape)
    layer, y = run_layer_test(UpSampling2D, kwargs, shape, input_data=x,
                              expected_output_shape=expected_shape)
    (sh, sw), cf = layer.size, layer.data_format == "channels_first"
    h_axis = 2 if cf else 1
    if layer.interpolation == "nearest":
        expected = np.repeat(np.repeat(x, sh, h_axis), sw, h_axis + 1)
        np.testing.assert_array_equal(y.numpy(), expected)
    else:
        # the corners of a bilinear upsampling by an integer factor are the input's corners
        take = (lambda a, i, j: a[:, :, i, j]) if cf else (lambda a, i, j: a[:, i, j, :])
        for i, j in [(0, 0), (-1, -1), (0, -1), (-1, 0)]:
            np.testing.assert_allclose(take(y.numpy(), i, j), take(x, i, j), rtol=1e-6)


def test_upsampling2d_bilinear_values():
    # one row [0, 1] upsampled x2 along the width: half-pixel centers give 0, .25, .75, 1
    x = np.array([0.0, 1.0], np.float32).reshape(1, 1, 2, 1)
    y = UpSampling2D(size=(1, 2), interpolation="bilinear")(x)
    np.testing.assert_allclose(y.numpy().ravel(), [0.0, 0.25, 0.75, 1.0])


@pytest.mark.parametrize("cropping,expected", [(1, (1, 1)), ((0, 2), (0, 2)), ((2, 0), (2, 0))])
def test_cropping1d(cropping, expected):
    x = _x((2, 5, 3))
    layer, y = run_layer_test(Cropping1D, dict(cropping=cropping), (2, 5, 3), input_data=x)
    assert layer.cropping == expected
    np.testing.assert_array_equal(y.numpy(), x[:, expected[0]:5 - expected[1]])


@pytest.mark.parametrize("kwargs,expected", [
    (dict(), ((0, 0), (0, 0))),
    (dict(cropping=1), ((1, 1), (1, 1))),
    (dict(cropping=(1, 2)), ((1, 1), (2, 2))),
    (dict(cropping=((0, 2), (1, 0))), ((0, 2), (1, 0))),
    (dict(cropping=((1, 0), (0, 2)), data_format="channels_first"), ((1, 0), (0, 2))),
])
def test_cropping2d(kwargs, expected):
    shape = (2, 5, 6, 3)
    x = _x(shape)
    layer, y = run_layer_test(Cropping2D, kwargs, shape, input_data=x)
    assert layer.cropping == expected
    (t, b), (l, r) = expected
    if layer.data_format == "channels_first":
        want = x[:, :, t:shape[2] - b, l:shape[3] - r]
    else:
        want = x[:, t:shape[1] - b, l:shape[2] - r, :]
    np.testing.assert_array_equal(y.numpy(), want)


@pytest.mark.parametrize("kwargs,width", [
    (dict(), ((0, 0), (1, 1), (0, 0))),
    (dict(padding=(2, 0)), ((0, 0), (2, 0), (0, 0))),
    (dict(padding=(0, 3), data_format="channels_first"), ((0, 0), (0, 0), (0, 3))),
])
def test_zeropadding1d(kwargs, width):
    x = _x((2, 3, 4))
    _, y = run_layer_test(ZeroPadding1D, kwargs, (2, 3, 4), input_data=x)
    np.testing.assert_array_equal(y.numpy(), np.pad(x, width))


@pytest.mark.parametrize("dims,shape", [((2, 1), (2, 3, 4)), ((3, 1, 2), (2, 3, 4, 5)),
                                        ((1, 2), (2, 3, 4))])
def test_permute(dims, shape):
    x = _x(shape)
    _, y = run_layer_test(Permute, dict(dims=dims), shape, input_data=x)
    np.testing.assert_array_equal(y.numpy(), x.transpose((0,) + dims))


@pytest.mark.parametrize("n", [1, 3])
def test_repeat_vector(n):
    x = _x((2, 4))
    _, y = run_layer_test(RepeatVector, dict(n=n), (2, 4), input_data=x,
                          expected_output_shape=(2, n, 4))
    np.testing.assert_array_equal(y.numpy(), np.repeat(x[:, None, :], n, axis=1))


def test_layers_are_exported_and_registered():
    for cls in (UpSampling1D, UpSampling2D, Cropping1D, Cropping2D, ZeroPadding1D, Permute,
                RepeatVector):
        assert getattr(layers, cls.__name__) is cls
        assert type(layers.deserialize({"class_name": cls.__name__,
                                        "config": cls(**_SOME_ARGS.get(cls, {})).get_config()})) is cls


_SOME_ARGS = {Permute: dict(dims=(1,)), RepeatVector: dict(n=2)}


# -- errors that name the argument -------------------------------------------------------------

@pytest.mark.parametrize("make,error,match", [
    (lambda: UpSampling1D(size=0), ValueError, "UpSampling1D: size must be a positive integer, got 0"),
    (lambda: UpSampling1D(size=2.0), TypeError, "UpSampling1D: size must be a positive integer"),
    (lambda: UpSampling1D(size=True), TypeError, "size"),
    (lambda: UpSampling2D(size=(2, 0)), ValueError, "UpSampling2D: size must be"),
    (lambda: UpSampling2D(size=(2, 2, 2)), ValueError, "UpSampling2D: size must be"),
    (lambda: UpSampling2D(interpolation="bicubic"), ValueError,
     "UpSampling2D: interpolation must be one of \\('nearest', 'bilinear'\\), got 'bicubic'"),
    (lambda: UpSampling2D(data_format="NHWC"), ValueError, "UpSampling2D: data_format must be"),
    (lambda: Cropping1D(cropping=-1), ValueError, "Cropping1D: cropping must be"),
    (lambda: Cropping1D(cropping=(1, 2, 3)), ValueError, "Cropping1D: cropping must be"),
    (lambda: Cropping2D(cropping=-1), ValueError, "Cropping2D: cropping must be .*got -1"),
    (lambda: Cropping2D(cropping=(1, 2, 3)), ValueError, "Cropping2D: cropping must be"),
    (lambda: Cropping2D(cropping=((1, 2), (1, -1))), ValueError, "Cropping2D: cropping must be"),
    (lambda: Cropping2D(cropping="same"), ValueError, "Cropping2D: cropping must be"),
    (lambda: ZeroPadding1D(padding=-2), ValueError, "ZeroPadding1D: padding must be"),
    (lambda: ZeroPadding1D(padding=(1, 1), data_format="x"), ValueError,
     "ZeroPadding1D: data_format must be"),
    (lambda: Permute(dims=(0, 1)), ValueError, "Permute: dims must be a permutation .*got \\(0, 1\\)"),
    (lambda: Permute(dims=(1, 3)), ValueError, "Permute: dims must be"),
    (lambda: Permute(dims=(1, 1)), ValueError, "Permute: dims must be"),
    (lambda: RepeatVector(n=0), ValueError, "RepeatVector: n must be a positive integer, got 0"),
    (lambda: RepeatVector(n="3"), TypeError, "RepeatVector: n must be a positive integer"),
])
def test_bad_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer,shape", [
    (Cropping1D(cropping=(2, 1)), (1, 3, 2)),
    (Cropping2D(cropping=((1, 1), (0, 0))), (1, 2, 4, 1)),
    (Cropping2D(cropping=((0, 0), (3, 0)), data_format="channels_first"), (1, 2, 4, 3)),
])
def test_a_crop_that_leaves_nothing_is_refused(layer, shape):
    with pytest.raises(ValueError, match="cropping .* must leave at least one entry"):
        layer.compute_output_shape(shape)
    with pytest.raises(ValueError, match="cropping .* must leave at least one entry"):
        layer(np.zeros(shape, np.float32))


@pytest.mark.parametrize("layer,shape", [(UpSampling1D(), (2, 3)), (UpSampling2D(), (2, 3, 4)),
                                         (RepeatVector(n=2), (2, 3, 4)),
                                         (Permute(dims=(2, 1)), (2, 3, 4, 5))])
def test_wrong_rank_is_refused(layer, shape):
    with pytest.raises(ValueError):
        layer(np.zeros(shape, np.float32))


# -- Keras 3 as oracle -------------------------------------------------------------------------

ORACLE_CASES = [
    ("UpSampling1D", {}, (2, 3, 4)),
    ("UpSampling1D", {"size": 3}, (2, 2, 3)),
    ("UpSampling2D", {}, (2, 3, 4, 2)),
    ("UpSampling2D", {"size": (3, 2), "data_format": "channels_first"}, (2, 2, 3, 4)),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (2, 3, 4, 2)),
    ("UpSampling2D", {"size": 3, "interpolation": "bilinear", "data_format": "channels_first"},
     (2, 2, 4, 3)),
    ("Cropping1D", {}, (2, 5, 3)),
    ("Cropping1D", {"cropping": (0, 2)}, (2, 5, 3)),
    ("Cropping2D", {"cropping": 1}, (2, 5, 6, 3)),
    ("Cropping2D", {"cropping": ((0, 2), (1, 0))}, (2, 5, 6, 3)),
    ("Cropping2D", {"cropping": (1, 2), "data_format": "channels_first"}, (2, 3, 5, 6)),
    ("ZeroPadding1D", {}, (2, 3, 4)),
    ("ZeroPadding1D", {"padding": (2, 0), "data_format": "channels_first"}, (2, 3, 4)),
    ("Permute", {"dims": (2, 1)}, (2, 3, 4)),
    ("Permute", {"dims": (3, 1, 2)}, (2, 3, 4, 5)),
    ("RepeatVector", {"n": 3}, (2, 4)),
]


@pytest.mark.parametrize("class_name, kwargs, input_shape", ORACLE_CASES)
def test_oracle_matches_keras3_forward_and_gradients(keras, class_name, kwargs, input_shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal(input_shape).astype(np.float32)
    klayer = getattr(keras.layers, class_name)(**kwargs)
    config = json.loads(json.dumps(klayer.get_config()))
    mlayer = layers.deserialize({"class_name": class_name, "config": config})

    xt = torch.tensor(x, requires_grad=True)
    ky = klayer(xt)
    g = rng.standard_normal(tuple(ky.shape)).astype(np.float32)  # a random projection
    (ky * torch.tensor(g)).sum().backward()

    mx = mg.Tensor(x, requires_grad=True)
    my = mlayer(mx)
    (my * mg.Tensor(g)).sum().backward()

    assert my.shape == tuple(ky.shape) == mlayer.compute_output_shape(input_shape)
    np.testing.assert_allclose(my.numpy(), ky.detach().cpu().numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(mx.grad), xt.grad.cpu().numpy(), rtol=1e-4, atol=1e-6)


# -- TF.js as oracle for the layers it has (a model saved by minigrad, predicted by TF.js) --------

def test_tfjs_predicts_the_same_for_a_model_of_these_layers(node, tmp_path):
    # TF.js has Cropping2D, UpSampling2D, Permute and RepeatVector (not the 1-D ones); its
    # bilinear UpSampling2D does not use half-pixel centers, so only "nearest" is compared.
    from test_tfjs_interop import _tfjs_predict
    from minigrad.models import Sequential
    model = Sequential([
        layers.Input(shape=(5, 6, 2)),
        Cropping2D(((1, 0), (2, 1)), name="crop"),
        UpSampling2D((2, 3), name="up"),
        Cropping2D(((1, 1), (0, 0)), data_format="channels_first", name="crop_cf"),
        Permute((3, 1, 2), name="permute"),
        layers.Flatten(name="flat"),
        layers.Dense(3, name="dense"),
        RepeatVector(2, name="repeat"),
    ], name="reshaping")
    x = _x((2, 5, 6, 2))
    model.save(tmp_path / "model")
    expected = model.predict(x)
    got = _tfjs_predict(node, tmp_path / "model", x, tmp_path)
    assert got.shape == expected.shape == (2, 2, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
