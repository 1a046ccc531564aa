"""Regularizers: penalties on a weight, added to the loss (Keras 3 formulas).

A regularizer is called on a weight Tensor and returns a scalar Tensor built from minigrad ops, so
its gradient flows back to the weight, in the weight's dtype:

* ``L1(l1)``:      l1 * sum |w|        (gradient l1 * sign(w))
* ``L2(l2)``:      l2 * sum w^2        (gradient 2 l2 w; Keras has no 1/2 here)
* ``L1L2(l1, l2)``: both terms (TF.js's only regularizer class; a zero coefficient adds no term)
* ``OrthogonalRegularizer(factor, mode)``: pushes rows (or columns) of a 2-D weight apart.

>>> import minigrad as mg
>>> from minigrad import regularizers
>>> round(regularizers.get("l2")(mg.Tensor([1.0, -2.0])).item(), 6)   # 0.01 * (1 + 4)
0.05
>>> regularizers.serialize(regularizers.L1L2(l1=0.0, l2=1e-4))
{'class_name': 'L1L2', 'config': {'l1': 0.0, 'l2': 0.0001}}
"""
import numpy as np

from . import ops
from ._checks import check_number
from .engine.function import as_tensor
from .serialization import Configurable, Registry
from .engine.tensor import Tensor

_registry = Registry("regularizer")

EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest norm OrthogonalRegularizer divides by


class Regularizer(Configurable):
    """Base class: ``__call__(w) -> scalar Tensor``; ``get_config()`` its arguments."""

    def __call__(self, w):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(w)")



def _l1_l2(w, l1, l2):
    """l1 * sum|w| + l2 * sum w^2, skipping zero terms; a constant 0 when both are zero."""
    w = as_tensor(w, "regularizer")
    total = None
    if l1:
        total = w.abs().sum() * l1
    if l2:
        term = (w * w).sum() * l2
        total = term if total is None else total + term
    return total if total is not None else Tensor(np.zeros((), dtype=w.dtype))


@_registry.register()
class L1L2(Regularizer):
    """l1 * sum |w| + l2 * sum w^2."""

    def __init__(self, l1=0.0, l2=0.0):
        # Keras reads None as 0
        self.l1 = check_number(0.0 if l1 is None else l1, "l1", "L1L2", low=0)
        self.l2 = check_number(0.0 if l2 is None else l2, "l2", "L1L2", low=0)

    def __call__(self, w):
        return _l1_l2(w, self.l1, self.l2)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


@_registry.register()
class L1(Regularizer):
    """l1 * sum |w| (Tibshirani's lasso penalty)."""

    def __init__(self, l1=0.01):
        self.l1 = check_number(l1, "l1", "L1", low=0)

    def __call__(self, w):
        return _l1_l2(w, self.l1, 0.0)

    def get_config(self):
        return {"l1": self.l1}


@_registry.register()
class L2(Regularizer):
    """l2 * sum w^2 (weight decay; gradient 2 l2 w)."""

    def __init__(self, l2=0.01):
        self.l2 = check_number(l2, "l2", "L2", low=0)

    def __call__(self, w):
        return _l1_l2(w, 0.0, self.l2)

    def get_config(self):
        return {"l2": self.l2}


@_registry.register()
class OrthogonalRegularizer(Regularizer):
    """factor * the mean |cosine| between distinct rows (or columns) of a 2-D weight (Keras 3).

    u_i = the rows (``mode="rows"``) or columns (``"columns"``), each divided by
    max(||u_i||, epsilon); P = the matrix of their dot products with the diagonal zeroed;
    penalty = factor * 0.5 * sum |P| / (n (n - 1) / 2), n the number of rows (columns). P counts
    each pair twice, so this is factor * mean_{i<j} |cos(u_i, u_j)|: 0 for orthogonal rows.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = check_number(factor, "factor", "OrthogonalRegularizer", low=0)
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got {mode!r}")
        self.mode = mode

    def __call__(self, w):
        w = as_tensor(w, "OrthogonalRegularizer")
        if w.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer: the weight must have rank 2, got shape "
                             f"{w.shape}")
        axis = 1 if self.mode == "rows" else 0
        n = w.shape[1 - axis]
        if n < 2:
            raise ValueError(f"OrthogonalRegularizer: mode={self.mode!r} needs at least 2 "
                             f"{self.mode} to compare, got shape {w.shape}")
        # sqrt(max(s, eps^2)) == max(sqrt(s), eps), without sqrt's infinite slope at s = 0
        norms = ops.maximum((w * w).sum(axis=axis, keepdims=True), EPSILON ** 2).sqrt()
        u = w / norms
        product = u @ u.T if self.mode == "rows" else u.T @ u
        off_diagonal = product * (1 - np.eye(n, dtype=w.dtype))
        return off_diagonal.abs().sum() * (self.factor * 0.5 / (n * (n - 1) / 2))

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def get(identifier):
    """A regularizer from a name (``"l2"``, ``"l1_l2"``, TF.js ``"l1l2"``), a ``{"class_name",
    "config"}`` dict, a class, or a regularizer (returned as is). None gives None."""
    return _registry.get(identifier)


def serialize(regularizer):
    """``{"class_name": ..., "config": {...}}`` with Keras's class name and config keys."""
    return _registry.serialize(regularizer)


def deserialize(config):
    """The regularizer described by a name or a ``{"class_name", "config"}`` dict (Keras or TF.js)."""
    return _registry.deserialize(config)
