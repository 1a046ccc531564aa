"""BatchNormalization: training uses the batch's statistics and updates the moving ones (biased
variance, Keras 3 / TF.js), inference uses the moving ones; weights in Keras order."""
import inspect
import json
import pathlib

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers, regularizers
from layer_harness import run_layer_test

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "tfjs"


def _x(shape, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 2 + 1).astype(np.float32)


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("kwargs,shape,n_weights", [
    (dict(), (4, 3, 3, 2), 4),
    (dict(axis=1, center=False), (3, 2, 2, 3), 3),
    (dict(scale=False, momentum=0.5, epsilon=0.01), (5, 3), 3),
    (dict(center=False, scale=False), (4, 2), 2),
])
def test_batch_normalization_harness(kwargs, shape, n_weights, training):
    run_layer_test(layers.BatchNormalization, kwargs, shape, training=training,
                   expected_num_weights=n_weights, expected_num_trainable=n_weights - 2)


def test_weights_are_in_keras_order():
    layer = layers.BatchNormalization(name="bn")
    layer.build((None, 4, 4, 3))
    assert [w.path for w in layer.weights] == ["bn/gamma", "bn/beta", "bn/moving_mean",
                                               "bn/moving_variance"]
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    np.testing.assert_array_equal(np.stack(layer.get_weights()), [[1] * 3, [0] * 3, [0] * 3, [1] * 3])


def _set_random_weights(layer, c, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(0.5, 2, c).astype(np.float32), rng.standard_normal(c).astype(np.float32),
                       rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2, c).astype(np.float32)])


@pytest.mark.parametrize("axis,shape", [(-1, (4, 3, 3, 2)), (1, (4, 2, 3, 3))])
def test_training_normalizes_with_batch_statistics_and_updates_moving_ones(axis, shape):
    layer = layers.BatchNormalization(axis=axis, momentum=0.9)
    layer.build(shape)
    c = shape[axis]
    _set_random_weights(layer, c)
    gamma, beta, mean0, var0 = [w.astype(np.float64) for w in layer.get_weights()]
    x = _x(shape)
    y = layer(x, training=True)
    axes = tuple(i for i in range(4) if i != axis % 4)
    bshape = [1] * 4
    bshape[axis] = c
    mu, var = x.astype(np.float64).mean(axes), x.astype(np.float64).var(axes)  # biased, ddof=0
    expected = (gamma.reshape(bshape) * (x - mu.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-3)
                + beta.reshape(bshape))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean0 * 0.9 + mu * 0.1, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), var0 * 0.9 + var * 0.1, rtol=1e-5)


def test_inference_uses_moving_statistics_and_changes_nothing():
    layer = layers.BatchNormalization(epsilon=0.01)
    layer.build((None, 3))
    _set_random_weights(layer, 3)
    gamma, beta, mean, var = [w.astype(np.float64) for w in layer.get_weights()]
    x = _x((5, 3))
    y = layer(x)  # training=False by default
    np.testing.assert_allclose(y.numpy(), gamma * (x - mean) / np.sqrt(var + 0.01) + beta, rtol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mean.astype(np.float32))


def test_moving_statistics_converge_to_the_data_statistics():
    layer = layers.BatchNormalization(momentum=0.5)
    x = _x((64, 2))
    for _ in range(40):
        layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), x.mean(0), rtol=1e-4)
    np.testing.assert_allclose(layer.moving_variance.numpy(), x.var(0), rtol=1e-4)
    # now inference on the same batch matches training on it
    np.testing.assert_allclose(layer(x).numpy(), layer(x, training=True).numpy(), atol=1e-4)


def test_trainable_false_runs_in_inference_mode():
    layer = layers.BatchNormalization(trainable=False)
    x = _x((6, 2))
    y = layer(x, training=True)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), [0, 0])
    np.testing.assert_allclose(y.numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-6)
    assert layer.trainable_weights == []


def test_gradients_reach_gamma_and_beta_in_training():
    layer = layers.BatchNormalization()
    x = mg.Tensor(_x((4, 3)), requires_grad=True)
    (layer(x, training=True) * mg.Tensor(_x((4, 3), seed=2))).sum().backward()
    assert layer.gamma.grad.shape == (3,) and layer.beta.grad.shape == (3,)
    assert layer.moving_mean.grad is None
    np.testing.assert_allclose(x.grad.sum(0), 0, atol=1e-5)  # batch-mean subtraction


def test_regularizers_add_losses():
    layer = layers.BatchNormalization(gamma_regularizer=regularizers.L2(0.5), beta_regularizer="l1")
    layer(_x((3, 2)), training=True)
    assert [t.item() for t in layer.losses] == pytest.approx([0.5 * 2, 0.0])


def test_call_has_keras_signature_and_no_fusion_argument():
    # fusing a ReLU into the kernels is the model plan's business (minigrad/models/plan.py)
    assert list(inspect.signature(layers.BatchNormalization.call).parameters) == \
        ["self", "inputs", "training"]
    layer = layers.BatchNormalization()
    with pytest.raises(TypeError, match="activation"):
        layer(_x((3, 2)), training=True, activation="relu6")


def test_tfjs_entry_loads_and_keras3_keys_are_accepted():
    topology = json.loads((FIXTURES / "mobilenet_v1_tiny" / "model.json").read_text())["modelTopology"]
    entry = next(e for e in topology["config"]["layers"] if e["class_name"] == "BatchNormalization")
    layer = layers.deserialize(entry)
    assert (layer.axis, layer.momentum, layer.epsilon, layer.center, layer.scale) == (-1, 0.99, 1e-3, True, True)
    keras3 = layers.deserialize({"class_name": "BatchNormalization", "config": dict(
        layer.get_config(), synchronized=True, renorm=False, renorm_clipping=None,
        renorm_momentum=0.99, name="k3")})
    assert keras3.synchronized is True
