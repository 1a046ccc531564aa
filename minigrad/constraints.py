"""Weight constraints: projections the optimizer applies to a weight after each update.

A constraint is called on the weight's ``numpy.ndarray`` and returns the constrained array (same
shape and dtype); it is not part of the graph. The formulas are Keras 3's, with its epsilon 1e-7
guarding divisions by a zero norm. Norms are taken over ``axis`` (an int, a list of ints, or
None for the whole array), keeping dims so that they broadcast back over the weight:
for a Dense kernel ``(n_in, n_out)`` ``axis=0`` constrains each output unit's incoming weights;
for a conv kernel ``(kh, kw, c_in, c_out)`` use ``axis=[0, 1, 2]``.

>>> import numpy as np
>>> from minigrad import constraints
>>> constraints.get("max_norm")(np.array([[3.0], [4.0]], dtype=np.float32)).ravel().round(4)
array([1.2, 1.6], dtype=float32)
>>> constraints.serialize(constraints.MaxNorm(2, axis=0))
{'class_name': 'MaxNorm', 'config': {'max_value': 2.0, 'axis': 0}}
"""
import numpy as np

from ._checks import check_axis, check_number
from .serialization import Configurable, Registry
from .engine.tensor import Tensor

_registry = Registry("constraint")

EPSILON = 1e-7  # Keras's backend.epsilon(): keeps w / norm finite when a norm is 0


class Constraint(Configurable):
    """Base class: ``__call__(w) -> constrained w`` (ndarrays); ``get_config()`` its arguments."""

    axis = None  # subclasses that take norms set it in __init__

    def __call__(self, w):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(w)")

    # -- helpers for the subclasses ---------------------------------------------------------
    def _as_array(self, w):
        """The weight as a float ndarray (a Tensor gives its data; ints become float32)."""
        w = np.asarray(w.data if isinstance(w, Tensor) else w)
        if w.dtype.kind not in "biuf":
            raise TypeError(f"{type(self).__name__}: the weight must be a numeric array, got "
                            f"dtype {w.dtype}")
        return w if w.dtype.kind == "f" else w.astype(np.float32)

    def _norms(self, w):
        """sqrt(sum(w^2, axis, keepdims=True)), after checking ``axis`` fits w's rank."""
        axes = () if self.axis is None else np.atleast_1d(self.axis)
        if any(not -w.ndim <= a < w.ndim for a in axes):
            raise ValueError(f"{type(self).__name__}: axis {self._axis_config()!r} is out of range "
                             f"for a weight of shape {w.shape}")
        return np.sqrt(np.sum(np.square(w), axis=self.axis, keepdims=True))

    def _axis_config(self):
        return list(self.axis) if isinstance(self.axis, tuple) else self.axis


@_registry.register()
class MaxNorm(Constraint):
    """Rescale so that each norm (over ``axis``) is at most ``max_value``:
    w <- w * clip(norm, 0, max_value) / (epsilon + norm)   (Srivastava et al., 2014)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = check_number(max_value, "max_value", "MaxNorm", low=0, low_open=True)
        self.axis = check_axis(axis, "MaxNorm")

    def __call__(self, w):
        w = self._as_array(w)
        norms = self._norms(w)
        desired = np.clip(norms, 0, self.max_value)
        return (w * (desired / (EPSILON + norms))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self._axis_config()}


@_registry.register()
class NonNeg(Constraint):
    """Zero the negative entries: w <- w * (w >= 0)."""

    def __call__(self, w):
        w = self._as_array(w)
        return w * (w >= 0).astype(w.dtype)


@_registry.register()
class UnitNorm(Constraint):
    """Rescale to unit norm over ``axis``: w <- w / (epsilon + norm)."""

    def __init__(self, axis=0):
        self.axis = check_axis(axis, "UnitNorm")

    def __call__(self, w):
        w = self._as_array(w)
        return (w / (EPSILON + self._norms(w))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"axis": self._axis_config()}


@_registry.register()
class MinMaxNorm(Constraint):
    """Pull each norm towards [min_value, max_value]:
    desired = rate * clip(norm, min_value, max_value) + (1 - rate) * norm,
    w <- w * desired / (epsilon + norm).  ``rate`` = 1 enforces the bounds strictly; smaller rates
    move part of the way at each step."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = check_number(min_value, "min_value", "MinMaxNorm", low=0)
        self.max_value = check_number(max_value, "max_value", "MinMaxNorm", low=0,
                                      low_open=True)
        if self.min_value > self.max_value:
            raise ValueError(f"MinMaxNorm: min_value must not exceed max_value, got "
                             f"min_value={min_value!r} > max_value={max_value!r}")
        self.rate = check_number(rate, "rate", "MinMaxNorm", low=0, high=1)
        self.axis = check_axis(axis, "MinMaxNorm")

    def __call__(self, w):
        w = self._as_array(w)
        norms = self._norms(w)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return (w * (desired / (EPSILON + norms))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self._axis_config()}


def get(identifier):
    """A constraint from a name (``"max_norm"``, TF.js ``"maxNorm"``), a ``{"class_name",
    "config"}`` dict, a class, or a constraint (returned as is). None gives None."""
    return _registry.get(identifier)


def serialize(constraint):
    """``{"class_name": ..., "config": {...}}`` with Keras's class name and config keys."""
    return _registry.serialize(constraint)


def deserialize(config):
    """The constraint described by a name or a ``{"class_name", "config"}`` dict (Keras or TF.js)."""
    return _registry.deserialize(config)
