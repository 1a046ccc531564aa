"""ONNX converters for the layers with spatial windows: convolutions (plain, grouped, depthwise,
separable, transposed), poolings, global poolings, padding, cropping and resizing.

ONNX's Conv, ConvTranspose, MaxPool and AveragePool read channels first (N, C, spatial...); for a
``channels_last`` layer the input is transposed in and the output transposed back. Weights are
rearranged once, here:

* Conv kernel (k..., C_in / groups, F) -> (F, C_in / groups, k...);
* depthwise kernel (k..., C, M) -> a grouped Conv (group = C) with C * M filters of one channel,
  filter c * M + m being kernel[..., c, m] (reshaping (C, M) row-major gives exactly that order);
* Conv2DTranspose kernel (kh, kw, F, C_in) -> ConvTranspose's (C_in, F, kh, kw).

Padding is always explicit: TensorFlow's 'same' pads ``total // 2`` before and the rest after
(the extra row/column at the bottom/right), 'causal' pads ``(k - 1) * dilation`` before.
Average pooling with 'same' averages the real pixels only (``count_include_pad=0``).
"""
import numpy as np

from ..ops.geometry import window_geometry
from .onnx_layers import activation

FOLDABLE = ("Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
            "SeparableConv2D")


def _weights(layer):
    return [np.asarray(w, np.float32) for w in layer.get_weights()]


def _channels_first(layer):
    return layer.get_config().get("data_format") == "channels_first"


def to_nc(b, x, rank, layer):
    """(N, spatial..., C) -> (N, C, spatial...) for a channels_last layer."""
    return x if _channels_first(layer) else b.node("Transpose", [x], perm=[0, rank - 1] +
                                                   list(range(1, rank - 1)))


def from_nc(b, x, rank, layer):
    return x if _channels_first(layer) else b.node("Transpose", [x], perm=[0] +
                                                   list(range(2, rank)) + [1])


def _spatial(shape, layer):
    return shape[2:] if _channels_first(layer) else shape[1:-1]


def pads(layer, in_shape, kernel, strides, dilations, padding):
    """ONNX ``pads`` ([begins..., ends...]) for TensorFlow's padding rules."""
    begins, ends = [], []
    for n, k, s, d in zip(_spatial(in_shape, layer), kernel, strides, dilations):
        eff = (k - 1) * d + 1
        if padding == "causal":
            before, after = eff - 1, 0
        elif padding == "valid":
            before = after = 0
        elif n is None and s != 1:
            raise ValueError(f"export: layer '{layer.name}' uses padding 'same' with strides "
                             f"{tuple(strides)} on an axis of unknown size: the pads depend on the "
                             f"size, so give the model's input a fixed spatial shape to export it")
        elif n is None:
            before, after = (eff - 1) // 2, eff - 1 - (eff - 1) // 2
        else:
            _, before, after = window_geometry(n, k, s, d, padding)
        begins.append(int(before))
        ends.append(int(after))
    return begins + ends


# -- convolutions ----------------------------------------------------------------------------------
def _conv(b, x, kernel, bias, layer, in_shape, group=1, strides=None, dilations=None,
          padding=None):
    config = layer.get_config()
    rank = kernel.ndim - 2
    strides = strides or list(config["strides"])
    dilations = dilations or list(config["dilation_rate"])
    padding = padding or config["padding"]
    w = np.transpose(kernel, (rank + 1, rank) + tuple(range(rank)))
    inputs = [x, b.const(w, label="kernel")] + ([b.const(bias, label="bias")]
                                                if bias is not None else [])
    return b.node("Conv", inputs, kernel_shape=list(kernel.shape[:rank]), strides=strides,
                  dilations=dilations, group=group,
                  pads=pads(layer, in_shape, kernel.shape[:rank], strides, dilations, padding))


def _depthwise_as_grouped(kernel):
    """(k..., C, M) -> (k..., 1, C * M), filter c * M + m = kernel[..., c, m]."""
    spatial = kernel.shape[:-2]
    return kernel.reshape(spatial + (1, kernel.shape[-2] * kernel.shape[-1]))


def _fold(kernel, bias, fold):
    """A BatchNormalization's y = x * scale + shift absorbed by the output channels."""
    if fold is None:
        return kernel, bias
    scale, shift = fold
    bias = np.zeros(kernel.shape[-1], np.float64) if bias is None else bias.astype(np.float64)
    return ((kernel * scale).astype(np.float32), (bias * scale + shift).astype(np.float32))


def _convolution(b, layer, ins, in_shapes, out_shapes, fold=None):
    """Conv1D/Conv2D (groups), DepthwiseConv1D/2D, SeparableConv1D/2D."""
    kind, weights, config = type(layer).__name__, _weights(layer), layer.get_config()
    rank = len(in_shapes[0])
    x = to_nc(b, ins[0], rank, layer)
    if kind.startswith("Separable"):
        depthwise, pointwise = weights[0], weights[1]
        bias = weights[2] if config["use_bias"] else None
        x = _conv(b, x, _depthwise_as_grouped(depthwise), None, layer, in_shapes[0],
                  group=depthwise.shape[-2])
        pointwise, bias = _fold(pointwise, bias, fold)
        ones = [1] * (rank - 2)
        y = _conv(b, x, pointwise, bias, layer, in_shapes[0], strides=ones, dilations=ones,
                  padding="valid")
    elif kind.startswith("Depthwise"):
        kernel = _depthwise_as_grouped(weights[0])
        kernel, bias = _fold(kernel, weights[1] if config["use_bias"] else None, fold)
        y = _conv(b, x, kernel, bias, layer, in_shapes[0], group=weights[0].shape[-2])
    else:
        kernel, bias = _fold(weights[0], weights[1] if config["use_bias"] else None, fold)
        y = _conv(b, x, kernel, bias, layer, in_shapes[0], group=config.get("groups", 1))
    return activation(b, layer.activation, from_nc(b, y, rank, layer), layer.name)


def _conv_transpose(b, layer, ins, in_shapes, out_shapes):
    """Conv2DTranspose: the full output (n - 1) * s + (k - 1) * d + 1, cropped by ``pads`` and
    extended at the end by ``output_padding``, to the size the layer gives."""
    weights, config = _weights(layer), layer.get_config()
    rank = len(in_shapes[0])
    kernel = weights[0]
    k = kernel.shape[:-2]
    strides, dilations = list(config["strides"]), list(config["dilation_rate"])
    begins, ends, extra = [], [], []
    for i, (n, out) in enumerate(zip(_spatial(in_shapes[0], layer),
                                     _spatial(out_shapes[0], layer))):
        if n is None or out is None:
            raise ValueError(f"export: Conv2DTranspose '{layer.name}' needs a fixed spatial "
                             f"input shape to be exported")
        eff = (k[i] - 1) * dilations[i] + 1
        full = (n - 1) * strides[i] + eff
        before = max(full - out, 0) // 2   # the smaller half of the surplus at the start
        after = full - before - out
        begins.append(before)
        ends.append(max(after, 0))
        extra.append(max(-after, 0))
    w = np.transpose(kernel, (rank - 1, rank - 2) + tuple(range(rank - 2)))
    inputs = [to_nc(b, ins[0], rank, layer), b.const(w, label="kernel")]
    if config["use_bias"]:
        inputs.append(b.const(weights[1], label="bias"))
    y = b.node("ConvTranspose", inputs, kernel_shape=list(k), strides=strides,
               dilations=dilations, pads=begins + ends, output_padding=extra)
    return activation(b, layer.activation, from_nc(b, y, rank, layer), layer.name)


# -- pooling -----------------------------------------------------------------------------------------
def _pool(op):
    def convert(b, layer, ins, in_shapes, out_shapes):
        config, rank = layer.get_config(), len(in_shapes[0])
        size = list(config["pool_size"]) if isinstance(config["pool_size"], (list, tuple)) \
            else [config["pool_size"]] * (rank - 2)
        strides = config.get("strides") or size
        strides = list(strides) if isinstance(strides, (list, tuple)) else [strides] * (rank - 2)
        attrs = {"count_include_pad": 0} if op == "AveragePool" else {}
        y = b.node(op, [to_nc(b, ins[0], rank, layer)], kernel_shape=size, strides=strides,
                   pads=pads(layer, in_shapes[0], size, strides, [1] * len(size),
                             config["padding"]), **attrs)
        return from_nc(b, y, rank, layer)
    return convert


def _global_pool(op):
    def convert(b, layer, ins, in_shapes, out_shapes):
        rank = len(in_shapes[0])
        axes = list(range(2, rank)) if _channels_first(layer) else list(range(1, rank - 1))
        keepdims = int(bool(layer.get_config().get("keepdims", False)))
        return b.node(op, [ins[0], b.ints(axes, "axes")], keepdims=keepdims)
    return convert


# -- padding, cropping, resizing ---------------------------------------------------------------------
def _amounts(layer, key, rank):
    """((before, after) per spatial axis) from a ZeroPadding/Cropping config."""
    value = layer.get_config()[key]
    spatial = rank - 2
    if isinstance(value, int):
        return [(value, value)] * spatial
    value = list(value)
    if spatial == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return [tuple(value)]
    return [(v, v) if isinstance(v, int) else tuple(v) for v in value]


def _spatial_axes(layer, rank):
    return list(range(2, rank)) if _channels_first(layer) else list(range(1, rank - 1))


def _zero_padding(b, layer, ins, in_shapes, out_shapes):
    rank = len(in_shapes[0])
    begins, ends = [0] * rank, [0] * rank
    for axis, (before, after) in zip(_spatial_axes(layer, rank), _amounts(layer, "padding", rank)):
        begins[axis], ends[axis] = before, after
    return b.node("Pad", [ins[0], b.ints(begins + ends, "pads")], mode="constant")


def _cropping(b, layer, ins, in_shapes, out_shapes):
    rank = len(in_shapes[0])
    axes = _spatial_axes(layer, rank)
    amounts = _amounts(layer, "cropping", rank)
    starts = [before for before, _ in amounts]
    ends = [-after if after else np.iinfo(np.int64).max for _, after in amounts]
    return b.node("Slice", [ins[0], b.ints(starts, "starts"), b.ints(ends, "ends"),
                            b.ints(axes, "axes")])


def _resize(b, x, layer, rank, mode, transform, sizes=None, scales=None, nearest="floor"):
    """ONNX Resize of the spatial axes to ``sizes`` (or by ``scales``)."""
    inputs = [x, "", b.const(scales, label="scales") if scales is not None else "",
              b.ints(sizes, "sizes") if sizes is not None else ""]
    while inputs[-1] == "":
        inputs.pop()
    attrs = {"nearest_mode": nearest} if mode == "nearest" else {}
    return b.node("Resize", inputs, axes=_spatial_axes(layer, rank), mode=mode,
                  coordinate_transformation_mode=transform, **attrs)


def _upsampling(b, layer, ins, in_shapes, out_shapes):
    """Nearest: each pixel repeated (asymmetric coordinates, floor). Bilinear: half-pixel
    centres, as Keras's resize."""
    config, rank = layer.get_config(), len(in_shapes[0])
    size = config["size"]
    size = [size] * (rank - 2) if isinstance(size, int) else list(size)
    scales = [float(s) for s in size]
    if config.get("interpolation", "nearest") == "bilinear":
        return _resize(b, ins[0], layer, rank, "linear", "half_pixel", scales=scales)
    return _resize(b, ins[0], layer, rank, "nearest", "asymmetric", scales=scales)


def _resizing(b, layer, ins, in_shapes, out_shapes):
    config, rank = layer.get_config(), len(in_shapes[0])
    for key in ("crop_to_aspect_ratio", "pad_to_aspect_ratio"):
        if config.get(key):
            raise ValueError(f"export: Resizing '{layer.name}' with {key}=True is not supported "
                             f"by the exporter")
    if config["interpolation"] not in ("bilinear", "nearest"):
        raise ValueError(f"export: Resizing '{layer.name}' with interpolation "
                         f"{config['interpolation']!r} is not supported by the exporter "
                         f"('bilinear' and 'nearest' are)")
    sizes = [config["height"], config["width"]]
    if config["interpolation"] == "bilinear":
        return _resize(b, ins[0], layer, rank, "linear", "half_pixel", sizes=sizes)
    return _resize(b, ins[0], layer, rank, "nearest", "half_pixel", sizes=sizes,
                   nearest="round_prefer_ceil")


def _center_crop(b, layer, ins, in_shapes, out_shapes):
    config, rank = layer.get_config(), len(in_shapes[0])
    axes = _spatial_axes(layer, rank)
    sizes = [in_shapes[0][a] for a in axes]
    target = [config["height"], config["width"]]
    if any(n is None or n < t for n, t in zip(sizes, target)):
        raise ValueError(f"export: CenterCrop '{layer.name}' is exported only when the input "
                         f"(spatial shape {sizes}) is known and at least {target}")
    starts = [(n - t) // 2 for n, t in zip(sizes, target)]
    ends = [s + t for s, t in zip(starts, target)]
    return b.node("Slice", [ins[0], b.ints(starts, "starts"), b.ints(ends, "ends"),
                            b.ints(axes, "axes")])


CONVERTERS = {
    **{name: _convolution for name in FOLDABLE},
    "Conv2DTranspose": _conv_transpose,
    "MaxPooling1D": _pool("MaxPool"), "MaxPooling2D": _pool("MaxPool"),
    "AveragePooling1D": _pool("AveragePool"), "AveragePooling2D": _pool("AveragePool"),
    "GlobalAveragePooling1D": _global_pool("ReduceMean"),
    "GlobalAveragePooling2D": _global_pool("ReduceMean"),
    "GlobalMaxPooling1D": _global_pool("ReduceMax"),
    "GlobalMaxPooling2D": _global_pool("ReduceMax"),
    "ZeroPadding1D": _zero_padding, "ZeroPadding2D": _zero_padding,
    "Cropping1D": _cropping, "Cropping2D": _cropping,
    "UpSampling1D": _upsampling, "UpSampling2D": _upsampling,
    "Resizing": _resizing, "CenterCrop": _center_crop,
}
