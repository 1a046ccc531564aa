"""The loss functions: one value per sample, ``fn(y_true, y_pred, ...)`` -> shape
``y_pred.shape`` without its last axis. ``y_true`` is an array (never differentiated), ``y_pred`` a
Tensor (or an array, made a Tensor)."""
import warnings

import numpy as np

from .. import ops
from .._checks import check_axis, check_bool, check_number
from ..engine.tensor import Tensor
from .fused import EPSILON, ProbabilityCrossEntropy, SigmoidCrossEntropy, SoftmaxCrossEntropy


# -- inputs ------------------------------------------------------------------------------------
def _as_prediction(y_pred, who):
    if isinstance(y_pred, Tensor):
        return y_pred
    try:
        return Tensor(y_pred)
    except TypeError as e:
        raise TypeError(f"{who}: y_pred must be a Tensor or an array of numbers; {e}") from None


def _as_target(y_true, dtype, who):
    array = np.asarray(getattr(y_true, "data", y_true))
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{who}: y_true must be numeric, got an array of dtype {array.dtype}")
    return array.astype(dtype, copy=False) if dtype is not None else array


def _prepare(y_true, y_pred, who):
    """(target ndarray, prediction Tensor) of the same shape, after Keras's rank fix-up: a trailing
    axis of size 1 on one side is squeezed (or, against a rank-1 other side, the other side is
    expanded), so ``y_true`` of shape (N,) meets ``y_pred`` of shape (N, 1)."""
    y_pred = _as_prediction(y_pred, who)
    y_true = _as_target(y_true, y_pred.dtype, who)
    t, p = y_true.shape, y_pred.shape
    if len(t) == len(p) + 1 and t and t[-1] == 1:
        if len(p) == 1:
            y_pred = ops.reshape(y_pred, p + (1,))
        else:
            y_true = y_true.reshape(t[:-1])
    elif len(p) == len(t) + 1 and p and p[-1] == 1:
        if len(t) == 1:
            y_true = y_true.reshape(t + (1,))
        else:
            y_pred = ops.reshape(y_pred, p[:-1])
    if y_true.shape != y_pred.shape:
        hint = ("; for integer class labels use sparse_categorical_crossentropy"
                if who.startswith("categorical") and len(t) == len(p) - 1 else "")
        raise ValueError(f"{who}: y_true and y_pred must have the same shape, got y_true of shape "
                         f"{t} and y_pred of shape {p}{hint}")
    if y_pred.ndim == 0:
        raise ValueError(f"{who}: y_true and y_pred must have at least one axis, got scalars")
    return y_true, y_pred


# -- the loss functions: one value per sample ---------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)**2) over the last axis: shape (N, ..., d) -> (N, ...)."""
    y_true, y_pred = _prepare(y_true, y_pred, "mean_squared_error")
    return ops.mean(ops.square(ops.sub(y_true, y_pred)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis."""
    y_true, y_pred = _prepare(y_true, y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(ops.sub(y_true, y_pred)), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of 0.5 e**2 where |e| <= delta, else delta |e| - 0.5 delta**2,
    with e = y_pred - y_true: quadratic near 0, linear (robust to outliers) beyond ``delta``."""
    delta = check_number(delta, "delta", "huber", low=0, low_open=True)
    y_true, y_pred = _prepare(y_true, y_pred, "huber")
    error = ops.sub(y_pred, y_true)
    abs_error = ops.abs(error)
    quadratic = ops.square(error) * 0.5
    linear = abs_error * delta - 0.5 * delta * delta
    return ops.mean(ops.where(abs_error.data <= delta, quadratic, linear), axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum_c y_c log p_c along ``axis`` for one-hot (or soft) targets ``y_true``.

    ``label_smoothing`` s replaces y by y (1 - s) + s / C, C the size of the last axis even when
    ``axis`` is another one (as Keras 3, and Keras 2, do). Probabilities are renormalised by their
    sum and clipped to [EPSILON, 1 - EPSILON] (Keras); logits go through a stable log-softmax.
    """
    who = "categorical_crossentropy"
    from_logits = check_bool(from_logits, "from_logits", who)
    label_smoothing = check_number(label_smoothing, "label_smoothing", who, low=0, high=1)
    y_true, y_pred = _prepare(y_true, y_pred, who)
    axis = check_axis(axis, who, y_pred.ndim, multiple=False, allow_none=False)
    num_classes = y_pred.shape[axis]
    if num_classes == 1:
        warnings.warn(f"{who}: y_pred has 1 class along axis {axis} (shape {y_pred.shape}), so the "
                      f"loss is always 0; use binary_crossentropy for two classes", stacklevel=2)
    if label_smoothing:
        dt = y_pred.dtype.type
        # Keras divides by the last axis's size, not by num_classes along ``axis``
        y_true = y_true * (1.0 - label_smoothing) + dt(label_smoothing) / dt(y_pred.shape[-1])
    op = SoftmaxCrossEntropy if from_logits else ProbabilityCrossEntropy
    return op.apply(y_pred, target=y_true, axis=axis)


def _categorical_crossentropy_composed(y_true, y_pred, from_logits=False, axis=-1):
    """What the fused ops compute, written with plain ops (Keras's code, line for line).

    Slower (five graph nodes instead of one) and kept as the readable twin: tests hold the fused
    ops equal to it, value and gradient.
    """
    if from_logits:
        log_prob = ops.log_softmax(y_pred, axis=axis)
    else:
        p = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
        inside = (p.data >= p.dtype.type(EPSILON)) & (p.data <= p.dtype.type(1.0 - EPSILON))
        log_prob = ops.log(ops.where(inside, p, np.clip(p.data, EPSILON, 1.0 - EPSILON)))
    return -ops.sum(log_prob * y_true, axis=axis)


def _sparse_labels(y_true, shape, axis, ignore_class, who):
    """Integer class indices shaped like ``shape`` without ``axis``, checked; and the valid mask."""
    labels = np.asarray(getattr(y_true, "data", y_true))
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"{who}: y_true must hold integer class indices, got dtype {labels.dtype}")
    expected = shape[:axis] + shape[axis + 1:]
    if labels.shape != expected and labels.shape == expected + (1,):
        labels = labels.reshape(expected)  # Keras accepts (N, 1) labels for (N, C) predictions
    if labels.shape != expected:
        raise ValueError(f"{who}: y_true must have the shape of y_pred without its class axis, "
                         f"{expected} (or {expected + (1,)}), got y_true of shape {labels.shape} "
                         f"for y_pred of shape {shape}")
    if labels.dtype.kind == "f":
        bad = ~np.isfinite(labels) | (labels != np.floor(labels))
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{who}: y_true must hold integer class indices, got {labels[at]} "
                             f"at index {at}")
    labels = labels.astype(np.int64)
    valid = labels != ignore_class if ignore_class is not None else np.ones(labels.shape, bool)
    num_classes = shape[axis]
    out = valid & ((labels < 0) | (labels >= num_classes))
    if out.any():
        at = tuple(int(i) for i in np.argwhere(out)[0])
        raise ValueError(f"{who}: class index {labels[at]} at index {at} is out of range for "
                         f"{num_classes} classes (expected 0 <= label < {num_classes})")
    return labels, valid


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """categorical_crossentropy with integer class indices as targets: y_true (N,) or (N, 1) for
    y_pred (N, C). Entries equal to ``ignore_class`` get loss 0 (and no gradient)."""
    who = "sparse_categorical_crossentropy"
    from_logits = check_bool(from_logits, "from_logits", who)
    y_pred = _as_prediction(y_pred, who)
    if y_pred.ndim == 0:
        raise ValueError(f"{who}: y_pred must have a class axis, got a scalar")
    axis = check_axis(axis, who, y_pred.ndim, multiple=False, allow_none=False)
    labels, valid = _sparse_labels(y_true, y_pred.shape, axis, ignore_class, who)
    classes = np.arange(y_pred.shape[axis]).reshape((-1,) + (1,) * (y_pred.ndim - axis - 1))
    target = ((np.expand_dims(labels, axis) == classes) & np.expand_dims(valid, axis))
    op = SoftmaxCrossEntropy if from_logits else ProbabilityCrossEntropy
    return op.apply(y_pred, target=target.astype(y_pred.dtype), axis=axis)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over ``axis`` of -(y log p + (1 - y) log(1 - p)), p clipped to [EPSILON, 1 - EPSILON].

    ``label_smoothing`` s moves targets towards 0.5: y (1 - s) + s / 2.
    """
    who = "binary_crossentropy"
    from_logits = check_bool(from_logits, "from_logits", who)
    label_smoothing = check_number(label_smoothing, "label_smoothing", who, low=0, high=1)
    y_true, y_pred = _prepare(y_true, y_pred, who)
    axis = check_axis(axis, who, y_pred.ndim, multiple=False, allow_none=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        return ops.mean(SigmoidCrossEntropy.apply(y_pred, target=y_true), axis=axis)
    inside = (y_pred.data >= y_pred.dtype.type(EPSILON)) & (y_pred.data <= y_pred.dtype.type(1.0 - EPSILON))
    p = ops.where(inside, y_pred, np.clip(y_pred.data, EPSILON, 1.0 - EPSILON))
    bce = ops.log(p) * y_true + ops.log(1.0 - p) * (1.0 - y_true)
    return ops.mean(-bce, axis=axis)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
