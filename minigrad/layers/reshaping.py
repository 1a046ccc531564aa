"""Reshaping layers as in Keras 3: no weights, only a change of layout or size.

Shapes (``channels_last``; ``channels_first`` has the channel axis at position 1):

* ``UpSampling1D(size)``: (N, L, C) -> (N, L * size, C), every step repeated.
* ``UpSampling2D(size, interpolation)``: (N, H, W, C) -> (N, H * sh, W * sw, C), ``"nearest"``
  (every pixel repeated) or ``"bilinear"`` (half-pixel linear interpolation, as Keras 3).
* ``Cropping1D(cropping)``: (N, L, C) -> (N, L - before - after, C).
* ``Cropping2D(cropping)``: (N, H, W, C) -> (N, H - top - bottom, W - left - right, C).
* ``ZeroPadding1D(padding)``: (N, L, C) -> (N, before + L + after, C).
* ``Permute(dims)``: axes 1..k of each sample reordered, ``dims`` counted from 1 (batch stays 0).
* ``RepeatVector(n)``: (N, F) -> (N, n, F).
"""
import numbers

from .. import ops
from ..ops.geometry import normalize_data_format, normalize_tuple
from ..ops.resize import repeat, resize_bilinear
from .base import Layer, registry
from .input_spec import InputSpec


def _positive_int(value, name, who):
    """Keras refuses a bool or float ``size``/``n`` with a TypeError, zero or less with a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{who}: {name} must be a positive integer, got {value!r} "
                        f"({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _times(n, factor):
    return None if n is None else n * factor


@registry.register()
class UpSampling1D(Layer):
    """Every step of a sequence repeated ``size`` times: (N, L, C) -> (N, L * size, C)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = _positive_int(size, "size", type(self).__name__)
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs, training=False):
        return repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _times(input_shape[1], self.size), input_shape[2])

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


@registry.register()
class UpSampling2D(Layer):
    """An image batch made ``size`` = (sh, sw) times taller and wider.

    ``interpolation``: ``"nearest"`` repeats every pixel; ``"bilinear"`` interpolates with
    half-pixel centers and no antialiasing, as Keras 3's ``ops.image.resize``. (Keras's other
    resize methods, bicubic and lanczos, are not implemented here and are refused.)
    """

    INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.size = normalize_tuple(size, 2, "size", who)
        self.data_format = normalize_data_format(data_format, who)
        if not isinstance(interpolation, str) or interpolation.lower() not in self.INTERPOLATIONS:
            raise ValueError(f"{who}: interpolation must be one of {self.INTERPOLATIONS}, got "
                             f"{interpolation!r}")
        self.interpolation = interpolation.lower()
        self.input_spec = InputSpec(ndim=4)

    def _spatial_axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def call(self, inputs, training=False):
        h_axis, w_axis = self._spatial_axes()
        if self.interpolation == "nearest":
            return repeat(repeat(inputs, self.size[0], h_axis), self.size[1], w_axis)
        size = (inputs.shape[h_axis] * self.size[0], inputs.shape[w_axis] * self.size[1])
        return resize_bilinear(inputs, size, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, factor in zip(self._spatial_axes(), self.size):
            shape[axis] = _times(shape[axis], factor)
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"size": list(self.size), "data_format": self.data_format,
                       "interpolation": self.interpolation})
        return config


def _check_crop(layer, shape, axes, cropping):
    """Keras refuses a crop that leaves nothing of an axis (known size only)."""
    for axis, (before, after) in zip(axes, cropping):
        if shape[axis] is not None and before + after >= shape[axis]:
            raise ValueError(f"{type(layer).__name__} '{layer.name}': cropping {cropping} must "
                             f"leave at least one entry of axis {axis} of an input of shape "
                             f"{tuple(shape)}")


def _crop(x, axes, cropping):
    index = [slice(None)] * x.ndim
    for axis, (before, after) in zip(axes, cropping):
        index[axis] = slice(before, x.shape[axis] - after)
    return ops.getitem(x, tuple(index))


def _cropped_shape(shape, axes, cropping):
    shape = list(shape)
    for axis, (before, after) in zip(axes, cropping):
        if shape[axis] is not None:
            shape[axis] -= before + after
    return tuple(shape)


@registry.register()
class Cropping1D(Layer):
    """Steps cut off both ends of a sequence: ``cropping`` is an int (both ends) or
    (before, after). (N, L, C) -> (N, L - before - after, C)."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = normalize_tuple(cropping, 2, "cropping", type(self).__name__,
                                        allow_zero=True)
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs, training=False):
        _check_crop(self, inputs.shape, (1,), (self.cropping,))
        return _crop(inputs, (1,), (self.cropping,))

    def compute_output_shape(self, input_shape):
        _check_crop(self, input_shape, (1,), (self.cropping,))
        return _cropped_shape(input_shape, (1,), (self.cropping,))

    def get_config(self):
        config = super().get_config()
        config["cropping"] = list(self.cropping)
        return config


@registry.register()
class Cropping2D(Layer):
    """Rows and columns cut off the borders of an image batch. ``cropping``: an int (all sides),
    (rows, cols) for symmetric crops, or ((top, bottom), (left, right))."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.data_format = normalize_data_format(data_format, who)
        expected = ("a non-negative integer, a tuple of 2 non-negative integers, or a tuple of 2 "
                    "(before, after) tuples")
        given = cropping
        if isinstance(cropping, numbers.Integral) and not isinstance(cropping, bool):
            cropping = (cropping, cropping)
        if isinstance(cropping, (str, bytes)) or not hasattr(cropping, "__len__") or \
                len(cropping) != 2:
            raise ValueError(f"{who}: cropping must be {expected}, got {given!r}")
        try:
            self.cropping = tuple(normalize_tuple(c, 2, "cropping", who, allow_zero=True)
                                  for c in cropping)
        except (TypeError, ValueError):
            raise ValueError(f"{who}: cropping must be {expected}, got {given!r}") from None
        self.input_spec = InputSpec(ndim=4)

    def _spatial_axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def call(self, inputs, training=False):
        _check_crop(self, inputs.shape, self._spatial_axes(), self.cropping)
        return _crop(inputs, self._spatial_axes(), self.cropping)

    def compute_output_shape(self, input_shape):
        _check_crop(self, input_shape, self._spatial_axes(), self.cropping)
        return _cropped_shape(input_shape, self._spatial_axes(), self.cropping)

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": [list(c) for c in self.cropping],
                       "data_format": self.data_format})
        return config


@registry.register()
class ZeroPadding1D(Layer):
    """Zeros at both ends of a sequence: ``padding`` is an int (both ends) or (before, after).
    (N, L, C) -> (N, before + L + after, C)."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.padding = normalize_tuple(padding, 2, "padding", who, allow_zero=True)
        self.data_format = normalize_data_format(data_format, who)
        self.input_spec = InputSpec(ndim=3)

    def _axis(self):
        return 2 if self.data_format == "channels_first" else 1

    def call(self, inputs, training=False):
        width = [(0, 0)] * 3
        width[self._axis()] = self.padding
        return ops.pad(inputs, tuple(width))

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if shape[self._axis()] is not None:
            shape[self._axis()] += sum(self.padding)
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": list(self.padding), "data_format": self.data_format})
        return config


@registry.register()
class Permute(Layer):
    """The axes of each sample reordered: ``dims`` is a permutation of 1..k (the batch axis 0
    stays first), e.g. ``Permute((2, 1))`` swaps the two axes of (N, L, C) -> (N, C, L)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        ok = (not isinstance(dims, (str, bytes)) and hasattr(dims, "__len__")
              and all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in dims)
              and sorted(int(d) for d in dims) == list(range(1, len(dims) + 1)))
        if not ok:
            raise ValueError(f"{who}: dims must be a permutation of 1..k (axis 0, the batch, "
                             f"stays), e.g. (2, 1), got {dims!r}")
        self.dims = tuple(int(d) for d in dims)
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs, training=False):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


@registry.register()
class RepeatVector(Layer):
    """Each sample's vector repeated ``n`` times along a new axis 1: (N, F) -> (N, n, F)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = _positive_int(n, "n", type(self).__name__)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs, training=False):
        return repeat(ops.reshape(inputs, (inputs.shape[0], 1, inputs.shape[1])), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config
