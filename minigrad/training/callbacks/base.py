"""The callback machinery (hooks, CallbackList), the callbacks ``fit`` adds itself (History,
ProgbarLogger) and the ones that act at every epoch or batch without watching for improvement.
"""
import csv
import math
import os

import numpy as np

from ..progbar import Progbar

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: every hook does nothing. ``self.model`` and ``self.params`` (``epochs``,
    ``steps``, ``verbose``) are set before ``on_train_begin``."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = dict(params)


def _noop(self, *args, **kwargs):
    """A hook that does nothing (the default of every hook)."""
    return None


for _hook in _HOOKS:
    setattr(Callback, _hook, _noop)


class CallbackList:
    """Calls one hook on every callback, in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks must be minigrad.callbacks.Callback objects, got "
                                f"{type(cb).__name__}")
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook):
        if hook not in _HOOKS:
            raise AttributeError(hook)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)
        return call


class History(Callback):
    """Records the epoch logs: ``history.history["loss"]`` is a list with one value per epoch."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a :class:`~minigrad.training.progbar.Progbar` per epoch (or
    per evaluate)."""

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self._bar = None
        self._seen = 0
        self._target = None  # the number of steps; learnt at the first epoch's end if unknown

    def set_params(self, params):
        super().set_params(params)
        self._target = self.params.get("steps")

    def _start(self):
        self._bar = Progbar(self._target, verbose=self.verbose)
        self._seen = 0

    def _finish(self, logs):
        """The bar's final line; an unknown total is now known, for the bar and the next epochs
        (as Keras's ProgbarLogger)."""
        if self._target is None:
            self._target = self._bar.target = self._seen
        self._bar.update(self._seen, logs, finalize=True)

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs", 1)
        if self.verbose and epochs > 1:
            print(f"Epoch {epoch + 1}/{epochs}")
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self._bar.update(self._seen, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self.params.get("in_fit"):
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self.params.get("in_fit"):
            self._seen = batch + 1
            self._bar.update(self._seen, logs, finalize=False)

    def on_test_end(self, logs=None):
        if not self.params.get("in_fit"):
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self._bar.update(self._seen, None, finalize=False)

    def on_predict_end(self, logs=None):
        self._finish(None)


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)`` (epoch from 0)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function (epoch, lr) -> "
                            f"lr, got {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.model.optimizer.learning_rate)
        new = self.schedule(epoch, lr)
        if isinstance(new, bool) or not isinstance(new, (int, float, np.floating)) \
                or not math.isfinite(new):
            raise ValueError(f"LearningRateScheduler: the schedule must return a finite number, "
                             f"got {new!r} at epoch {epoch}")
        self.model.optimizer.learning_rate = float(new)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Append one row per epoch (``epoch`` then the sorted log names) to a CSV file."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._file, self._writer, self._keys = None, None, None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.isfile(self.filename) \
            and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._writer, self._keys = None, None
        self._has_header = exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self._keys,
                                          delimiter=self.separator)
            if not self._has_header:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update({k: logs.get(k, "NA") for k in self._keys})
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Accepted: ``on_epoch_begin/end(epoch, logs)``, ``on_batch_begin/end(batch, logs)`` (training
    batches), ``on_train_begin/end(logs)`` and any other hook name of :class:`Callback`.
    """

    def __init__(self, **hooks):
        super().__init__()
        aliases = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}
        for name, fn in hooks.items():
            hook = aliases.get(name, name)
            if hook not in _HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {name!r}; known: "
                                f"{', '.join(sorted(set(_HOOKS) | set(aliases)))}")
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"LambdaCallback: {name} must be callable, got {fn!r}")
                setattr(self, hook, fn)
