"""The stateful metric API: ``Metric`` (``update_state`` / ``result`` / ``reset_state``),
``Mean`` (a weighted running mean) and ``MeanMetricWrapper`` (the mean of a per-sample function),
with the registry every metric class is in and the input checks the metrics share.

Accumulators are float64 NumPy numbers: metrics are watched, never differentiated.
"""
import numpy as np

from .._checks import snake_case
from ..serialization import Configurable, Registry

_registry = Registry("metric")


def _array(x, who, name):
    array = np.asarray(getattr(x, "data", x))
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must be numeric, got an array of dtype {array.dtype}")
    return array


def _same_rank(y_true, y_pred):
    """Keras's rank fix-up: drop (or, against rank 1, add) a trailing axis of size 1."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


def _check_same_shape(y_true, y_pred, who):
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{who}: y_true and y_pred must have the same shape, got y_true of shape "
                         f"{y_true.shape} and y_pred of shape {y_pred.shape}")


def _check_classes(y_pred, who):
    if y_pred.ndim == 0:
        raise ValueError(f"{who}: y_pred must have a class axis (shape (N, C)), got a scalar")


# -- stateful metrics --------------------------------------------------------------------------
class Metric(Configurable):
    """Base class: ``update_state(...)``, ``result()`` -> float, ``reset_state()``, ``name``."""

    def __init__(self, name=None, dtype=None):
        self.name = name if name is not None else snake_case(type(self).__name__)
        self.dtype = "float32" if dtype is None else str(np.dtype(dtype))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@_registry.register("mean")
class Mean(Metric):
    """The (weighted) mean of all values seen: total / count.

    Values of shape (N, ...) are first averaged to one per sample; ``sample_weight`` (N,) weights
    the samples, and then counts as the number of samples (Keras's rule).
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        # float64 accumulators: a float32 sum drifts after ~16M samples
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(_array(values, self.name, "values"), dtype=np.float64)
        if values.ndim > 1:
            values = values.mean(axis=tuple(range(1, values.ndim)))
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.shape[0]) if values.ndim else 1.0
            return
        weights = np.asarray(_array(sample_weight, self.name, "sample_weight"), dtype=np.float64)
        if weights.ndim > 1 and weights.shape[-1] == 1:
            weights = weights.reshape(weights.shape[:-1])
        try:
            weights = np.broadcast_to(weights, values.shape)
        except ValueError:
            raise ValueError(f"{self.name}: sample_weight of shape {weights.shape} does not fit "
                             f"the {values.shape} per-sample values") from None
        self.total += float((values * weights).sum())
        self.count += float(weights.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.6g}>"


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over every sample seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper: fn must be callable, got {fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", "mean"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}
