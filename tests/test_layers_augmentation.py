"""RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast and the affine
transform under them (minigrad.ops.image.affine_transform): the layer harness (training=True,
seeded), the identity at inference, seeded draws reproducible, the statistics of the draws,
gradcheck, errors that name the argument, and Keras 3 (torch) as oracle with degenerate factors
(a range of one value makes the draw certain) for every fill_mode and interpolation."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import layers
from minigrad.layers.augmentation import (RandomContrast, RandomFlip, RandomRotation,
                                          RandomTranslation, RandomZoom)
from minigrad.ops.image import affine_transform
from minigrad.testing import gradcheck
from keras_oracle import match_keras_layer
from layer_harness import run_layer_test

FILL_MODES = ["reflect", "wrap", "constant", "nearest"]
INTERPOLATIONS = ["bilinear", "nearest"]
RANDOM_LAYERS = [
    (RandomFlip, dict(mode="horizontal")),
    (RandomRotation, dict(factor=0.2)),
    (RandomZoom, dict(height_factor=0.3)),
    (RandomTranslation, dict(height_factor=0.2, width_factor=0.2)),
    (RandomContrast, dict(factor=0.5)),
]


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _shape(data_format, h, w, c=2, n=2):
    return (n, h, w, c) if data_format == "channels_last" else (n, c, h, w)


# -- the op ------------------------------------------------------------------------------------

def _reference(x, t, interpolation, fill_mode, fill_value):
    """A loop over pixels, as the module docstring reads (NHWC, one transform per image)."""
    n, h, w, c = x.shape
    out = np.zeros_like(x, dtype=np.float64)

    def fix(i, size):
        if fill_mode == "wrap":
            return i % size
        if fill_mode == "reflect":
            i = i % (2 * size)
            return 2 * size - 1 - i if i >= size else i
        return min(max(i, 0), size - 1)

    def read(b, i, j):
        if fill_mode == "constant" and not (0 <= i < h and 0 <= j < w):
            return np.full(c, fill_value)
        return x[b, fix(i, h), fix(j, w)]

    for b in range(n):
        a0, a1, a2, b0, b1, b2 = t[b, :6]
        for r in range(h):
            for col in range(w):
                xi, yi = a0 * col + a1 * r + a2, b0 * col + b1 * r + b2
                if interpolation == "nearest":
                    out[b, r, col] = read(b, int(np.round(yi)), int(np.round(xi)))
                    continue
                y0, x0 = int(np.floor(yi)), int(np.floor(xi))
                fy, fx = yi - y0, xi - x0
                out[b, r, col] = ((1 - fy) * (1 - fx) * read(b, y0, x0)
                                  + (1 - fy) * fx * read(b, y0, x0 + 1)
                                  + fy * (1 - fx) * read(b, y0 + 1, x0)
                                  + fy * fx * read(b, y0 + 1, x0 + 1))
    return out


def _random_transforms(n, rng):
    t = np.zeros((n, 8))
    t[:, :6] = rng.uniform(-1.5, 1.5, (n, 6))
    t[:, 2] *= 3
    t[:, 5] *= 3
    return t


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_affine_transform_against_a_pixel_loop(fill_mode, interpolation):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 4, 3))
    t = _random_transforms(2, rng)
    y = affine_transform(x, t, interpolation, fill_mode, fill_value=0.7)
    np.testing.assert_allclose(y.numpy(), _reference(x, t, interpolation, fill_mode, 0.7),
                               rtol=1e-12, atol=1e-12)


def test_affine_transform_identity_and_channels_first():
    x = _x((2, 4, 5, 3))
    identity = [1, 0, 0, 0, 1, 0, 0, 0]
    np.testing.assert_array_equal(affine_transform(x, identity).numpy(), x)
    t = _random_transforms(2, np.random.default_rng(2))
    cl = affine_transform(x, t, fill_mode="wrap").numpy()
    cf = affine_transform(x.transpose(0, 3, 1, 2), t, fill_mode="wrap",
                          data_format="channels_first").numpy()
    np.testing.assert_allclose(cf, cl.transpose(0, 3, 1, 2), rtol=1e-6)


@settings(max_examples=20, deadline=None)
@given(h=st.integers(1, 5), w=st.integers(1, 5), seed=st.integers(0, 1000),
       fill_mode=st.sampled_from(FILL_MODES + ["mirror"]),
       interpolation=st.sampled_from(INTERPOLATIONS),
       data_format=st.sampled_from(["channels_last", "channels_first"]))
def test_affine_transform_gradcheck(h, w, seed, fill_mode, interpolation, data_format):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(_shape(data_format, h, w))
    t = _random_transforms(2, rng)
    # gradcheck moves x, never the sampling points, so nearest and the kinks of bilinear in the
    # point are no trouble: the op is linear in x
    gradcheck(lambda im: affine_transform(im, t, interpolation, fill_mode, 0.3, data_format), [x])


@pytest.mark.parametrize("call,error,words", [
    (lambda: affine_transform(np.zeros((1, 2, 2, 1)), np.zeros(6)), ValueError, "transform"),
    (lambda: affine_transform(np.zeros((2, 2, 2, 1)), np.zeros((3, 8))), ValueError, "transform"),
    (lambda: affine_transform(np.zeros((1, 2, 2, 1)), [1, 0, 0, 0, 1, 0, 0.1, 0]), ValueError,
     "projective"),
    (lambda: affine_transform(np.zeros((1, 2, 2, 1)), np.zeros(8), fill_mode="zeros"),
     ValueError, "fill_mode"),
    (lambda: affine_transform(np.zeros((1, 2, 2, 1)), np.zeros(8), "bicubic"), ValueError,
     "interpolation"),
    (lambda: affine_transform(np.zeros((1, 2, 2, 1)), np.zeros(8), fill_value="0"), TypeError,
     "fill_value"),
    (lambda: affine_transform(np.zeros((2, 2, 1)), np.zeros(8)), ValueError, "4-D"),
    (lambda: affine_transform(np.zeros((1, 2, 2, 1)), [1, 0, np.nan, 0, 1, 0, 0, 0]),
     ValueError, "transform must hold finite numbers"),
    (lambda: affine_transform(np.zeros((1, 2, 2, 1)), [1, 0, 0, 0, 1, 0, np.inf, 0]),
     ValueError, "transform must hold finite numbers"),
])
def test_affine_transform_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


# -- layers: harness, identity at inference, seeds ---------------------------------------------

HARNESS = [
    (RandomFlip, dict(seed=1), (2, 4, 5, 2)),
    (RandomFlip, dict(mode="vertical", seed=2, data_format="channels_first"), (3, 2, 4, 3)),
    (RandomRotation, dict(factor=0.3, seed=3), (2, 5, 4, 2)),
    (RandomRotation, dict(factor=(-0.2, 0.1), fill_mode="constant", fill_value=0.5,
                          interpolation="nearest", seed=4, data_format="channels_first"),
     (2, 2, 4, 5)),
    (RandomZoom, dict(height_factor=0.4, seed=5, fill_mode="wrap"), (2, 4, 4, 1)),
    (RandomZoom, dict(height_factor=(-0.3, 0.2), width_factor=0.3, seed=6,
                      data_format="channels_first"), (2, 2, 5, 4)),
    (RandomTranslation, dict(height_factor=0.2, width_factor=(-0.3, 0.1), seed=7,
                             fill_mode="nearest"), (2, 5, 5, 2)),
    (RandomTranslation, dict(height_factor=(0.1, 0.3), width_factor=0.25, seed=8,
                             interpolation="nearest", data_format="channels_first"),
     (2, 3, 4, 4)),
    (RandomContrast, dict(factor=0.5, value_range=(-10, 10), seed=9), (2, 4, 3, 2)),
    (RandomContrast, dict(factor=(0.2, 0.6), value_range=(-10, 10), seed=10,
                          data_format="channels_first"), (2, 3, 4, 3)),
]


@pytest.mark.parametrize("cls,kwargs,shape", HARNESS)
def test_harness_while_training(cls, kwargs, shape):
    # seeded: every fresh layer from the config draws the same, so gradcheck sees one function
    run_layer_test(cls, kwargs, shape, training=True)


@pytest.mark.parametrize("cls,kwargs,shape", HARNESS)
def test_identity_at_inference(cls, kwargs, shape):
    x = _x(shape)
    layer, y = run_layer_test(cls, kwargs, shape, input_data=x, training=False)
    np.testing.assert_array_equal(y.numpy(), x)
    np.testing.assert_array_equal(layer(x).numpy(), x)             # training=False by default
    model = mg.models.Sequential([layers.Input(shape=shape[1:]), cls(**kwargs)])
    np.testing.assert_array_equal(model.predict(x), x)


@pytest.mark.parametrize("cls,kwargs", RANDOM_LAYERS)
def test_seeded_draws_are_reproducible(cls, kwargs):
    x = np.random.default_rng(0).uniform(0, 255, (4, 6, 6, 2)).astype(np.float32)
    a, b = cls(seed=42, **kwargs), cls(seed=42, **kwargs)
    first = [a(x, training=True).numpy() for _ in range(3)]
    again = [b(x, training=True).numpy() for _ in range(3)]
    for p, q in zip(first, again):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(first[0], first[1])             # the next call draws anew
    c = cls(seed=43, **kwargs)
    assert not np.array_equal(c(x, training=True).numpy(), first[0])
    # the seed is in the config, so a layer from the config draws the same sequence
    twin = cls.from_config(json.loads(json.dumps(a.get_config())))
    np.testing.assert_array_equal(twin(x, training=True).numpy(), first[0])


# -- statistics of the draws --------------------------------------------------------------------

def test_random_flip_flips_about_half():
    n = 2000
    x = np.arange(2.0, dtype=np.float32).reshape(1, 1, 2, 1).repeat(n, axis=0)   # [0, 1]
    for mode in RandomFlip.MODES:
        y = RandomFlip(mode=mode, seed=0)(x, training=True).numpy()
        flipped = y[:, 0, 0, 0] == 1.0
        if mode == "vertical":     # one row: a top-bottom flip changes nothing
            np.testing.assert_array_equal(y, x)
            continue
        assert np.all(y[flipped, 0, :, 0] == [1, 0]) and np.all(y[~flipped, 0, :, 0] == [0, 1])
        assert 0.45 < flipped.mean() < 0.55                      # 5 sigma is 0.056
    # vertical flips rows only, horizontal columns only; both at once: a half turn
    x = _x((64, 3, 4, 2))
    for mode, axes in [("horizontal", (2,)), ("vertical", (1,)),
                       ("horizontal_and_vertical", (1, 2))]:
        y = RandomFlip(mode=mode, seed=1)(x, training=True).numpy()
        same = [np.array_equal(y[i], x[i]) for i in range(64)]
        turned = [np.array_equal(y[i], np.flip(x[i], [a - 1 for a in axes])) for i in range(64)]
        assert all(s != t for s, t in zip(same, turned)) and any(same) and any(turned)


def test_random_rotation_angles_within_the_factor():
    layer = RandomRotation(factor=(-0.1, 0.05), seed=0)
    t = layer.transforms(4000, 5, 5)
    angle = np.degrees(np.arctan2(t[:, 3], t[:, 0]))            # b0 = sin, a0 = cos
    assert angle.min() >= -36.0 - 1e-9 and angle.max() <= 18.0 + 1e-9
    assert abs(angle.mean() - (-9.0)) < 1.0 and angle.std() > 0.9 * 54 / np.sqrt(12)
    np.testing.assert_allclose(t[:, 1], -t[:, 3])              # a rotation: a1 = -sin
    np.testing.assert_allclose(t[:, 4], t[:, 0])


def test_random_zoom_and_translation_draws_within_range():
    zoom = RandomZoom(height_factor=(-0.4, 0.2), width_factor=(0.1, 0.3), seed=0)
    t = zoom.transforms(4000, 6, 8)
    assert t[:, 4].min() >= 0.6 and t[:, 4].max() <= 1.2 and np.ptp(t[:, 4]) > 0.5
    assert t[:, 0].min() >= 1.1 and t[:, 0].max() <= 1.3
    same = RandomZoom(height_factor=0.3, seed=0).transforms(100, 6, 8)
    np.testing.assert_array_equal(same[:, 0], same[:, 4])        # no width_factor: one zoom
    shift = RandomTranslation(height_factor=0.25, width_factor=(-0.5, 0.0), seed=0)
    t = shift.transforms(4000, 8, 10)
    dy, dx = -t[:, 5], -t[:, 2]
    assert dy.min() >= -2 and dy.max() <= 2 and abs(dy.mean()) < 0.1
    assert dx.min() >= -5 and dx.max() <= 0 and abs(dx.mean() + 2.5) < 0.15


def test_random_contrast_factors_within_range():
    # one pixel of 1 among zeros per image: after the change it is m + (1 - m) * c, m = 1 / 4
    n = 4000
    x = np.zeros((n, 2, 2, 1), np.float32)
    x[:, 0, 0] = 1.0
    for kwargs, (low, high) in [(dict(factor=0.4), (1.0, 1.4)),       # Keras 3.15: (0, f)
                                (dict(factor=(0.3, 0.2)), (0.8, 1.3))]:   # sorted, as Keras
        y = RandomContrast(value_range=(-10, 10), seed=0, **kwargs)(x, training=True).numpy()
        c = (y[:, 0, 0, 0] - 0.25) / 0.75
        assert c.min() >= low - 1e-6 and c.max() <= high + 1e-6
        assert abs(c.mean() - (low + high) / 2) < 0.02
    # the result is clipped to value_range
    y = RandomContrast(factor=(-1.0, 1.0), value_range=(0, 0.5), seed=0)(x, training=True)
    assert y.numpy().max() == 0.5


# -- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,kwargs,error,words", [
    (RandomFlip, dict(mode="diagonal"), ValueError, "mode"),
    (RandomFlip, dict(seed=-1), ValueError, "seed"),
    (RandomFlip, dict(seed=1.5), TypeError, "seed"),
    (RandomRotation, dict(factor=1.5), ValueError, "factor"),
    (RandomRotation, dict(factor=(0.1, 0.2, 0.3)), ValueError, "factor"),
    (RandomRotation, dict(factor="0.1"), TypeError, "factor"),
    (RandomRotation, dict(factor=0.1, fill_mode="mirror"), ValueError, "fill_mode"),
    (RandomRotation, dict(factor=0.1, interpolation="bicubic"), ValueError, "interpolation"),
    (RandomRotation, dict(factor=0.1, fill_value=None), TypeError, "fill_value"),
    (RandomZoom, dict(height_factor=-1.0), ValueError, "height_factor"),
    (RandomZoom, dict(height_factor=0.2, width_factor=(0.1, 2.0)), ValueError, "width_factor"),
    (RandomTranslation, dict(height_factor=0.1, width_factor=1.5), ValueError, "width_factor"),
    (RandomTranslation, dict(height_factor=True, width_factor=0.1), TypeError,
     "height_factor"),
    (RandomContrast, dict(factor=1.5), ValueError, "factor"),
    (RandomContrast, dict(factor=(0.3, -0.3)), ValueError, "factor"),
    (RandomContrast, dict(factor=0.2, value_range=(1, 0)), ValueError, "value_range"),
    (RandomContrast, dict(factor=0.2, data_format="NCHW"), ValueError, "data_format"),
])
def test_errors_name_the_argument(cls, kwargs, error, words):
    with pytest.raises(error, match=words):
        cls(**kwargs)


def test_augmentation_wants_an_image_or_a_batch():
    with pytest.raises(ValueError, match=r"rank 4\) or one image \(rank 3"):
        RandomFlip()(np.zeros((3, 3), np.float32), training=True)


@pytest.mark.parametrize("cls,kwargs", RANDOM_LAYERS)
def test_one_image_without_the_batch_axis(cls, kwargs):
    # as Keras: one (H, W, C) image is augmented as a batch of one (the same draws)
    x = np.random.default_rng(1).uniform(0, 255, (5, 6, 2)).astype(np.float32)
    y = cls(seed=3, **kwargs)(x, training=True).numpy()
    np.testing.assert_array_equal(y, cls(seed=3, **kwargs)(x[None], training=True).numpy()[0])
    np.testing.assert_array_equal(cls(seed=3, **kwargs)(x).numpy(), x)


@pytest.mark.parametrize("class_name,kwargs", [
    ("RandomRotation", dict(factor=(0.25, 0.25), fill_mode="constant")),
    ("RandomTranslation", dict(height_factor=(0.2, 0.2), width_factor=(-0.4, -0.4),
                               interpolation="nearest", fill_mode="wrap")),
    ("RandomZoom", dict(height_factor=(-0.5, -0.5), data_format="channels_first")),
    ("RandomContrast", dict(factor=(-0.5, 0.5), value_range=(-1, 1))),
])
def test_one_image_matches_keras(keras, class_name, kwargs):
    x = _x((5, 5, 2))
    theirs = getattr(keras.layers, class_name)(**kwargs)
    ours = layers.deserialize({"class_name": class_name, "config": theirs.get_config()})
    np.testing.assert_allclose(ours(x, training=True).numpy(),
                               np.asarray(theirs(x, training=True).cpu()), rtol=1e-4, atol=1e-5)


# -- Keras 3 as oracle: degenerate factors make the draw certain ---------------------------------

@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_affine_layers_match_keras(keras, fill_mode, interpolation, data_format):
    common = dict(fill_mode=fill_mode, interpolation=interpolation, fill_value=0.5,
                  data_format=data_format)
    cases = [
        ("RandomRotation", dict(factor=(0.25, 0.25)), _shape(data_format, 6, 6)),  # 90 degrees
        ("RandomRotation", dict(factor=(-0.1, -0.1)), _shape(data_format, 5, 7)),
        ("RandomTranslation", dict(height_factor=(0.2, 0.2), width_factor=(-0.3, -0.3)),
         _shape(data_format, 8, 10)),
        ("RandomZoom", dict(height_factor=(-0.5, -0.5)), _shape(data_format, 6, 6)),
        ("RandomZoom", dict(height_factor=(0.3, 0.3), width_factor=(-0.2, -0.2)),
         _shape(data_format, 8, 10)),
    ]
    for class_name, kwargs, shape in cases:
        match_keras_layer(keras, class_name, dict(kwargs, **common), shape, training=True)
        match_keras_layer(keras, class_name, dict(kwargs, **common), shape, training=False)


def test_rotation_by_a_quarter_turn_is_rot90():
    # exactly 90 degrees: output (y, x) reads input (x, W - 1 - y), which is np.rot90's turn
    x = _x((2, 5, 5, 3))
    y = RandomRotation(factor=(0.25, 0.25))(x, training=True).numpy()
    np.testing.assert_allclose(y, np.rot90(x, k=1, axes=(1, 2)), atol=1e-5)


@pytest.mark.parametrize("kwargs,shape,scale", [
    (dict(factor=(-0.5, 0.5)), (2, 5, 6, 3), 60.0),                        # c = 1.5, (0, 255)
    (dict(factor=(-0.5, 0.5), value_range=(-1, 1)), (2, 5, 6, 3), 1.0),
    (dict(factor=(0.0, 0.0), value_range=(-10, 10)), (2, 4, 4, 2), 1.0),   # c = 1
    (dict(factor=(-0.2, 0.2), value_range=(-1, 1), data_format="channels_first"),
     (2, 3, 5, 6), 1.0),
])
def test_random_contrast_matches_keras(keras, kwargs, shape, scale):
    x = np.abs(_x(shape, seed=3)) * scale if scale > 1 else _x(shape, seed=3)
    match_keras_layer(keras, "RandomContrast", kwargs, shape, training=True, input_data=x,
                      atol=1e-4)
    match_keras_layer(keras, "RandomContrast", kwargs, shape, training=False, input_data=x)


@pytest.mark.parametrize("mode", RandomFlip.MODES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_random_flip_outcomes_are_keras(keras, mode, data_format):
    # the draws differ (Keras has its own generator), so compare what a flip is: every image of
    # Keras's output and of ours is the input or the same flip of it, both occur
    x = _x(_shape(data_format, 3, 4, n=32))
    theirs = keras.layers.RandomFlip(mode=mode, seed=1, data_format=data_format)
    ours = layers.deserialize({"class_name": "RandomFlip", "config": theirs.get_config()})
    k = np.asarray(theirs(x, training=True).cpu())
    m = ours(x, training=True).numpy()
    h_axis = 1 if data_format == "channels_last" else 2
    axes = {"horizontal": (h_axis + 1,), "vertical": (h_axis,),
            "horizontal_and_vertical": (h_axis, h_axis + 1)}[mode]
    every = np.flip(x, axes)                                      # every image flipped
    for out in (k, m):
        kept = [np.array_equal(out[i], x[i]) for i in range(32)]
        changed = [np.array_equal(out[i], every[i]) for i in range(32)]
        assert all(a != b for a, b in zip(kept, changed)) and any(kept) and any(changed)
    match_keras_layer(keras, "RandomFlip", dict(mode=mode, data_format=data_format),
                      _shape(data_format, 3, 4), training=False)


# -- files: saved and loaded with the model -----------------------------------------------------

def _augmented_model():
    inputs = layers.Input(shape=(8, 8, 1))
    x = layers.RandomFlip("horizontal", seed=1)(inputs)
    x = layers.RandomRotation(0.1, seed=2, fill_mode="constant")(x)
    x = layers.RandomZoom((-0.2, 0.1), width_factor=0.1, seed=3, interpolation="nearest")(x)
    x = layers.RandomTranslation(0.1, (-0.2, 0.2), seed=4, fill_mode="wrap")(x)
    x = layers.RandomContrast((0.1, 0.3), value_range=(0, 1), seed=5)(x)
    return mg.models.Model(inputs, layers.Dense(3)(layers.Flatten()(x)))


@pytest.mark.parametrize("filename", ["model.keras", "model.h5", "tfjs_model"])
def test_saved_and_loaded_with_the_model(tmp_path, filename):
    if filename != "tfjs_model":
        pytest.importorskip("h5py")       # Keras's files are HDF5 inside
    model = _augmented_model()
    model.save(tmp_path / filename)
    again = mg.models.load_model(tmp_path / filename)
    for ours, theirs in zip(model.layers, again.layers):
        assert type(ours) is type(theirs) and ours.get_config() == theirs.get_config()
    x = np.random.default_rng(0).uniform(0, 1, (4, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)
    # same seeds, same training draws: the loaded model augments as a fresh copy would
    fresh = _augmented_model()
    fresh.set_weights(model.get_weights())
    np.testing.assert_allclose(again(x, training=True).numpy(), fresh(x, training=True).numpy(),
                               rtol=1e-6)


def test_keras_loads_the_saved_model(keras, tmp_path):
    pytest.importorskip("h5py")
    model = _augmented_model()
    model.save(tmp_path / "model.keras")
    theirs = keras.saving.load_model(tmp_path / "model.keras")
    assert [type(l).__name__ for l in theirs.layers][1:6] == [
        "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast"]
    x = np.random.default_rng(1).uniform(0, 1, (2, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), model.predict(x),
                               rtol=1e-4, atol=1e-5)


def test_fit_augments_and_trains(tmp_path):
    model = _augmented_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(2).uniform(0, 1, (16, 8, 8, 1)).astype(np.float32)
    y = np.arange(16) % 3
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_mnist_example_augment_flag(capsys):
    # examples/mnist_mobilenet.py --augment: the three layers in front, the identity at inference
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples",
                        "mnist_mobilenet.py")
    spec = importlib.util.spec_from_file_location("mnist_mobilenet", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    plain, augmented = example.build_model(), example.build_model(augment=True)
    assert [type(l).__name__ for l in augmented.layers[:4]] == [
        "RandomRotation", "RandomTranslation", "RandomZoom", "Conv2D"]
    assert not any(isinstance(l, RandomRotation) for l in plain.layers)
    augmented_weights = augmented.get_weights()
    assert [w.shape for w in augmented_weights] == [w.shape for w in plain.get_weights()]
    plain.set_weights(augmented_weights)
    x = np.random.default_rng(0).uniform(0, 1, (3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(augmented.predict(x), plain.predict(x), rtol=1e-5)
    accuracy = example.main(["--limit", "128", "--epochs", "1", "--augment"])
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"test accuracy: {accuracy:.4f}"


def test_fit_trains_on_augmented_images_and_evaluate_sees_the_originals():
    # a certain draw (half the height down, zeros coming in) and a learning rate of 0: the loss
    # train_on_batch reports is the loss of the shifted images, evaluate's that of the originals
    shift = dict(height_factor=(0.5, 0.5), width_factor=0.0, fill_mode="constant")
    model = mg.models.Sequential([layers.Input(shape=(4, 3, 1)), layers.RandomTranslation(**shift),
                                  layers.Flatten(), layers.Dense(2)])
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=0.0), loss="mse")
    x = np.random.default_rng(0).uniform(0, 1, (5, 4, 3, 1)).astype(np.float32)
    y = np.random.default_rng(1).uniform(0, 1, (5, 2)).astype(np.float32)
    shifted = np.concatenate([np.zeros_like(x[:, :2]), x[:, :2]], axis=1)
    dense = model.layers[-1]
    predict = lambda images: images.reshape(5, -1) @ dense.kernel.numpy() + dense.bias.numpy()
    mse = lambda images: float(np.mean((predict(images) - y) ** 2))
    np.testing.assert_allclose(model.train_on_batch(x, y), mse(shifted), rtol=1e-5)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), mse(x), rtol=1e-5)
    assert abs(mse(shifted) - mse(x)) > 1e-3
