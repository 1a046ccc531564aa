"""Training a model the Keras way: ``compile``, ``fit``, ``evaluate``, ``predict``, and one batch
at a time with ``train_on_batch`` / ``test_on_batch``.

One training step (``train_on_batch``, and each batch of ``fit``):

1. ``outputs = model(x, training=True)`` (BatchNormalization uses and updates batch statistics);
2. ``loss = sum_i loss_weight_i * loss_i(y_i, output_i) + sum(model.losses)``: the data loss of
   each output plus every layer's regularization terms, as in Keras and TF.js;
3. ``loss.backward()``, then ``optimizer.apply_gradients`` on the trainable weights, which
   applies each weight's constraint after its update.

``evaluate`` and ``predict`` run ``training=False`` under ``no_grad()`` (no graph is recorded).
Every argument is checked before any work is done, and errors name the argument and the value
(a batch from a generator is checked when it comes).

The data: arrays, or a source of batches (a generator, a list of batches, a PyDataset-like
object); :mod:`.epoch_iterator` cuts either into epochs as Keras 3 does (``steps_per_epoch``).
A sample's weight in the loss is its ``sample_weight``, or ``class_weight[its class]``:
``loss = sum_i w_i * loss_i / batch_size`` (Keras's ``sum_over_batch_size``).

What ``compile`` makes lives in :mod:`minigrad.training.compile` (the compiled loss and the
compiled metrics); :meth:`Trainer.get_compile_config` is what a model file saves of it.
"""
import itertools

import numpy as np

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from .._checks import check_bool, check_int, check_number, check_seed
from ..engine.autograd import no_grad
from . import callbacks as callbacks_module
from . import data_adapter
from .epoch_iterator import (DEFAULT_BATCH_SIZE, ArrayBatches, EpochIterator, array_batch_size,
                             batch_source, check_validation_freq, epochs_of, given_batch_size,
                             should_validate, validation_epochs)
from .compile import CompileLoss, CompileMetrics, log_value, serialize_metrics
from .progbar import resolve_verbose


class Trainer:
    """The training half of :class:`~minigrad.models.Model` (a mixin; the model gives
    ``__call__``, ``trainable_weights``, ``losses``, ``outputs`` and ``output_names``)."""

    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compile_config = None  # compile's arguments that get_compile_config writes
        self._compile_loss = None  # a CompileLoss
        self._compile_metrics = None  # a CompileMetrics
        self._weighted_metrics = None  # a CompileMetrics of compile's weighted_metrics
        self._loss_tracker = None  # the mean of the total loss, logged as "loss"

    # -- compile ---------------------------------------------------------------------------------
    def _output_names(self):
        return self.output_names if self.outputs else ["output"]

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None):
        """Choose the optimizer, the loss (one for all outputs, a list, or a dict by output
        name), the metrics (``"accuracy"`` picks its kind from the loss and the targets) and the
        weights of the outputs' losses. Names or objects are accepted everywhere.
        ``weighted_metrics`` are metrics that weigh each sample by its sample weight
        (``sample_weight`` or ``class_weight``); ``metrics`` ignore those weights, as in Keras."""
        who = f"{type(self).__name__} '{self.name}'.compile"
        names = self._output_names()
        try:
            opt = optimizers_module.get(optimizer)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{who}: optimizer: {e}") from None
        if opt is None:
            raise ValueError(f"{who}: optimizer must be given (a name such as 'adam' or an "
                             f"Optimizer), got None")
        compile_loss = CompileLoss(loss, loss_weights, output_names=names, who=who)
        compile_metrics = CompileMetrics(metrics, output_names=names, who=who)
        weighted = CompileMetrics(weighted_metrics, output_names=names, who=who, weighted=True)
        self.optimizer, self.loss = opt, loss
        self._compile_loss, self._compile_metrics = compile_loss, compile_metrics
        self._weighted_metrics = weighted
        # what get_compile_config writes as given; the optimizer and the losses it reads from
        # the objects made here (the metrics cannot be: "accuracy" is resolved at the first data)
        self._compile_config = {"loss_weights": loss_weights, "metrics": metrics,
                                "weighted_metrics": weighted_metrics}
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.compiled = True

    def get_compile_config(self):
        """The arguments of ``compile``, serialized (``{}`` if the model is not compiled):
        ``optimizer`` and each output's loss as ``{"class_name", "config"}`` dicts (one, or a
        list in output order), ``metrics`` as names or config dicts, ``loss_weights`` as given.
        A ValueError says when an argument cannot be serialized (a plain function)."""
        if not self.compiled:
            return {}
        losses = [None if fn is None else losses_module.serialize(fn)
                  for fn in self._compile_loss.losses]
        config = {"optimizer": optimizers_module.serialize(self.optimizer),
                  "loss": losses[0] if len(losses) == 1 else losses,
                  "loss_weights": self._compile_config["loss_weights"],
                  "metrics": serialize_metrics(self._compile_config["metrics"])}
        if self._compile_config["weighted_metrics"] is not None:
            config["weighted_metrics"] = serialize_metrics(
                self._compile_config["weighted_metrics"])
        return config

    def compile_from_config(self, config):
        """Compile from a dict of :meth:`get_compile_config` (as a model file holds it)."""
        who = f"{type(self).__name__} '{self.name}'.compile_from_config"
        if not isinstance(config, dict) or "optimizer" not in config:
            raise ValueError(f"{who}: config must be a dict of compile arguments with an "
                             f"'optimizer' entry, got {config!r}")
        known = {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics"}
        # Keras 3 also writes these; they choose how steps run, not what they compute
        ignored = {"run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss"}
        unknown = sorted(k for k in config if k not in known | ignored)
        if unknown:
            raise ValueError(f"{who}: unsupported compile arguments {unknown}; known: "
                             f"optimizer, loss, loss_weights, metrics, weighted_metrics")
        loss = config.get("loss")
        if isinstance(loss, list):
            loss = [losses_module.get(entry) for entry in loss]
        elif isinstance(loss, dict) and "class_name" not in loss:  # by output name
            loss = {name: losses_module.get(entry) for name, entry in loss.items()}
        else:
            loss = losses_module.get(loss)
        self.compile(optimizer=optimizers_module.deserialize(config["optimizer"]), loss=loss,
                     metrics=config.get("metrics"), loss_weights=config.get("loss_weights"),
                     weighted_metrics=config.get("weighted_metrics"))

    def _assert_compiled(self, who, need_loss=True):
        if not self.compiled:
            raise RuntimeError(f"{who}: the model must be compiled first: call "
                               f"model.compile(optimizer=..., loss=...)")
        if need_loss and not self._compile_loss.has_loss:
            raise ValueError(f"{who}: compile() was called without a loss; give loss=... to "
                             f"compile")

    # -- metrics -----------------------------------------------------------------------------------
    @property
    def metrics(self):
        """The model's Metric objects, in the order of the logs: the mean total ``loss``, each
        output's loss (several outputs), then the compiled metrics (built at the first targets)."""
        if not self.compiled:
            return []
        return [self._loss_tracker] + self._compile_loss.metrics + \
            self._compile_metrics.metrics + self._weighted_metrics.metrics

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        """Start every metric afresh (``fit`` does it at each epoch, ``evaluate`` at its start)."""
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """``{name: value}`` of every metric, the logs that callbacks receive: a float, or an
        array for a metric with one result per class or threshold (as Keras 3)."""
        return {m.name: log_value(m.result()) for m in self.metrics}

    # -- data ------------------------------------------------------------------------------------
    def _model_input(self, xs):
        return xs[0] if len(xs) == 1 else xs

    def _prepare(self, x, y, sample_weight, who, class_weight=None, cast=True):
        """The data as checked arrays (:func:`data_adapter.prepare`), y checked against each
        output's loss, and the compiled metrics built from the first targets seen.
        ``class_weight`` (checked) becomes the sample weights. ``cast=False``: x keeps its dtype
        (the caller casts each batch)."""
        xs, ys, sw = data_adapter.prepare(self, x, y, sample_weight, who, cast=cast)
        output_shapes = [tuple(o.shape) for o in self.outputs]
        self._compile_loss.check_targets(ys, output_shapes, self.dtype, who)
        if not self._compile_metrics.built:
            y_shapes, losses = [y.shape for y in ys], self._compile_loss.losses
            self._compile_metrics.build(y_shapes, output_shapes, losses=losses)
            taken = {m.name for m in self.metrics}
            self._weighted_metrics.build(y_shapes, output_shapes, losses=losses, taken=taken)
        return xs, ys, self._class_weights(ys, sw, class_weight, who)

    def _class_weights(self, ys, sample_weight, class_weight, who):
        """The sample weights, from ``class_weight`` (checked against the model) if given."""
        if class_weight is None:
            return sample_weight
        if sample_weight is not None:  # Keras 3 refuses the two together as well
            raise ValueError(f"{who}: class_weight and sample_weight cannot be given together; "
                             f"fold the class weights into sample_weight")
        data_adapter.check_class_weight_fits(class_weight, self, who)
        return data_adapter.class_weight_to_sample_weight(ys[0], class_weight, who)

    # -- one step ----------------------------------------------------------------------------------
    def _forward_loss(self, xs, ys, sample_weight, training):
        """The total loss (compiled loss + every layer's regularization terms) and the outputs."""
        outputs = self(self._model_input(xs), training=training)
        outs = outputs if isinstance(outputs, list) else [outputs]
        total = self._compile_loss(ys, outs, sample_weight)
        for penalty in self.losses:
            total = total + penalty
        return total, outs

    def _update_metrics(self, total, outs, ys, n, sample_weight):
        self._loss_tracker.update_state(total.item(), sample_weight=n)
        preds = [o.data for o in outs]
        self._compile_metrics.update_state(ys, preds)
        if self._weighted_metrics.metrics:
            self._weighted_metrics.update_state(ys, preds, sample_weight)

    def _train_step(self, xs, ys, sample_weight):
        weights = self.trainable_weights
        for w in weights:
            w.grad = None
        total, outs = self._forward_loss(xs, ys, sample_weight, training=True)
        if total.requires_grad:  # a frozen model has nothing to differentiate
            total.backward()
            pairs = [(w.grad, w) for w in weights]
            if any(g is not None for g, _ in pairs):
                self.optimizer.apply_gradients(pairs)
        self._update_metrics(total, outs, ys, len(xs[0]), sample_weight)

    def _test_step(self, xs, ys, sample_weight):
        with no_grad():
            total, outs = self._forward_loss(xs, ys, sample_weight, training=False)
        self._update_metrics(total, outs, ys, len(xs[0]), sample_weight)

    def _results(self, logs, return_dict):
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, reset_metrics=True,
                       return_dict=False):
        """One training step on one batch: the loss (float), or [loss, *metrics]."""
        who = f"{type(self).__name__} '{self.name}'.train_on_batch"
        self._assert_compiled(who)
        class_weight = data_adapter.check_class_weight(class_weight, who)
        xs, ys, sw = self._prepare(x, y, sample_weight, who, class_weight)
        if reset_metrics:
            self.reset_metrics()
        self._train_step(xs, ys, sw)
        return self._results(self.get_metrics_result(), return_dict)

    def test_on_batch(self, x, y, sample_weight=None, reset_metrics=True, return_dict=False):
        """The loss (and metrics) on one batch, in inference mode."""
        who = f"{type(self).__name__} '{self.name}'.test_on_batch"
        self._assert_compiled(who)
        xs, ys, sw = self._prepare(x, y, sample_weight, who)
        if reset_metrics:
            self.reset_metrics()
        self._test_step(xs, ys, sw)
        return self._results(self.get_metrics_result(), return_dict)

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

    def fit(self, x=None, y=None, batch_size=DEFAULT_BATCH_SIZE, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, seed=None):
        """Train for ``epochs`` epochs (from ``initial_epoch``), as Keras 3 does.

        ``x`` holds arrays (with ``y``, batches of ``batch_size``, 32 by default) or gives
        batches ``(x, y[, sample_weight])``: a generator, a list of batches, a PyDataset-like
        object (then ``y`` and ``sample_weight`` stay None and ``batch_size`` at its default).
        ``steps_per_epoch`` makes an epoch that many batches, the data carrying on across
        epochs (required for a generator that never ends). ``class_weight`` weighs each sample
        by its class. ``validation_split`` keeps the last fraction of the samples (before
        shuffling) for validation, unless ``validation_data`` is given: ``(x_val, y_val[,
        sample_weight])`` or batches; it is evaluated after the epochs ``validation_freq``
        names (every n-th, or a list of epoch numbers from 1), on at most
        ``validation_steps`` batches. ``shuffle`` reorders the samples of arrays and the
        batches of a list or dataset (a generator is read as it comes); each epoch's order is
        drawn from ``seed`` and the epoch number, so resuming with ``initial_epoch`` replays it.
        Returns a :class:`~minigrad.callbacks.History`.
        """
        who = f"{type(self).__name__} '{self.name}'.fit"
        self._assert_compiled(who)
        batch_size = given_batch_size(batch_size, who)
        epochs = check_int(epochs, "epochs", who, low=0)
        initial_epoch = check_int(initial_epoch, "initial_epoch", who, low=0)
        steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", who, low=1,
                                    allow_none=True)
        validation_steps = check_int(validation_steps, "validation_steps", who, low=1,
                                     allow_none=True)
        validation_freq = check_validation_freq(validation_freq, who)
        val_batch = check_int(validation_batch_size, "validation_batch_size", who, low=1,
                              allow_none=True) or batch_size
        verbose = resolve_verbose(verbose, who)
        validation_split = check_number(validation_split, "validation_split", who, low=0,
                                        high=1, high_open=True)
        shuffle = check_bool(shuffle, "shuffle", who)
        class_weight = data_adapter.check_class_weight(class_weight, who)
        # seed None: drawn from NumPy's global generator, so np.random.seed(...) fixes the order
        base_seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64)) if seed is None \
            else check_seed(seed, who)
        source = batch_source(self, x, y, sample_weight, batch_size, who, class_weight,
                              shuffle, base_seed)
        val = None
        if source is not None:
            if validation_split:
                raise ValueError(f"{who}: validation_split={validation_split} needs x and y as "
                                 f"arrays; when x gives batches, pass validation_data instead")
        else:
            xs, ys, sw = self._prepare(x, y, sample_weight, who, cast=False)  # cast per batch
            self._class_weights(ys, sw, class_weight, who)  # fail before any work
            if validation_split and validation_data is None:
                (xs, ys, sw), (vxs, vys, vsw) = data_adapter.split(xs, ys, sw,
                                                                   validation_split, who)
                val = ArrayBatches(vxs, vys, vsw,
                                   array_batch_size(val_batch, validation_steps, len(vxs[0])),
                                   dtype=self.dtype)
            # the class weights weigh the training samples only, as in Keras
            sw = self._class_weights(ys, sw, class_weight, who)
            source = ArrayBatches(xs, ys, sw,
                                  array_batch_size(batch_size, steps_per_epoch, len(xs[0])),
                                  shuffle, base_seed, dtype=self.dtype)
        if validation_data is not None:
            val = validation_epochs(self, validation_data, val_batch, validation_steps, who)
        if val is not None and not isinstance(val, EpochIterator):
            val = EpochIterator(val, validation_steps, who, "validation_steps")
        train = EpochIterator(source, steps_per_epoch, who)
        history = callbacks_module.History()
        cbs = self._callback_list(callbacks, verbose, {"epochs": epochs,
                                                       "steps": train.num_batches,
                                                       "verbose": verbose, "in_fit": True},
                                  who, history)
        self.stop_training = False
        self.history = history
        cbs.on_train_begin({})
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            batches = train.epoch(epoch)
            first = next(batches, None)
            if first is None:  # a one-shot generator ran out: nothing left to train on
                if epoch == initial_epoch:
                    raise ValueError(f"{who}: x gave no batches")
                break
            cbs.on_epoch_begin(epoch, {})
            self.reset_metrics()
            for step, (bx, by, bsw) in itertools.chain([first], batches):
                cbs.on_train_batch_begin(step, {})
                self._train_step(bx, by, bsw)
                cbs.on_train_batch_end(step, self.get_metrics_result())
                if self.stop_training:
                    break
            epoch_logs = self.get_metrics_result()
            if val is not None and should_validate(epoch, validation_freq):
                val_logs = self._test_loop(val, cbs)
                epoch_logs.update({f"val_{k}": v for k, v in (val_logs or {}).items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if epochs > 0:  # as Keras: an optimizer with use_ema puts the averages into the weights
            self.optimizer.finalize_variable_values(self.trainable_weights)
        cbs.on_train_end(epoch_logs)
        return history

    def _test_loop(self, batches, cbs):
        """Evaluate every batch of one pass of ``batches`` (an EpochIterator, started afresh);
        None when it gave no batch (a one-shot generator already read)."""
        batches.restart()
        self.reset_metrics()
        steps = 0
        cbs.on_test_begin({})
        for step, (bx, by, bsw) in batches.epoch():
            cbs.on_test_batch_begin(step, {})
            self._test_step(bx, by, bsw)
            cbs.on_test_batch_end(step, self.get_metrics_result())
            steps += 1
        logs = self.get_metrics_result() if steps else None
        cbs.on_test_end(logs or {})
        return logs

    def evaluate(self, x=None, y=None, batch_size=DEFAULT_BATCH_SIZE, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss (and metrics) over all of x, y in inference mode: a float, or [loss, *metrics]
        (a dict with ``return_dict=True``). ``x`` may give batches, as in :meth:`fit`;
        ``steps`` stops after that many batches."""
        who = f"{type(self).__name__} '{self.name}'.evaluate"
        self._assert_compiled(who)
        batch_size = given_batch_size(batch_size, who)
        steps = check_int(steps, "steps", who, low=1, allow_none=True)
        verbose = resolve_verbose(verbose, who)
        batches = epochs_of(self, x, y, sample_weight, batch_size, steps, who)
        cbs = self._callback_list(callbacks, verbose, {"steps": batches.num_batches,
                                                       "verbose": verbose, "epochs": 1}, who)
        logs = self._test_loop(batches, cbs)
        if logs is None:
            raise ValueError(f"{who}: x gave no batches")
        return self._results(logs, return_dict)

    def predict(self, x, batch_size=DEFAULT_BATCH_SIZE, verbose=0, steps=None, callbacks=None):
        """The model's outputs for every sample of ``x``, batch by batch, as NumPy arrays.
        ``x`` may give batches of inputs (``x`` or ``(x,)`` each)."""
        who = f"{type(self).__name__} '{self.name}'.predict"
        batch_size = given_batch_size(batch_size, who)
        steps = check_int(steps, "steps", who, low=1, allow_none=True)
        verbose = resolve_verbose(verbose, who)
        batches = epochs_of(self, x, None, None, batch_size, steps, who, need_y=False)
        cbs = self._callback_list(callbacks, verbose, {"steps": batches.num_batches,
                                                       "verbose": verbose, "epochs": 1}, who)
        cbs.on_predict_begin({})
        chunks = []
        for step, (bx, _, _) in batches.epoch():
            cbs.on_predict_batch_begin(step, {})
            with no_grad():
                outputs = self(self._model_input(bx), training=False)
            # copy: an op may hand its output buffer to the next batch
            chunks.append([o.data.copy() for o in (outputs if isinstance(outputs, list)
                                                   else [outputs])])
            cbs.on_predict_batch_end(step, {})
        cbs.on_predict_end({})
        if not chunks:
            raise ValueError(f"{who}: x gave no batches")
        results = [np.concatenate(parts) for parts in zip(*chunks)]
        return results[0] if self._single_output else results

