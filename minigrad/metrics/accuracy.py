"""Accuracy metrics: per-sample functions (1.0 for a hit, 0.0 for a miss) and the classes that
average them over batches (Keras 3's names and arguments)."""
import numpy as np

from .._checks import check_number, check_positive_int
from .base import (MeanMetricWrapper, _array, _check_classes, _check_same_shape, _registry,
                   _same_rank)


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


# -- the classes -------------------------------------------------------------------------------
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
