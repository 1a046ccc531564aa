"""Metrics from confusion-matrix counts at thresholds: ``Precision``, ``Recall``, ``AUC`` and the
counts themselves (``TruePositives`` ...), with Keras 3's arguments, defaults and numerics.

A prediction p counts as positive at threshold t when p > t; a target is positive when non-zero.
Over every batch seen each metric adds up, per threshold, the (sample-weighted) numbers of true
positives tp, false positives fp, true negatives tn and false negatives fn. Then

    precision = tp / (tp + fp),   recall = tp / (tp + fn)   (0 where the denominator is 0),

and AUC is the area under the ROC curve (recall against fp / (fp + tn)) or the precision-recall
curve, summed over the threshold grid (trapezoids; for PR, Davis & Goadrich's interpolation).
"""
import numpy as np

from .._checks import check_bool, check_int, check_positive_int
from .base import Metric, _array, _registry, _same_rank

EPSILON = 1e-7     # Keras's backend.epsilon(): the end thresholds of AUC are -EPSILON, 1 + EPSILON
NEG_INF = -1e10    # Keras's stand-in for -inf: the default threshold with top_k


def _divide_no_nan(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _check_thresholds(thresholds, who):
    values = np.atleast_1d(np.asarray(thresholds, dtype=object)).ravel().tolist()
    for t in values:
        if isinstance(t, bool) or not isinstance(t, (int, float, np.number)) or not 0 <= t <= 1:
            raise ValueError(f"{who}: thresholds must be numbers in [0, 1] (one or a list), got "
                             f"{thresholds!r}")
    if not values:
        raise ValueError(f"{who}: thresholds must not be empty, got {thresholds!r}")
    return [float(t) for t in values]


def _evenly_spaced(thresholds):
    """Keras's test for the fast path: at least 3 thresholds, i / (n - 1) for i = 0 .. n-1."""
    n = len(thresholds)
    return n >= 3 and np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1),
                                  atol=EPSILON)


def confusion_counts(y_true, y_pred, thresholds, who, *, sample_weight=None, top_k=None,
                     class_id=None, multi_label=False, label_weights=None, evenly=False):
    """``{"tp", "fp", "tn", "fn"}``: weighted counts at each threshold, shape (T,) (or (T, L)
    with ``multi_label``, one column per label of y_pred (N, L)). Keras's rules: ``top_k`` keeps
    the k highest predictions of each sample (the others never count as positive), ``class_id``
    looks at that column alone, sample weights broadcast over the classes, and with evenly spaced
    thresholds predictions are clipped to [0, 1] and put into buckets (Keras's fast path)."""
    y_true = np.asarray(_array(y_true, who, "y_true"), dtype=np.float32)
    y_pred = np.asarray(_array(y_pred, who, "y_pred"), dtype=np.float32)
    y_true, y_pred = _same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{who}: y_true and y_pred must have the same shape, got y_true of shape "
                         f"{y_true.shape} and y_pred of shape {y_pred.shape}")
    weights = np.ones(y_pred.shape, np.float32)
    if sample_weight is not None:
        w = np.asarray(_array(sample_weight, who, "sample_weight"), dtype=np.float32)
        if w.ndim < y_true.ndim:   # (N,) weighs a sample; (N, 1) against (N, C) broadcasts
            w = w.reshape(w.shape + (1,) * (y_true.ndim - w.ndim))
        try:
            weights = np.broadcast_to(w, y_pred.shape)
        except ValueError:
            raise ValueError(f"{who}: sample_weight of shape {np.shape(sample_weight)} does not "
                             f"fit y_pred of shape {y_pred.shape}") from None
    if top_k is not None:
        order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :top_k]
        keep = np.zeros(y_pred.shape, bool)
        np.put_along_axis(keep, order, True, axis=-1)
        y_pred = np.where(keep, y_pred, np.float32(NEG_INF))
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(f"{who}: class_id needs y_pred of shape (N, num_classes), got shape "
                             f"{y_pred.shape}")
        if not -y_pred.shape[-1] <= class_id < y_pred.shape[-1]:
            raise ValueError(f"{who}: class_id {class_id} is out of range for y_pred with "
                             f"{y_pred.shape[-1]} classes")
        y_true, y_pred, weights = (a[..., class_id] for a in (y_true, y_pred, weights))
    if label_weights is not None:
        weights = weights * np.asarray(label_weights, np.float32)
    positive = y_true != 0
    if multi_label:
        if y_pred.ndim != 2:
            raise ValueError(f"{who}: multi_label needs y_pred of shape (N, num_labels), got "
                             f"shape {y_pred.shape}")
    else:
        positive, y_pred, weights = positive.ravel(), y_pred.ravel(), weights.ravel()
    t = np.asarray(thresholds, np.float32)
    true_w = np.where(positive, weights, 0).astype(np.float64)
    false_w = np.where(positive, 0, weights).astype(np.float64)
    if evenly:
        # bucket i holds the predictions in (t_i, t_i+1]; tp at t_i = the true labels in the
        # buckets >= i, a reversed cumulative sum (p > t_i, with p clipped to [0, 1])
        n = len(t)
        bucket = np.ceil(np.clip(y_pred, 0, 1) * np.float32(n - 1)) - 1
        if t[0] < 0 or t[-1] > 1:
            bucket = np.maximum(bucket, 0)
        bucket = bucket.astype(np.int64)
        counted = bucket >= 0
        cols = np.broadcast_to(np.arange(y_pred.shape[-1]), y_pred.shape) if multi_label else 0
        shape = (n, y_pred.shape[-1]) if multi_label else (n,)

        def above(w):
            sums = np.zeros(shape)
            at = (bucket[counted], cols[counted]) if multi_label else bucket[counted]
            np.add.at(sums, at, w[counted])
            return np.cumsum(sums[::-1], axis=0)[::-1]
        tp, fp = above(true_w), above(false_w)
    else:
        is_pos = y_pred[None] > t.reshape((-1,) + (1,) * y_pred.ndim)   # (T, N[, L])
        axis = 1
        tp = np.sum(np.where(is_pos, true_w, 0), axis=axis)
        fp = np.sum(np.where(is_pos, false_w, 0), axis=axis)
    total_true, total_false = true_w.sum(axis=0), false_w.sum(axis=0)
    return {"tp": tp, "fp": fp, "tn": total_false - fp, "fn": total_true - tp}


class _ThresholdMetric(Metric):
    """Precision and Recall: counts at ``thresholds`` (default 0.5; with ``top_k``, every
    prediction in the top k), for every class or for ``class_id`` alone."""
    _counts = {}  # attribute -> the count it adds up ("tp", "fp", "fn")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        who = type(self).__name__
        self.init_thresholds = thresholds
        self.top_k = check_positive_int(top_k, "top_k", who, allow_none=True)
        self.class_id = check_int(class_id, "class_id", who, allow_none=True)
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = [default] if thresholds is None else _check_thresholds(thresholds, who)
        self._evenly = _evenly_spaced(self.thresholds)
        self.reset_state()

    def reset_state(self):
        for key in self._counts:
            setattr(self, key, np.zeros(len(self.thresholds)))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, self.name,
                                  sample_weight=sample_weight, top_k=self.top_k,
                                  class_id=self.class_id, evenly=self._evenly)
        for attribute, key in self._counts.items():
            setattr(self, attribute, getattr(self, attribute) + counts[key])

    def _one_or_all(self, values):
        return float(values[0]) if len(self.thresholds) == 1 else values

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


@_registry.register()
class Precision(_ThresholdMetric):
    """tp / (tp + fp): of the predictions called positive, the fraction that are. A float, or an
    array with one value per threshold when several are given."""
    _counts = {"true_positives": "tp", "false_positives": "fp"}

    def result(self):
        return self._one_or_all(_divide_no_nan(self.true_positives,
                                               self.true_positives + self.false_positives))


@_registry.register()
class Recall(_ThresholdMetric):
    """tp / (tp + fn): of the positive targets, the fraction predicted positive."""
    _counts = {"true_positives": "tp", "false_negatives": "fn"}

    def result(self):
        return self._one_or_all(_divide_no_nan(self.true_positives,
                                               self.true_positives + self.false_negatives))


class _Count(Metric):
    """One weighted confusion count at each of ``thresholds`` (default 0.5): a float, or an
    array with one count per threshold when several are given."""
    _key = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = [0.5] if thresholds is None else \
            _check_thresholds(thresholds, type(self).__name__)
        self._evenly = _evenly_spaced(self.thresholds)
        self.reset_state()

    def reset_state(self):
        self.accumulator = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.accumulator = self.accumulator + confusion_counts(
            y_true, y_pred, self.thresholds, self.name, sample_weight=sample_weight,
            evenly=self._evenly)[self._key]

    def result(self):
        return float(self.accumulator[0]) if len(self.thresholds) == 1 else self.accumulator

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


@_registry.register()
class TruePositives(_Count):
    _key = "tp"


@_registry.register()
class FalsePositives(_Count):
    _key = "fp"


@_registry.register()
class TrueNegatives(_Count):
    _key = "tn"


@_registry.register()
class FalseNegatives(_Count):
    _key = "fn"


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


@_registry.register()
class AUC(Metric):
    """The area under the ROC curve (``curve="ROC"``), the precision-recall curve (``"PR"``) or
    the precision-recall-gain curve (``"PRGAIN"``), from counts at ``num_thresholds`` evenly
    spaced thresholds in [0, 1] (the ends just outside it), or at the given ``thresholds``.

    ``summation_method``: ``"interpolation"`` (trapezoids; for PR, the interpolation of Davis &
    Goadrich, 2006), ``"minoring"`` / ``"majoring"`` (the lower / upper Riemann sum).
    ``multi_label=True`` keeps one curve per column of y_pred (N, L) and averages their areas
    (weighted by ``label_weights``); otherwise all entries make one curve, entries weighted by
    ``label_weights`` per column. ``from_logits=True`` applies a sigmoid first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        who = "AUC"
        if not isinstance(curve, str) or curve.lower() not in _CURVES:
            raise ValueError(f"{who}: curve must be one of 'ROC', 'PR', 'PRGAIN', got {curve!r}")
        if not isinstance(summation_method, str) or summation_method.lower() not in _SUMMATIONS:
            raise ValueError(f"{who}: summation_method must be one of {_SUMMATIONS}, got "
                             f"{summation_method!r}")
        self.curve = _CURVES[curve.lower()]
        self.summation_method = summation_method.lower()
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_check_thresholds(thresholds, who))
            self.num_thresholds = len(inner) + 2
            self._evenly = _evenly_spaced([0.0] + inner + [1.0])
        else:
            self.num_thresholds = check_int(num_thresholds, "num_thresholds", who, low=2)
            n = self.num_thresholds
            inner = [(i + 1) / (n - 1) for i in range(n - 2)]
            self._evenly = True
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.multi_label = check_bool(multi_label, "multi_label", who)
        self.num_labels = check_positive_int(num_labels, "num_labels", who, allow_none=True)
        if num_labels is not None and not self.multi_label:
            raise ValueError(f"{who}: num_labels is needed only when multi_label is True, got "
                             f"num_labels={num_labels!r}")
        if isinstance(label_weights, dict) and label_weights.get("class_name") == "__tensor__":
            label_weights = label_weights["config"]["value"]  # how Keras 3 writes a tensor
        self.label_weights = None if label_weights is None else \
            np.asarray(_array(label_weights, who, "label_weights"), np.float64).ravel()
        self.from_logits = check_bool(from_logits, "from_logits", who)
        self.reset_state()

    def reset_state(self):
        labels = self.num_labels if self.multi_label else None
        self._shape = None if self.multi_label and labels is None else \
            (self.num_thresholds,) + ((labels,) if labels else ())
        for key in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, key, None if self._shape is None else np.zeros(self._shape))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(_array(y_pred, self.name, "y_pred"), np.float32)
        if self.from_logits:
            y_pred = 1 / (1 + np.exp(-y_pred))
        counts = confusion_counts(y_true, y_pred, self.thresholds, self.name,
                                  sample_weight=sample_weight, multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else self.label_weights,
                                  evenly=self._evenly)
        if self._shape is None:  # multi_label: one column per label, known from the first batch
            self._shape = counts["tp"].shape
            self.true_positives = self.false_positives = 0
            self.true_negatives = self.false_negatives = 0
        if counts["tp"].shape != self._shape:
            raise ValueError(f"{self.name}: y_pred has {counts['tp'].shape[1:]} labels, but the "
                             f"metric counts {self._shape[1:]}")
        self.true_positives = self.true_positives + counts["tp"]
        self.false_positives = self.false_positives + counts["fp"]
        self.true_negatives = self.true_negatives + counts["tn"]
        self.false_negatives = self.false_negatives + counts["fn"]

    def _pr_interpolation(self):
        """Davis & Goadrich: between two thresholds precision follows tp / (tp + fp) with tp
        linear in the number of predicted positives p; the exact area of that piece."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return _divide_no_nan(slope * (dtp + intercept * np.log(ratio)),
                              np.maximum(tp[1:] + fn[1:], 0))

    def result(self):
        if self._shape is None or self.true_positives is None:
            return 0.0
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        if self.curve == "PR" and self.summation_method == "interpolation":
            pieces = self._pr_interpolation()
        else:
            recall = _divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(fp, fp + tn), recall
            elif self.curve == "PR":
                x, y = recall, _divide_no_nan(tp, tp + fp)
            else:  # PRGAIN (Flach & Kull, 2015)
                scale = _divide_no_nan(tp + fn, tn + fp)
                recall_gain = np.where(tp == 0, 0.0, 1.0 - scale * _divide_no_nan(fn, tp))
                precision_gain = np.where(tp == 0, 1.0, 1.0 - scale * _divide_no_nan(fp, tp))
                x, y = np.maximum(recall_gain, 0.0), precision_gain
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            pieces = (x[:-1] - x[1:]) * heights
        if not self.multi_label:
            return float(pieces.sum())
        by_label = pieces.sum(axis=0)
        if self.label_weights is None:
            return float(by_label.mean())
        return float(_divide_no_nan((by_label * self.label_weights).sum(),
                                    self.label_weights.sum()))

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None
                  else self.label_weights.tolist(),
                  "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
