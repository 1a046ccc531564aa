"""Callbacks that watch one logged quantity (``monitor``) and act when it stops improving."""
import math
import os
import warnings

from .base import Callback


def _resolve_mode(who, mode, monitor):
    """``"min"`` / ``"max"``; ``"auto"`` is max for accuracy-like quantities, else min."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        name = monitor.lower()
        return "max" if ("acc" in name or "auc" in name or name.startswith("fmeasure")) else "min"
    return mode


class _Monitor(Callback):
    """Shared by the callbacks that watch one logged quantity for improvement."""

    def __init__(self, who, monitor, mode, min_delta, baseline=None):
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"{who}: monitor must be the name of a logged quantity, got "
                             f"{monitor!r}")
        self.who, self.monitor = who, monitor
        self.mode = _resolve_mode(who, mode, monitor)
        self.min_delta = abs(float(min_delta))
        self.baseline = baseline

    def _value(self, logs, then="skipping"):
        """The monitored value from ``logs``; warns (saying what happens ``then``) when absent."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{self.who}: the monitored quantity '{self.monitor}' is not in the "
                          f"logs (available: {', '.join(sorted(logs or {})) or 'none'}); {then}",
                          RuntimeWarning, stacklevel=3)
        return value

    def _worst(self):
        """The starting "best": anything finite beats it, NaN does not (Keras starts at +-inf)."""
        return math.inf if self.mode == "min" else -math.inf

    def _improved(self, value, reference):
        if reference is None:
            return True
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta


class EarlyStopping(_Monitor):
    """Stop training when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs.

    With ``restore_best_weights=True`` it keeps a copy of the weights at the end of the best
    epoch and puts them back when training ends (``on_train_end``), as Keras 3 does: also when
    ``fit`` ran all its epochs without stopping. Restoring only at the end means the callbacks
    after it in the list (``ModelCheckpoint``) still see each epoch's own weights.
    Attributes after ``fit``: ``stopped_epoch`` (0-based, 0 when it did not stop training),
    ``best``, ``best_epoch`` (0-based) and ``best_weights``.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__("EarlyStopping", monitor, mode, min_delta, baseline)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative integer, got "
                             f"{patience!r}")
        self.patience, self.verbose = patience, verbose
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self):
        self.wait, self.stopped_epoch = 0, 0
        self.best, self.best_weights, self.best_epoch = self._worst(), None, 0

    def on_train_begin(self, logs=None):
        self._reset()  # so that one instance can serve several fits

    def on_epoch_end(self, epoch, logs=None):
        value = self._value(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # The first watched epoch is the best so far even when its value is no improvement
            # (NaN), so that there are always weights to restore.
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._improved(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # Keras: beating the best only resets patience once the baseline is also beaten.
            if self.baseline is None or self._improved(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Save the model (or only its weights) after each epoch, or only when ``monitor`` improves.

    ``filepath`` may contain ``{epoch:02d}`` and logged names, e.g.
    ``"ckpt-{epoch:02d}-{val_loss:.2f}"``. A model is saved as a TF.js layers-model folder
    (``model.save``), or only its weights (``save_weights``). It saves the weights the model has
    at the end of that epoch. With ``save_best_only`` and ``monitor`` missing from the logs it
    warns and saves anyway, as Keras 3 does. ``best`` starts at ``initial_value_threshold``, or at
    +-inf, and is kept across fits.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__("ModelCheckpoint", monitor, mode, 0)
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch', got {save_freq!r}")
        self.filepath = os.fspath(filepath)
        self.verbose, self.save_best_only = verbose, save_best_only
        self.save_weights_only = save_weights_only
        self.best = self._worst() if initial_value_threshold is None else initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = self._value(logs, then="saving anyway")
            if value is not None and not self._improved(value, self.best):
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if value is not None:
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} improved from "
                          f"{self.best:.5f} to {value:.5f}, saving model to {path}")
                self.best = value
        elif self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: finished saving model to {path}")


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs, then wait ``cooldown`` epochs; never below ``min_lr``."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__("ReduceLROnPlateau", monitor, mode, min_delta)
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1) (it shrinks the "
                             f"learning rate), got {factor!r}")
        self.factor, self.patience, self.verbose = float(factor), patience, verbose
        self.cooldown, self.min_lr = cooldown, float(min_lr)

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        value = self._value(logs)
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value, self.best):
            self.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old = float(self.model.optimizer.learning_rate)
            if old > self.min_lr:
                new = max(old * self.factor, self.min_lr)
                self.model.optimizer.learning_rate = new
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                          f"{new}.")
                self.cooldown_counter, self.wait = self.cooldown, 0
