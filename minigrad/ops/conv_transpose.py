"""Transposed 2-D convolution (Keras ``Conv2DTranspose`` semantics): the adjoint of a convolution.

For an NHWC input x (N, H, W, C) and a kernel K (kh, kw, F, C) (Keras's layout: ``filters`` before
the input channels), every input pixel *spreads* a kh x kw patch into the output::

    y_full[n, i*sh + a*dh, j*sw + b*dw, f] += x[n, i, j, c] * K[a, b, f, c]

``y_full`` has (H - 1)*sh + eff_h rows (eff = (k - 1)*dilation + 1), likewise columns. The output
``y`` is the window ``y_full[crop : crop + out]`` of each axis (reading 0 past the end), with
``out`` from :func:`deconv_output_length` and ``crop = max(full - out, 0) // 2``: 0 for
``"valid"``, and for ``"same"`` the smaller half of the surplus, taken at the top/left, as
TensorFlow and Keras do.

So y is the *input gradient* of ``conv2d(z, K)`` for a z of the output's shape, with that conv's
padding ``(crop, full - out - crop)``. Computing it the same way as :mod:`minigrad.ops.conv`:

* forward: ``cols = x (N*H*W, C) @ K (kh*kw*F, C)^T``, then :func:`~minigrad.ops.conv.col2im` adds
  every entry of ``cols`` onto the output pixel it belongs to (one strided ``+=`` per tap);
* the partials need the windows of the output gradient G, ``Gcols = im2col(G)`` (N*H*W, kh*kw*F),
  which read exactly the outputs each input pixel wrote:

  - dL/dx = Gcols @ K (kh*kw*F, C)       (a strided convolution of G with K)
  - dL/dK = Gcols^T @ x (N*H*W, C)

``channels_first`` inputs are transposed to NHWC around the same code.
"""
import numpy as np

from ..engine.function import Function
from ._common import check_image, shape_of
from ._matmul import matmul, matmul_tn
from .conv import col2im, im2col, promote, tap_ranges
from .geometry import normalize_data_format, normalize_padding, normalize_tuple
from .layout import channel_axis, from_channels_last, to_channels_last


def deconv_output_length(n, kernel_size, stride, padding, output_padding=None, dilation=1):
    """Output size of one axis of a transposed convolution, Keras's rule (None stays None).

    Without ``output_padding``: ``n*stride + max(eff - stride, 0)`` for ``"valid"`` (every tap of
    every input lands in the output) and ``n*stride`` for ``"same"``. With it:
    ``(n - 1)*stride + eff + output_padding`` for ``"valid"`` and
    ``(n - 1)*stride + eff % 2 + output_padding`` for ``"same"``.

    >>> deconv_output_length(4, 3, 2, "valid"), deconv_output_length(4, 3, 2, "same")
    (9, 8)
    >>> deconv_output_length(4, 3, 2, "same", output_padding=0)
    7
    """
    if n is None:
        return None
    eff = (kernel_size - 1) * dilation + 1
    if output_padding is None:
        return n * stride + max(eff - stride, 0) if padding == "valid" else n * stride
    if padding == "valid":
        return (n - 1) * stride + eff + output_padding
    return (n - 1) * stride + eff % 2 + output_padding


def transpose_geometry(in_hw, kernel_hw, strides, dilation_rate, padding, output_padding):
    """Both axes: ``((out_h, out_w), (crop_top, crop_left))``, see the module docstring."""
    out, crops = [], []
    for i, (n, k, s, d) in enumerate(zip(in_hw, kernel_hw, strides, dilation_rate)):
        op = None if output_padding is None else output_padding[i]
        size = deconv_output_length(n, k, s, padding, op, d)
        full = (n - 1) * s + (k - 1) * d + 1
        out.append(size)
        crops.append(max(full - size, 0) // 2)
    return tuple(out), tuple(crops)


class Conv2DTranspose(Function):
    """y = conv2d_transpose(x, K) on NHWC arrays (see the module docstring for f and its partials).

    Attrs: ``strides`` (sh, sw), ``dilation_rate`` (dh, dw), ``out_hw`` (OH, OW) and ``crops``
    (top, left), all computed once by :func:`conv2d_transpose`.
    """

    @staticmethod
    def forward(ctx, x, kernel, *, strides, dilation_rate, out_hw, crops):
        x, kernel = promote(ctx, x, kernel)
        dtype = x.dtype
        kh, kw, f, c = kernel.shape
        n, h, w, _ = x.shape
        oh, ow = out_hw
        ctx.strides, ctx.dilation_rate, ctx.crops = strides, dilation_rate, crops
        ctx.x_shape, ctx.kernel_shape = x.shape, kernel.shape
        need_x, need_k = ctx.needs_input_grad
        ctx.kernel = kernel if need_x else None
        ctx.x = x if need_k else None
        if n * h * w == 0:    # an empty batch: nothing to spread
            return np.zeros((n, oh, ow, f), dtype=dtype)
        # every input pixel's contribution to each tap and filter, then added where it lands
        cols = matmul(x.reshape(n * h * w, c),
                      np.ascontiguousarray(kernel.reshape(kh * kw * f, c).T))
        rows = tap_ranges(oh, h, kh, strides[0], dilation_rate[0], crops[0])
        cols_w = tap_ranges(ow, w, kw, strides[1], dilation_rate[1], crops[1])
        return col2im(cols.reshape(n, h, w, kh, kw, f), (n, oh, ow, f), rows, cols_w, strides)

    @staticmethod
    def backward(ctx, grad):
        n, h, w, c = ctx.x_shape
        kh, kw, f, _ = ctx.kernel_shape
        need_x, need_k = ctx.needs_input_grad
        if n * h * w == 0:
            return (np.zeros(ctx.x_shape, ctx.x_dtype) if need_x else None,
                    np.zeros(ctx.kernel_shape, ctx.k_dtype) if need_k else None)
        # the windows of G that each input pixel wrote to: im2col of G padded by the crop before
        # and by what is left of y_full after the output. Output rows past y_full's end (zeros
        # that no input wrote) are cut off instead, since im2col pads but does not crop.
        pads, keep = [], []
        for size, k, s, d, n_in, crop in zip(grad.shape[1:3], (kh, kw), ctx.strides,
                                             ctx.dilation_rate, (h, w), ctx.crops):
            full = (n_in - 1) * s + (k - 1) * d + 1
            after = full - size - crop
            pads.append((crop, max(after, 0)))
            keep.append(min(size, full - crop))
        g = grad[:, :keep[0], :keep[1]]
        gcols = im2col(g, (kh, kw), ctx.strides, ctx.dilation_rate, tuple(pads), (h, w))
        gx = gk = None
        if need_x:
            gx = matmul(gcols, ctx.kernel.reshape(kh * kw * f, c)).reshape(ctx.x_shape)
            gx = gx.astype(ctx.x_dtype, copy=False)
        if need_k:
            gk = matmul_tn(gcols, ctx.x.reshape(n * h * w, c)).reshape(ctx.kernel_shape)
            gk = gk.astype(ctx.k_dtype, copy=False)
        return gx, gk


def conv2d_transpose(x, kernel, strides=(1, 1), padding="valid", output_padding=None,
                     data_format="channels_last", dilation_rate=(1, 1)):
    """Transposed 2-D convolution (Keras ``ops.conv_transpose``): a Tensor of the output.

    Args:
        x: (N, H, W, C) for ``"channels_last"``, (N, C, H, W) for ``"channels_first"``.
        kernel: (kh, kw, filters, C), Keras's layout (filters first, then input channels).
        strides, dilation_rate: an int or a pair of positive ints (both may exceed 1).
        padding: ``"valid"`` or ``"same"``; output sizes follow :func:`deconv_output_length`.
        output_padding: None, or an int or pair of non-negative ints, each below its stride: extra
            rows/columns at the bottom/right.

    Returns (N, OH, OW, filters) (or (N, filters, OH, OW)).

    >>> x = np.ones((1, 2, 2, 1))
    >>> conv2d_transpose(x, np.ones((2, 2, 1, 1)), strides=1).numpy()[0, :, :, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    who = "conv2d_transpose"
    data_format = normalize_data_format(data_format, who)
    padding = normalize_padding(padding, who)
    strides = normalize_tuple(strides, 2, "strides", who)
    dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", who)
    output_padding = check_output_padding(output_padding, strides, who)
    shape = check_image(x, "x", who, data_format)
    kshape = shape_of(kernel)
    if len(kshape) != 4 or 0 in kshape:
        raise ValueError(f"{who}: kernel must be a 4-D tensor (kh, kw, filters, in_channels) with "
                         f"no zero dimension, got shape {kshape}")
    cin = shape[3] if data_format == "channels_last" else shape[1]
    if kshape[3] != cin:
        raise ValueError(f"{who}: kernel has {kshape[3]} input channels (its last axis, shape "
                         f"{kshape}) but x has {cin} channels (shape {shape}, "
                         f"data_format={data_format!r})")
    hw = shape[1:3] if data_format == "channels_last" else shape[2:4]
    if 0 in hw:
        raise ValueError(f"{who}: x must have non-empty spatial axes, got shape {shape} "
                         f"(data_format={data_format!r})")
    out_hw, crops = transpose_geometry(hw, kshape[:2], strides, dilation_rate, padding,
                                       output_padding)
    axis = channel_axis(data_format)
    y = Conv2DTranspose.apply(to_channels_last(x, axis), kernel, strides=strides,
                              dilation_rate=dilation_rate, out_hw=out_hw, crops=crops)
    return from_channels_last(y, axis)


def check_output_padding(output_padding, strides, who):
    """None, or ``output_padding`` as a pair of non-negative ints each below its stride (Keras's
    rule: a padding of a whole stride would be an input pixel's worth of output nobody wrote)."""
    if output_padding is None:
        return None
    output_padding = normalize_tuple(output_padding, len(strides), "output_padding", who,
                                     allow_zero=True)
    for i, (op, s) in enumerate(zip(output_padding, strides)):
        if op >= s:
            raise ValueError(f"{who}: output_padding must be strictly less than strides on every "
                             f"axis, got output_padding={output_padding} with strides={strides} "
                             f"(axis {i}: {op} >= {s})")
    return output_padding
