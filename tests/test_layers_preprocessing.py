"""Rescaling, Resizing, CenterCrop and their ops (minigrad.ops.image: resize, center_crop): the
layer harness, values against NumPy, gradcheck, errors that name the argument, Keras 3 (torch) as
oracle from Keras's own get_config (forward and input gradients), and TF.js where it computes
what Keras does."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import layers
from minigrad.layers.preprocessing import CenterCrop, Rescaling, Resizing
from minigrad.ops.image import aspect_ratio_box, center_crop, nearest_indices, resize
from minigrad.testing import gradcheck
from keras_oracle import match_keras_layer
from layer_harness import run_layer_test


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# -- ops -------------------------------------------------------------------------------------

def test_nearest_indices_are_torchs_nearest_exact():
    torch = pytest.importorskip("torch")
    for n, m in [(4, 2), (2, 5), (6, 9), (7, 3), (5, 5), (3, 11)]:
        x = torch.arange(float(n)).reshape(1, 1, n)
        want = torch.nn.functional.interpolate(x, size=m, mode="nearest-exact").numpy().ravel()
        np.testing.assert_array_equal(nearest_indices(n, m), want.astype(np.int64))


def test_aspect_ratio_box():
    # a (6, 10) image cropped to a square target: the central 6 x 6 window
    assert aspect_ratio_box(6, 10, 3, 3) == (0, 2, 6, 6)
    # a (7, 6) image to a (9, 5) target: all 7 rows, int(7 * 5 / 9) = 3 columns from column 1
    assert aspect_ratio_box(7, 6, 9, 5) == (0, 1, 7, 3)


def test_resize_nearest_values():
    x = np.arange(6.0).reshape(1, 2, 3, 1)
    y = resize(x, (4, 3), "nearest").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, [[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]])


@settings(max_examples=15, deadline=None)
@given(h=st.integers(1, 5), w=st.integers(1, 5), th=st.integers(1, 6), tw=st.integers(1, 6),
       interpolation=st.sampled_from(["bilinear", "nearest"]),
       mode=st.sampled_from(["stretch", "crop", "pad"]),
       data_format=st.sampled_from(["channels_last", "channels_first"]))
def test_resize_gradcheck(h, w, th, tw, interpolation, mode, data_format):
    shape = (2, h, w, 2) if data_format == "channels_last" else (2, 2, h, w)
    x = np.random.default_rng(h * 7 + w).standard_normal(shape)
    gradcheck(lambda t: resize(t, (th, tw), interpolation, crop_to_aspect_ratio=mode == "crop",
                               pad_to_aspect_ratio=mode == "pad", fill_value=0.5,
                               data_format=data_format), [x])


@settings(max_examples=10, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 6), th=st.integers(1, 7), tw=st.integers(1, 7))
def test_center_crop_gradcheck(h, w, th, tw):
    x = np.random.default_rng(h + 3 * w).standard_normal((1, h, w, 2))
    gradcheck(lambda t: center_crop(t, th, tw), [x])


def test_center_crop_values():
    x = _x((2, 5, 6, 3))
    np.testing.assert_array_equal(center_crop(x, 3, 2).numpy(), x[:, 1:4, 2:4])
    # smaller than the target: the largest centered window of its ratio, resized
    np.testing.assert_allclose(center_crop(x, 10, 6).numpy(),
                               resize(x[:, :, 1:4], (10, 6)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("call,error,words", [
    (lambda: resize(np.zeros((1, 2, 2, 1)), (0, 2)), ValueError, "size"),
    (lambda: resize(np.zeros((1, 2, 2, 1)), (2, 2), "bicubic"), ValueError, "interpolation"),
    (lambda: resize(np.zeros((2, 2, 1)), (2, 2)), ValueError, "4-D"),
    (lambda: resize(np.zeros((1, 2, 2, 1)), (2, 2), crop_to_aspect_ratio=True,
                    pad_to_aspect_ratio=True), ValueError, "only one"),
    (lambda: center_crop(np.zeros((1, 2, 2, 1)), 2, -1), ValueError, "width"),
    (lambda: center_crop(np.zeros((1, 2, 2, 1)), 2.0, 2), TypeError, "height"),
])
def test_op_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


# -- layers: harness + values ------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [dict(scale=1 / 255), dict(scale=2.0, offset=-1.0),
                                    dict(scale=[1.0, 0.5, 2.0], offset=[0.0, 1.0, -1.0])])
def test_rescaling(kwargs):
    x = _x((2, 4, 3))
    _, y = run_layer_test(Rescaling, kwargs, (2, 4, 3), input_data=x)
    want = x * np.asarray(kwargs["scale"], np.float32) + np.asarray(kwargs.get("offset", 0.0),
                                                                    np.float32)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-6)


@pytest.mark.parametrize("kwargs,shape,out", [
    (dict(height=3, width=5), (2, 4, 4, 2), (2, 3, 5, 2)),
    (dict(height=6, width=2, interpolation="nearest"), (2, 3, 4, 2), (2, 6, 2, 2)),
    (dict(height=3, width=3, crop_to_aspect_ratio=True), (2, 4, 6, 1), (2, 3, 3, 1)),
    (dict(height=4, width=2, interpolation="nearest", crop_to_aspect_ratio=True),
     (1, 5, 5, 2), (1, 4, 2, 2)),
    (dict(height=4, width=4, pad_to_aspect_ratio=True, fill_value=1.0), (2, 2, 4, 1),
     (2, 4, 4, 1)),
    (dict(height=5, width=3, data_format="channels_first"), (2, 2, 4, 4), (2, 2, 5, 3)),
    (dict(height=2, width=3, interpolation="nearest", crop_to_aspect_ratio=True,
          data_format="channels_first"), (1, 2, 5, 4), (1, 2, 2, 3)),
])
def test_resizing(kwargs, shape, out):
    x = _x(shape)
    layer, y = run_layer_test(Resizing, kwargs, shape, input_data=x, expected_output_shape=out)
    # the layer is the op
    want = resize(x, (layer.height, layer.width), layer.interpolation,
                  crop_to_aspect_ratio=layer.crop_to_aspect_ratio,
                  pad_to_aspect_ratio=layer.pad_to_aspect_ratio, fill_value=layer.fill_value,
                  data_format=layer.data_format)
    np.testing.assert_array_equal(y.numpy(), want.numpy())


def test_resizing_same_size_is_identity():
    x = _x((2, 3, 5, 2))
    for interpolation in ("bilinear", "nearest"):
        y = Resizing(3, 5, interpolation=interpolation)(x)
        np.testing.assert_allclose(y.numpy(), x, rtol=1e-6)


@pytest.mark.parametrize("kwargs,shape,out", [
    (dict(height=2, width=3), (2, 5, 6, 2), (2, 2, 3, 2)),
    (dict(height=4, width=4), (1, 4, 4, 3), (1, 4, 4, 3)),
    (dict(height=7, width=3), (2, 4, 5, 1), (2, 7, 3, 1)),     # taller than the image
    (dict(height=3, width=2, data_format="channels_first"), (2, 2, 5, 4), (2, 2, 3, 2)),
    (dict(height=6, width=6, data_format="channels_first"), (1, 2, 3, 4), (1, 2, 6, 6)),
])
def test_center_crop_layer(kwargs, shape, out):
    x = _x(shape)
    layer, y = run_layer_test(CenterCrop, kwargs, shape, input_data=x, expected_output_shape=out)
    np.testing.assert_array_equal(
        y.numpy(), center_crop(x, layer.height, layer.width, layer.data_format).numpy())


@pytest.mark.parametrize("cls,kwargs,error,words", [
    (Rescaling, dict(scale="1/255"), TypeError, "scale"),
    (Rescaling, dict(scale=1.0, offset=None), TypeError, "offset"),
    (Resizing, dict(height=0, width=2), ValueError, "height"),
    (Resizing, dict(height=2, width=2.5), TypeError, "width"),
    (Resizing, dict(height=2, width=2, interpolation="bicubic"), ValueError, "interpolation"),
    (Resizing, dict(height=2, width=2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
     ValueError, "only one"),
    (Resizing, dict(height=2, width=2, fill_mode="reflect"), ValueError, "fill_mode"),
    (Resizing, dict(height=2, width=2, antialias=True), ValueError, "antialias"),
    (Resizing, dict(height=2, width=2, crop_to_aspect_ratio=1), TypeError,
     "crop_to_aspect_ratio"),
    (Resizing, dict(height=2, width=2, data_format="NHWC"), ValueError, "data_format"),
    (CenterCrop, dict(height=-1, width=2), ValueError, "height"),
    (CenterCrop, dict(height=2, width=None), TypeError, "width"),
])
def test_layer_errors_name_the_argument(cls, kwargs, error, words):
    with pytest.raises(error, match=words):
        cls(**kwargs)


@pytest.mark.parametrize("shape", [(3, 3), (1, 2, 3, 3, 1)])
def test_image_layers_want_an_image_or_a_batch(shape):
    for layer in (Resizing(2, 2), CenterCrop(2, 2)):
        with pytest.raises(ValueError, match=r"rank 4\) or one image \(rank 3"):
            layer(np.zeros(shape, np.float32))


@pytest.mark.parametrize("layer", [Resizing(3, 5), Resizing(4, 2, interpolation="nearest"),
                                   Resizing(2, 2, crop_to_aspect_ratio=True,
                                            data_format="channels_first"),
                                   CenterCrop(2, 3),
                                   CenterCrop(7, 3, data_format="channels_first")])
def test_one_image_without_the_batch_axis(layer):
    # as Keras: (H, W, C) in, (height, width, C) out, the same as a batch of one
    x = _x((4, 5, 2))
    y = layer(x)
    assert y.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_array_equal(y.numpy(), layer(x[None]).numpy()[0])
    probe = type(layer).from_config(dict(layer.get_config(), dtype="float64"))
    gradcheck(lambda t: probe(t), [x.astype(np.float64)])


@pytest.mark.parametrize("class_name,kwargs", [
    ("Resizing", dict(height=3, width=5)),
    ("Resizing", dict(height=6, width=2, interpolation="nearest", crop_to_aspect_ratio=True)),
    ("CenterCrop", dict(height=2, width=3)),
    ("CenterCrop", dict(height=7, width=3, data_format="channels_first")),
])
def test_one_image_matches_keras(keras, class_name, kwargs):
    x = _x((4, 5, 2))
    theirs = getattr(keras.layers, class_name)(**kwargs)
    ours = layers.deserialize({"class_name": class_name, "config": theirs.get_config()})
    np.testing.assert_allclose(ours(x).numpy(), np.asarray(theirs(x).cpu()), rtol=1e-4,
                               atol=1e-5)
    assert ours.compute_output_shape((4, 5, 2)) == tuple(theirs.compute_output_shape((4, 5, 2)))


# -- Keras 3 as oracle ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,shape", [
    (dict(scale=1 / 255), (2, 4, 4, 3)),
    (dict(scale=1 / 127.5, offset=-1), (2, 5, 3)),
    (dict(scale=0.5, offset=2.0), (3, 4)),
])
def test_rescaling_matches_keras(keras, kwargs, shape):
    match_keras_layer(keras, "Rescaling", kwargs, shape)


@pytest.mark.parametrize("kwargs,shape", [
    (dict(height=3, width=5), (2, 4, 4, 2)),
    (dict(height=8, width=7), (2, 3, 5, 2)),
    (dict(height=6, width=2, interpolation="nearest"), (2, 3, 4, 2)),
    (dict(height=2, width=9, interpolation="nearest"), (2, 6, 5, 1)),
    (dict(height=3, width=3, crop_to_aspect_ratio=True), (2, 4, 6, 1)),
    (dict(height=5, width=2, crop_to_aspect_ratio=True, interpolation="nearest"),
     (1, 7, 6, 2)),
    (dict(height=4, width=6, pad_to_aspect_ratio=True, fill_value=0.5), (2, 5, 4, 1)),
    (dict(height=5, width=3, data_format="channels_first"), (2, 2, 4, 4)),
    (dict(height=2, width=3, interpolation="nearest", crop_to_aspect_ratio=True,
          data_format="channels_first"), (1, 2, 5, 4)),
])
def test_resizing_matches_keras(keras, kwargs, shape):
    match_keras_layer(keras, "Resizing", kwargs, shape)


@pytest.mark.parametrize("kwargs,shape", [
    (dict(height=2, width=3), (2, 5, 6, 2)),
    (dict(height=3, width=3), (2, 4, 4, 1)),
    (dict(height=7, width=3), (2, 4, 5, 1)),      # bigger than the image: Keras resizes
    (dict(height=6, width=8), (1, 4, 5, 2)),
    (dict(height=3, width=2, data_format="channels_first"), (2, 2, 5, 4)),
    (dict(height=6, width=6, data_format="channels_first"), (1, 2, 3, 4)),
])
def test_center_crop_matches_keras(keras, kwargs, shape):
    match_keras_layer(keras, "CenterCrop", kwargs, shape)


# -- files ----------------------------------------------------------------------------------------

def _preprocessing_model():
    inputs = layers.Input(shape=(6, 7, 2))
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = layers.CenterCrop(4, 5)(x)
    x = layers.Resizing(8, 6, interpolation="nearest")(x)
    x = layers.Resizing(3, 3, crop_to_aspect_ratio=True)(x)
    return mg.models.Model(inputs, layers.Dense(2)(layers.Flatten()(x)))


@pytest.mark.parametrize("filename", ["model.keras", "model.h5", "tfjs_model"])
def test_saved_and_loaded_with_the_model(tmp_path, filename):
    if filename != "tfjs_model":
        pytest.importorskip("h5py")       # Keras's files are HDF5 inside
    model = _preprocessing_model()
    x = np.random.default_rng(3).uniform(0, 255, (2, 6, 7, 2)).astype(np.float32)
    model.save(tmp_path / filename)
    again = mg.models.load_model(tmp_path / filename)
    assert [type(l).__name__ for l in again.layers] == [type(l).__name__ for l in model.layers]
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)
    entry = json.loads(json.dumps(layers.serialize(model.layers[3])))
    assert entry["config"]["interpolation"] == "nearest"


def test_keras_loads_the_saved_model(keras, tmp_path):
    pytest.importorskip("h5py")
    model = _preprocessing_model()
    x = np.random.default_rng(4).uniform(0, 255, (2, 6, 7, 2)).astype(np.float32)
    model.save(tmp_path / "model.keras")
    theirs = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), model.predict(x),
                               rtol=1e-4, atol=1e-5)


def test_tfjs_predicts_the_same_for_rescaling(node, tmp_path):
    # TF.js has Rescaling, CenterCrop and Resizing, but only Rescaling computes what Keras 3
    # does: its Resizing passes align_corners = not crop_to_aspect_ratio to its resize ops (not
    # the half-pixel rule), its CenterCrop samples with crop_and_resize (and moves a 0-pixel
    # horizontal margin to 1). So TF.js is the oracle for Rescaling alone; the files of the
    # other two still load back into minigrad (test above).
    from test_tfjs_interop import _tfjs_predict
    inputs = layers.Input(shape=(4, 5, 2))
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    model = mg.models.Model(inputs, layers.Dense(3)(layers.Flatten()(x)))
    x = np.random.default_rng(5).uniform(0, 255, (2, 4, 5, 2)).astype(np.float32)
    model.save(tmp_path / "model")
    np.testing.assert_allclose(_tfjs_predict(node, tmp_path / "model", x, tmp_path),
                               model.predict(x), rtol=1e-4, atol=1e-5)
