"""What ``model.compile`` builds: the model's loss and its metrics, as two objects.

``compile(loss=..., loss_weights=..., metrics=...)`` accepts one value for all outputs, a list in
output order, or a dict by output name. :class:`CompileLoss` turns ``loss`` and ``loss_weights``
into one Loss and one weight per output and adds up the weighted losses; :class:`CompileMetrics`
turns ``metrics`` into Metric objects per output. The metrics are built late, from the first
targets the model sees, because ``"accuracy"`` means binary, sparse categorical or categorical
accuracy depending on the loss and on the shapes of y and of the output (Keras 3 does the same
in ``keras/src/trainers/compile_utils.py``).

>>> loss = CompileLoss("mse", output_names=["output"])
>>> type(loss.losses[0]).__name__, loss.output_weights
('MeanSquaredError', [1.0])
>>> metrics = CompileMetrics(["accuracy"], output_names=["output"])
>>> metrics.build([(8,)], [(None, 3)], losses=["sparse_categorical_crossentropy"])
>>> [type(m).__name__ for m in metrics.metrics]
['SparseCategoricalAccuracy']
"""
import math
import numbers

import numpy as np

from .. import losses as losses_module
from .. import metrics as metrics_module
from ..engine.autograd import no_grad
from ..engine.tensor import Tensor
from .data_adapter import per_output


def _is_accuracy(identifier):
    return isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")


class CompileLoss:
    """The loss of a compiled model: ``sum_i weight_i * loss_i(y_i, output_i)``.

    Attributes: ``output_names``; ``losses``, a Loss (or None: that output does not train) per
    output; ``output_weights``, a float per output; ``metrics``, a ``Mean`` per output that
    tracks its unweighted loss (``"<output>_loss"``), only when the model has several outputs.
    """

    def __init__(self, loss, loss_weights=None, output_names=("output",), who="compile"):
        names = list(output_names)
        self.output_names = names
        self.losses = []
        for entry in per_output(loss, names, who, "loss"):
            try:
                self.losses.append(losses_module.get(entry))
            except (ValueError, TypeError) as e:
                raise ValueError(f"{who}: loss: {e}") from None
        weights = [1.0 if w is None else w
                   for w in per_output(loss_weights, names, who, "loss_weights")]
        for w in weights:
            if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w):
                raise ValueError(f"{who}: loss_weights must be finite numbers, got "
                                 f"{loss_weights!r}")
        self.output_weights = [float(w) for w in weights]
        self.metrics = [metrics_module.Mean(name=f"{n}_loss") for n in names] \
            if len(names) > 1 else []

    @property
    def has_loss(self):
        """False when no output has a loss (``compile()`` without ``loss=``): nothing to train."""
        return any(fn is not None for fn in self.losses)

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The weighted sum of the outputs' losses, a scalar Tensor (None if no output has a
        loss). ``y_true`` holds an array and ``y_pred`` a Tensor per output. Each output's
        unweighted loss is recorded in its tracker, weighted by the number of samples."""
        trackers = self.metrics or [None] * len(self.losses)
        total = None
        for fn, weight, y, out, tracker in zip(self.losses, self.output_weights, y_true, y_pred,
                                               trackers):
            if fn is None:
                continue
            value = fn(y, out, sample_weight=sample_weight)
            if tracker is not None:
                tracker.update_state(value.item(), sample_weight=len(y))
            term = value if weight == 1.0 else value * weight
            total = term if total is None else total + term
        return total

    def check_targets(self, y_true, output_shapes, dtype, who):
        """Run each loss on y's first samples against a dummy prediction of the output's shape,
        so that a y that does not fit fails before training, with the loss's own message."""
        several = len(y_true) > 1
        for fn, y, shape, name in zip(self.losses, y_true, output_shapes, self.output_names):
            if fn is None or any(d is None for d in shape[1:]):
                continue
            k = min(len(y), 2)
            dummy = Tensor(np.full((k,) + tuple(shape[1:]), 0.5, dtype=dtype))
            try:
                with no_grad(), np.errstate(all="ignore"):
                    fn(y[:k], dummy)
            except (ValueError, TypeError, IndexError) as e:
                raise ValueError(f"{who}: y{f' for output {name!r}' if several else ''} of "
                                 f"shape {y.shape} does not fit the output of shape {shape} with "
                                 f"loss {type(fn).__name__}: {e}") from None

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()


class CompileMetrics:
    """The metrics of a compiled model: a list of Metric objects per output.

    Names are checked when compile is called; the objects are made by :meth:`build`, from the
    first targets seen. With several outputs a metric is named ``"<output>_<metric>"`` and every
    output gets its own copy of a Metric object given once for all of them.

    ``weighted=True`` makes compile's ``weighted_metrics``: they are updated with the sample
    weights (``class_weight`` included), and one whose name an unweighted metric already has
    is called ``weighted_<metric>`` (``<output>_weighted_<metric>``), as in Keras 3.
    """

    def __init__(self, metrics, output_names=("output",), who="compile", weighted=False):
        names = list(output_names)
        what = "weighted_metrics" if weighted else "metrics"
        self.weighted = weighted
        if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
            raise TypeError(f"{who}: {what} must be a list (or a dict by output name), got "
                            f"{metrics!r}")
        if isinstance(metrics, (list, tuple)) and len(names) > 1 and metrics and \
                all(isinstance(m, (list, tuple)) for m in metrics):
            specs = per_output(list(metrics), names, who, what)  # a list per output
        elif isinstance(metrics, dict):
            specs = per_output(metrics, names, who, what)
        else:
            specs = [list(metrics or [])] * len(names)  # the same metrics for every output
        specs = [[] if s is None else [m for m in s if m is not None]
                 if isinstance(s, (list, tuple)) else [s] for s in specs]
        for spec in specs:  # fail now on unknown names, not at the first batch
            for m in spec:
                if not _is_accuracy(m):
                    try:
                        metrics_module.get(m)
                    except (ValueError, TypeError) as e:
                        raise ValueError(f"{who}: {what}: {e}") from None
        self.output_names = names
        self._specs = specs
        self._per_output = None  # a list of Metric objects per output, once built

    @property
    def built(self):
        return self._per_output is not None

    @property
    def metrics(self):
        """The Metric objects, output by output ([] before :meth:`build`)."""
        return [m for objects in self._per_output or [] for m in objects]

    def build(self, y_true_shapes, y_pred_shapes, losses=None, taken=()):
        """Make the Metric objects; ``"accuracy"`` is resolved from each output's loss and from
        the shapes of its targets and predictions (:func:`minigrad.metrics.resolve`). ``taken``:
        the names already in the logs (a weighted metric with one of them is renamed)."""
        single = len(self.output_names) == 1
        losses = losses if losses is not None else [None] * len(self.output_names)
        self._per_output = []
        for spec, loss, t_shape, p_shape, name in zip(self._specs, losses, y_true_shapes,
                                                      y_pred_shapes, self.output_names):
            objects = []
            for ident in spec:
                if not single and hasattr(ident, "get_config") and not isinstance(ident, str):
                    ident = type(ident).from_config(ident.get_config())  # one state per output
                m = metrics_module.resolve(ident, loss=loss, y_true_shape=tuple(t_shape),
                                           y_pred_shape=tuple(p_shape))
                prefix = "" if single else f"{name}_"
                if self.weighted and prefix + m.name in taken:
                    m.name = f"weighted_{m.name}"
                m.name = prefix + m.name
                objects.append(m)
            self._per_output.append(objects)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Update every output's metrics with its targets and predictions (arrays), and the
        sample weights if these are weighted metrics."""
        sample_weight = sample_weight if self.weighted else None
        for objects, y, out in zip(self._per_output, y_true, y_pred):
            for m in objects:
                if sample_weight is None:
                    m.update_state(y, out)
                else:
                    m.update_state(y, out, sample_weight=sample_weight)

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()

    def result(self):
        """``{name: value}`` for every metric, in output order: a float, or an array for a metric
        with one result per class or threshold (F1Score(average=None), ...), as Keras 3 logs."""
        if not self.built:
            raise ValueError("CompileMetrics.result: the metrics are not built yet; they are "
                             "built from the first targets given to fit / evaluate / "
                             "train_on_batch / test_on_batch")
        return {m.name: log_value(m.result()) for m in self.metrics}


def log_value(result):
    """A metric's result as the logs hold it: a float, or a float array of its values."""
    value = np.asarray(result.numpy() if hasattr(result, "numpy") else result, dtype=np.float64)
    return float(value) if value.ndim == 0 else value


def serialize_metrics(metrics):
    """compile's ``metrics`` argument with each metric as a name or a config dict; a dict by
    output name gets a list per output. Raises ValueError for a metric that cannot be
    serialized (a plain function that is not registered)."""
    def one(m):  # a name or a config dict (compile_from_config passes those) is kept as is
        return m if isinstance(m, (str, dict)) else metrics_module.serialize(m)

    if isinstance(metrics, dict):
        return {k: [one(m) for m in (v if isinstance(v, (list, tuple)) else [v])]
                for k, v in metrics.items()}
    if metrics is None:
        return None
    return [[one(m) for m in v] if isinstance(v, (list, tuple)) else one(v) for v in metrics]
