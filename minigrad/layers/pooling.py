"""Pooling and padding layers over the two spatial axes of an image batch.

Shapes (``channels_last``; ``channels_first`` has the channel axis at position 1):

* ``MaxPooling2D`` / ``AveragePooling2D``: (N, H, W, C) -> (N, H', W', C), H' as for a convolution
  with kernel ``pool_size`` and ``strides`` (default: ``pool_size``).
* ``GlobalAveragePooling2D``: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with ``keepdims``.
* ``ZeroPadding2D``: (N, H, W, C) -> (N, top + H + bottom, left + W + right, C).
"""
import numbers

from .. import ops
from ..ops.geometry import (normalize_data_format, normalize_padding, normalize_tuple,
                            window_geometry)
from ..ops.pooling import avg_pool2d, global_avg_pool2d, max_pool2d
from .._checks import check_bool
from .base import Layer, registry
from .input_spec import InputSpec


class _Pooling2D(Layer):
    """What max and average pooling share: ``pool_size``, ``strides``, ``padding``, ``data_format``."""

    _op = None  # the pooling op, set by the subclass

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size", who)
        self.strides = (self.pool_size if strides is None
                        else normalize_tuple(strides, 2, "strides", who))
        self.padding = normalize_padding(padding, who)
        self.data_format = normalize_data_format(data_format, who)
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs, training=False):
        return type(self)._op(inputs, self.pool_size, strides=self.strides, padding=self.padding,
                              data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        n, a, b, c = input_shape
        hw = (b, c) if self.data_format == "channels_first" else (a, b)
        out = tuple(None if d is None else window_geometry(d, k, s, 1, self.padding)[0]
                    for d, k, s in zip(hw, self.pool_size, self.strides))
        if 0 in out:
            raise ValueError(f"{type(self).__name__} '{self.name}': input shape {tuple(input_shape)} "
                             f"is smaller than pool_size {self.pool_size} with padding 'valid': the "
                             f"output would be empty")
        return (n, a) + out if self.data_format == "channels_first" else (n,) + out + (c,)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # refuse an empty output before the first call
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": list(self.pool_size), "padding": self.padding,
                       "strides": list(self.strides), "data_format": self.data_format})
        return config


@registry.register("MaxPool2D")  # Keras's alias
class MaxPooling2D(_Pooling2D):
    """The maximum of each ``pool_size`` window."""

    _op = staticmethod(max_pool2d)


@registry.register("AvgPool2D")  # Keras's alias
class AveragePooling2D(_Pooling2D):
    """The mean of each ``pool_size`` window (with ``"same"``, over the real pixels only)."""

    _op = staticmethod(avg_pool2d)


@registry.register("GlobalAvgPool2D")  # Keras's alias
class GlobalAveragePooling2D(Layer):
    """The mean over H and W: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with ``keepdims``."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.data_format = normalize_data_format(data_format, who)
        self.keepdims = check_bool(keepdims, "keepdims", who)
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs, training=False):
        return global_avg_pool2d(inputs, data_format=self.data_format, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        n, c = input_shape[0], input_shape[1 if self.data_format == "channels_first" else 3]
        if not self.keepdims:
            return (n, c)
        return (n, c, 1, 1) if self.data_format == "channels_first" else (n, 1, 1, c)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


@registry.register()
class ZeroPadding2D(Layer):
    """Zeros around the image. ``padding``: an int (all sides), a pair (rows, cols) for
    symmetric padding, or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.padding = _normalize_zero_padding(padding, who)
        self.data_format = normalize_data_format(data_format, who)
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs, training=False):
        (t, b), (l, r) = self.padding
        width = ((0, 0), (0, 0), (t, b), (l, r)) if self.data_format == "channels_first" else \
            ((0, 0), (t, b), (l, r), (0, 0))
        return ops.pad(inputs, width)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        first = 2 if self.data_format == "channels_first" else 1
        for axis, (before, after) in zip((first, first + 1), self.padding):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": [list(p) for p in self.padding], "data_format": self.data_format})
        return config


def _normalize_zero_padding(padding, who):
    """int | (rows, cols) | ((top, bottom), (left, right)) -> ((top, bottom), (left, right))."""
    expected = ("a non-negative integer, a tuple of 2 non-negative integers, or a tuple of 2 "
                "(before, after) tuples")
    given = padding
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        padding = (padding, padding)
    if isinstance(padding, (str, bytes)) or not hasattr(padding, "__len__") or len(padding) != 2:
        raise ValueError(f"{who}: padding must be {expected}, got {given!r}")
    try:
        return tuple(normalize_tuple(p, 2, "padding", who, allow_zero=True) for p in padding)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: padding must be {expected}, got {given!r}") from None
