"""Preprocessing layers as in Keras 3: the same fixed map in training and at inference, no weights.

* ``Rescaling(scale, offset=0.0)``: y = x * scale + offset, any shape (``scale``/``offset`` a
  number, or one number per channel, broadcast along the last axis).
* ``Resizing(height, width, interpolation="bilinear")``: (N, H, W, C) -> (N, height, width, C),
  ``"bilinear"`` or ``"nearest"`` as Keras 3 on torch (half-pixel centers, no antialiasing);
  ``crop_to_aspect_ratio`` / ``pad_to_aspect_ratio`` first crop or pad to the target's ratio.
* ``CenterCrop(height, width)``: (N, H, W, C) -> (N, height, width, C), the central window; an
  image smaller than the target is cropped to the target's ratio and resized, as Keras does.

``channels_first`` puts C at axis 1 for Resizing and CenterCrop. As in Keras, the image layers
here and in :mod:`.augmentation` also take one image without the batch axis, (H, W, C). The math
lives in :mod:`minigrad.ops.image`; all three are differentiable w.r.t. their input.
"""
import numpy as np

from .. import ops
from .._checks import check_bool, check_number, check_positive_int
from ..ops.geometry import normalize_data_format
from ..ops.image import INTERPOLATIONS, center_crop, resize
from .base import Layer, registry
from .input_spec import InputSpec


def _number_or_numbers(value, name, who):
    """A number, or a list of numbers (one per channel), as Keras's Rescaling takes them."""
    if isinstance(value, (list, tuple)) and value:
        return [check_number(v, name, who) for v in value]
    return check_number(value, name, who)


@registry.register()
class Rescaling(Layer):
    """y = x * scale + offset, in training and at inference; e.g. ``scale=1/255`` maps [0, 255]
    to [0, 1], ``scale=1/127.5, offset=-1`` to [-1, 1]. dy/dx = scale."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.scale = _number_or_numbers(scale, "scale", who)
        self.offset = _number_or_numbers(offset, "offset", who)

    def call(self, inputs, training=False):
        scale = np.asarray(self.scale, dtype=self.dtype)
        offset = np.asarray(self.offset, dtype=self.dtype)
        return inputs * scale + offset

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config


class ImageSpec(InputSpec):
    """What Keras's image layers take: a batch of images (rank 4) or one image (rank 3)."""

    def __init__(self):
        super().__init__(min_ndim=3)

    def check(self, layer, shape):
        if len(shape) not in (3, 4):
            raise ValueError(f"{type(layer).__name__} '{layer.name}': expected a batch of images "
                             f"(rank 4) or one image (rank 3), got shape {tuple(shape)}")


def height_axis(data_format, rank):
    """The axis of the rows in an image (rank 3) or a batch of images (rank 4)."""
    return (1 if data_format == "channels_first" else 0) + rank - 3


def one_image_as_batch(compute, images):
    """``compute(images)`` for a 4-D batch; one image (rank 3) goes through as a batch of one."""
    if images.ndim == 4:
        return compute(images)
    out = compute(ops.reshape(images, (1,) + tuple(images.shape)))
    return ops.reshape(out, tuple(out.shape[1:]))


class _ImageLayer(Layer):
    """What the resizing layers share: ``data_format``, an image input, a (height, width)
    target."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.height = check_positive_int(height, "height", who)
        self.width = check_positive_int(width, "width", who)
        self.data_format = normalize_data_format(data_format, who)
        self.input_spec = ImageSpec()

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis = height_axis(self.data_format, len(shape))
        shape[h_axis], shape[h_axis + 1] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "data_format": self.data_format})
        return config


@registry.register()
class Resizing(_ImageLayer):
    """An image batch resized to (``height``, ``width``).

    ``interpolation``: ``"bilinear"`` or ``"nearest"`` (Keras's bicubic, lanczos and area are
    refused). ``crop_to_aspect_ratio``: resize the largest centered window of the target's aspect
    ratio (no distortion, borders lost). ``pad_to_aspect_ratio``: pad both sides with
    ``fill_value`` to the target's ratio first (no distortion, nothing lost). ``fill_mode`` is
    ``"constant"`` (the only one Keras 3's torch backend has) and ``antialias`` False (not
    implemented: refused rather than silently ignored).
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(height, width, data_format, **kwargs)
        who = type(self).__name__
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{who}: interpolation must be one of {INTERPOLATIONS}, got "
                             f"{interpolation!r}")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = check_bool(crop_to_aspect_ratio, "crop_to_aspect_ratio", who)
        self.pad_to_aspect_ratio = check_bool(pad_to_aspect_ratio, "pad_to_aspect_ratio", who)
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError(f"{who}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio "
                             f"can be True, got both")
        if fill_mode != "constant":
            raise ValueError(f"{who}: fill_mode must be 'constant', got {fill_mode!r}")
        self.fill_mode = fill_mode
        self.fill_value = check_number(fill_value, "fill_value", who)
        if check_bool(antialias, "antialias", who):
            raise ValueError(f"{who}: antialias must be False (antialiased resizing is not "
                             f"implemented), got True")
        self.antialias = False

    def call(self, inputs, training=False):
        return one_image_as_batch(lambda images: resize(
            images, (self.height, self.width), self.interpolation,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_value=self.fill_value,
            data_format=self.data_format), inputs)

    def get_config(self):
        config = super().get_config()
        config.update({"interpolation": self.interpolation,
                       "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                       "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                       "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                       "antialias": self.antialias})
        return config


@registry.register()
class CenterCrop(_ImageLayer):
    """The central (``height``, ``width``) window of each image, starting at
    ((H - height) // 2, (W - width) // 2). If an image is smaller than the target along either
    axis, the largest centered window of the target's aspect ratio is resized (bilinear) to the
    target, as Keras does."""

    def call(self, inputs, training=False):
        return one_image_as_batch(
            lambda images: center_crop(images, self.height, self.width, self.data_format), inputs)
