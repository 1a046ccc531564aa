"""minigrad.utils: recompute_batch_norm_statistics, clear_session."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import layers
from minigrad.utils import clear_session, recompute_batch_norm_statistics


def _model(momentum=0.99):
    return mg.models.Sequential([
        layers.BatchNormalization(momentum=momentum, input_shape=(4, 4, 3), name="bn0"),
        layers.Conv2D(5, 1, use_bias=False, name="conv"),
        layers.BatchNormalization(momentum=momentum, name="bn1"),
        layers.ReLU(max_value=6.0),
        layers.GlobalAveragePooling2D(),
        layers.Dense(2, activation="softmax"),
    ])


def _data(n=70, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(3.0, 2.0, size=(n, 4, 4, 3))).astype(np.float64)


def test_first_layer_gets_the_count_weighted_mean_of_its_batch_statistics():
    model, x = _model(), _data()
    model.build((None, 4, 4, 3))
    assert recompute_batch_norm_statistics(model, x, batch_size=32) == 2   # batches 32, 32, 6
    bn = model.layers[0]
    batches = [x[:32], x[32:64], x[64:]]
    mean = sum(len(b) * b.mean(axis=(0, 1, 2)) for b in batches) / len(x)
    var = sum(len(b) * b.var(axis=(0, 1, 2)) for b in batches) / len(x)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-5)
    assert np.allclose(mean, 3.0, atol=0.5)   # far from the initial 0 / 1: the test can fail
    assert [layer.momentum for layer in model.layers if "bn" in layer.name] == [0.99, 0.99]


def test_deeper_layers_see_their_training_mode_inputs():
    """bn1's statistics are those of conv(bn0_train(x)) over the whole set: one batch = exact."""
    model, x = _model(), _data(n=40)
    model.build((None, 4, 4, 3))
    recompute_batch_norm_statistics(model, x, batch_size=40)
    bn0, conv, bn1 = model.layers[:3]
    normalised = (x - x.mean(axis=(0, 1, 2))) / np.sqrt(x.var(axis=(0, 1, 2)) + bn0.epsilon)
    inner = normalised @ conv.kernel.numpy()[0, 0]
    np.testing.assert_allclose(bn1.moving_mean.numpy(), inner.mean(axis=(0, 1, 2)),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn1.moving_variance.numpy(), inner.var(axis=(0, 1, 2)), rtol=1e-4)


def test_a_short_training_run_evaluates_well_only_after_recomputing():
    """The issue's symptom in small: after 20 steps with momentum 0.99, inference with the
    moving statistics disagrees with training mode; after recomputing, it agrees."""
    mg.initializers.set_random_seed(0)
    model, x = _model(), _data(n=256)
    y = (x[..., 0].mean(axis=(1, 2)) > 3.0).astype(np.int64)
    model.compile(optimizer=mg.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=64, epochs=5, verbose=0, shuffle=False)
    with mg.no_grad():
        train_mode = model(mg.Tensor(x), training=True).numpy()
    before = model.predict(x, batch_size=256)
    recompute_batch_norm_statistics(model, x, batch_size=256)
    after = model.predict(x, batch_size=256)
    assert np.abs(before - train_mode).max() > 0.05
    np.testing.assert_allclose(after, train_mode, atol=1e-5)


def test_frozen_layers_and_weights_stay_as_they_are():
    model, x = _model(), _data()
    model.build((None, 4, 4, 3))
    model.layers[0].trainable = False
    before = [w.copy() for w in model.get_weights()]
    assert recompute_batch_norm_statistics(model, x) == 1
    after = model.get_weights()
    bn0 = slice(0, 4)  # gamma, beta, moving_mean, moving_variance of the frozen layer
    for b, a in zip(before[bn0], after[bn0]):
        assert np.array_equal(a, b)
    assert np.array_equal(before[4], after[4])          # the conv kernel
    assert not np.array_equal(before[7], after[7])      # bn1's moving_mean was recomputed


def test_nested_models_are_walked():
    inner = _model()
    outer = mg.models.Sequential([inner, layers.Dense(3)])
    outer.build((None, 4, 4, 3))
    assert recompute_batch_norm_statistics(outer, _data()) == 2


@pytest.mark.parametrize("batch_size, error", [
    (0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError), ("32", TypeError)])
def test_bad_batch_size_is_named(batch_size, error):
    with pytest.raises(error, match=r"batch_size must be a positive integer, got"):
        recompute_batch_norm_statistics(_model(), _data(), batch_size=batch_size)


def test_a_non_model_is_refused():
    with pytest.raises(TypeError, match="model must be a minigrad Sequential"):
        recompute_batch_norm_statistics(layers.Dense(2), _data())


# -- clear_session --------------------------------------------------------------------------------
def _names_of_a_fresh_model():
    model = mg.models.Sequential([layers.Input((4,)), layers.Dense(3), layers.ReLU(),
                                  layers.Dense(2), layers.BatchNormalization()])
    return model.name, [layer.name for layer in model.layers]


def test_names_do_not_depend_on_what_ran_before_once_the_session_is_cleared():
    clear_session()
    first = _names_of_a_fresh_model()
    assert first == ("sequential", ["dense", "re_lu", "dense_1", "batch_normalization"])
    _names_of_a_fresh_model()
    [layers.Dense(1) for _ in range(5)]
    assert _names_of_a_fresh_model() != first   # without clearing, the counts go on
    clear_session()
    assert _names_of_a_fresh_model() == first


def test_clear_session_keeps_existing_names_and_frees_memory_on_request(monkeypatch):
    collected = []
    monkeypatch.setattr(mg.utils.gc, "collect", lambda: collected.append(1))
    old = layers.Dense(2)
    name = old.name
    clear_session(free_memory=False)
    assert old.name == name and layers.Dense(2).name == "dense" and collected == []
    clear_session()                        # free_memory=True (Keras's default) runs the collector
    assert collected == [1]
    with pytest.raises(TypeError, match=r"clear_session: free_memory must be True or False, got 1"):
        clear_session(free_memory=1)
