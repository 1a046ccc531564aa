"""``InputSpec``: what a layer accepts, checked on every call before any computation.

A layer sets ``self.input_spec`` in ``__init__`` (the rank it needs) and again in ``build`` (the
channel count it was built for), so that a wrong input fails with a message naming the layer
instead of deep inside an op:

>>> from minigrad import layers
>>> InputSpec(ndim=4).check(layers.Layer(name="conv"), (2, 5, 5))
Traceback (most recent call last):
...
ValueError: Layer 'conv': expected an input of rank 4, got shape (2, 5, 5)
"""


class InputSpec:
    """What a layer accepts: an exact rank (``ndim``), a minimum rank (``min_ndim``), and fixed
    sizes for some axes (``axes={-1: 3}`` once a layer is built on 3 channels)."""

    def __init__(self, ndim=None, min_ndim=None, axes=None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, dict(axes or {})

    def check(self, layer, shape):
        """Raise a ValueError naming ``layer`` if an input of ``shape`` does not fit."""
        who = f"{type(layer).__name__} '{layer.name}'"
        if self.ndim is not None and len(shape) != self.ndim:
            raise ValueError(f"{who}: expected an input of rank {self.ndim}, got shape {tuple(shape)}")
        if self.min_ndim is not None and len(shape) < self.min_ndim:
            raise ValueError(f"{who}: expected an input of rank >= {self.min_ndim}, got shape "
                             f"{tuple(shape)}")
        for axis, size in self.axes.items():
            if shape[axis] is not None and shape[axis] != size:
                raise ValueError(f"{who}: was built for inputs with {size} at axis {axis} (channels), "
                                 f"got shape {tuple(shape)}")


__all__ = ["InputSpec"]
