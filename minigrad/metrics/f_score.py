"""F-scores (Keras 3's ``FBetaScore`` and ``F1Score``) for (N, C) targets and predictions.

Per class c, over every batch seen: tp, fp, fn (sample-weighted), precision P = tp / (tp + fp),
recall R = tp / (tp + fn), and

    F_beta = (1 + beta**2) P R / (beta**2 P + R)

(each denominator plus EPSILON, as Keras). ``average``: None -> one score per class (an array);
``"micro"`` -> the counts are summed over the classes first; ``"macro"`` -> the mean of the
per-class scores; ``"weighted"`` -> their mean weighted by each class's (weighted) number of
positive targets. A prediction is positive where it is > ``threshold``, or, without one, where
it is the largest of its row (and not ~0).
"""
import numpy as np

from .._checks import check_number
from .base import Metric, _array, _registry

EPSILON = 1e-7
_AVERAGES = (None, "micro", "macro", "weighted")


@_registry.register()
class FBetaScore(Metric):
    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        who = type(self).__name__
        if average not in _AVERAGES:
            raise ValueError(f"{who}: average must be one of {_AVERAGES}, got {average!r}")
        self.average = average
        self.beta = check_number(beta, "beta", who, low=0, low_open=True)
        self.threshold = check_number(threshold, "threshold", who, low=0, high=1, low_open=True,
                                      allow_none=True)
        self.reset_state()

    def reset_state(self):
        zero = 0.0 if self.average == "micro" else None  # per class: sized by the first batch
        self.true_positives = self.false_positives = self.false_negatives = zero
        self.intermediate_weights = zero

    def update_state(self, y_true, y_pred, sample_weight=None):
        who = self.name
        y_true = np.asarray(_array(y_true, who, "y_true"), np.float64)
        y_pred = np.asarray(_array(y_pred, who, "y_pred"), np.float32)
        if y_true.ndim != 2 or y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{who}: y_true and y_pred must both have shape (batch_size, "
                             f"num_classes), got y_true of shape {y_true.shape} and y_pred of "
                             f"shape {y_pred.shape}")
        if self.true_positives is not None and self.average != "micro" and \
                np.shape(self.true_positives) != (y_pred.shape[1],):
            raise ValueError(f"{who}: y_pred has {y_pred.shape[1]} classes, but earlier batches "
                             f"had {np.shape(self.true_positives)[0]}")
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        weights = 1.0
        if sample_weight is not None:
            weights = np.asarray(_array(sample_weight, who, "sample_weight"), np.float64)
            if weights.shape not in ((len(y_true),), (len(y_true), 1)):
                raise ValueError(f"{who}: sample_weight must have shape ({len(y_true)},), got "
                                 f"shape {weights.shape}")
            weights = weights.reshape(-1, 1)
        axis = None if self.average == "micro" else 0

        def add(total, values):
            s = np.sum(values * weights, axis=axis)
            return s if total is None else total + s

        self.true_positives = add(self.true_positives, predicted * y_true)
        self.false_positives = add(self.false_positives, predicted * (1 - y_true))
        self.false_negatives = add(self.false_negatives, (1 - predicted) * y_true)
        self.intermediate_weights = add(self.intermediate_weights, y_true)

    def result(self):
        if self.true_positives is None:
            return 0.0
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + EPSILON)
        recall = tp / (tp + self.false_negatives + EPSILON)
        b2 = self.beta ** 2
        f = precision * recall / (b2 * precision + recall + EPSILON) * (1 + b2)
        if self.average == "weighted":
            w = self.intermediate_weights / (np.sum(self.intermediate_weights) + EPSILON)
            return float(np.sum(f * w))
        if self.average is not None:
            return float(np.mean(f))
        return np.asarray(f, dtype=np.float64)

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


@_registry.register()
class F1Score(FBetaScore):
    """FBetaScore with beta = 1: the harmonic mean of precision and recall."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
