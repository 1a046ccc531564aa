"""Overlap losses for segmentation (Dice, Tversky) and the generalized cross-entropy, Keras 3's
formulas. ``y_true`` is an array (never differentiated), ``y_pred`` a Tensor.

Dice and Tversky reduce over ``axis`` (None: every axis, one number for the whole batch; an int
or a tuple of ints: those axes, e.g. (1, 2, 3) for one value per image).
"""
from .. import ops
from .._checks import check_axis, check_number
from .fused import EPSILON
from .functions import _as_prediction, _prepare, _sparse_labels


def dice(y_true, y_pred, axis=None):
    """1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + EPSILON) over ``axis``: 0 when
    the predicted mask is the target, 1 when they do not overlap."""
    y_true, y_pred = _prepare(y_true, y_pred, "dice")
    axis = check_axis(axis, "dice", y_pred.ndim)
    intersection = ops.sum(y_pred * y_true, axis=axis)
    total = ops.sum(y_pred, axis=axis) + (y_true.sum(axis=axis) + EPSILON)
    return 1.0 - intersection * 2.0 / total


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + alpha * A + beta * B + EPSILON) over ``axis``, with TP = sum(y_true y_pred),
    A = sum(y_true (1 - y_pred)) (missed target) and B = sum((1 - y_true) y_pred) (predicted
    outside it). alpha = beta = 0.5 gives the Dice loss."""
    who = "tversky"
    alpha = check_number(alpha, "alpha", who)
    beta = check_number(beta, "beta", who)
    y_true, y_pred = _prepare(y_true, y_pred, who)
    axis = check_axis(axis, who, y_pred.ndim)
    intersection = ops.sum(y_pred * y_true, axis=axis)
    missed = ops.sum((1.0 - y_pred) * y_true, axis=axis)
    extra = ops.sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - intersection / (intersection + missed * alpha + extra * beta + EPSILON)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p**q) / q, p = y_pred[label], for integer labels y_true (N,) and probabilities y_pred
    (N, C) (Zhang & Sabuncu, 2018): q -> 0 approaches the cross-entropy, q = 1 is the mean
    absolute error; in between it is robust to noisy labels."""
    who = "categorical_generalized_cross_entropy"
    q = check_number(q, "q", who, low=0, high=1, low_open=True, high_open=True)
    y_pred = _as_prediction(y_pred, who)
    if y_pred.ndim == 0:
        raise ValueError(f"{who}: y_pred must have a class axis, got a scalar")
    labels, _ = _sparse_labels(y_true, y_pred.shape, y_pred.ndim - 1, None, who)
    onehot = (labels[..., None] == range(y_pred.shape[-1])).astype(y_pred.dtype)
    p = ops.sum(y_pred * onehot, axis=-1)
    return (1.0 - ops.power(p, q)) / q
