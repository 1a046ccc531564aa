"""SpatialDropout1D/2D, GaussianNoise, GaussianDropout (minigrad/layers/regularization.py) and their
ops (minigrad/ops/noise.py): the harness (inference, and training with a seed: the gradient uses
the call's own draw), identity at inference, statistics of the noise in training, whole channels
dropped, seeds, errors, Keras 3 as oracle at inference and for configs, and TF.js.

Random draws cannot match Keras's bits, so training mode is checked by what the noise must be."""
import json

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
from minigrad import layers
from minigrad.layers.regularization import (GaussianDropout, GaussianNoise, SpatialDropout1D,
                                            SpatialDropout2D)
from minigrad.ops.noise import gaussian_dropout, gaussian_noise, spatial_dropout
from minigrad.testing import gradcheck
from conftest import seeds, shapes
from keras_oracle import match_keras_layer
from layer_harness import run_layer_test

CLASSES = (SpatialDropout1D, SpatialDropout2D, GaussianNoise, GaussianDropout)


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# -- the harness: inference is the identity; training with a seed is reproducible --------------

@pytest.mark.parametrize("cls,kwargs,shape,training", [
    (SpatialDropout1D, dict(rate=0.2), (2, 4, 3), False),
    (SpatialDropout1D, dict(rate=0.5, seed=3), (2, 4, 3), True),
    (SpatialDropout2D, dict(rate=0.3, data_format="channels_first"), (2, 3, 2, 2), False),
    (SpatialDropout2D, dict(rate=0.5, seed=1), (2, 3, 3, 4), True),
    (SpatialDropout2D, dict(rate=0.4, seed=2, data_format="channels_first"), (2, 4, 3, 3), True),
    (GaussianNoise, dict(stddev=1.0), (2, 3, 4), False),
    (GaussianNoise, dict(stddev=0.5, seed=4), (3, 5), True),
    (GaussianNoise, dict(stddev=0.1, seed=0), (2, 2, 3, 2), True),
    (GaussianDropout, dict(rate=0.6), (2, 3, 4, 2), False),
    (GaussianDropout, dict(rate=0.3, seed=5), (3, 5), True),
    (GaussianDropout, dict(rate=0.1, seed=9), (2, 4, 3), True),
])
def test_harness(cls, kwargs, shape, training):
    x = _x(shape)
    layer, y = run_layer_test(cls, kwargs, shape, input_data=x, training=training,
                              expected_output_shape=shape)
    if not training:
        np.testing.assert_array_equal(y.numpy(), x)
    else:
        assert not np.array_equal(y.numpy(), x)


@pytest.mark.parametrize("layer", [SpatialDropout1D(0.5), SpatialDropout2D(0.5),
                                   GaussianNoise(0.5), GaussianDropout(0.5)])
def test_inference_is_the_identity_and_so_is_no_noise(layer):
    x = _x((2, 3, 4, 5) if isinstance(layer, SpatialDropout2D) else (2, 3, 5))
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    zero = type(layer).from_config(dict(layer.get_config(), name="zero",
                                        **{"stddev" if isinstance(layer, GaussianNoise) else
                                           "rate": 0.0}))
    np.testing.assert_array_equal(zero(x, training=True).numpy(), x)


# -- training statistics --------------------------------------------------------------------

@pytest.mark.parametrize("layer,shape,channel_axis", [
    (SpatialDropout1D(0.3, seed=0), (200, 5, 50), 2),
    (SpatialDropout2D(0.3, seed=1), (100, 3, 4, 40), 3),
    (SpatialDropout2D(0.3, seed=2, data_format="channels_first"), (100, 40, 3, 4), 1),
])
def test_spatial_dropout_drops_whole_channels_and_scales_the_rest(layer, shape, channel_axis):
    y = layer(np.ones(shape, np.float32), training=True).numpy()
    spatial = tuple(a for a in range(1, len(shape)) if a != channel_axis)
    first = y[tuple(slice(None) if a not in spatial else slice(0, 1) for a in range(len(shape)))]
    assert (y == first).all()                       # one decision per (sample, channel)
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.7)}
    dropped = (first == 0).mean()                   # 5000 to 10000 decisions
    assert abs(dropped - 0.3) < 0.03
    assert y.dtype == np.float32


def test_gaussian_noise_has_mean_zero_and_the_stddev():
    x = np.full((400, 500), 2.0, np.float32)
    noise = GaussianNoise(0.4, seed=0)(x, training=True).numpy() - x
    assert abs(noise.mean()) < 0.01                # the mean of 200000 draws: sd 0.0009
    assert abs(noise.std() / 0.4 - 1) < 0.01


def test_gaussian_dropout_multiplier_has_mean_one_and_variance_rate_over_keep():
    x = np.full((400, 500), -3.0, np.float32)
    m = GaussianDropout(0.2, seed=0)(x, training=True).numpy() / x
    assert abs(m.mean() - 1) < 0.01
    assert abs(m.var() / (0.2 / 0.8) - 1) < 0.02


# -- seeds ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make,shape", [(lambda s: SpatialDropout1D(0.5, seed=s), (4, 3, 8)),
                                        (lambda s: SpatialDropout2D(0.5, seed=s), (4, 2, 2, 8)),
                                        (lambda s: GaussianNoise(0.3, seed=s), (4, 6)),
                                        (lambda s: GaussianDropout(0.3, seed=s), (4, 6))])
def test_the_same_seed_gives_the_same_draws(make, shape):
    x = _x(shape)
    a, b, other = make(7), make(7), make(8)
    first, second = a(x, training=True).numpy(), a(x, training=True).numpy()
    np.testing.assert_array_equal(b(x, training=True).numpy(), first)
    np.testing.assert_array_equal(b(x, training=True).numpy(), second)
    assert not np.array_equal(first, second)       # each call draws afresh
    assert not np.array_equal(other(x, training=True).numpy(), first)
    again = type(a).from_config(a.get_config())    # the seed travels in the config
    np.testing.assert_array_equal(again(x, training=True).numpy(), first)


# -- gradients: the call's own mask / scale --------------------------------------------------

@pytest.mark.parametrize("layer,shape", [
    (SpatialDropout1D(0.4, seed=1), (3, 4, 5)),
    (SpatialDropout2D(0.4, seed=1, data_format="channels_first"), (3, 5, 2, 2)),
    (GaussianDropout(0.4, seed=1), (3, 4, 5)),
])
def test_gradient_of_a_multiplicative_noise_is_its_multiplier(layer, shape):
    x = mg.Tensor(np.abs(_x(shape)) + 0.5, requires_grad=True)
    y = layer(x, training=True)
    g = _x(shape, seed=1)
    y.backward(g)
    np.testing.assert_allclose(x.grad, g * (y.numpy() / x.numpy()), rtol=1e-6, atol=1e-7)


def test_gradient_of_gaussian_noise_is_the_identity():
    x = mg.Tensor(_x((3, 4)), requires_grad=True)
    g = _x((3, 4), seed=1)
    GaussianNoise(0.7, seed=0)(x, training=True).backward(g)
    np.testing.assert_array_equal(x.grad, g)


# -- the ops: float64 gradcheck on hypothesis-drawn shapes, seeds -----------------------------

@settings(max_examples=20, deadline=None)
@given(shape=shapes(min_dims=1, max_dims=3, min_side=1), seed=seeds)
def test_noise_ops_gradcheck(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    assert gradcheck(lambda t: gaussian_noise(t, 0.5, seed), [x])
    assert gradcheck(lambda t: gaussian_dropout(t, 0.3, seed), [x])
    y = gaussian_dropout(x, 0.3, seed)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y.numpy(), gaussian_dropout(x, 0.3, seed).numpy())


@settings(max_examples=20, deadline=None)
@given(shape=shapes(min_dims=3, max_dims=4, min_side=1), seed=seeds)
def test_spatial_dropout_op_gradcheck(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    for fmt in ("channels_last", "channels_first"):
        assert gradcheck(lambda t: spatial_dropout(t, 0.5, seed, data_format=fmt), [x])


def test_ops_keep_float32_and_take_a_generator():
    x = _x((3, 4))
    rng = np.random.default_rng(0)
    assert gaussian_noise(x, 0.1, rng).dtype == np.float32
    assert gaussian_dropout(x, 0.1, rng).dtype == np.float32
    assert spatial_dropout(x[None], 0.1, rng).dtype == np.float32


# -- errors that name the argument ----------------------------------------------------------

@pytest.mark.parametrize("make,error,match", [
    (lambda: SpatialDropout1D(1.0), ValueError, r"SpatialDropout1D: rate must be"),
    (lambda: SpatialDropout1D(-0.1), ValueError, r"SpatialDropout1D: rate must be"),
    (lambda: SpatialDropout2D(0.5, data_format="NCHW"), ValueError,
     r"SpatialDropout2D: data_format must be 'channels_last' or 'channels_first', got 'NCHW'"),
    (lambda: SpatialDropout2D(0.5, seed=-1), ValueError, r"SpatialDropout2D: seed must be"),
    (lambda: GaussianNoise(1.5), ValueError, r"GaussianNoise: stddev must be .*got 1.5"),
    (lambda: GaussianNoise("0.1"), TypeError, r"GaussianNoise: stddev must be"),
    (lambda: GaussianNoise(0.1, seed=1.5), TypeError, r"GaussianNoise: seed must be"),
    (lambda: GaussianDropout(1.0), ValueError, r"GaussianDropout: rate must be .*got 1.0"),
    (lambda: GaussianDropout(True), TypeError, r"GaussianDropout: rate must be"),
    (lambda: spatial_dropout(np.ones((2, 3)), 0.5), ValueError,
     r"spatial_dropout: x must be a 3-D \(N, L, C\) or 4-D \(N, H, W, C\) tensor .*"
     r"got shape \(2, 3\)"),
    (lambda: spatial_dropout(np.ones((2, 3, 4)), 0.5, data_format="NCL"), ValueError,
     r"spatial_dropout: data_format must be"),
    (lambda: spatial_dropout(np.ones((2, 3, 4)), 1.5), ValueError,
     r"^spatial_dropout: rate must be a finite number in \[0, 1\), got 1.5"),
    (lambda: spatial_dropout(np.ones((2, 3, 4)), "x"), TypeError,
     r"^spatial_dropout: rate must be a finite number"),
    (lambda: gaussian_noise(np.ones(3), "x"), TypeError, r"gaussian_noise: stddev must be"),
    (lambda: gaussian_noise(np.ones(3), -1.0), ValueError,
     r"gaussian_noise: stddev must be a finite non-negative number, got -1.0"),
    (lambda: gaussian_dropout(np.ones(3), 1), ValueError,
     r"gaussian_dropout: rate must be a finite number in \[0, 1\), got 1"),
])
def test_bad_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer,shape", [(SpatialDropout1D(0.5), (2, 3)),
                                         (SpatialDropout1D(0.5), (2, 3, 4, 5)),
                                         (SpatialDropout2D(0.5), (2, 3, 4))])
def test_wrong_rank_is_refused(layer, shape):
    with pytest.raises(ValueError):
        layer(np.zeros(shape, np.float32), training=True)


def test_layers_are_exported_and_registered():
    for cls in CLASSES:
        assert getattr(layers, cls.__name__) is cls
        entry = layers.serialize(cls(0.5, name="noise"))
        assert type(layers.deserialize(json.loads(json.dumps(entry)))) is cls


# -- Keras 3 as oracle: inference and configs -------------------------------------------------

ORACLE_CASES = [
    ("SpatialDropout1D", {"rate": 0.3}, (2, 5, 3)),
    ("SpatialDropout1D", {"rate": 0.5, "seed": 4}, (3, 2, 4)),
    ("SpatialDropout2D", {"rate": 0.3}, (2, 3, 4, 2)),
    ("SpatialDropout2D", {"rate": 0.5, "seed": 1, "data_format": "channels_first"}, (2, 2, 3, 4)),
    ("GaussianNoise", {"stddev": 0.3}, (2, 5, 3)),
    ("GaussianNoise", {"stddev": 1.0, "seed": 2}, (3, 4)),
    ("GaussianDropout", {"rate": 0.2}, (2, 5, 3)),
    ("GaussianDropout", {"rate": 0.7, "seed": 3}, (2, 2, 3, 2)),
]


@pytest.mark.parametrize("class_name,kwargs,input_shape", ORACLE_CASES)
def test_matches_keras3_at_inference(keras, class_name, kwargs, input_shape):
    match_keras_layer(keras, class_name, kwargs, input_shape, training=False)


@pytest.mark.parametrize("class_name,kwargs,input_shape", ORACLE_CASES)
def test_config_from_keras3_round_trips(keras, class_name, kwargs, input_shape):
    theirs = getattr(keras.layers, class_name)(**kwargs).get_config()
    ours = layers.deserialize({"class_name": class_name, "config": theirs}).get_config()
    for key, value in theirs.items():
        if key != "dtype":   # a dtype-policy object in Keras's dict, its name in ours
            assert ours[key] == value, key
    assert ours["dtype"] == "float32"
    again = layers.deserialize(json.loads(json.dumps({"class_name": class_name, "config": ours})))
    assert again.get_config() == ours


@pytest.mark.parametrize("class_name,kwargs,input_shape", ORACLE_CASES)
def test_keras3_builds_the_layer_from_our_config(keras, class_name, kwargs, input_shape):
    """Keras 3 reads what minigrad writes (its SpatialDropout1D/2D refuse a 'trainable' key,
    so a .keras file of ours with one could not be loaded; found by a fuzz)."""
    ours = layers.deserialize({"class_name": class_name, "config": dict(kwargs)}).get_config()
    theirs = getattr(keras.layers, class_name).from_config(json.loads(json.dumps(ours)))
    assert {k: v for k, v in theirs.get_config().items() if k != "dtype"} == \
        {k: v for k, v in ours.items() if k != "dtype"}


def test_keras3_spatial_dropout_drops_whole_channels_too(keras):
    # Keras's draws differ from ours, but what they are made of is the same
    y = keras.layers.SpatialDropout2D(0.5, seed=0, data_format="channels_first")(
        np.ones((8, 6, 3, 3), np.float32), training=True)
    y = y.detach().cpu().numpy() if hasattr(y, "detach") else np.asarray(y)
    assert (y == y[:, :, :1, :1]).all() and set(np.unique(y)) <= {0.0, 2.0}


# -- TF.js: a model saved with these layers predicts the same (they are identities there too) ---

def test_tfjs_predicts_the_same_for_the_noise_layers(node, tmp_path):
    # TF.js has SpatialDropout1D, GaussianNoise and GaussianDropout (not SpatialDropout2D)
    from test_tfjs_interop import _tfjs_predict
    from minigrad.layers.pooling import GlobalAveragePooling1D, MaxPooling1D
    model = mg.models.Sequential([
        layers.Input(shape=(8, 3)),
        layers.Dense(4, name="dense_in"),
        SpatialDropout1D(0.3, seed=1, name="spatial"),
        GaussianNoise(0.2, name="noise"),
        GaussianDropout(0.4, seed=2, name="gdrop"),
        MaxPooling1D(2, name="pool"),
        GlobalAveragePooling1D(name="gap"),
        layers.Dense(2, name="dense_out"),
    ], name="noisy")
    rng = np.random.default_rng(0)
    for w in model.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32))
    x = rng.standard_normal((3, 8, 3)).astype(np.float32)
    model.save(tmp_path / "model")
    expected = model.predict(x)
    np.testing.assert_allclose(_tfjs_predict(node, tmp_path / "model", x, tmp_path), expected,
                               rtol=1e-4, atol=1e-5)
    again = mg.models.load_model(tmp_path / "model")
    assert [type(layer).__name__ for layer in again.layers][1:4] == \
        ["SpatialDropout1D", "GaussianNoise", "GaussianDropout"]
    np.testing.assert_allclose(again.predict(x), expected, rtol=1e-6)


def test_a_keras3_model_with_noise_and_pooling_layers_predicts_as_keras(keras):
    # Keras's own model JSON (its configs, dtype policies and all) builds in minigrad; at inference
    # the noise layers are identities on both sides
    K = keras.layers
    theirs = keras.Sequential([
        keras.Input(shape=(9, 3)), K.Dense(4), K.SpatialDropout1D(0.3), K.GaussianNoise(0.2),
        K.GaussianDropout(0.4), K.MaxPooling1D(2), K.AveragePooling1D(3, strides=1, padding="same"),
        K.GlobalMaxPooling1D(keepdims=True), K.Reshape((4, 1, 1)),
        K.SpatialDropout2D(0.5, data_format="channels_first"), K.GlobalAveragePooling2D(),
        K.Dense(2)])
    ours = mg.models.model_from_json(theirs.to_json())
    ours.set_weights([w.detach().cpu().numpy() if hasattr(w, "detach") else np.asarray(w)
                      for w in theirs.get_weights()])
    x = _x((3, 9, 3))
    np.testing.assert_allclose(ours.predict(x), np.asarray(theirs.predict(x, verbose=0)),
                               rtol=1e-4, atol=1e-5)
