"""Optimizers with Keras 3's update rules, defaults and config keys.

``SGD``, ``Adam``, ``AdamW``, ``Nadam``, ``RMSprop``, ``Adagrad``, ``Adadelta``, ``Adamax``,
``Lion``; each updates minigrad Tensors
in place::

    opt = Adam(learning_rate=1e-3)
    loss.backward()
    opt.step(model.trainable_weights)     # or opt.apply_gradients([(grad, variable), ...])

Learning-rate schedules are in :mod:`minigrad.schedules`, also reachable here as
``minigrad.optimizers.schedules``.

>>> import minigrad as mg
>>> w = mg.Tensor([1.0, 2.0], requires_grad=True)
>>> w.grad = np.array([0.5, -0.5], dtype=np.float32)
>>> SGD(learning_rate=0.1).step([w])
1
>>> w.data
array([0.95, 2.05], dtype=float32)
"""
import sys

import numpy as np  # noqa: F401  (the doctest above uses it)

from .. import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lion import Lion
from .nadam import Nadam
from .optimizer import Optimizer, registry as _registry
from .rmsprop import RMSprop
from .sgd import SGD

# ``import minigrad.optimizers.schedules`` finds the one schedules module, as in Keras
sys.modules[__name__ + ".schedules"] = schedules

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax", "AdamW", "Nadam",
           "Lion", "schedules",
           "get", "serialize", "deserialize"]


def get(identifier):
    """An optimizer from a name (``"adam"``, ``"sgd"``, ... with Keras defaults), a
    ``{"class_name", "config"}`` dict (Keras's, or TF.js's with camelCase keys) or an Optimizer."""
    if identifier is not None and not isinstance(identifier, (str, dict, Optimizer, type)):
        raise ValueError(f"could not interpret optimizer identifier {identifier!r}: expected a name "
                         f"({', '.join(_registry.known())}), a config dict or an Optimizer")
    return _registry.get(identifier)


def serialize(optimizer):
    """``{"class_name": ..., "config": {...}}`` (the state is not included: see get_state)."""
    return _registry.serialize(optimizer)


def deserialize(config):
    """An optimizer from a name or a ``{"class_name", "config"}`` dict (no state)."""
    return _registry.deserialize(config)
