"""One rate at its best under a constraint on another, over an evenly spaced threshold grid
(Keras 3's ``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``, ``PrecisionAtRecall``,
``RecallAtPrecision``).

The counts tp, fp, tn, fn are kept at ``num_thresholds`` thresholds i / (num_thresholds - 1)
(0.5 alone when ``num_thresholds`` is 1); the result is the largest value of the wanted rate
among the thresholds where the constrained rate is >= the given value (0 if there is none).
Sensitivity = recall = tp / (tp + fn), specificity = tn / (tn + fp), precision = tp / (tp + fp).
"""
import numpy as np

from .._checks import check_int, check_number
from .base import Metric, _registry
from .confusion import _divide_no_nan, confusion_counts


class _Constrained(Metric):
    _value_name = None   # the constructor argument holding the constraint, e.g. "specificity"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        who = type(self).__name__
        self.value = check_number(value, self._value_name, who, low=0, high=1)
        self.num_thresholds = check_int(num_thresholds, "num_thresholds", who, low=1)
        self.class_id = check_int(class_id, "class_id", who, allow_none=True)
        n = self.num_thresholds
        self.thresholds = [0.5] if n == 1 else [i / (n - 1) for i in range(n)]
        self._evenly = n > 1
        self.reset_state()

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives, self.false_positives = np.zeros(n), np.zeros(n)
        self.true_negatives, self.false_negatives = np.zeros(n), np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, self.name,
                                  sample_weight=sample_weight, class_id=self.class_id,
                                  evenly=self._evenly)
        self.true_positives = self.true_positives + counts["tp"]
        self.false_positives = self.false_positives + counts["fp"]
        self.true_negatives = self.true_negatives + counts["tn"]
        self.false_negatives = self.false_negatives + counts["fn"]

    def _rates(self):
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        return {"sensitivity": _divide_no_nan(tp, tp + fn), "recall": _divide_no_nan(tp, tp + fn),
                "specificity": _divide_no_nan(tn, tn + fp),
                "precision": _divide_no_nan(tp, tp + fp)}

    def result(self):
        rates = self._rates()
        feasible = rates[self._value_name] >= self.value
        return float(np.max(np.where(feasible, rates[self._wanted], 0.0), initial=0.0))

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._value_name: self.value}


@_registry.register()
class SensitivityAtSpecificity(_Constrained):
    """The best sensitivity (recall) where specificity >= ``specificity``."""
    _value_name, _wanted = "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


@_registry.register()
class SpecificityAtSensitivity(_Constrained):
    """The best specificity where sensitivity (recall) >= ``sensitivity``."""
    _value_name, _wanted = "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


@_registry.register()
class PrecisionAtRecall(_Constrained):
    """The best precision where recall >= ``recall``."""
    _value_name, _wanted = "recall", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


@_registry.register()
class RecallAtPrecision(_Constrained):
    """The best recall where precision >= ``precision``."""
    _value_name, _wanted = "precision", "recall"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
