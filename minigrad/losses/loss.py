"""``Loss``, the base class of the loss objects: per-sample values reduced over the batch, with
a config; and ``LossFunctionWrapper``, a Loss made from a loss function."""
import numpy as np

from .. import ops
from .._checks import snake_case
from ..engine.tensor import Tensor
from ..serialization import Configurable
from .functions import _as_target

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none")


def _float_dtype(dtype, who):
    """None, or "float32" / "float64" from a dtype or its name."""
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{who}: dtype must be None, 'float32' or 'float64', got {dtype!r}")
    return dt


class Loss(Configurable):
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` -> a scalar Tensor.

    Subclasses give ``call(y_true, y_pred)`` (one value per sample). The reductions are Keras's,
    over the weighted values v * w: ``"sum_over_batch_size"`` (and its synonym ``"mean"``) =
    sum(v * w) / v.size, ``"sum"`` = sum(v * w), ``"mean_with_sample_weight"`` = sum(v * w) /
    sum(w) (/ v.size without weights), ``"none"`` (or None) = the weighted values themselves.
    A subclass may also mark entries as not counted (:meth:`valid_mask`): they get weight 0 and
    the means run over the valid entries only, as Keras's masks do.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        reduction = "none" if reduction is None else reduction
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS} or "
                             f"None, got {reduction!r}")
        self.name = name if name is not None else snake_case(type(self).__name__)
        self.reduction = reduction
        # None: compute in y_pred's dtype; else y_pred is cast first (Keras's compute dtype;
        # like Keras, the config leaves it out)
        self.dtype = _float_dtype(dtype, type(self).__name__)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred)")

    def valid_mask(self, y_true, values):
        """A boolean array shaped like ``values`` (False: not counted), or None: all count."""
        return None

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.dtype is not None and getattr(y_pred, "dtype", None) != self.dtype:
            y_pred = ops.cast(y_pred if isinstance(y_pred, Tensor) else Tensor(y_pred), self.dtype)
        values = self.call(y_true, y_pred)
        return self._reduce(values, sample_weight, self.valid_mask(y_true, values))

    def _weighted(self, sample_weight, values):
        """``(values, weights)`` paired as Keras 3 pairs them: when their ranks differ by one and
        the longer has a trailing axis of 1, that axis is dropped (or one added to a rank-1
        partner), then the two broadcast as NumPy does (from the right; Keras's result may so be
        larger than ``values``, e.g. per-sample scalars times (N,) weights). Where Keras's pairing
        does not broadcast, (N,) weights scale every value of sample n (aligned from the left,
        as Keras 2 did)."""
        weights = _as_target(sample_weight, values.dtype, type(self).__name__)
        shape, vshape = weights.shape, values.shape
        v, w = values, weights
        if v.ndim == w.ndim + 1 and vshape[-1] == 1:
            if w.ndim == 1:
                w = w.reshape(shape + (1,))
            else:
                v = v.reshape(vshape[:-1])
        elif w.ndim == v.ndim + 1 and shape[-1] == 1:
            if v.ndim == 1:
                v = v.reshape(vshape + (1,))
            else:
                w = w.reshape(shape[:-1])
        try:
            np.broadcast_shapes(w.shape, v.shape)
            return v, w
        except ValueError:
            pass
        # Keras 2's rule: the weights' axes are the leading axes of the values
        if weights.ndim == values.ndim + 1 and shape[-1] == 1:
            weights = weights.reshape(shape[:-1])
        weights = weights.reshape(weights.shape + (1,) * max(values.ndim - weights.ndim, 0))
        try:
            fits = np.broadcast_shapes(weights.shape, vshape) == vshape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{type(self).__name__}: sample_weight of shape {shape} does not "
                             f"fit the per-sample losses of shape {vshape}")
        return values, weights

    def _reduce(self, values, sample_weight, mask=None):
        weights = None
        if sample_weight is not None:
            values, weights = self._weighted(sample_weight, values)
        if mask is not None:
            # Keras: valid entries weigh total/valid and the others 0, so that the mean over
            # all entries is the mean over the valid ones (0 when none is valid)
            mask = np.asarray(mask, dtype=bool)
            mask = mask.reshape(values.shape) if mask.size == values.size else mask
            dt = values.dtype.type
            valid = mask.sum()
            scale = dt(mask.size) / dt(valid) if valid and self.reduction in (
                "sum_over_batch_size", "mean") else dt(1.0)
            float_mask = np.where(mask, scale, dt(0.0)).astype(values.dtype)
            weights = float_mask if weights is None else weights * float_mask
        if weights is not None:
            values = values * weights
        if self.reduction == "none" or values.ndim == 0:
            return values
        if self.reduction == "sum" or values.size == 0:  # an empty mean is 0 (divide_no_nan)
            return ops.sum(values)
        if self.reduction == "mean_with_sample_weight" and weights is not None:
            divisor = float(np.sum(weights))
            return ops.sum(values) / divisor if divisor else ops.sum(values) * 0.0
        return ops.mean(values)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


class LossFunctionWrapper(Loss):
    """A loss from a function ``fn(y_true, y_pred, **kwargs)`` that returns per-sample values."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn must be callable, got {fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}
