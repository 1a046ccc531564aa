"""``Variable``: a weight, the trainable Tensor that layers own and optimizers update.

A Variable is a leaf :class:`~minigrad.engine.tensor.Tensor` with a ``name`` (``"kernel"``), a ``path``
(``"dense/kernel"``, unique in a model: what model files and optimizer state are keyed by), and
optionally a ``constraint`` (a projection the optimizer applies after each update) and a
``regularizer`` (a penalty the layer adds to its ``losses``). Layers create them through
:meth:`minigrad.layers.Layer.add_weight`.

>>> import numpy as np
>>> v = Variable(np.zeros(2, dtype=np.float32), name="bias", path="dense/bias")
>>> v.assign([1.0, 2.0]); v
<Variable 'dense/bias' shape=(2,) dtype=float32>
>>> v.data, v.requires_grad
(array([1., 2.], dtype=float32), True)
"""
import numpy as np

from .engine.tensor import Tensor


class Variable(Tensor):
    """A weight: a leaf Tensor with a name and optional constraint/regularizer.

    ``requires_grad`` is True for trainable weights of a trainable layer. Optimizers update
    ``data`` in place, then apply ``constraint``.
    """

    __slots__ = ("constraint", "regularizer", "trainable", "path")

    def __init__(self, data, name, trainable=True, constraint=None, regularizer=None, path=None):
        super().__init__(data, requires_grad=trainable)
        self.name = name
        self.trainable = trainable
        self.constraint = constraint
        self.regularizer = regularizer
        self.path = path or name

    def assign(self, value):
        """Overwrite the values in place (so everything holding this Variable sees them)."""
        value = np.asarray(getattr(value, "data", value))
        if value.shape != self.data.shape:
            raise ValueError(f"Variable '{self.path}': cannot assign a value of shape {value.shape} "
                             f"to a weight of shape {self.data.shape}")
        self.data[...] = value

    def __repr__(self):
        return f"<Variable '{self.path}' shape={self.data.shape} dtype={self.data.dtype}>"


__all__ = ["Variable"]
