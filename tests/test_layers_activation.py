"""Activation layers (minigrad/layers/activation_layers.py): LeakyReLU, ELU, Softmax, PReLU.

Every configuration runs through the one harness (shape, weights, config, symbolic call, float64
gradcheck); values against NumPy formulas; errors name the argument. The tests marked oracle build
each layer in Keras 3 (PyTorch backend), build minigrad's from Keras's own ``get_config()`` dict,
copy the weights, and compare outputs and gradients (input and weights) to 1e-4; they skip without
keras.
"""
import json

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers
from minigrad.layers.activation_layers import ELU, LeakyReLU, PReLU, Softmax
from layer_harness import run_layer_test
from test_tfjs_interop import _tfjs_predict


def _away_from_zero(shape, seed=0):
    """Random values kept >= 0.1 away from 0, the kink of every layer here (so central
    differences never straddle it)."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return (x + 0.1 * np.sign(x)).astype(np.float32)


def _np_softmax(x, axes):
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


# -- the harness, several configurations per class ------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, {"negative_slope": 0.0}, {"negative_slope": 0.01},
                                    {"negative_slope": 2.5}])
def test_leaky_relu_harness_and_values(kwargs):
    x = _away_from_zero((2, 3, 4))
    layer, y = run_layer_test(LeakyReLU, kwargs, (2, 3, 4), input_data=x)
    slope = kwargs.get("negative_slope", 0.3)
    np.testing.assert_allclose(y.numpy(), np.where(x > 0, x, slope * x), rtol=1e-6)
    assert layer.get_config()["negative_slope"] == slope


def test_leaky_relu_reads_the_old_name_alpha_and_writes_negative_slope():
    layer = layers.deserialize({"class_name": "LeakyReLU", "config": {"alpha": 0.1}})
    assert layer.negative_slope == 0.1 and "alpha" not in layer.get_config()
    with pytest.raises(ValueError, match="negative_slope.*alpha"):
        LeakyReLU(negative_slope=0.2, alpha=0.1)


@pytest.mark.parametrize("kwargs", [{}, {"alpha": 0.5}, {"alpha": 2.0}])
def test_elu_harness_and_values(kwargs):
    x = _away_from_zero((3, 5))
    _, y = run_layer_test(ELU, kwargs, (3, 5), input_data=x)
    alpha = kwargs.get("alpha", 1.0)
    np.testing.assert_allclose(y.numpy(), np.where(x > 0, x, alpha * np.expm1(x)), rtol=1e-5,
                               atol=1e-7)


@pytest.mark.parametrize("axis", [-1, 1, [2], [1, 2], (-1, 1)])
def test_softmax_harness_and_values(axis):
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)
    layer, y = run_layer_test(Softmax, {"axis": axis}, (2, 3, 4), input_data=x)
    axes = tuple(a % 3 for a in axis) if isinstance(axis, (list, tuple)) else axis
    np.testing.assert_allclose(y.numpy(), _np_softmax(x, axes), rtol=1e-5)
    np.testing.assert_allclose(y.numpy().sum(axis=axes), 1, rtol=1e-5)
    assert json.loads(json.dumps(layer.get_config()))["axis"] == (
        list(axis) if isinstance(axis, (list, tuple)) else axis)


def test_softmax_of_large_inputs_does_not_overflow():
    x = np.full((1, 2, 2), 1000.0, np.float32)
    np.testing.assert_allclose(Softmax(axis=[1, 2])(x).numpy(), 0.25)


@pytest.mark.parametrize("kwargs, input_shape, alpha_shape", [
    ({}, (2, 3, 4), (3, 4)),
    ({"shared_axes": [1]}, (2, 3, 4), (1, 4)),
    ({"shared_axes": 2}, (2, 3, 4), (3, 1)),
    ({"shared_axes": [1, 2]}, (2, 3, 3, 2), (1, 1, 2)),
    ({"alpha_initializer": "ones", "alpha_regularizer": "l2", "alpha_constraint": "non_neg"},
     (2, 5), (5,)),
])
def test_prelu_harness_and_values(kwargs, input_shape, alpha_shape):
    x = _away_from_zero(input_shape)
    layer, y = run_layer_test(PReLU, kwargs, input_shape, input_data=x, expected_num_weights=1,
                              expected_num_trainable=1, expected_weight_shapes=[alpha_shape])
    alpha = np.random.default_rng(3).standard_normal(alpha_shape).astype(np.float32)
    layer.set_weights([alpha])
    np.testing.assert_allclose(layer(x).numpy(), np.where(x >= 0, x, alpha * x), rtol=1e-6)


def test_prelu_defaults_to_zero_alpha_so_it_starts_as_relu():
    x = _away_from_zero((2, 4))
    np.testing.assert_array_equal(PReLU()(x).numpy(), np.maximum(x, 0))


def test_prelu_input_spec_checks_the_unshared_axes():
    layer = PReLU(shared_axes=[1])
    layer(np.zeros((2, 3, 4), np.float32))
    layer(np.zeros((2, 7, 4), np.float32))  # axis 1 is shared: any size goes
    with pytest.raises(ValueError):
        layer(np.zeros((2, 3, 5), np.float32))


# -- errors name the argument ------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, message", [
    (lambda: LeakyReLU(negative_slope=-0.1), ValueError, "negative_slope"),
    (lambda: LeakyReLU(negative_slope=None), TypeError, "negative_slope"),
    (lambda: LeakyReLU(negative_slope="0.3"), TypeError, "negative_slope"),
    (lambda: ELU(alpha="1"), TypeError, "alpha"),
    (lambda: ELU(alpha=float("nan")), ValueError, "alpha"),
    (lambda: Softmax(axis=None), TypeError, "axis"),
    (lambda: Softmax(axis=[1, 1]), ValueError, "axis"),
    (lambda: Softmax(axis=1.0), TypeError, "axis"),
    (lambda: Softmax(axis=3)(np.zeros((2, 3), np.float32)), ValueError, "axis"),
    (lambda: PReLU(shared_axes=0), ValueError, "shared_axes"),
    (lambda: PReLU(shared_axes=[1, "2"]), ValueError, "shared_axes"),
    (lambda: PReLU(shared_axes=[3])(np.zeros((2, 3, 4), np.float32)), ValueError, "shared_axes"),
    (lambda: PReLU(alpha_initializer="no_such_init"), ValueError, "alpha_initializer"),
    (lambda: PReLU(alpha_regularizer="no_such_reg"), ValueError, "alpha_regularizer"),
    (lambda: PReLU(alpha_constraint="no_such"), ValueError, "alpha_constraint"),
])
def test_errors_name_the_argument(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_registered_and_exported():
    for cls in (LeakyReLU, ELU, Softmax, PReLU):
        assert getattr(layers, cls.__name__) is cls
        assert type(layers.deserialize({"class_name": cls.__name__, "config": {}})) is cls


# -- Keras 3 as the oracle ---------------------------------------------------------------------------

ORACLE_CASES = [
    ("LeakyReLU", {}, (2, 3, 4)),
    ("LeakyReLU", {"negative_slope": 0.05}, (3, 5)),
    ("ELU", {}, (2, 3, 4)),
    ("ELU", {"alpha": 0.7}, (3, 5)),
    ("Softmax", {}, (2, 3, 4)),
    ("Softmax", {"axis": 1}, (2, 3, 4)),
    ("Softmax", {"axis": [1, 2]}, (2, 3, 4)),
    ("PReLU", {}, (2, 3, 4)),
    ("PReLU", {"shared_axes": [1, 2]}, (2, 3, 3, 4)),
    ("PReLU", {"shared_axes": 2, "alpha_initializer": "ones"}, (2, 3, 4)),
    ("ReLU", {"negative_slope": 0.1, "threshold": 0.5}, (2, 3, 4)),
    ("ReLU", {"max_value": 1.5, "negative_slope": 0.2, "threshold": 0.25}, (3, 6)),
]


@pytest.mark.parametrize("class_name, kwargs, input_shape", ORACLE_CASES)
def test_oracle_matches_keras3_forward_and_gradients(keras, class_name, kwargs, input_shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(input_shape) * 2).astype(np.float32)
    klayer = getattr(keras.layers, class_name)(**kwargs)
    klayer.build(input_shape)
    # random weights (PReLU's alpha), so that a zero initial alpha does not hide a wrong formula
    kweights = [rng.standard_normal(w.shape).astype(np.float32) for w in klayer.weights]
    klayer.set_weights(kweights)
    config = json.loads(json.dumps(klayer.get_config()))

    mlayer = layers.deserialize({"class_name": class_name, "config": config})
    mlayer.build(input_shape)
    mlayer.set_weights(kweights)
    g = rng.standard_normal(input_shape).astype(np.float32)  # the random projection of the output

    xt = torch.tensor(x, requires_grad=True)
    ky = klayer(xt)
    (ky * torch.tensor(g)).sum().backward()
    kgrads = [xt.grad.numpy()] + [w.value.grad.numpy() for w in klayer.trainable_weights]

    mx = mg.Tensor(x, requires_grad=True)
    my = mlayer(mx)
    (my * mg.Tensor(g)).sum().backward()
    mgrads = [mx.grad] + [w.grad for w in mlayer.trainable_weights]

    np.testing.assert_allclose(my.numpy(), ky.detach().numpy(), rtol=1e-4, atol=1e-6)
    assert len(mgrads) == len(kgrads)
    for mgrad, kgrad in zip(mgrads, kgrads):
        np.testing.assert_allclose(np.asarray(mgrad), kgrad, rtol=1e-4, atol=1e-6)


# -- TF.js (the Node oracle) reads minigrad's file: LeakyReLU's slope travels as TF.js's 'alpha' ----
def test_tfjs_predicts_the_same_for_the_activation_layers(node, tmp_path):
    # TF.js's own limits: ELU only with alpha 1, Softmax only along the last axis
    x_in = layers.Input(shape=(3, 4, 2))
    h = LeakyReLU(negative_slope=0.1)(x_in)
    h = PReLU(shared_axes=[1, 2])(h)
    h = ELU()(h)
    model = mg.models.Model(x_in, Softmax()(h))
    rng = np.random.default_rng(0)
    for w in model.weights:
        w.assign(rng.uniform(0.1, 0.9, size=w.shape).astype(np.float32))
    x = (rng.standard_normal((2, 3, 4, 2)) * 3).astype(np.float32)
    model.save(tmp_path / "model")
    expected = model.predict(x)
    np.testing.assert_allclose(_tfjs_predict(node, tmp_path / "model", x, tmp_path), expected,
                               rtol=1e-4, atol=1e-6)
    # and minigrad reads the file back (alpha read as negative_slope)
    again = mg.models.load_model(tmp_path / "model")
    assert again.layers[1].negative_slope == 0.1
    np.testing.assert_allclose(again.predict(x), expected, rtol=1e-6)
