"""More per-sample losses, Keras 3's formulas: percentage and logarithmic errors, cosine
similarity, log-cosh, Poisson, Kullback-Leibler, and the hinge family.

Each takes ``y_true`` (an array, never differentiated) and ``y_pred`` (a Tensor) of the same shape
(N, ..., d) and returns shape (N, ...): the last axis is reduced (``cosine_similarity``: ``axis``).
They are compositions of differentiable ops, so their gradients come from those ops.
"""
import math

import numpy as np

from .. import ops
from .._checks import check_axis
from .fused import EPSILON
from .functions import _prepare


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, EPSILON)) over the last axis: the error as a
    percentage of the target (the floor keeps a zero target from dividing by 0)."""
    y_true, y_pred = _prepare(y_true, y_pred, "mean_absolute_percentage_error")
    scale = np.maximum(np.abs(y_true), y_true.dtype.type(EPSILON))
    return ops.mean(ops.abs(ops.sub(y_true, y_pred)) / scale, axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(1 + max(y_pred, EPSILON)) - log(1 + max(y_true, EPSILON)))**2) over the last axis:
    a squared error on a log scale, so relative (not absolute) errors count."""
    y_true, y_pred = _prepare(y_true, y_pred, "mean_squared_logarithmic_error")
    eps = y_pred.dtype.type(EPSILON)
    first = ops.log(ops.maximum(y_pred, eps) + 1.0)
    second = np.log(np.maximum(y_true, eps) + y_true.dtype.type(1.0))
    return ops.mean(ops.square(first - second), axis=-1)


def _l2_normalize(x, axis):
    """x / ||x|| along ``axis``, as Keras: x * min(1 / sqrt(sum x**2), 1 / EPSILON), so a zero
    vector stays zero (with zero gradient through the norm)."""
    sum_sq = ops.sum(ops.square(x), axis=axis, keepdims=True)
    big = sum_sq.data > EPSILON ** 2   # where 1/sqrt(sum) is below the 1/EPSILON cap
    safe = ops.where(big, sum_sq, np.ones_like(sum_sq.data))
    inv_norm = ops.where(big, ops.power(safe, -0.5),
                         np.full_like(sum_sq.data, 1.0 / EPSILON))
    return x * inv_norm


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(y_true / ||y_true|| * y_pred / ||y_pred||) along ``axis``: -1 when the vectors point
    the same way, 0 when orthogonal (or one is zero), so minimising it aligns them."""
    who = "cosine_similarity"
    y_true, y_pred = _prepare(y_true, y_pred, who)
    axis = check_axis(axis, who, y_pred.ndim, multiple=False, allow_none=False)
    with np.errstate(divide="ignore"):  # a zero target: 1/0 = inf, capped at 1/EPSILON
        inv_norm = 1.0 / np.sqrt(np.sum(np.square(y_true), axis=axis, keepdims=True))
    t = y_true * np.minimum(inv_norm, y_true.dtype.type(1.0 / EPSILON))
    return -ops.sum(_l2_normalize(y_pred, axis) * t, axis=axis)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true))) over the last axis: about e**2 / 2 for a small error e and
    |e| - log 2 for a large one. Computed as e + softplus(-2 e) - log 2, which never overflows."""
    y_true, y_pred = _prepare(y_true, y_pred, "log_cosh")
    error = ops.sub(y_pred, y_true)
    return ops.mean(error + ops.softplus(error * -2.0) - math.log(2.0), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + EPSILON)) over the last axis: the negative
    log-likelihood (up to a constant) of counts y_true under Poisson rates y_pred."""
    y_true, y_pred = _prepare(y_true, y_pred, "poisson")
    return ops.mean(y_pred - ops.log(y_pred + EPSILON) * y_true, axis=-1)


def kl_divergence(y_true, y_pred):
    """sum(y * log(y / p)) over the last axis, y and p clipped to [EPSILON, 1]: how far the
    predicted distribution p is from the target distribution y."""
    y_true, y_pred = _prepare(y_true, y_pred, "kl_divergence")
    y = np.clip(y_true, EPSILON, 1.0).astype(y_true.dtype, copy=False)
    p = ops.clip(y_pred, EPSILON, 1.0)
    return ops.sum((np.log(y) - ops.log(p)) * y, axis=-1)


def _hinge_labels(y_true):
    """Keras's rule: targets that are all 0 or 1 are read as binary labels and mapped to -1 / +1;
    anything else is taken as already -1 / +1."""
    if np.all((y_true == 0) | (y_true == 1)):
        return 2.0 * y_true - 1.0
    return y_true


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis, y_true in {-1, +1} (or {0, 1})."""
    y_true, y_pred = _prepare(y_true, y_pred, "hinge")
    return ops.mean(ops.relu(1.0 - y_pred * _hinge_labels(y_true)), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)**2) over the last axis, y_true in {-1, +1} (or {0, 1})."""
    y_true, y_pred = _prepare(y_true, y_pred, "squared_hinge")
    return ops.mean(ops.square(ops.relu(1.0 - y_pred * _hinge_labels(y_true))), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0) for one-hot y_true: pos = sum(y_true * y_pred), the true class's
    score, and neg = max((1 - y_true) * y_pred), the best other score (a multi-class margin)."""
    y_true, y_pred = _prepare(y_true, y_pred, "categorical_hinge")
    pos = ops.sum(y_pred * y_true, axis=-1)
    neg = ops.max(y_pred * (1.0 - y_true), axis=-1)
    return ops.relu(neg - pos + 1.0)


mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
