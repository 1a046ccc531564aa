"""Image ops as Keras 3's ``keras.ops.image`` computes them on its torch backend: resizing, the
center crop, and the affine transform behind the random rotation / zoom / translation layers.
Images are 4-D batches, (N, H, W, C) for ``channels_last`` or (N, C, H, W) for ``channels_first``.

**Resizing** (:func:`resize`). ``"bilinear"`` is :func:`~minigrad.ops.resize.resize_bilinear`
(half-pixel centers, no antialiasing: torch's ``interpolate(..., align_corners=False)``).
``"nearest"`` is torch's ``"nearest-exact"`` (what Keras 3 asks torch for): output pixel ``i`` of
an axis resized from ``n`` to ``m`` is input pixel ``min(floor((i + 0.5) * n / m), n - 1)``.
Before resizing, ``crop_to_aspect_ratio`` takes the largest centered window of the target's aspect
ratio, and ``pad_to_aspect_ratio`` pads both sides with ``fill_value`` up to that ratio instead.

**Affine transform** (:func:`affine_transform`). A transform is 8 numbers
``[a0, a1, a2, b0, b1, b2, c0, c1]`` per image (Keras's and TF's layout; ``c0 = c1 = 0`` here, no
projective part). Output pixel (row y, column x) reads the input at the point::

    x_in = a0 * x + a1 * y + a2,        y_in = b0 * x + b1 * y + b2

``"nearest"`` takes the pixel at the rounded point (ties to even); ``"bilinear"`` mixes the four
pixels around it with weights (1 - fy or fy) * (1 - fx or fx). A pixel index outside the image is
mapped back in by ``fill_mode`` (for a row of 4 pixels ``a b c d``):

* ``"reflect"``:  ``(d c b a | a b c d | d c b a)``, the edge pixel repeated in the mirror;
* ``"mirror"``:   ``(d c b | a b c d | c b a)``, mirrored about the edge pixel;
* ``"wrap"``:     ``(a b c d | a b c d | a b c d)``;
* ``"nearest"``:  ``(a a a a | a b c d | d d d d)``;
* ``"constant"``: ``(k k k k | a b c d | k k k k)`` with ``k = fill_value``; each of the four
  neighbours outside the image counts as ``k`` (so the edge blends into ``k``, as in Keras).

The output is linear in the image, ``y = sum_corners w * x[index]``, so its gradient scatters
``w * g`` back to those indices. The transform itself is a constant (not differentiated).

>>> import numpy as np
>>> x = np.arange(4.0).reshape(1, 1, 4, 1)          # one row: 0 1 2 3
>>> shift = [1, 0, -1.5, 0, 1, 0, 0, 0]               # read 1.5 pixels to the left
>>> affine_transform(x, shift, fill_mode="reflect").numpy().ravel()
array([0.5, 0. , 0.5, 1.5])
>>> affine_transform(x, shift, fill_mode="constant", fill_value=10).numpy().ravel()
array([10. ,  5. ,  0.5,  1.5])
"""
import numbers

import numpy as np

from .._checks import check_positive_int
from ..engine.function import Function, as_tensor
from ._common import check_image
from .geometry import normalize_data_format
from .resize import resize_bilinear
from .shape import getitem, pad, transpose

FILL_MODES = ("reflect", "wrap", "constant", "nearest", "mirror")
INTERPOLATIONS = ("bilinear", "nearest")


def _hw_axes(data_format):
    return (2, 3) if data_format == "channels_first" else (1, 2)


def _check_choice(value, name, who, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{who}: {name} must be one of {choices}, got {value!r}")
    return value


def _check_size(size, who):
    ok = (not isinstance(size, (str, bytes)) and hasattr(size, "__len__") and len(size) == 2
          and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
                  for s in size))
    if not ok:
        raise ValueError(f"{who}: size must be a (height, width) pair of positive integers, "
                         f"got {size!r}")
    return int(size[0]), int(size[1])


# -- resizing and cropping ----------------------------------------------------------------------

def nearest_indices(n, m):
    """The input pixel each of ``m`` output pixels takes when an axis of ``n`` pixels is resized
    by torch's "nearest-exact", computed in float32 as torch does (so that the rare index where
    ``(i + 0.5) * n / m`` lands on an integer rounds the same way).

    >>> nearest_indices(4, 2), nearest_indices(2, 5)
    (array([1, 3]), array([0, 0, 1, 1, 1]))
    """
    scale = np.float32(n) / np.float32(m)
    src = np.floor((np.arange(m, dtype=np.float32) + np.float32(0.5)) * scale).astype(np.int64)
    return np.minimum(src, n - 1)


def aspect_ratio_box(height, width, target_height, target_width):
    """``(top, left, crop_height, crop_width)``: the largest centered window of ``height`` x
    ``width`` with the target's aspect ratio (Keras's integer arithmetic, truncating)."""
    crop_h = max(min(height, int(width * target_height / target_width)), 1)
    crop_w = max(min(width, int(height * target_width / target_height)), 1)
    return int((height - crop_h) / 2), int((width - crop_w) / 2), crop_h, crop_w


def _crop(x, data_format, top, left, h, w):
    h_axis, w_axis = _hw_axes(data_format)
    index = [slice(None)] * 4
    index[h_axis], index[w_axis] = slice(top, top + h), slice(left, left + w)
    return getitem(x, tuple(index))


def resize(images, size, interpolation="bilinear", crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_value=0.0, data_format="channels_last"):
    """A 4-D image batch resized to ``size`` = (height, width), as Keras 3's
    ``ops.image.resize`` on torch (see the module docstring; no antialiasing)."""
    who = "resize"
    data_format = normalize_data_format(data_format, who)
    images = as_tensor(images, who)
    check_image(images, "images", who, data_format)
    size = _check_size(size, who)
    _check_choice(interpolation, "interpolation", who, INTERPOLATIONS)
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{who}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can "
                         f"be True")
    h_axis, w_axis = _hw_axes(data_format)
    height, width = images.shape[h_axis], images.shape[w_axis]
    if crop_to_aspect_ratio:
        top, left, h, w = aspect_ratio_box(height, width, *size)
        images = _crop(images, data_format, top, left, h, w)
    elif pad_to_aspect_ratio:
        # the image centered in a window of the target's ratio: the same border on both sides
        top = int((max(height, int(width * size[0] / size[1])) - height) / 2)
        left = int((max(width, int(height * size[1] / size[0])) - width) / 2)
        widths = [(0, 0)] * 4
        widths[h_axis], widths[w_axis] = (top, top), (left, left)
        images = pad(images, tuple(widths), constant_values=fill_value)
    if interpolation == "bilinear":
        return resize_bilinear(images, size, data_format)
    rows = nearest_indices(images.shape[h_axis], size[0])
    cols = nearest_indices(images.shape[w_axis], size[1])
    index = [slice(None)] * 4
    index[h_axis], index[w_axis] = rows[:, None], cols[None, :]   # an outer product of picks
    return getitem(images, tuple(index))


def center_crop(images, height, width, data_format="channels_last"):
    """The central ``height`` x ``width`` window of each image (Keras 3's ``CenterCrop``). The
    window starts at ``(H - height) // 2``, ``(W - width) // 2``. If the image is smaller than the
    target along either axis, Keras's rule: the largest centered window of the target's aspect
    ratio is resized (bilinear) to the target instead."""
    who = "center_crop"
    data_format = normalize_data_format(data_format, who)
    images = as_tensor(images, who)
    check_image(images, "images", who, data_format)
    height = check_positive_int(height, "height", who)
    width = check_positive_int(width, "width", who)
    h_axis, w_axis = _hw_axes(data_format)
    dh, dw = images.shape[h_axis] - height, images.shape[w_axis] - width
    if dh >= 0 and dw >= 0:
        return _crop(images, data_format, dh // 2, dw // 2, height, width)
    return resize(images, (height, width), "bilinear", crop_to_aspect_ratio=True,
                  data_format=data_format)


# -- affine transform -----------------------------------------------------------------------------

def _fix_index(index, n, fill_mode):
    """Indices outside [0, n) mapped back in by ``fill_mode`` (see the module docstring)."""
    if fill_mode == "wrap":
        return index % n
    if fill_mode == "reflect":           # period 2n: 0..n-1 then n-1..0
        j = index % (2 * n)
        return np.where(j >= n, 2 * n - 1 - j, j)
    if fill_mode == "mirror":            # period 2n-2: 0..n-1 then n-2..1
        if n == 1:
            return np.zeros_like(index)
        j = index % (2 * n - 2)
        return np.where(j >= n, 2 * n - 2 - j, j)
    return np.clip(index, 0, n - 1)      # "nearest"; "constant" masks these out afterwards


def _axis_nodes(coord, n, interpolation, fill_mode):
    """``[(index, weight, inside)]`` along one axis: the pixels a coordinate reads and their
    weights (one for nearest, two for linear), indices mapped in by ``fill_mode``."""
    if interpolation == "nearest":
        raw = [(np.round(coord).astype(np.int64), np.ones_like(coord))]
    else:
        lo = np.floor(coord)
        frac = coord - lo
        lo = lo.astype(np.int64)
        raw = [(lo, 1 - frac), (lo + 1, frac)]
    return [(_fix_index(i, n, fill_mode), w, (i >= 0) & (i < n)) for i, w in raw]


class AffineTransform(Function):
    """y[n, r, c, :] = sum over the corners k of w_k * x[n, i_k, j_k, :] (``constant`` mode: a
    corner outside the image gives ``w_k * fill_value`` instead), where (i_k, j_k, w_k) come from
    the point of the input that output pixel (r, c) reads (module docstring). NHWC.

    dL/dx[n, i, j, :] = sum of w_k * g[n, r, c, :] over the (r, c, k) that read pixel (i, j)."""

    @staticmethod
    def forward(ctx, x, *, transform, interpolation, fill_mode, fill_value):
        n, h, w, c = x.shape
        t = transform.astype(x.dtype)
        rows, cols = np.meshgrid(np.arange(h, dtype=x.dtype), np.arange(w, dtype=x.dtype),
                                 indexing="ij")
        a0, a1, a2, b0, b1, b2 = (t[:, k, None, None] for k in range(6))
        x_in = a0 * cols + a1 * rows + a2             # (N, H, W) points to read
        y_in = b0 * cols + b1 * rows + b2
        flat = x.reshape(n * h * w, c)
        base = (np.arange(n) * (h * w))[:, None, None]
        out = np.zeros((n, h, w, c), dtype=x.dtype)
        ctx.corners, ctx.shape = [], x.shape
        for i, wy, in_y in _axis_nodes(y_in, h, interpolation, fill_mode):
            for j, wx, in_x in _axis_nodes(x_in, w, interpolation, fill_mode):
                index = base + i * w + j
                weight = (wy * wx).astype(x.dtype)
                if fill_mode == "constant":
                    inside = in_y & in_x
                    out += (weight * ~inside * x.dtype.type(fill_value))[..., None]
                    weight = weight * inside          # a pixel outside reads fill_value, not x
                out += weight[..., None] * flat[index]
                ctx.corners.append((index, weight))
        return out

    @staticmethod
    def backward(ctx, grad):
        n, h, w, c = ctx.shape
        gx = np.zeros((n * h * w, c), dtype=grad.dtype)
        for index, weight in ctx.corners:
            np.add.at(gx, index.ravel(), (weight[..., None] * grad).reshape(-1, c))
        return gx.reshape(ctx.shape)


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0.0, data_format="channels_last"):
    """Each image of a 4-D batch resampled through its transform (Keras 3's
    ``ops.image.affine_transform``): ``transform`` is (8,) for every image or (N, 8), one per
    image, mapping output pixels to input points (module docstring). Differentiable w.r.t. the
    images."""
    who = "affine_transform"
    data_format = normalize_data_format(data_format, who)
    images = as_tensor(images, who)
    shape = check_image(images, "images", who, data_format)
    _check_choice(interpolation, "interpolation", who, INTERPOLATIONS)
    _check_choice(fill_mode, "fill_mode", who, FILL_MODES)
    if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
        raise TypeError(f"{who}: fill_value must be a number, got {fill_value!r}")
    t = np.asarray(getattr(transform, "data", transform), dtype=np.float64)
    if t.ndim == 1:
        t = t[None]
    if t.ndim != 2 or t.shape[1] != 8 or t.shape[0] not in (1, shape[0]):
        raise ValueError(f"{who}: transform must have shape (8,) or (N, 8) with N = {shape[0]} "
                         f"images, got shape {np.shape(transform)}")
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{who}: transform must hold finite numbers, got {t.tolist()}")
    if np.any(t[:, 6:] != 0):
        raise ValueError(f"{who}: transform's last two entries (c0, c1, a projective part) must "
                         f"be 0, got {t[:, 6:].tolist()}")
    t = np.broadcast_to(t, (shape[0], 8))
    x = transpose(images, (0, 2, 3, 1)) if data_format == "channels_first" else images
    y = AffineTransform.apply(x, transform=t, interpolation=interpolation, fill_mode=fill_mode,
                              fill_value=float(fill_value))
    return transpose(y, (0, 3, 1, 2)) if data_format == "channels_first" else y
