"""compile / fit / evaluate / predict / train_on_batch / test_on_batch, and the progress bar."""
import io

import numpy as np
import pytest

from minigrad import constraints, layers as L, losses, metrics, optimizers, regularizers
from minigrad.models import Model, Sequential
from minigrad.training.progbar import Progbar, format_duration, format_value


def _data(n=32, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)[:d] + 0.3).astype(np.float32)
    return x, y


def _linear(**kwargs):
    return Sequential([L.Dense(1, input_shape=(3,), name="lin", **kwargs)])


def _classifier(classes=3):
    return Sequential([L.Dense(8, activation="relu", input_shape=(4,)),
                       L.Dense(classes, activation="softmax")])


def _weights_unchanged(model, before):
    return all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


# -- compile ------------------------------------------------------------------------------------
def test_compile_resolves_names_and_objects():
    model = _linear()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert isinstance(model.optimizer, optimizers.Adam)
    model.compile(optimizer=optimizers.SGD(0.1), loss=losses.MeanSquaredError())
    assert model.optimizer.learning_rate == 0.1
    model.compile()  # Keras's defaults: rmsprop, no loss
    assert isinstance(model.optimizer, optimizers.RMSprop)


@pytest.mark.parametrize("kwargs, match", [
    ({"optimizer": "adamw2", "loss": "mse"}, r"optimizer.*adamw2.*Adam.*SGD"),
    ({"optimizer": "sgd", "loss": "mean_cubed_error"}, r"loss.*mean_cubed_error.*known"),
    ({"optimizer": "sgd", "loss": "mse", "metrics": ["precision_at_k"]}, r"metrics.*precision_at_k"),
    ({"optimizer": "sgd", "loss": "mse", "loss_weights": [float("nan")]}, "loss_weights"),
])
def test_compile_errors_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _linear().compile(**kwargs)


def test_compile_metrics_must_be_a_list():
    with pytest.raises(TypeError, match="metrics must be a list"):
        _linear().compile("sgd", "mse", metrics="mae")


# -- argument checks before any work ---------------------------------------------------------------
def test_fit_before_compile_and_without_loss():
    x, y = _data()
    model = _linear()
    with pytest.raises(RuntimeError, match="compiled first"):
        model.fit(x, y)
    model.compile("sgd")
    with pytest.raises(ValueError, match="without a loss"):
        model.fit(x, y)


@pytest.mark.parametrize("change, match", [
    (lambda x, y: {"x": x, "y": y[:-1]}, "same number of samples, got 32 in x and 31 in y"),
    (lambda x, y: {"x": x[:, :2], "y": y}, r"shape \(None, 3\), got \(32, 2\)"),
    (lambda x, y: {"x": x, "y": y, "batch_size": 0}, "batch_size must be None or a positive integer, got 0"),
    (lambda x, y: {"x": x, "y": y, "batch_size": -4}, "batch_size must be None or a positive integer"),
    (lambda x, y: {"x": x, "y": y, "batch_size": True}, "batch_size"),
    (lambda x, y: {"x": x, "y": y, "epochs": -1}, "epochs must be a non-negative integer"),
    (lambda x, y: {"x": x, "y": y, "validation_split": 1.0},
     r"validation_split must be a finite number in \[0, 1\), got 1.0"),
    (lambda x, y: {"x": x, "y": y, "validation_split": -0.1}, "validation_split"),
    (lambda x, y: {"x": x, "y": y, "verbose": 3}, "verbose must be"),
    (lambda x, y: {"x": x, "y": np.zeros((32, 4))}, r"y of shape \(32, 4\) does not fit the output"),
    (lambda x, y: {"x": x[:0], "y": y[:0]}, "no samples"),
    (lambda x, y: {"x": x, "y": y, "validation_data": (x, y[:3])}, "validation_data.*same number"),
    (lambda x, y: {"x": x, "y": y, "validation_data": x}, "validation_data must be"),
    (lambda x, y: {"x": x, "y": y, "sample_weight": np.ones(3)}, "sample_weight"),
    (lambda x, y: {"x": np.array([["a"] * 3] * 32), "y": y}, "numeric"),
    (lambda x, y: {"x": x, "y": y, "seed": -1}, "seed must be None or a non-negative integer, got -1"),
])
def test_fit_checks_arguments_before_training(change, match):
    x, y = _data()
    model = _linear()
    model.compile(optimizers.SGD(0.1), "mse")
    before = model.get_weights()
    with pytest.raises((ValueError, TypeError), match=match):
        model.fit(**{"verbose": 0, **change(x, y)})
    assert _weights_unchanged(model, before)
    assert model.optimizer.iterations == 0


def test_callbacks_must_be_callback_objects():
    x, y = _data()
    model = _linear()
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match="Callback"):
        model.fit(x, y, callbacks=[print], verbose=0)


def test_sparse_targets_out_of_range_fail_early():
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.zeros((6, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="does not fit"):
        model.fit(x, np.full(6, 7), verbose=0)


# -- what training computes ------------------------------------------------------------------------
def test_train_on_batch_is_one_sgd_step_with_regularization_and_constraint():
    x, y = _data(8)
    model = _linear(kernel_regularizer=regularizers.L2(0.1), kernel_constraint=constraints.NonNeg())
    model.compile(optimizers.SGD(0.05), "mse")
    k, b = model.layers[0].kernel.data.astype(np.float64), model.layers[0].bias.data.astype(np.float64)
    pred = x @ k + b
    expected_loss = np.mean((pred - y) ** 2) + 0.1 * np.sum(k ** 2)
    d_pred = 2 * (pred - y) / pred.size
    new_k = np.maximum(k - 0.05 * (x.T @ d_pred + 0.2 * k), 0)   # update, then the constraint
    new_b = b - 0.05 * d_pred.sum(0)
    loss = model.train_on_batch(x, y)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)
    np.testing.assert_allclose(model.layers[0].kernel.data, new_k, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.layers[0].bias.data, new_b, rtol=1e-5, atol=1e-7)
    assert model.optimizer.iterations == 1


def test_fit_learns_and_records_history():
    x, y = _data(64)
    model = _linear()
    model.compile(optimizers.SGD(0.1), "mse", metrics=["mae"])
    first = model.evaluate(x, y, verbose=0)[0]
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0, validation_split=0.25, seed=1)
    assert model.history is history
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert all(len(v) == 5 for v in history.history.values()) and history.epoch == list(range(5))
    assert history.history["loss"][-1] < history.history["loss"][0] < first
    # validation_split holds out the last 25% (before shuffling)
    val = model.evaluate(x[48:], y[48:], verbose=0, return_dict=True)
    assert val["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-6)
    assert model.optimizer.iterations == 5 * 3


def test_fit_with_validation_data_and_freq_and_initial_epoch():
    x, y = _data(40)
    model = _linear()
    model.compile(optimizers.SGD(0.05), "mse")
    history = model.fit(x, y, epochs=4, initial_epoch=1, validation_data=(x[:8], y[:8]),
                        validation_freq=2, verbose=0)
    assert history.epoch == [1, 2, 3]
    assert len(history.history["loss"]) == 3 and len(history.history["val_loss"]) == 2


def test_shuffling_is_seeded_per_epoch():
    x, y = _data(30)

    def run(**kwargs):
        model = _linear(kernel_initializer="ones")
        model.compile(optimizers.SGD(0.05), "mse")
        model.fit(x, y, batch_size=4, verbose=0, **kwargs)
        return model.get_weights()

    a, b, c = run(epochs=3, seed=7), run(epochs=3, seed=7), run(epochs=3, seed=8)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))
    np.random.seed(5)  # without seed=, NumPy's global generator decides the order
    d = run(epochs=2)
    np.random.seed(5)
    assert all(np.array_equal(p, q) for p, q in zip(d, run(epochs=2)))
    unshuffled = run(epochs=1, shuffle=False)
    model = _linear(kernel_initializer="ones")
    model.compile(optimizers.SGD(0.05), "mse")
    for start in range(0, 30, 4):
        model.train_on_batch(x[start:start + 4], y[start:start + 4])
    assert all(np.array_equal(p, q) for p, q in zip(unshuffled, model.get_weights()))


def test_accuracy_is_resolved_from_the_loss_and_targets():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4)).astype(np.float32)
    labels = rng.integers(0, 3, size=20)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(x, labels, verbose=0)
    assert acc == pytest.approx(np.mean(model.predict(x).argmax(-1) == labels))
    onehot = _classifier()
    onehot.compile("adam", "categorical_crossentropy", metrics=["acc"])
    onehot.set_weights(model.get_weights())
    result = onehot.evaluate(x, np.eye(3)[labels], verbose=0, return_dict=True)
    assert result["acc"] == pytest.approx(acc) and result["loss"] == pytest.approx(loss, rel=1e-5)
    assert onehot.metrics_names == ["loss", "acc"]
    assert isinstance(onehot.metrics[1], metrics.CategoricalAccuracy)


def test_evaluate_and_test_on_batch_and_predict():
    x, y = _data(10)
    model = _linear(kernel_regularizer=regularizers.L2(0.01))
    model.compile("sgd", "mse", metrics=["mae"])
    pred = model.predict(x, batch_size=3)
    assert isinstance(pred, np.ndarray) and pred.shape == (10, 1)
    np.testing.assert_allclose(pred, x @ model.layers[0].kernel.data + model.layers[0].bias.data,
                               rtol=1e-5, atol=1e-6)
    loss, mae = model.evaluate(x, y, batch_size=3, verbose=0)
    penalty = 0.01 * np.sum(model.layers[0].kernel.data.astype(np.float64) ** 2)
    assert loss == pytest.approx(np.mean((pred - y) ** 2) + penalty, rel=1e-5)  # Keras: includes it
    assert mae == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-5)
    assert model.test_on_batch(x, y, return_dict=True)["loss"] == pytest.approx(loss, rel=1e-5)
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x))
    assert model.optimizer.iterations == 0


def test_sample_weight_zero_ignores_samples():
    x, y = _data(8)
    model = _linear()
    model.compile("sgd", "mse")
    weights = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=np.float32)
    weighted = model.evaluate(x, y, sample_weight=weights, verbose=0, batch_size=8)
    half = model.evaluate(x[:4], y[:4], verbose=0)
    assert weighted == pytest.approx(half / 2, rel=1e-5)  # sum_over_batch_size: divided by all 8


def test_multi_output_losses_weights_and_logs():
    x = L.Input(shape=(3,), name="x")
    h = L.Dense(4, name="h")(x)
    model = Model(x, [L.Dense(1, name="reg")(h), L.Dense(2, activation="softmax", name="cls")(h)])
    model.compile("sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"reg": 2.0}, metrics={"cls": ["accuracy"]})
    xs, ys = _data(6)
    labels = np.array([0, 1, 0, 1, 1, 0])
    logs = model.test_on_batch(xs, [ys, labels], return_dict=True)
    assert list(logs) == ["loss", "reg_loss", "cls_loss", "cls_accuracy"]
    assert logs["loss"] == pytest.approx(2 * logs["reg_loss"] + logs["cls_loss"], rel=1e-5)
    history = model.fit({"x": xs}, {"reg": ys, "cls": labels}, epochs=2, verbose=0)
    assert "cls_accuracy" in history.history and "reg_loss" in history.history
    with pytest.raises(ValueError, match="2 outputs"):
        model.fit(xs, ys, verbose=0)
    with pytest.raises(ValueError, match=r"one entry per input \['x'\]"):
        model.fit({"image": xs}, [ys, labels], verbose=0)


def test_frozen_model_does_not_change():
    x, y = _data()
    model = _linear()
    model.compile("sgd", "mse")
    model.trainable = False
    before = model.get_weights()
    model.fit(x, y, verbose=0)
    assert _weights_unchanged(model, before)


def test_batchnorm_statistics_move_in_fit_not_in_evaluate():
    x, y = _data()
    model = Sequential([L.BatchNormalization(input_shape=(3,)), L.Dense(1)])
    model.compile("sgd", "mse")
    mean = model.layers[0].moving_mean.data.copy()
    model.evaluate(x, y, verbose=0)
    model.predict(x)
    np.testing.assert_array_equal(model.layers[0].moving_mean.data, mean)
    model.train_on_batch(x, y)
    assert not np.array_equal(model.layers[0].moving_mean.data, mean)


# -- output ---------------------------------------------------------------------------------------
def test_verbose_modes_when_stdout_is_not_a_terminal(capsys):
    x, y = _data(20)
    model = _linear()
    model.compile("sgd", "mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert capsys.readouterr().out == ""
    for verbose in ("auto", 2):
        model.fit(x, y, epochs=2, batch_size=8, verbose=verbose)
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == "Epoch 1/2" and len(lines) == 4 and "\r" not in "".join(lines)
        assert lines[1].startswith("3/3 - ") and "/step - loss: " in lines[1] and " - mae: " in lines[1]
    model.fit(x, y, epochs=1, batch_size=8, verbose=1)  # no terminal: only the finished bar
    out = capsys.readouterr().out
    assert "\r" not in out and out.count("\n") == 1
    assert out.startswith("3/3 [==============================] - ") and "ETA" not in out


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progbar_live_bar_on_a_terminal():
    stream = _Terminal()
    bar = Progbar(10, verbose=1, interval=0.0, stream=stream)
    for step in range(1, 11):
        bar.update(step, {"loss": 1.0 / step, "accuracy": 0.5}, finalize=step == 10)
    text = stream.getvalue()
    frames = text.split("\r")[1:]
    assert len(frames) == 10
    assert frames[0].startswith(" 1/10 [==>...........................] - ETA: ")
    assert " - loss: 1.0000 - accuracy: 0.5000" in frames[0]
    assert frames[-1].startswith("10/10 [==============================] - ") and frames[-1].endswith("\n")
    assert "/step - loss: 0.1000" in frames[-1] and "ETA" not in frames[-1]


def test_progbar_redraws_at_most_every_interval():
    stream = _Terminal()
    bar = Progbar(1000, verbose=1, interval=3600.0, stream=stream)
    for step in range(1, 1001):
        bar.update(step, {"loss": 0.5})
    # the first step is drawn at once, then nothing until the final line
    assert stream.getvalue().count("\r") == 2
    assert stream.getvalue().startswith("\r   1/1000 [")


def test_progbar_formats():
    assert format_value(0.123456) == "0.1235" and format_value(1e-5) == "1.0000e-05"
    assert format_duration(7) == "7s" and format_duration(125) == "2:05"
    assert format_duration(3725) == "1:02:05"


# -- property: every sample is seen once per epoch, in ceil(n / batch_size) steps -------------------
from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 23), batch_size=st.integers(1, 9), shuffle=st.booleans())
def test_fit_batches_cover_every_sample_once(n, batch_size, shuffle):
    x = np.arange(n, dtype=np.float32).reshape(n, 1)
    model = Sequential([L.Dense(1, input_shape=(1,))])
    model.compile(optimizers.SGD(0.0), "mse")
    seen = []
    forward = model.call

    def recording_call(inputs, training=False):
        seen.extend(inputs.data[:, 0].tolist())
        return forward(inputs, training=training)

    model.call = recording_call
    model.fit(x, x, batch_size=batch_size, epochs=1, shuffle=shuffle, verbose=0, seed=0)
    assert sorted(seen) == list(range(n))
    assert model.optimizer.iterations == -(-n // batch_size)
