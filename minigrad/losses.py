"""Losses: how far predictions are from targets, as a scalar Tensor to call ``backward()`` on.

Each loss exists twice, as in Keras:

* a function, ``categorical_crossentropy(y_true, y_pred, ...)``, that returns one value per sample
  (shape ``y_pred.shape`` without its last axis);
* a class, ``CategoricalCrossentropy(...)``, whose call ``loss(y_true, y_pred)`` averages those values
  over the batch (Keras's ``"sum_over_batch_size"`` reduction) and which has ``get_config``.

``y_true`` is an ndarray (or a Tensor, whose data is used; it is never differentiated), ``y_pred`` a
Tensor. Numerics follow Keras: probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` and, for
categorical crossentropy, first divided by their sum. With ``from_logits=True`` the softmax (or
sigmoid) is folded into the loss, which is exact where the probability form must clip.

>>> import numpy as np, minigrad as mg
>>> loss = CategoricalCrossentropy()
>>> y_pred = mg.Tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]], requires_grad=True)
>>> round(loss(np.array([[0, 1, 0], [0, 0, 1]]), y_pred).item(), 4)
1.1769
"""
import warnings

import numpy as np

from . import ops
from ._checks import check_axis, check_bool, check_number, snake_case
from .engine.function import Function
from .serialization import Configurable, Registry
from .engine.tensor import Tensor

EPSILON = 1e-7  # Keras's backend.epsilon(): how close to 0 and 1 a probability may get
REDUCTIONS = ("sum_over_batch_size", "sum", "none")

_registry = Registry("loss function")  # errors then read "known loss functions: ..."


# -- the fused ops: forward and backward side by side ------------------------------------------
class SoftmaxCrossEntropy(Function):
    """Per-sample L = -sum_c y_c log softmax(x)_c along ``axis`` (y: the target, not differentiated).

    dL/dx_c = softmax(x)_c * sum_k y_k - y_c, which is the famous ``p - y`` when y sums to 1.
    Fusing saves the graph of log_softmax, mul and sum; the value is computed exactly as
    ``-(y * ops.log_softmax(x)).sum(axis)``.
    """

    @staticmethod
    def forward(ctx, logits, target, axis):
        shifted = logits - logits.max(axis=axis, keepdims=True)
        log_prob = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.log_prob, ctx.target, ctx.axis = log_prob, target, axis
        return -(target * log_prob).sum(axis=axis)

    @staticmethod
    def backward(ctx, grad):
        target, axis = ctx.target, ctx.axis
        g = np.expand_dims(grad, axis)
        return g * (np.exp(ctx.log_prob) * target.sum(axis=axis, keepdims=True) - target)


class ProbabilityCrossEntropy(Function):
    """Per-sample L = -sum_c y_c log q_c with q = clip(x / sum(x), eps, 1 - eps) along ``axis``.

    Keras's math for probabilities. With p = x / s, s = sum_c x_c:
    dL/dq_c = -y_c / q_c;  dq/dp = 1 inside [eps, 1 - eps] (bounds included, as TensorFlow's
    clip_by_value), 0 outside;  dL/dx_k = (dL/dp_k - sum_c dL/dp_c p_c) / s.
    """

    @staticmethod
    def forward(ctx, x, target, axis):
        total = x.sum(axis=axis, keepdims=True)
        p = x / total
        q = np.clip(p, EPSILON, 1.0 - EPSILON)
        ctx.p, ctx.q, ctx.total, ctx.target, ctx.axis = p, q, total, target, axis
        return -(target * np.log(q)).sum(axis=axis)

    @staticmethod
    def backward(ctx, grad):
        p, q, axis = ctx.p, ctx.q, ctx.axis
        inside = (p >= q.dtype.type(EPSILON)) & (p <= q.dtype.type(1.0 - EPSILON))
        d_p = np.where(inside, -ctx.target / q, 0).astype(q.dtype) * np.expand_dims(grad, axis)
        return (d_p - (d_p * p).sum(axis=axis, keepdims=True)) / ctx.total


class SigmoidCrossEntropy(Function):
    """Elementwise L = -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), for logits x.

    Computed as TensorFlow's sigmoid_cross_entropy_with_logits, max(x, 0) - x y + log(1 + e^-|x|),
    which never overflows;  dL/dx = sigmoid(x) - y.
    """

    @staticmethod
    def forward(ctx, x, target):
        ctx.x, ctx.target = x, target
        return np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        x = ctx.x
        e = np.exp(-np.abs(x))
        sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        return grad * (sigmoid - ctx.target)


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

    ``label_smoothing`` s replaces y by y (1 - s) + s / C. Probabilities are renormalised by their
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
        y_true = y_true * (1.0 - label_smoothing) + dt(label_smoothing) / dt(num_classes)
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


# -- the classes: mean over the batch, with a config ---------------------------------------------
class Loss(Configurable):
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` -> a scalar Tensor.

    Subclasses give ``call(y_true, y_pred)`` (one value per sample). The reduction is Keras's:
    ``"sum_over_batch_size"`` = sum(values * sample_weight) / values.size, ``"sum"``, or ``"none"``.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        reduction = "none" if reduction is None else reduction
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, "
                             f"got {reduction!r}")
        self.name = name if name is not None else snake_case(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred)")

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self._reduce(self.call(y_true, y_pred), sample_weight)

    def _reduce(self, values, sample_weight):
        if sample_weight is not None:
            weights = _as_target(sample_weight, values.dtype, type(self).__name__)
            shape = weights.shape
            if weights.ndim == values.ndim + 1 and shape[-1] == 1:
                weights = weights.reshape(shape[:-1])  # (N, 1) weights for (N,) losses
            # weights (N,) scale every value of sample n: align them with the leading axes
            weights = weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim))
            try:
                fits = np.broadcast_shapes(weights.shape, values.shape) == values.shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(f"{type(self).__name__}: sample_weight of shape {shape} does not "
                                 f"fit the per-sample losses of shape {values.shape}")
            values = values * weights
        if self.reduction == "none" or values.ndim == 0:
            return values
        if self.reduction == "sum":
            return ops.sum(values)
        if values.size == 0:  # Keras's divide_no_nan
            return ops.sum(values)
        return ops.mean(values)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


class LossFunctionWrapper(Loss):
    """A loss from a function ``fn(y_true, y_pred, **kwargs)`` that returns per-sample values."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn must be callable, got {fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


@_registry.register("mean_squared_error", "mse", "meanSquaredError")
class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(mean_squared_error, name=name, reduction=reduction)


@_registry.register("mean_absolute_error", "mae", "meanAbsoluteError")
class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name=name, reduction=reduction)


@_registry.register("huber", "huber_loss", "huberLoss")
class Huber(LossFunctionWrapper):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss"):
        delta = check_number(delta, "delta", "Huber", low=0, low_open=True)
        super().__init__(huber, name=name, reduction=reduction, delta=delta)


@_registry.register("categorical_crossentropy", "categoricalCrossentropy")
class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy"):
        who = "CategoricalCrossentropy"
        super().__init__(categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=check_bool(from_logits, "from_logits", who),
                         label_smoothing=check_number(label_smoothing, "label_smoothing", who,
                                                      low=0, high=1),
                         axis=axis)


@_registry.register("sparse_categorical_crossentropy", "sparseCategoricalCrossentropy")
class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None, axis=-1,
                 reduction="sum_over_batch_size", name="sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=check_bool(from_logits, "from_logits",
                                                 "SparseCategoricalCrossentropy"),
                         ignore_class=ignore_class, axis=axis)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        ignore = self._fn_kwargs["ignore_class"]
        if ignore is None or self.reduction != "sum_over_batch_size":
            return self._reduce(values, sample_weight)
        # Keras masks ignored entries and rescales the rest by total/valid, so the mean runs
        # over the valid entries only.
        labels = np.asarray(getattr(y_true, "data", y_true)).reshape(values.shape)
        mask = (labels != ignore).astype(values.dtype)
        mask *= values.dtype.type(mask.size) / (mask.sum() + values.dtype.type(EPSILON))
        if sample_weight is not None:
            mask = mask * np.asarray(getattr(sample_weight, "data", sample_weight), values.dtype)
        return self._reduce(values, mask)


@_registry.register("binary_crossentropy", "binaryCrossentropy")
class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy"):
        who = "BinaryCrossentropy"
        super().__init__(binary_crossentropy, name=name, reduction=reduction,
                         from_logits=check_bool(from_logits, "from_logits", who),
                         label_smoothing=check_number(label_smoothing, "label_smoothing", who,
                                                      low=0, high=1),
                         axis=axis)


# the functions, for get(function): Keras resolves them to these classes' defaults
_FUNCTION_CLASSES = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError, huber: Huber,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
}


def get(identifier):
    """A Loss object from a name (``"categorical_crossentropy"``, ``"mse"``, TF.js's
    ``"meanSquaredError"``), a ``{"class_name", "config"}`` dict, a Loss, one of this module's
    functions, or any function returning per-sample losses (wrapped to average them)."""
    if identifier is None:
        return None
    if callable(identifier) and not isinstance(identifier, (type, Loss)):
        cls = _FUNCTION_CLASSES.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    return _registry.get(identifier)


def serialize(loss):
    """``{"class_name": ..., "config": {...}}`` for a registered Loss."""
    return _registry.serialize(loss)


def deserialize(config):
    """A Loss from a name or a ``{"class_name", "config"}`` dict (Keras or TF.js spelling)."""
    return _registry.deserialize(config)
