"""Training a model the Keras way: ``compile``, ``fit``, ``evaluate``, ``predict``, and one batch
at a time with ``train_on_batch`` / ``test_on_batch``.

One training step (``train_on_batch``, and each batch of ``fit``):

1. ``outputs = model(x, training=True)`` (BatchNormalization uses and updates batch statistics);
2. ``loss = sum_i loss_weight_i * loss_i(y_i, output_i) + sum(model.losses)``: the data loss of
   each output plus every layer's regularization terms, as in Keras and TF.js;
3. ``loss.backward()``, then ``optimizer.apply_gradients`` on the trainable weights, which
   applies each weight's constraint after its update.

``evaluate`` and ``predict`` run ``training=False`` under ``no_grad()`` (no graph is recorded).
Every argument is checked before any work is done, and errors name the argument and the value.
"""
import math
import numbers

import numpy as np

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..autograd import no_grad
from . import callbacks as callbacks_module
from . import data_adapter
from .progbar import resolve_verbose


def _check_seed(seed, who):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{who}: seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


class Trainer:
    """The training half of :class:`~minigrad.models.Model` (a mixin; the model gives
    ``__call__``, ``trainable_weights``, ``losses``, ``outputs`` and ``output_names``)."""

    def __init__(self):
        self.optimizer = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compile_args = None

    # -- compile ---------------------------------------------------------------------------------
    def _output_names(self):
        return self.output_names if self.outputs else ["output"]

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None):
        """Choose the optimizer, the loss (one for all outputs, a list, or a dict by output
        name), the metrics (``"accuracy"`` picks its kind from the loss and the targets) and the
        weights of the outputs' losses. Names or objects are accepted everywhere."""
        who = f"{type(self).__name__} '{self.name}'.compile"
        names = self._output_names()
        try:
            opt = optimizers_module.get(optimizer)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{who}: optimizer: {e}") from None
        if opt is None:
            raise ValueError(f"{who}: optimizer must be given (a name such as 'adam' or an "
                             f"Optimizer), got None")
        loss_fns = []
        for entry in data_adapter.per_output(loss, names, who, "loss"):
            try:
                loss_fns.append(losses_module.get(entry))
            except (ValueError, TypeError) as e:
                raise ValueError(f"{who}: loss: {e}") from None
        if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
            raise TypeError(f"{who}: metrics must be a list (or a dict by output name), got "
                            f"{metrics!r}")
        if isinstance(metrics, (list, tuple)) and len(names) > 1 and metrics and \
                all(isinstance(m, (list, tuple)) for m in metrics):
            metric_specs = data_adapter.per_output(list(metrics), names, who, "metrics")
        else:
            metric_specs = data_adapter.per_output(metrics, names, who, "metrics") \
                if isinstance(metrics, dict) else [list(metrics or [])] * len(names)
        metric_specs = [[] if m is None else list(m) if isinstance(m, (list, tuple)) else [m]
                        for m in metric_specs]
        for spec in metric_specs:  # fail now on unknown names, not at the first batch
            for m in spec:
                if not (isinstance(m, str) and m.lower() in ("accuracy", "acc")):
                    try:
                        metrics_module.get(m)
                    except (ValueError, TypeError) as e:
                        raise ValueError(f"{who}: metrics: {e}") from None
        weights = data_adapter.per_output(loss_weights, names, who, "loss_weights")
        weights = [1.0 if w is None else w for w in weights]
        for w in weights:
            if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w):
                raise ValueError(f"{who}: loss_weights must be finite numbers, got "
                                 f"{loss_weights!r}")
        self.optimizer, self.loss = opt, loss
        self._loss_fns, self._loss_weights = loss_fns, [float(w) for w in weights]
        self._metric_specs, self._metric_objects = metric_specs, None
        self._compile_args = {"loss": loss, "metrics": metrics, "loss_weights": loss_weights}
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._output_loss_trackers = [metrics_module.Mean(name=f"{n}_loss") for n in names] \
            if len(names) > 1 else []
        self.compiled = True

    def _assert_compiled(self, who, need_loss=True):
        if not self.compiled:
            raise RuntimeError(f"{who}: the model must be compiled first: call "
                               f"model.compile(optimizer=..., loss=...)")
        if need_loss and all(fn is None for fn in self._loss_fns):
            raise ValueError(f"{who}: compile() was called without a loss; give loss=... to "
                             f"compile")

    # -- data ------------------------------------------------------------------------------------
    def _model_input(self, xs):
        return xs[0] if len(xs) == 1 else xs

    # -- one step ----------------------------------------------------------------------------------
    def _forward_loss(self, xs, ys, sample_weight, training):
        outputs = self(self._model_input(xs), training=training)
        outs = outputs if isinstance(outputs, list) else [outputs]
        total, per_output = None, []
        for fn, weight, y, out in zip(self._loss_fns, self._loss_weights, ys, outs):
            if fn is None:
                per_output.append(None)
                continue
            value = fn(y, out, sample_weight=sample_weight)
            per_output.append(value)
            term = value if weight == 1.0 else value * weight
            total = term if total is None else total + term
        for penalty in self.losses:
            total = total + penalty
        return total, per_output, outs

    def _update_trackers(self, total, per_output, outs, ys, n):
        self._loss_tracker.update_state(total.item(), sample_weight=n)
        for tracker, value in zip(self._output_loss_trackers, per_output):
            if value is not None:
                tracker.update_state(value.item(), sample_weight=n)
        for objects, y, out in zip(self._metric_objects, ys, outs):
            for m in objects:
                m.update_state(y, out.data)

    def _reset_trackers(self):
        for t in [self._loss_tracker] + self._output_loss_trackers + \
                [m for objects in self._metric_objects or [] for m in objects]:
            t.reset_state()

    def _logs(self):
        logs = {"loss": float(self._loss_tracker.result())}
        for t in self._output_loss_trackers:
            logs[t.name] = float(t.result())
        for objects in self._metric_objects:
            for m in objects:
                logs[m.name] = float(m.result())
        return logs

    def _train_step(self, xs, ys, sample_weight):
        weights = self.trainable_weights
        for w in weights:
            w.grad = None
        total, per_output, outs = self._forward_loss(xs, ys, sample_weight, training=True)
        if total.requires_grad:  # a frozen model has nothing to differentiate
            total.backward()
            pairs = [(w.grad, w) for w in weights]
            if any(g is not None for g, _ in pairs):
                self.optimizer.apply_gradients(pairs)
        self._update_trackers(total, per_output, outs, ys, len(xs[0]))

    def _test_step(self, xs, ys, sample_weight):
        with no_grad():
            total, per_output, outs = self._forward_loss(xs, ys, sample_weight, training=False)
        self._update_trackers(total, per_output, outs, ys, len(xs[0]))

    def _results(self, logs, return_dict):
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y, sample_weight=None, reset_metrics=True, return_dict=False):
        """One training step on one batch: the loss (float), or [loss, *metrics]."""
        who = f"{type(self).__name__} '{self.name}'.train_on_batch"
        self._assert_compiled(who)
        xs, ys, sw = data_adapter.prepare(self, x, y, sample_weight, who)
        if reset_metrics:
            self._reset_trackers()
        self._train_step(xs, ys, sw)
        return self._results(self._logs(), return_dict)

    def test_on_batch(self, x, y, sample_weight=None, reset_metrics=True, return_dict=False):
        """The loss (and metrics) on one batch, in inference mode."""
        who = f"{type(self).__name__} '{self.name}'.test_on_batch"
        self._assert_compiled(who)
        xs, ys, sw = data_adapter.prepare(self, x, y, sample_weight, who)
        if reset_metrics:
            self._reset_trackers()
        self._test_step(xs, ys, sw)
        return self._results(self._logs(), return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch, as NumPy arrays (inference mode, no graph)."""
        who = f"{type(self).__name__} '{self.name}'.predict_on_batch"
        xs, _, _ = data_adapter.prepare(self, x, None, None, who, need_y=False)
        with no_grad():
            outputs = self(self._model_input(xs), training=False)
        if isinstance(outputs, list):
            return [o.data.copy() for o in outputs]
        return outputs.data.copy()

    # -- loops -------------------------------------------------------------------------------------
    def _callback_list(self, callbacks, verbose, params, who, history=None):
        if isinstance(callbacks, callbacks_module.Callback):  # one callback, not in a list
            callbacks = [callbacks]
        elif callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise TypeError(f"{who}: callbacks must be a list of minigrad.callbacks.Callback "
                            f"objects, got {type(callbacks).__name__}")
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, callbacks_module.Callback):
                raise TypeError(f"{who}: callbacks must be minigrad.callbacks.Callback objects, "
                                f"got {type(cb).__name__}")
        progbar = [callbacks_module.ProgbarLogger(verbose)] if verbose else []
        return callbacks_module.CallbackList(progbar + callbacks + ([history] if history else []),
                                             self, params)

    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, sample_weight=None,
            initial_epoch=0, validation_batch_size=None, validation_freq=1, seed=None):
        """Train for ``epochs`` epochs (from ``initial_epoch``) on batches of ``batch_size``.

        ``validation_split`` keeps the last fraction of the samples (before shuffling) for
        validation, unless ``validation_data=(x_val, y_val[, sample_weight])`` is given.
        Each epoch's order is drawn from ``seed`` and the epoch number, so resuming with
        ``initial_epoch`` replays the same order. Returns a :class:`~minigrad.callbacks.History`.
        """
        who = f"{type(self).__name__} '{self.name}'.fit"
        self._assert_compiled(who)
        batch_size = data_adapter.check_int(batch_size, "batch_size", who, 1)
        epochs = data_adapter.check_int(epochs, "epochs", who, 0)
        initial_epoch = data_adapter.check_int(initial_epoch, "initial_epoch", who, 0)
        validation_freq = data_adapter.check_int(validation_freq, "validation_freq", who, 1)
        val_batch = data_adapter.check_int(validation_batch_size or batch_size,
                                           "validation_batch_size", who, 1)
        verbose = resolve_verbose(verbose, who)
        if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
                or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"{who}: validation_split must be a number in [0, 1), got "
                             f"{validation_split!r}")
        if not isinstance(shuffle, (bool, np.bool_)):
            raise ValueError(f"{who}: shuffle must be True or False, got {shuffle!r}")
        xs, ys, sw = data_adapter.prepare(self, x, y, sample_weight, who)
        n, val = len(xs[0]), None
        if validation_data is not None:
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
                raise ValueError(f"{who}: validation_data must be (x_val, y_val) or (x_val, y_val, "
                                 f"sample_weight), got {type(validation_data).__name__}")
            val = data_adapter.prepare(self, *validation_data[:2], validation_data[2] if len(
                validation_data) == 3 else None, f"{who} (validation_data)")
        elif validation_split:
            split = int(math.floor(n * (1.0 - validation_split)))
            if split == 0 or split == n:
                raise ValueError(f"{who}: validation_split={validation_split} of {n} samples "
                                 f"leaves {'no training' if split == 0 else 'no validation'} "
                                 f"samples")
            train, held_out = slice(0, split), slice(split, None)
            val = (data_adapter.take(xs, held_out), data_adapter.take(ys, held_out),
                   None if sw is None else sw[held_out])
            xs, ys, sw, n = data_adapter.take(xs, train), data_adapter.take(ys, train), \
                None if sw is None else sw[train], split
        steps = math.ceil(n / batch_size)
        history = callbacks_module.History()
        cbs = self._callback_list(callbacks, verbose, {"epochs": epochs, "steps": steps,
                                                       "verbose": verbose, "in_fit": True},
                                  who, history)
        # seed None: drawn from NumPy's global generator, so np.random.seed(...) fixes the order
        base_seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64)) if seed is None \
            else _check_seed(seed, who)
        self.stop_training = False
        self.history = history
        cbs.on_train_begin({})
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch, {})
            self._reset_trackers()
            order = np.random.default_rng([base_seed, epoch]).permutation(n) if shuffle else None
            for step in range(steps):
                cbs.on_train_batch_begin(step, {})
                index = slice(step * batch_size, (step + 1) * batch_size)
                if order is not None:
                    index = order[index]
                self._train_step(data_adapter.take(xs, index), data_adapter.take(ys, index),
                                 None if sw is None else sw[index])
                cbs.on_train_batch_end(step, self._logs())
                if self.stop_training:
                    break
            epoch_logs = self._logs()
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._test_loop(*val, val_batch, cbs)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs)
        return history

    def _test_loop(self, xs, ys, sw, batch_size, cbs):
        self._reset_trackers()
        cbs.on_test_begin({})
        for step in range(math.ceil(len(xs[0]) / batch_size)):
            cbs.on_test_batch_begin(step, {})
            index = slice(step * batch_size, (step + 1) * batch_size)
            self._test_step(data_adapter.take(xs, index), data_adapter.take(ys, index),
                            None if sw is None else sw[index])
            cbs.on_test_batch_end(step, self._logs())
        logs = self._logs()
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=32, verbose="auto", sample_weight=None,
                 callbacks=None, return_dict=False):
        """The loss (and metrics) over all of x, y in inference mode: a float, or [loss, *metrics]
        (a dict with ``return_dict=True``)."""
        who = f"{type(self).__name__} '{self.name}'.evaluate"
        self._assert_compiled(who)
        batch_size = data_adapter.check_int(batch_size, "batch_size", who, 1)
        verbose = resolve_verbose(verbose, who)
        xs, ys, sw = data_adapter.prepare(self, x, y, sample_weight, who)
        steps = math.ceil(len(xs[0]) / batch_size)
        cbs = self._callback_list(callbacks, verbose, {"steps": steps, "verbose": verbose,
                                                       "epochs": 1}, who)
        return self._results(self._test_loop(xs, ys, sw, batch_size, cbs), return_dict)

    def predict(self, x, batch_size=32, verbose=0, callbacks=None):
        """The model's outputs for every sample of ``x``, batch by batch, as NumPy arrays."""
        who = f"{type(self).__name__} '{self.name}'.predict"
        batch_size = data_adapter.check_int(batch_size, "batch_size", who, 1)
        verbose = resolve_verbose(verbose, who)
        xs, _, _ = data_adapter.prepare(self, x, None, None, who, need_y=False)
        steps = math.ceil(len(xs[0]) / batch_size)
        cbs = self._callback_list(callbacks, verbose, {"steps": steps, "verbose": verbose,
                                                       "epochs": 1}, who)
        cbs.on_predict_begin({})
        chunks = []
        for step in range(steps):
            cbs.on_predict_batch_begin(step, {})
            batch = data_adapter.take(xs, slice(step * batch_size, (step + 1) * batch_size))
            with no_grad():
                outputs = self(self._model_input(batch), training=False)
            # copy: an op may hand its output buffer to the next batch
            chunks.append([o.data.copy() for o in (outputs if isinstance(outputs, list)
                                                   else [outputs])])
            cbs.on_predict_batch_end(step, {})
        cbs.on_predict_end({})
        results = [np.concatenate(parts) for parts in zip(*chunks)]
        return results[0] if self._single_output else results
