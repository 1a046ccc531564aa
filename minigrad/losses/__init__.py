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
import numpy as np

from .._checks import check_bool, check_number
from ..serialization import Registry
from .fused import EPSILON
from .functions import (MAE, MSE, binary_crossentropy, categorical_crossentropy, huber, mae,
                        mean_absolute_error, mean_squared_error, mse,
                        sparse_categorical_crossentropy)
from .loss import REDUCTIONS, Loss, LossFunctionWrapper

_registry = Registry("loss function")  # errors then read "known loss functions: ..."


def _smoothed(who, from_logits, label_smoothing, axis):
    """The checked keyword arguments of a cross-entropy with ``label_smoothing``."""
    return {"from_logits": check_bool(from_logits, "from_logits", who),
            "label_smoothing": check_number(label_smoothing, "label_smoothing", who, low=0, high=1),
            "axis": axis}


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
        super().__init__(categorical_crossentropy, name=name, reduction=reduction,
                         **_smoothed("CategoricalCrossentropy", from_logits, label_smoothing, axis))


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
        super().__init__(binary_crossentropy, name=name, reduction=reduction,
                         **_smoothed("BinaryCrossentropy", from_logits, label_smoothing, axis))


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
