"""Metrics: numbers to watch during training, accumulated over batches (never differentiated).

As in Keras, each metric is a plain function over arrays that returns one value per sample, and a
stateful object that averages those values over every batch it has seen::

    m = CategoricalAccuracy()
    for x, y in batches:
        m.update_state(y, model.predict(x))
    m.result()         # a float: the accuracy over all batches
    m.reset_state()    # start again (each epoch)

``"accuracy"`` in ``compile(metrics=[...])`` means a different metric for different targets:
:func:`resolve_accuracy` picks it from the loss, as Keras and TF.js do.

>>> import numpy as np
>>> categorical_accuracy(np.array([[0, 0, 1], [0, 1, 0]]), np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]]))
array([1., 0.], dtype=float32)
"""
import numpy as np

from . import losses as _losses
from ._checks import check_number, check_positive_int, snake_case
from .serialization import Configurable, Registry

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


# -- functions: one value (1.0 or 0.0) per sample ----------------------------------------------
def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred exactly (already thresholded or argmaxed predictions)."""
    y_true, y_pred = _same_rank(_array(y_true, "accuracy", "y_true"), _array(y_pred, "accuracy", "y_pred"))
    _check_same_shape(y_true, y_pred, "accuracy")
    return (y_true == y_pred).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) equals y_true; y_pred are probabilities of class 1."""
    who = "binary_accuracy"
    y_true, y_pred = _same_rank(_array(y_true, who, "y_true"), _array(y_pred, who, "y_pred"))
    _check_same_shape(y_true, y_pred, who)
    return (y_true == (y_pred > threshold).astype(y_true.dtype)).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) == argmax(y_true) over the last axis (one-hot targets)."""
    who = "categorical_accuracy"
    y_true, y_pred = _array(y_true, who, "y_true"), _array(y_pred, who, "y_pred")
    _check_classes(y_pred, who)
    _check_same_shape(y_true, y_pred, who)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _sparse_labels(y_true, y_pred, who):
    _check_classes(y_pred, who)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(f"{who}: y_true must have the shape of y_pred without its last axis, "
                         f"{y_pred.shape[:-1]}, got y_true of shape {y_true.shape} for y_pred of "
                         f"shape {y_pred.shape}")
    return y_true


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) over the last axis equals the integer label y_true."""
    who = "sparse_categorical_accuracy"
    y_pred = _array(y_pred, who, "y_pred")
    y_true = _sparse_labels(_array(y_true, who, "y_true"), y_pred, who)
    return (y_true == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _in_top_k(labels, y_pred, k):
    """Whether the score of the true class is among the k largest (ties at the k-th score count
    as in, as TensorFlow's in_top_k)."""
    num_classes = y_pred.shape[-1]
    if k >= num_classes:
        return np.ones(labels.shape, dtype=bool)
    kth = np.partition(y_pred, num_classes - k, axis=-1)[..., num_classes - k]
    true_score = np.take_along_axis(y_pred, labels[..., None].astype(np.int64), axis=-1)[..., 0]
    return (true_score >= kth) & np.isfinite(true_score)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the k highest-scored classes."""
    who = "top_k_categorical_accuracy"
    k = check_positive_int(k, "k", who)
    y_true, y_pred = _array(y_true, who, "y_true"), _array(y_pred, who, "y_pred")
    _check_classes(y_pred, who)
    _check_same_shape(y_true, y_pred, who)
    return _in_top_k(np.argmax(y_true, axis=-1), y_pred, k).astype(np.float32)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the k highest-scored classes."""
    who = "sparse_top_k_categorical_accuracy"
    k = check_positive_int(k, "k", who)
    y_pred = _array(y_pred, who, "y_pred")
    labels = _sparse_labels(_array(y_true, who, "y_true"), y_pred, who)
    if labels.size and (labels.min() < 0 or labels.max() >= y_pred.shape[-1]):
        raise ValueError(f"{who}: labels must be in [0, {y_pred.shape[-1]}), got values from "
                         f"{labels.min()} to {labels.max()}")
    return _in_top_k(labels, y_pred, k).astype(np.float32)


def _loss_values(fn):
    """A loss function as a metric function: plain arrays in and out, no graph."""
    def metric(y_true, y_pred):
        return fn(y_true, _array(y_pred, fn.__name__, "y_pred")).data
    metric.__name__ = fn.__name__
    return metric


mean_squared_error = _loss_values(_losses.mean_squared_error)
mean_absolute_error = _loss_values(_losses.mean_absolute_error)


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


@_registry.register("accuracy", "acc")
class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


@_registry.register("binary_accuracy", "binaryAccuracy")
class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        threshold = check_number(threshold, "threshold", "BinaryAccuracy")
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


@_registry.register("categorical_accuracy", "categoricalAccuracy")
class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


@_registry.register("sparse_categorical_accuracy", "sparseCategoricalAccuracy")
class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


@_registry.register("top_k_categorical_accuracy", "topKCategoricalAccuracy")
class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype,
                         k=check_positive_int(k, "k", "TopKCategoricalAccuracy"))


@_registry.register("sparse_top_k_categorical_accuracy", "sparseTopKCategoricalAccuracy")
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype,
                         k=check_positive_int(k, "k", "SparseTopKCategoricalAccuracy"))


@_registry.register("mean_squared_error", "mse", "meanSquaredError")
class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


@_registry.register("mean_absolute_error", "mae", "meanAbsoluteError")
class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


# the functions, for get(function): the registered class with the function's own defaults
_FUNCTION_CLASSES = {
    accuracy: Accuracy, binary_accuracy: BinaryAccuracy, categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
}


def _loss_kind(loss):
    """'sparse', 'binary' or None for a loss given as a name, a config dict, an object or a function."""
    if loss is None:
        return None
    try:
        obj = _losses.get(loss)
    except (TypeError, ValueError):
        return None
    if isinstance(obj, _losses.SparseCategoricalCrossentropy):
        return "sparse"
    if isinstance(obj, _losses.BinaryCrossentropy):
        return "binary"
    return None


def resolve_accuracy(loss=None, y_true_shape=None, y_pred_shape=None, name="accuracy"):
    """The concrete metric that ``"accuracy"`` (or ``"acc"``) means for this loss and these shapes.

    The rule of Keras and TF.js: binary accuracy for binary crossentropy or a single output unit;
    sparse categorical accuracy for sparse categorical crossentropy or integer targets (y_true of
    lower rank than y_pred, or a last axis of 1 against several classes); categorical accuracy
    otherwise. The metric keeps ``name`` (``"accuracy"``), so logs say what the user wrote.

    >>> type(resolve_accuracy("sparse_categorical_crossentropy")).__name__
    'SparseCategoricalAccuracy'
    """
    kind = _loss_kind(loss)
    p_last = y_pred_shape[-1] if y_pred_shape else None
    if kind == "binary" or p_last == 1:
        return BinaryAccuracy(name=name)
    if kind is None and y_true_shape is not None and y_pred_shape is not None:
        t_last = y_true_shape[-1] if y_true_shape else None
        if len(y_true_shape) < len(y_pred_shape) or (t_last == 1 and p_last and p_last > 1):
            kind = "sparse"
    if kind == "sparse":
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def resolve(identifier, loss=None, y_true_shape=None, y_pred_shape=None):
    """A Metric for ``compile(metrics=[...])``: ``"accuracy"``/``"acc"`` through
    :func:`resolve_accuracy`, anything else through :func:`get`; a plain function is wrapped in
    :class:`MeanMetricWrapper`. The metric is named as the user wrote it."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        return resolve_accuracy(loss, y_true_shape, y_pred_shape, name=identifier)
    metric = get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


def get(identifier):
    """A Metric from a name (Keras or TF.js spelling), a config dict, a Metric, or a function of
    (y_true, y_pred) returning per-sample values (wrapped in :class:`MeanMetricWrapper`)."""
    if identifier is None:
        return None
    if callable(identifier) and not isinstance(identifier, (type, Metric)):
        cls = _FUNCTION_CLASSES.get(identifier)
        return cls() if cls is not None else MeanMetricWrapper(identifier)
    return _registry.get(identifier)


def serialize(metric):
    """``{"class_name": ..., "config": {...}}`` for a registered Metric."""
    return _registry.serialize(metric)


def deserialize(config):
    """A Metric from a name or a ``{"class_name", "config"}`` dict."""
    return _registry.deserialize(config)
