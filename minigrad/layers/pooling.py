"""Pooling layers over the spatial axes of a sequence or image batch, and ZeroPadding2D.

Shapes (``channels_last``; ``channels_first`` has the channel axis at position 1):

* ``MaxPooling1D`` / ``AveragePooling1D``: (N, L, C) -> (N, L', C);
  ``MaxPooling2D`` / ``AveragePooling2D``: (N, H, W, C) -> (N, H', W', C). Each output size is as
  for a convolution with kernel ``pool_size`` and ``strides`` (default: ``pool_size``):
  "valid": floor((n - k) / s) + 1; "same": ceil(n / s), and average pooling then averages the
  real pixels of a window only (TensorFlow's rule).
* ``GlobalMaxPooling1D`` / ``GlobalAveragePooling1D``: (N, L, C) -> (N, C), or (N, 1, C) with
  ``keepdims``; ``GlobalMaxPooling2D`` / ``GlobalAveragePooling2D``: (N, H, W, C) -> (N, C), or
  (N, 1, 1, C) with ``keepdims``.
* ``ZeroPadding2D``: (N, H, W, C) -> (N, top + H + bottom, left + W + right, C).
"""
import numbers

from .. import ops
from ..ops.geometry import (normalize_data_format, normalize_padding, normalize_tuple,
                            window_geometry)
from ..ops.pooling import (avg_pool1d, avg_pool2d, global_avg_pool1d, global_avg_pool2d,
                           global_max_pool1d, global_max_pool2d, max_pool1d, max_pool2d)
from .._checks import check_bool
from .base import Layer, registry
from .input_spec import InputSpec


def _spatial_axes(rank, data_format):
    """The positions of the ``rank`` spatial axes in a batch of rank + 2 axes."""
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + rank))


class _Pooling(Layer):
    """What max and average pooling share, in 1-D and 2-D: ``pool_size``, ``strides``,
    ``padding``, ``data_format``. A subclass sets ``_rank`` (spatial axes) and ``_op``."""

    _rank = None
    _op = None

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        who, rank = type(self).__name__, self._rank
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size", who)
        self.strides = (self.pool_size if strides is None
                        else normalize_tuple(strides, rank, "strides", who))
        self.padding = normalize_padding(padding, who)
        self.data_format = normalize_data_format(data_format, who)
        self.input_spec = InputSpec(ndim=rank + 2)

    def call(self, inputs, training=False):
        return type(self)._op(inputs, self.pool_size, strides=self.strides, padding=self.padding,
                              data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axes = _spatial_axes(self._rank, self.data_format)
        for axis, k, s in zip(axes, self.pool_size, self.strides):
            if shape[axis] is not None:
                shape[axis] = window_geometry(shape[axis], k, s, 1, self.padding)[0]
        if any(shape[a] == 0 for a in axes):
            raise ValueError(f"{type(self).__name__} '{self.name}': input shape "
                             f"{tuple(input_shape)} is smaller than pool_size {self.pool_size} "
                             f"with padding 'valid': the output would be empty")
        return tuple(shape)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # refuse an empty output before the first call
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": list(self.pool_size), "padding": self.padding,
                       "strides": list(self.strides), "data_format": self.data_format})
        return config


@registry.register("MaxPool1D")  # Keras's alias
class MaxPooling1D(_Pooling):
    """The maximum of each window of ``pool_size`` steps; the gradient goes to that maximum."""

    _rank, _op = 1, staticmethod(max_pool1d)

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@registry.register("AvgPool1D")  # Keras's alias
class AveragePooling1D(_Pooling):
    """The mean of each window of ``pool_size`` steps (with ``"same"``, over the real steps
    only). ``pool_size`` has no default, as in Keras 3."""

    _rank, _op = 1, staticmethod(avg_pool1d)

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@registry.register("MaxPool2D")  # Keras's alias
class MaxPooling2D(_Pooling):
    """The maximum of each ``pool_size`` window; the gradient goes to that maximum."""

    _rank, _op = 2, staticmethod(max_pool2d)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@registry.register("AvgPool2D")  # Keras's alias
class AveragePooling2D(_Pooling):
    """The mean of each ``pool_size`` window (with ``"same"``, over the real pixels only)."""

    _rank, _op = 2, staticmethod(avg_pool2d)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(Layer):
    """What the global pools share: ``data_format`` and ``keepdims``. A subclass sets ``_rank``
    (spatial axes) and ``_op``: (N, *spatial, C) -> (N, C), or (N, 1, ..., 1, C) with
    ``keepdims`` (channels_first: (N, C, *spatial) -> (N, C) or (N, C, 1, ..., 1))."""

    _rank = None
    _op = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.data_format = normalize_data_format(data_format, who)
        self.keepdims = check_bool(keepdims, "keepdims", who)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def call(self, inputs, training=False):
        return type(self)._op(inputs, data_format=self.data_format, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        axes = _spatial_axes(self._rank, self.data_format)
        if self.keepdims:
            return tuple(1 if a in axes else d for a, d in enumerate(input_shape))
        return tuple(d for a, d in enumerate(input_shape) if a not in axes)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


@registry.register("GlobalMaxPool1D")  # Keras's alias
class GlobalMaxPooling1D(_GlobalPooling):
    """The maximum over the steps: (N, L, C) -> (N, C), or (N, 1, C) with ``keepdims``."""

    _rank, _op = 1, staticmethod(global_max_pool1d)


@registry.register("GlobalAvgPool1D")  # Keras's alias
class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the steps: (N, L, C) -> (N, C), or (N, 1, C) with ``keepdims``.
    (Keras's optional padding mask is not supported: every step is averaged.)"""

    _rank, _op = 1, staticmethod(global_avg_pool1d)


@registry.register("GlobalMaxPool2D")  # Keras's alias
class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over H and W: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with ``keepdims``."""

    _rank, _op = 2, staticmethod(global_max_pool2d)


@registry.register("GlobalAvgPool2D")  # Keras's alias
class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over H and W: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with ``keepdims``."""

    _rank, _op = 2, staticmethod(global_avg_pool2d)


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
