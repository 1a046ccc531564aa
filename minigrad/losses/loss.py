"""``Loss``, the base class of the loss objects: per-sample values reduced over the batch, with
a config; and ``LossFunctionWrapper``, a Loss made from a loss function."""
import numpy as np

from .. import ops
from .._checks import snake_case
from ..serialization import Configurable
from .functions import _as_target

REDUCTIONS = ("sum_over_batch_size", "sum", "none")


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
