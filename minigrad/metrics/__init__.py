"""Metrics: numbers to watch during training, accumulated over batches (never differentiated).

As in Keras, each metric is a plain function over arrays that returns one value per sample, and a
stateful object that averages those values over every batch it has seen::

    m = CategoricalAccuracy()
    for x, y in batches:
        m.update_state(y, model.predict(x))
    m.result()         # a float: the accuracy over all batches
    m.reset_state()    # start again (each epoch)

The catalog is Keras 3's: accuracies (:mod:`.accuracy`), the metrics named after losses with
``RootMeanSquaredError`` and ``R2Score`` (:mod:`.loss_metrics`), ``Precision``, ``Recall``,
``AUC`` and the counts ``TruePositives`` ... from confusion counts at thresholds
(:mod:`.confusion`), ``SensitivityAtSpecificity`` and its kin (:mod:`.constrained`), and
``F1Score`` / ``FBetaScore`` (:mod:`.f_score`); each reachable by its Keras name in ``compile(metrics=["precision", "recall", "auc", "f1_score"])``.

``"accuracy"`` in ``compile(metrics=[...])`` means a different metric for different targets:
:func:`resolve_accuracy` picks it from the loss, as Keras and TF.js do.

>>> import numpy as np
>>> categorical_accuracy(np.array([[0, 0, 1], [0, 1, 0]]), np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]]))
array([1., 0.], dtype=float32)
"""
from .. import losses as _losses
from .accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                       SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy,
                       binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                       sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .base import Mean, MeanMetricWrapper, Metric, _registry
from .confusion import (AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives,
                        TruePositives)
from .constrained import (PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
                          SpecificityAtSensitivity)
from .f_score import F1Score, FBetaScore
from .loss_metrics import (BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
                           CosineSimilarity, Hinge, KLDivergence, LogCoshError,
                           MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                           MeanSquaredLogarithmicError, Poisson, R2Score, RootMeanSquaredError,
                           SparseCategoricalCrossentropy, SquaredHinge, binary_crossentropy,
                           categorical_crossentropy, categorical_hinge, cosine_similarity, hinge,
                           kl_divergence, log_cosh, mean_absolute_error,
                           mean_absolute_percentage_error, mean_squared_error,
                           mean_squared_logarithmic_error, poisson,
                           sparse_categorical_crossentropy, squared_hinge)


# the functions, for get(function): the registered class with the function's own defaults
_FUNCTION_CLASSES = {
    accuracy: Accuracy, binary_accuracy: BinaryAccuracy, categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError, log_cosh: LogCoshError,
    cosine_similarity: CosineSimilarity, hinge: Hinge, squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge, kl_divergence: KLDivergence, poisson: Poisson,
    binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
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
