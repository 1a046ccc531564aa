"""Callbacks: each one through a real fit, and the monitoring logic on hand-written logs."""
import csv
import math
import os

import numpy as np
import pytest

from minigrad import callbacks as cb, layers as L, optimizers
from minigrad.models import Sequential, load_model


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-1.0], [2.0]], dtype=np.float32))


def _model(lr=0.05):
    model = Sequential([L.Dense(1, input_shape=(3,), name="lin")])
    model.compile(optimizers.SGD(lr), "mse", metrics=["mae"])
    return model


class _Fake:
    """A stand-in for a model: weights, an optimizer with a learning rate, stop_training."""

    def __init__(self, lr=1.0):
        self.optimizer = optimizers.SGD(lr)
        self.stop_training = False
        self.weights = [np.zeros(1)]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def _drive(callback, values, key="val_loss", model=None):
    """Run epochs with logs {key: value}; returns the epochs that ran."""
    model = model or _Fake()
    callback.set_model(model)
    callback.on_train_begin({})
    ran = []
    for epoch, value in enumerate(values):
        model.weights = [np.array([float(epoch)])]
        callback.on_epoch_end(epoch, {key: value})
        ran.append(epoch)
        if model.stop_training:
            break
    callback.on_train_end({})
    return ran, model


def test_history_is_returned_and_set_on_the_model():
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=3, verbose=0)
    assert isinstance(history, cb.History) and model.history is history
    assert history.epoch == [0, 1, 2] and len(history.history["mae"]) == 3


def test_early_stopping_patience_and_restore_best_weights():
    ran, model = _drive(cb.EarlyStopping(patience=2, restore_best_weights=True),
                        [1.0, 0.5, 0.6, 0.7, 0.4])
    assert ran == [0, 1, 2, 3]           # two epochs without improvement after epoch 1
    assert model.weights[0][0] == 1.0    # the weights of the best epoch
    ran, _ = _drive(cb.EarlyStopping(patience=1, min_delta=0.1), [1.0, 0.95, 0.5])
    assert ran == [0, 1]                 # 0.95 is not better by more than min_delta
    ran, _ = _drive(cb.EarlyStopping(monitor="val_accuracy", patience=0), [0.5, 0.6, 0.55],
                    key="val_accuracy")
    assert ran == [0, 1, 2] and cb.EarlyStopping(monitor="val_accuracy").mode == "max"
    ran, _ = _drive(cb.EarlyStopping(patience=2), [1.0, 1.0, 1.0, 1.0])
    assert ran == [0, 1, 2]
    ran, _ = _drive(cb.EarlyStopping(patience=2, baseline=0.1), [1.0, 1.0, 1.0, 1.0])
    assert ran == [0, 1]                 # the first epoch did not beat the baseline either


def test_early_stopping_in_fit_and_missing_monitor():
    x, y = _data()
    model = _model(lr=0.0)               # the loss never improves
    history = model.fit(x, y, epochs=10, verbose=0, shuffle=False,  # the same sums each epoch
                        callbacks=[cb.EarlyStopping(monitor="loss", patience=2)])
    assert len(history.epoch) == 3
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[cb.EarlyStopping()])
    with pytest.raises(ValueError, match="mode"):
        cb.EarlyStopping(mode="largest")


def test_model_checkpoint_saves_models_and_weights(tmp_path):
    x, y = _data()
    model = _model()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{loss:.3f}")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[cb.ModelCheckpoint(pattern, monitor="loss")])
    saved = sorted(os.listdir(tmp_path))
    assert len(saved) == 2 and saved[0].startswith("ckpt-01-") and saved[1].startswith("ckpt-02-")
    restored = load_model(tmp_path / saved[1])
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))

    best = tmp_path / "best"
    frozen = _model(lr=0.0)
    frozen.fit(x, y, epochs=3, verbose=0,
               callbacks=[cb.ModelCheckpoint(str(best), monitor="loss", save_best_only=True,
                                             save_weights_only=True)])
    assert os.path.isfile(best / "model.json")
    reloaded = _model()
    reloaded.load_weights(best)
    np.testing.assert_array_equal(reloaded.get_weights()[0], frozen.get_weights()[0])


class _Script(cb.Callback):
    """Writes a scripted ``val_loss`` into the epoch logs, so the monitored values do not depend
    on float rounding, and keeps a copy of the weights at each epoch's end."""

    def __init__(self, values):
        super().__init__()
        self.values, self.weights = values, []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]
        self.weights.append(self.model.get_weights())


class _Spy(cb.Callback):
    """Keeps a copy of the weights each later callback sees at an epoch's end."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


def test_early_stopping_restores_the_best_epoch_when_training_ends(capsys):
    x, y = _data()
    model = _model()
    script, spy = _Script([1.0, 0.5, 0.7, 0.8, 0.9, 1.0]), _Spy()
    stop = cb.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    history = model.fit(x, y, epochs=6, verbose=0, shuffle=False,
                        callbacks=[script, stop, spy])
    assert history.epoch == [0, 1, 2, 3]
    assert (stop.stopped_epoch, stop.best_epoch, stop.best) == (3, 1, 0.5)
    assert not _same(script.weights[1], script.weights[3])   # training did move the weights
    # In the epoch where it stops the callbacks after it still see that epoch's weights ...
    assert _same(spy.weights[3], script.weights[3])
    # ... and the best epoch's weights come back when fit ends.
    assert _same(model.get_weights(), script.weights[1])
    out = capsys.readouterr().out
    assert out.index("Epoch 4: early stopping") < \
        out.index("Restoring model weights from the end of the best epoch: 2.")


def test_early_stopping_restores_the_best_epoch_when_fit_runs_all_epochs():
    x, y = _data()
    model = _model()
    script = _Script([1.0, 0.5, 0.7, 0.8])
    stop = cb.EarlyStopping(patience=5, restore_best_weights=True)
    history = model.fit(x, y, epochs=4, verbose=0, shuffle=False, callbacks=[script, stop])
    assert history.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 0
    assert not _same(script.weights[1], script.weights[3])
    assert _same(model.get_weights(), script.weights[1])
    # Without restore_best_weights the last epoch's weights stay.
    model = _model()
    script = _Script([1.0, 0.5, 0.7])
    model.fit(x, y, epochs=3, verbose=0, shuffle=False,
              callbacks=[script, cb.EarlyStopping(patience=5)])
    assert _same(model.get_weights(), script.weights[2])


def test_early_stopping_keeps_a_first_epoch_that_does_not_improve():
    # As in Keras: a NaN is no improvement on the starting best (+inf), but its epoch's weights
    # are kept until a better one comes, and it does not become the value to beat.
    ran, model = _drive(cb.EarlyStopping(patience=1, restore_best_weights=True),
                        [math.nan, 1.0, 2.0, 3.0])
    assert ran == [0, 1, 2] and model.weights[0][0] == 1.0
    ran, model = _drive(cb.EarlyStopping(patience=1, restore_best_weights=True),
                        [math.nan, math.nan, 1.0])
    assert ran == [0, 1] and model.weights[0][0] == 0.0


def test_model_checkpoint_after_early_stopping_saves_that_epochs_weights(tmp_path, capsys):
    x, y = _data()
    model = _model()
    # 0.9 improves on 1.0 for ModelCheckpoint, but not by EarlyStopping's min_delta: training
    # stops at epoch 2, the epoch that ModelCheckpoint saves.
    script = _Script([1.0, 0.9, 0.95])
    pattern = str(tmp_path / "ckpt-{epoch:02d}")
    model.fit(x, y, epochs=3, verbose=0, shuffle=False, callbacks=[
        script, cb.EarlyStopping(min_delta=0.3, patience=1, restore_best_weights=True),
        cb.ModelCheckpoint(pattern, save_best_only=True, save_weights_only=True, verbose=1)])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01", "ckpt-02"]
    saved = _model()
    saved.load_weights(tmp_path / "ckpt-02")
    assert not _same(script.weights[0], script.weights[1])
    assert _same(saved.get_weights(), script.weights[1])
    assert _same(model.get_weights(), script.weights[0])     # EarlyStopping restored epoch 1
    assert "val_loss improved from 1.00000 to 0.90000, saving model to " \
        f"{tmp_path / 'ckpt-02'}" in capsys.readouterr().out


def test_model_checkpoint_messages_and_missing_monitor(tmp_path, capsys):
    x, y = _data()
    model = _model()
    path = str(tmp_path / "best")
    model.fit(x, y, epochs=2, verbose=0, shuffle=False, callbacks=[
        _Script([1.0, 1.0]), cb.ModelCheckpoint(path, save_best_only=True, verbose=1)])
    out = capsys.readouterr().out
    assert f"Epoch 1: val_loss improved from inf to 1.00000, saving model to {path}" in out
    assert f"Epoch 1: finished saving model to {path}" in out
    assert "Epoch 2: val_loss did not improve from 1.00000" in out
    # Keras 3 saves anyway when the monitored quantity is missing, after a warning.
    missing = str(tmp_path / "missing")
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs.*saving anyway"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[cb.ModelCheckpoint(missing, save_best_only=True)])
    assert os.path.isfile(os.path.join(missing, "model.json"))


def test_reduce_lr_on_plateau():
    model = _Fake(lr=1.0)
    callback = cb.ReduceLROnPlateau(patience=1, factor=0.5, cooldown=1, min_lr=0.2)
    _drive(callback, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], model=model)
    # epoch 1: reduce to 0.5; cooldown epoch 2; epoch 3: 0.25; cooldown 4; epoch 5: min_lr 0.2
    assert model.optimizer.learning_rate == pytest.approx(0.2)
    with pytest.raises(ValueError, match="factor"):
        cb.ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_on_plateau_in_fit_logs_the_rate():
    x, y = _data()
    model = _model(lr=0.0)
    history = model.fit(x, y, epochs=3, verbose=0,
                        callbacks=[cb.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5)])
    assert history.history["learning_rate"] == [0.0, 0.0, 0.0]


def test_learning_rate_scheduler():
    x, y = _data()
    model = _model()
    seen = []
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        cb.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1)),
        cb.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate))])
    assert seen == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert history.history["learning_rate"] == pytest.approx(seen)
    bad = _model()
    with pytest.raises(ValueError, match="finite number"):
        bad.fit(x, y, verbose=0, callbacks=[cb.LearningRateScheduler(lambda e, lr: "fast")])


def test_terminate_on_nan(capsys):
    x, y = _data()
    x[5] = np.nan
    model = _model()
    history = model.fit(x, y, epochs=5, batch_size=4, shuffle=False, verbose=0,
                        callbacks=[cb.TerminateOnNaN()])
    assert history.epoch == [0] and math.isnan(history.history["loss"][0])
    assert model.optimizer.iterations == 2  # stopped after the batch holding the NaN
    assert "Invalid loss" in capsys.readouterr().out


def test_csv_logger(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    model = _model()
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[cb.CSVLogger(path)])
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.25,
              callbacks=[cb.CSVLogger(path, append=True)])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1", "0"]
    assert set(rows[0]) == {"epoch", "loss", "mae", "val_loss", "val_mae"}
    assert float(rows[2]["loss"]) == pytest.approx(model.history.history["loss"][0])


def test_lambda_callback_hooks_and_errors():
    x, y = _data(12)
    calls = {"begin": 0, "batch": 0, "end": 0, "train_end": 0}
    model = _model()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[cb.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: calls.__setitem__("begin", calls["begin"] + 1),
        on_batch_end=lambda batch, logs: calls.__setitem__("batch", calls["batch"] + 1),
        on_epoch_end=lambda epoch, logs: calls.__setitem__("end", calls["end"] + 1),
        on_train_end=lambda logs: calls.__setitem__("train_end", calls["train_end"] + 1))])
    assert calls == {"begin": 2, "batch": 6, "end": 2, "train_end": 1}
    with pytest.raises(TypeError, match="unknown hook"):
        cb.LambdaCallback(on_epoch_finish=print)


def test_callbacks_see_batch_logs_and_can_stop_training():
    x, y = _data(16)
    model = _model()
    losses = []

    def stop(batch, logs):
        losses.append(logs["loss"])
        if batch == 1:
            model.stop_training = True

    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0,
                        callbacks=[cb.LambdaCallback(on_batch_end=stop)])
    assert len(losses) == 2 and history.epoch == [0] and model.optimizer.iterations == 2


def test_fit_accepts_one_callback_and_refuses_a_non_list():
    import minigrad as mg
    from minigrad import layers as L

    model = mg.models.Sequential([L.Dense(1, input_shape=(2,))])
    model.compile(mg.optimizers.SGD(0.01), "mse")
    x, y = np.ones((4, 2), np.float32), np.ones((4, 1), np.float32)
    seen = []
    one = mg.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    model.fit(x, y, epochs=2, verbose=0, callbacks=one)
    assert seen == [0, 1]
    with pytest.raises(TypeError, match="fit: callbacks must be a list of minigrad.callbacks.Callback"):
        model.fit(x, y, verbose=0, callbacks="early_stopping")
