"""Focal cross-entropies (Lin et al., 2017, "Focal Loss for Dense Object Detection"), Keras 3's
formulas: the cross-entropy of each entry times a factor (1 - p_t)**gamma, p_t the probability
given to the true label, so well-classified (easy) entries count less than hard ones.

``y_true`` is an array (never differentiated), ``y_pred`` a Tensor of the same shape (N, ..., C);
the result has shape (N, ...): ``axis`` is summed (categorical) or averaged (binary).
"""
import numpy as np

from .. import ops
from .._checks import check_axis, check_bool, check_number
from .fused import EPSILON
from .functions import _prepare


def check_focal(who, alpha, gamma, from_logits, label_smoothing, *, alpha_per_class=False):
    """The checked focal arguments: ``alpha`` a number in [0, 1] (categorical: also a list of
    numbers, one weight per class), ``gamma`` >= 0, ``from_logits`` a bool, ``label_smoothing``
    in [0, 1]."""
    if alpha_per_class and isinstance(alpha, (list, tuple, np.ndarray)):
        alpha = [check_number(a, "alpha", who) for a in np.asarray(alpha, dtype=object).ravel()]
    elif alpha_per_class:
        alpha = check_number(alpha, "alpha", who)
    else:
        alpha = check_number(alpha, "alpha", who, low=0, high=1)
    return {"alpha": alpha, "gamma": check_number(gamma, "gamma", who, low=0),
            "from_logits": check_bool(from_logits, "from_logits", who),
            "label_smoothing": check_number(label_smoothing, "label_smoothing", who,
                                            low=0, high=1)}


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """sum over ``axis`` of -alpha (1 - q)**gamma y log q, q = clip(p / sum(p), EPSILON,
    1 - EPSILON) (p = softmax(y_pred) with ``from_logits``).

    ``alpha`` is one weight for all classes or a list with one per class; ``gamma`` = 0 gives
    ``alpha * categorical_crossentropy``; ``label_smoothing`` s makes the targets y (1 - s) + s / C
    (C: the size of the last axis whatever ``axis`` is, as Keras).
    """
    who = "categorical_focal_crossentropy"
    args = check_focal(who, alpha, gamma, from_logits, label_smoothing, alpha_per_class=True)
    y_true, y_pred = _prepare(y_true, y_pred, who)
    axis = check_axis(axis, who, y_pred.ndim, multiple=False, allow_none=False)
    num_classes = y_pred.shape[axis]
    alpha = args["alpha"]
    if isinstance(alpha, list):
        if len(alpha) != num_classes:
            raise ValueError(f"{who}: alpha must have one weight per class ({num_classes}), got "
                             f"{len(alpha)} weights")
        alpha = np.asarray(alpha, dtype=y_pred.dtype).reshape(
            (-1,) + (1,) * (y_pred.ndim - axis - 1))  # along the class axis
    if args["label_smoothing"]:
        s = args["label_smoothing"]
        y_true = y_true * (1.0 - s) + y_pred.dtype.type(s) / y_pred.dtype.type(y_pred.shape[-1])
    p = ops.softmax(y_pred, axis=axis) if args["from_logits"] else y_pred
    q = ops.clip(p / ops.sum(p, axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    cross_entropy = ops.log(q) * -y_true
    focal = ops.power(1.0 - q, args["gamma"]) * alpha
    return ops.sum(focal * cross_entropy, axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over ``axis`` of (1 - p_t)**gamma * bce, where p = y_pred (sigmoid(y_pred) with
    ``from_logits``), p_t = y p + (1 - y)(1 - p) and bce = -(y log q + (1 - y) log(1 - q)) with
    q = clip(p, EPSILON, 1 - EPSILON).

    ``apply_class_balancing`` also weights entries by alpha (y = 1) or 1 - alpha (y = 0);
    ``label_smoothing`` s makes the targets y (1 - s) + s / 2.
    """
    who = "binary_focal_crossentropy"
    apply_class_balancing = check_bool(apply_class_balancing, "apply_class_balancing", who)
    args = check_focal(who, alpha, gamma, from_logits, label_smoothing)
    y_true, y_pred = _prepare(y_true, y_pred, who)
    axis = check_axis(axis, who, y_pred.ndim, multiple=False, allow_none=False)
    if args["label_smoothing"]:
        y_true = y_true * (1.0 - args["label_smoothing"]) + 0.5 * args["label_smoothing"]
    p = ops.sigmoid(y_pred) if args["from_logits"] else y_pred
    q = ops.clip(p, EPSILON, 1.0 - EPSILON)
    bce = -(ops.log(q) * y_true + ops.log(1.0 - q) * (1.0 - y_true))
    p_t = p * y_true + (1.0 - p) * (1.0 - y_true)
    focal_bce = ops.power(1.0 - p_t, args["gamma"]) * bce
    if apply_class_balancing:
        a = args["alpha"]
        focal_bce = focal_bce * (y_true * a + (1.0 - y_true) * (1.0 - a))
    return ops.mean(focal_bce, axis=axis)
