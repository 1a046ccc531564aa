"""Losses: how far predictions are from targets, as a scalar Tensor to call ``backward()`` on.

Each loss exists twice, as in Keras:

* a function, ``categorical_crossentropy(y_true, y_pred, ...)``, that returns one value per sample
  (shape ``y_pred.shape`` without its last axis);
* a class, ``CategoricalCrossentropy(...)``, whose call ``loss(y_true, y_pred)`` averages those values
  over the batch (Keras's ``"sum_over_batch_size"`` reduction) and which has ``get_config``.

The catalog is Keras 3's: cross-entropies (categorical, sparse, binary, and their focal
variants, the generalized cross-entropy), regression (mean squared/absolute, percentage, squared
logarithmic, Huber, log-cosh, cosine similarity), Poisson, Kullback-Leibler, the hinges, and the
overlap losses Dice and Tversky. Configs are Keras's; where Keras 3
leaves an argument out of its config (Huber's ``delta``, some ``axis``), ours writes it too.

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

from .._checks import check_axis, check_bool, check_int, check_number
from ..serialization import Registry
from .focal import binary_focal_crossentropy, categorical_focal_crossentropy, check_focal
from .functions import (MAE, MSE, binary_crossentropy, categorical_crossentropy, huber, mae,
                        mean_absolute_error, mean_squared_error, mse,
                        sparse_categorical_crossentropy)
from .loss import REDUCTIONS, Loss, LossFunctionWrapper
from .overlap import categorical_generalized_cross_entropy, dice, tversky
from .regression import (KLD, MAPE, MSLE, categorical_hinge, cosine_similarity, hinge,
                         kl_divergence, kld, log_cosh, mape, mean_absolute_percentage_error,
                         mean_squared_logarithmic_error, msle, poisson, squared_hinge)

_registry = Registry("loss function")  # errors then read "known loss functions: ..."


def _axis(axis, who):
    return check_axis(axis, who, multiple=False, allow_none=False)


def _axes(axis, who):
    """None, an int or a list of ints (as Keras writes them in the config)."""
    axis = check_axis(axis, who)
    return list(axis) if isinstance(axis, tuple) else axis


def _smoothed(who, from_logits, label_smoothing, axis):
    """The checked keyword arguments of a cross-entropy with ``label_smoothing``."""
    return {"from_logits": check_bool(from_logits, "from_logits", who),
            "label_smoothing": check_number(label_smoothing, "label_smoothing", who, low=0, high=1),
            "axis": _axis(axis, who)}


@_registry.register("mean_squared_error", "mse", "meanSquaredError")
class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)


@_registry.register("mean_absolute_error", "mae", "meanAbsoluteError")
class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)


@_registry.register("mean_absolute_percentage_error", "mape", "meanAbsolutePercentageError")
class MeanAbsolutePercentageError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction,
                         dtype=dtype)


@_registry.register("mean_squared_logarithmic_error", "msle", "meanSquaredLogarithmicError")
class MeanSquaredLogarithmicError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction,
                         dtype=dtype)


@_registry.register("cosine_similarity", "cosineProximity")
class CosineSimilarity(LossFunctionWrapper):
    """Keras 3 leaves ``axis`` out of its config; ours writes it, so a round trip keeps it."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype,
                         axis=check_axis(axis, "CosineSimilarity", multiple=False,
                                         allow_none=False))


@_registry.register("huber", "huber_loss", "huberLoss")
class Huber(LossFunctionWrapper):
    """Keras 3 leaves ``delta`` out of its config; ours writes it, so a round trip keeps it."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        delta = check_number(delta, "delta", "Huber", low=0, low_open=True)
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


@_registry.register("log_cosh", "logcosh", "logCosh")
class LogCosh(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)


@_registry.register("hinge")
class Hinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


@_registry.register("squared_hinge", "squaredHinge")
class SquaredHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


@_registry.register("categorical_hinge", "categoricalHinge")
class CategoricalHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)


@_registry.register("kl_divergence", "kld", "kullback_leibler_divergence", "KLDivergence")
class KLDivergence(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)


@_registry.register("poisson")
class Poisson(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)


@_registry.register("categorical_crossentropy", "categoricalCrossentropy")
class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         **_smoothed("CategoricalCrossentropy", from_logits, label_smoothing, axis))


@_registry.register("categorical_focal_crossentropy")
class CategoricalFocalCrossentropy(LossFunctionWrapper):
    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        who = "CategoricalFocalCrossentropy"
        args = check_focal(who, alpha, gamma, from_logits, label_smoothing, alpha_per_class=True)
        super().__init__(categorical_focal_crossentropy, name=name, reduction=reduction,
                         dtype=dtype,
                         from_logits=args["from_logits"],
                         label_smoothing=args["label_smoothing"],
                         axis=_axis(axis, who), alpha=args["alpha"], gamma=args["gamma"])


@_registry.register("sparse_categorical_crossentropy", "sparseCategoricalCrossentropy")
class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Keras 3 leaves ``axis`` out of its config; ours writes it, so a round trip keeps it."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        who = "SparseCategoricalCrossentropy"
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype,
                         from_logits=check_bool(from_logits, "from_logits", who),
                         ignore_class=check_int(ignore_class, "ignore_class", who,
                                                allow_none=True),
                         axis=_axis(axis, who))

    def valid_mask(self, y_true, values):
        # entries labelled ignore_class do not count: the mean runs over the others (Keras)
        ignore = self._fn_kwargs["ignore_class"]
        if ignore is None:
            return None
        labels = np.asarray(getattr(y_true, "data", y_true))
        return labels.reshape(values.shape) != ignore


@_registry.register("binary_crossentropy", "binaryCrossentropy", "bce")
class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         **_smoothed("BinaryCrossentropy", from_logits, label_smoothing, axis))


@_registry.register("binary_focal_crossentropy")
class BinaryFocalCrossentropy(LossFunctionWrapper):
    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        who = "BinaryFocalCrossentropy"
        args = check_focal(who, alpha, gamma, from_logits, label_smoothing)
        super().__init__(binary_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=args["from_logits"],
                         label_smoothing=args["label_smoothing"], axis=_axis(axis, who),
                         apply_class_balancing=check_bool(apply_class_balancing,
                                                          "apply_class_balancing", who),
                         alpha=args["alpha"], gamma=args["gamma"])


@_registry.register("dice")
class Dice(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype,
                         axis=_axes(axis, "Dice"))


@_registry.register("tversky")
class Tversky(LossFunctionWrapper):
    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype,
                         alpha=check_number(alpha, "alpha", "Tversky"),
                         beta=check_number(beta, "beta", "Tversky"),
                         axis=_axes(axis, "Tversky"))


@_registry.register("categorical_generalized_cross_entropy")
class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        q = check_number(q, "q", "CategoricalGeneralizedCrossEntropy", low=0, high=1,
                         low_open=True, high_open=True)
        super().__init__(categorical_generalized_cross_entropy, name=name, reduction=reduction,
                         dtype=dtype, q=q)


# the functions, for get(function): Keras resolves them to these classes' defaults
_FUNCTION_CLASSES = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError, huber: Huber,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    cosine_similarity: CosineSimilarity, log_cosh: LogCosh, hinge: Hinge,
    squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge, kl_divergence: KLDivergence,
    poisson: Poisson, categorical_crossentropy: CategoricalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy, binary_focal_crossentropy: BinaryFocalCrossentropy,
    dice: Dice, tversky: Tversky,
    categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy,
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
