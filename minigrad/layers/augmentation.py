"""Image augmentation layers as in Keras 3: a random change of each image while training
(``layer(x, training=True)``, which ``fit`` passes), the identity otherwise (``predict``,
``evaluate``, a plain ``layer(x)``). Inputs are image batches, (N, H, W, C) or (N, C, H, W) with
``data_format="channels_first"``, or one image without the batch axis; the output has the input's
shape.

* ``RandomFlip(mode)``: each image flipped with probability 1/2: left-right (``"horizontal"``),
  top-bottom (``"vertical"``), or both at once (``"horizontal_and_vertical"``, one draw per image,
  as Keras 3).
* ``RandomRotation(factor)``: rotated about its center by an angle drawn uniformly from
  ``factor`` * 360 degrees (``factor`` = f: [-f, f]; a pair: [lower, upper]).
* ``RandomZoom(height_factor, width_factor=None)``: zoomed about its center by 1 + a factor drawn
  from each range (a negative factor zooms in; no ``width_factor``: the height's, keeping the
  aspect ratio).
* ``RandomTranslation(height_factor, width_factor)``: shifted by a fraction of its height and
  width drawn from each range.
* ``RandomContrast(factor)``: (x - mean) * c + mean per image and channel (the mean over the
  pixels), c drawn from [1 - lower, 1 + upper], then clipped to ``value_range``.

Rotation, zoom and translation resample the image with :func:`minigrad.ops.image.affine_transform`
(``interpolation`` "bilinear" or "nearest"; outside the image ``fill_mode`` reflect / wrap /
constant with ``fill_value`` / nearest), with Keras's matrices. Every layer is differentiable
w.r.t. its input. Randomness: each layer owns a NumPy generator seeded once with ``seed``, and
each training call draws the next values from it, so the same seed gives the same sequence of
augmentations (not Keras's sequence: its generator is another one).
"""
import numbers

import numpy as np

from .. import ops
from .._checks import check_number, check_seed
from ..ops.geometry import normalize_data_format
from ..ops.image import INTERPOLATIONS, affine_transform
from .base import Layer, registry
from .preprocessing import ImageSpec, one_image_as_batch

FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def factor_range(factor, name, who, low, high, low_open=False):
    """``(lower, upper)`` from a number f (the range [-f, f], cut at ``low``) or a pair (sorted),
    every number in [low, high] (``low_open``: (low, high]). A TypeError for what is no number
    (a string, a bool), a ValueError for a number out of range or a pair of the wrong length."""
    expected = (f"a number or a pair of numbers in {'(' if low_open else '['}{low}, {high}]")
    message = f"{who}: {name} must be {expected}, got {factor!r}"
    pair = isinstance(factor, (list, tuple))
    values = list(factor) if pair else [factor]
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        raise TypeError(message)
    if (pair and len(values) != 2) or not all(
            low <= v <= high and not (low_open and v == low) for v in values):
        raise ValueError(message)
    if pair:
        lower, upper = sorted(float(v) for v in values)
        return lower, upper
    f = abs(float(factor))
    return max(-f, low), f


def _choice(value, name, who, choices):
    if value not in choices:
        raise ValueError(f"{who}: {name} must be one of {choices}, got {value!r}")
    return value


def _as_config(factor):
    """A factor as it was given, JSON-ready (a tuple becomes a list)."""
    return list(factor) if isinstance(factor, (list, tuple)) else factor


class RandomImageLayer(Layer):
    """What the augmentation layers share: ``data_format``, ``seed`` and the generator seeded
    with it, the image input, and ``call``: ``augment`` (of a 4-D batch) while training, the
    identity otherwise."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.seed = check_seed(seed, who)
        self.data_format = normalize_data_format(data_format, who)
        self._rng = np.random.default_rng(self.seed)
        self.input_spec = ImageSpec()

    def _height_width(self, shape):
        return (shape[2], shape[3]) if self.data_format == "channels_first" else shape[1:3]

    def call(self, inputs, training=False):
        return one_image_as_batch(self.augment, inputs) if training else inputs

    def augment(self, images):
        """The random change of a batch of images (a Tensor); draws from ``self._rng``."""
        raise NotImplementedError(f"{type(self).__name__} must define augment()")

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


class RandomAffineLayer(RandomImageLayer):
    """An augmentation that resamples each image through an affine transform: ``fill_mode``,
    ``interpolation``, ``fill_value``, and ``transforms(n, height, width)``, the (n, 8) matrices
    of the draw (see :func:`minigrad.ops.image.affine_transform`)."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        who = type(self).__name__
        self.fill_mode = _choice(fill_mode, "fill_mode", who, FILL_MODES)
        self.interpolation = _choice(interpolation, "interpolation", who, INTERPOLATIONS)
        self.fill_value = check_number(fill_value, "fill_value", who)

    def augment(self, images):
        height, width = self._height_width(images.shape)
        return affine_transform(images, self.transforms(images.shape[0], height, width),
                                self.interpolation, self.fill_mode, self.fill_value,
                                self.data_format)

    def transforms(self, n, height, width):
        raise NotImplementedError(f"{type(self).__name__} must define transforms()")

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "fill_value": self.fill_value})
        return config


def _matrices(n, *columns):
    """(n, 8) transforms from the six columns a0, a1, a2, b0, b1, b2 (numbers or arrays of n;
    c0 = c1 = 0)."""
    return np.stack([np.broadcast_to(np.asarray(c, np.float64), (n,)) for c in columns]
                    + [np.zeros(n), np.zeros(n)], axis=1)


@registry.register()
class RandomFlip(RandomImageLayer):
    """Each image flipped with probability 1/2 while training. ``mode``: ``"horizontal"``
    (left-right), ``"vertical"`` (top-bottom) or ``"horizontal_and_vertical"`` (both at once, on
    one draw per image, as Keras 3 does: a half-turn)."""

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = _choice(mode, "mode", type(self).__name__, self.MODES)

    def augment(self, images):
        flips = self._rng.uniform(size=images.shape[0]) <= 0.5
        h_axis = 2 if self.data_format == "channels_first" else 1
        index = [slice(None)] * 4
        if self.mode != "vertical":
            index[h_axis + 1] = slice(None, None, -1)
        if self.mode != "horizontal":
            index[h_axis] = slice(None, None, -1)
        # every image flipped, then the original kept where the draw says no
        return ops.where(flips[:, None, None, None], ops.getitem(images, tuple(index)), images)

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


@registry.register()
class RandomRotation(RandomAffineLayer):
    """Each image rotated about its center ((W - 1) / 2, (H - 1) / 2) by an angle drawn uniformly
    from [lower, upper] * 360 degrees while training; ``factor`` = f means [-f, f] (f = 0.25:
    up to a quarter turn either way), a pair (lower, upper) the range itself, in [-1, 1].
    Output pixel p reads the input at R(angle) (p - center) + center."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor_range(factor, "factor", type(self).__name__, -1.0, 1.0)

    def transforms(self, n, height, width):
        angle = np.deg2rad(self._rng.uniform(self.factor[0] * 360.0, self.factor[1] * 360.0, n))
        cos, sin = np.cos(angle), np.sin(angle)
        cx, cy = (width - 1) / 2, (height - 1) / 2
        return _matrices(n, cos, -sin, cx - cx * cos + cy * sin,
                            sin, cos, cy - cx * sin - cy * cos)

    def get_config(self):
        config = super().get_config()
        config["factor"] = list(self.factor)
        return config


class _HeightWidthLayer(RandomAffineLayer):
    """RandomZoom's and RandomTranslation's shared config: a factor for rows and one for
    columns, written as given."""

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": _as_config(self.height_factor),
                       "width_factor": _as_config(self.width_factor)})
        return config


@registry.register()
class RandomZoom(_HeightWidthLayer):
    """Each image zoomed about its center while training: output pixel p reads the input at
    z (p - center) + center, with z = 1 + a factor drawn from ``height_factor``'s range for rows
    and ``width_factor``'s for columns (None: the same z for both, keeping the aspect ratio).
    A factor f means [-f, f]; a pair (lower, upper) the range; each in (-1, 1]. A negative
    factor (z < 1) zooms in, a positive one zooms out."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        who = type(self).__name__
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height_range = factor_range(height_factor, "height_factor", who, -1.0, 1.0, True)
        self._width_range = None if width_factor is None else \
            factor_range(width_factor, "width_factor", who, -1.0, 1.0, True)

    def transforms(self, n, height, width):
        zy = 1.0 + self._rng.uniform(*self._height_range, n)
        zx = zy if self._width_range is None else 1.0 + self._rng.uniform(*self._width_range, n)
        return _matrices(n, zx, 0.0, (width - 1) / 2 * (1 - zx),
                         0.0, zy, (height - 1) / 2 * (1 - zy))


@registry.register()
class RandomTranslation(_HeightWidthLayer):
    """Each image shifted while training by dy = (a factor drawn from ``height_factor``'s range)
    * H rows and dx = (one from ``width_factor``'s) * W columns: output pixel (y, x) reads the
    input at (y - dy, x - dx). A factor f means [-f, f]; a pair (lower, upper) the range; each in
    [-1, 1]. A positive factor moves the image down / right."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        who = type(self).__name__
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height_range = factor_range(height_factor, "height_factor", who, -1.0, 1.0)
        self._width_range = factor_range(width_factor, "width_factor", who, -1.0, 1.0)

    def transforms(self, n, height, width):
        dy = self._rng.uniform(*self._height_range, n) * height
        dx = self._rng.uniform(*self._width_range, n) * width
        return _matrices(n, 1.0, 0.0, -dx, 0.0, 1.0, -dy)


@registry.register()
class RandomContrast(RandomImageLayer):
    """Each image's contrast scaled while training: y = clip((x - m) * c + m, *value_range), m
    the mean of each channel over the image's pixels, c drawn per image from [1 - lower,
    1 + upper]. ``factor`` = f means (lower, upper) = (0, f), as Keras 3.15 reads it (contrast
    only raised); a pair (lower, upper) gives both, each in [0, 1]."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        who = type(self).__name__
        self.factor = factor_range(factor, "factor", who, 0.0, 1.0) if not isinstance(
            factor, (list, tuple)) else _contrast_pair(factor, who)
        ok = (isinstance(value_range, (list, tuple)) and len(value_range) == 2
              and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value_range)
              and value_range[0] < value_range[1])
        if not ok:
            raise ValueError(f"{who}: value_range must be a pair (low, high) of numbers with "
                             f"low < high, got {value_range!r}")
        self.value_range = tuple(value_range)

    def augment(self, images):
        axes = (2, 3) if self.data_format == "channels_first" else (1, 2)
        c = self._rng.uniform(1.0 - self.factor[0], 1.0 + self.factor[1], images.shape[0])
        c = c.astype(self.dtype).reshape(-1, 1, 1, 1)
        mean = ops.mean(images, axis=axes, keepdims=True)
        return ops.clip((images - mean) * c + mean, *self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config


def _contrast_pair(factor, who):
    """A (lower, upper) contrast factor checked as Keras 3 checks it (two numbers, the first at
    most 1, the second at least 0), then sorted."""
    message = (f"{who}: factor must be a number in [0, 1] or a pair (lower, upper) with "
               f"lower <= 1 and upper >= 0, got {factor!r}")
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in factor):
        raise TypeError(message)
    if len(factor) != 2 or factor[0] > 1 or factor[1] < 0:
        raise ValueError(message)
    lower, upper = sorted(float(v) for v in factor)
    return lower, upper
