"""Metrics named after losses (Keras 3's): the mean over every sample seen of a loss function's
per-sample values, e.g. ``KLDivergence``, ``BinaryCrossentropy``; and the regression scores
``RootMeanSquaredError`` and ``R2Score``.

The functions are the losses' own (``minigrad.losses``), run on plain arrays: no graph is built.
One exception, as in Keras: the metric ``cosine_similarity`` is +cos (higher is better), where
the loss is -cos.
"""
import warnings

import numpy as np

from .. import losses as _losses
from .._checks import check_axis, check_bool, check_int, check_number
from .base import (Mean, MeanMetricWrapper, Metric, _array, _check_same_shape, _registry,
                   _same_rank)


def _loss_values(fn, name=None):
    """A loss function as a metric function: plain arrays in and out."""
    def metric(y_true, y_pred, **kwargs):
        return fn(y_true, _array(y_pred, fn.__name__, "y_pred"), **kwargs).data
    metric.__name__ = name or fn.__name__
    metric.__doc__ = fn.__doc__
    return metric


mean_squared_error = _loss_values(_losses.mean_squared_error)
mean_absolute_error = _loss_values(_losses.mean_absolute_error)
mean_absolute_percentage_error = _loss_values(_losses.mean_absolute_percentage_error)
mean_squared_logarithmic_error = _loss_values(_losses.mean_squared_logarithmic_error)
log_cosh = _loss_values(_losses.log_cosh)
hinge = _loss_values(_losses.hinge)
squared_hinge = _loss_values(_losses.squared_hinge)
categorical_hinge = _loss_values(_losses.categorical_hinge)
kl_divergence = _loss_values(_losses.kl_divergence)
poisson = _loss_values(_losses.poisson)
binary_crossentropy = _loss_values(_losses.binary_crossentropy)
categorical_crossentropy = _loss_values(_losses.categorical_crossentropy)
sparse_categorical_crossentropy = _loss_values(_losses.sparse_categorical_crossentropy)


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(y_true / ||y_true|| * y_pred / ||y_pred||) along ``axis``: 1 for the same direction."""
    return -_losses.cosine_similarity(y_true, _array(y_pred, "cosine_similarity", "y_pred"),
                                      axis=axis).data


def _simple(cls_name, fn, default_name, *aliases):
    """A registered MeanMetricWrapper class ``cls_name(name=default_name, dtype=None)`` of ``fn``."""
    def __init__(self, name=default_name, dtype=None):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype)
    cls = type(cls_name, (MeanMetricWrapper,), {
        "__init__": __init__, "__module__": __name__,
        "__doc__": f"The mean of ``{fn.__name__}`` over every sample seen."})
    return _registry.register(*aliases)(cls)


MeanSquaredError = _simple("MeanSquaredError", mean_squared_error, "mean_squared_error",
                           "mean_squared_error", "mse", "meanSquaredError")
MeanAbsoluteError = _simple("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error",
                            "mean_absolute_error", "mae", "meanAbsoluteError")
MeanAbsolutePercentageError = _simple(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error,
    "mean_absolute_percentage_error", "mape", "meanAbsolutePercentageError")
MeanSquaredLogarithmicError = _simple(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", "msle", "meanSquaredLogarithmicError")
LogCoshError = _simple("LogCoshError", log_cosh, "logcosh", "logcosh")
Hinge = _simple("Hinge", hinge, "hinge")
SquaredHinge = _simple("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _simple("CategoricalHinge", categorical_hinge, "categorical_hinge")
KLDivergence = _simple("KLDivergence", kl_divergence, "kl_divergence", "kld")
Poisson = _simple("Poisson", poisson, "poisson")


@_registry.register()
class RootMeanSquaredError(Mean):
    """sqrt of the mean of (y_pred - y_true)**2 over every entry of every sample seen."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        who = type(self).__name__
        y_true, y_pred = _same_rank(_array(y_true, who, "y_true"), _array(y_pred, who, "y_pred"))
        _check_same_shape(y_true, y_pred, who)
        super().update_state(np.square(y_pred.astype(np.float64) - y_true), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


@_registry.register()
class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine of the angle between y_true and y_pred along ``axis``. Keras 3 leaves
    ``axis`` out of its config; ours writes it, so a round trip keeps it."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype,
                         axis=check_axis(axis, "CosineSimilarity", multiple=False,
                                         allow_none=False))


@_registry.register("bce")
class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        who = "BinaryCrossentropy"
        super().__init__(binary_crossentropy, name=name, dtype=dtype,
                         from_logits=check_bool(from_logits, "from_logits", who),
                         label_smoothing=_smoothing(label_smoothing, who))


@_registry.register()
class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        who = "CategoricalCrossentropy"
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=check_bool(from_logits, "from_logits", who),
                         label_smoothing=_smoothing(label_smoothing, who),
                         axis=check_axis(axis, who, multiple=False, allow_none=False))


@_registry.register()
class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean sparse categorical cross-entropy. Samples labelled ``ignore_class`` have loss 0;
    as in Keras 3, they also drop out of the count only when a ``sample_weight`` is given (Keras
    applies its mask through the weights alone)."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        who = "SparseCategoricalCrossentropy"
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=check_bool(from_logits, "from_logits", who),
                         ignore_class=check_int(ignore_class, "ignore_class", who,
                                                allow_none=True),
                         axis=check_axis(axis, who, multiple=False, allow_none=False))

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        ignore = self._fn_kwargs["ignore_class"]
        if ignore is not None and sample_weight is not None:
            valid = (np.asarray(getattr(y_true, "data", y_true)).reshape(values.shape) != ignore)
            sample_weight = valid * self._weights_like(sample_weight, values)
        Mean.update_state(self, values, sample_weight)

    def _weights_like(self, sample_weight, values):
        w = np.asarray(_array(sample_weight, self.name, "sample_weight"), dtype=np.float64)
        if w.ndim == values.ndim + 1 and w.shape[-1] == 1:
            w = w.reshape(w.shape[:-1])
        return w.reshape(w.shape + (1,) * (values.ndim - w.ndim))


_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


@_registry.register()
class R2Score(Metric):
    """The coefficient of determination per output column c of (N, C) targets:
    R2_c = 1 - sum w (y - p)**2 / sum w (y - mean_w(y))**2 over every sample seen (0 where a
    column has no variance), then averaged (``"uniform_average"``), weighted by the columns'
    variances (``"variance_weighted_average"``), or kept per column (None). With
    ``num_regressors`` k > 0 it is adjusted: 1 - (1 - R2)(n - 1) / (n - k - 1), n the number of
    entries seen (as Keras, which falls back to R2 with a warning when n - 1 <= k)."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError(f"R2Score: class_aggregation must be one of {_AGGREGATIONS}, got "
                             f"{class_aggregation!r}")
        self.class_aggregation = class_aggregation
        self.num_regressors = check_int(num_regressors, "num_regressors", "R2Score", low=0)
        self.reset_state()

    def reset_state(self):
        self.num_samples = 0
        self.sum = self.squared_sum = self.total_mse = self.count = np.float64(0.0)

    def update_state(self, y_true, y_pred, sample_weight=None):
        who = self.name
        y_true, y_pred = _same_rank(np.asarray(_array(y_true, who, "y_true"), np.float64),
                                    np.asarray(_array(y_pred, who, "y_pred"), np.float64))
        if y_true.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{who}: y_true and y_pred must both have shape (batch_size, "
                             f"output_dim), got y_true of shape {y_true.shape} and y_pred of "
                             f"shape {y_pred.shape}")
        w = np.ones(1) if sample_weight is None else \
            np.asarray(_array(sample_weight, who, "sample_weight"), np.float64)
        w = np.broadcast_to(w[:, None] if w.ndim == 1 and sample_weight is not None else w,
                            y_true.shape)
        self.sum = self.sum + (w * y_true).sum(0)
        self.squared_sum = self.squared_sum + (w * y_true * y_true).sum(0)
        self.total_mse = self.total_mse + (w * (y_true - y_pred) ** 2).sum(0)
        self.count = self.count + w.sum(0)
        self.num_samples += y_true.size

    def result(self):
        # nothing seen: 0 / 0, nan (as Keras)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw = 1 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        n, k = self.num_samples, self.num_regressors
        if k and k >= n - 1:
            warnings.warn(f"{self.name}: {k} regressors for {n} entries: the adjusted R2 is not "
                          f"defined, so this is the plain R2", stacklevel=2)
        elif k:
            score = 1 - (1 - score) * (n - 1) / (n - k - 1)
        return float(score) if np.ndim(score) == 0 else score

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


def _smoothing(value, who):
    return check_number(value, "label_smoothing", who, low=0, high=1)
