"""Depthwise 2-D convolution: every input channel is convolved with its own filters.

With x of shape (N, H, W, C) and a kernel K of shape (KH, KW, C, M) (M is the depth multiplier),
output channel ``c*M + m`` is input channel c correlated with the filter K[:, :, c, m]:

    y[n, oh, ow, c*M + m] = sum_{i, j} xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] * K[i, j, c, m]

where ``xpad`` is x with the padding of :mod:`minigrad.ops.geometry` around it (TensorFlow's
'same' rule: the extra row/column goes at the bottom/right). This module validates the arguments
(before any C code runs), computes that geometry once, and hands NHWC arrays to the Cython kernels
of :mod:`minigrad.backend.kernels.depthwise` (or their NumPy twins, under
``MINIGRAD_KERNELS=reference``); ``channels_first`` input is transposed to NHWC around them.
"""
import numpy as np

from ..backend import kernels
from ..backend.buffers import buffers
from ..engine.function import Function
from ._common import tensor_argument, threads_for
from .layout import channel_axis, from_channels_last, to_channels_last
from .geometry import conv_geometry, normalize_data_format, normalize_padding, normalize_tuple

_kernels = kernels.get("depthwise")   # chosen once, at import
_WHO = "depthwise_conv2d"
# Below this many multiply-adds one thread is faster: starting an OpenMP team costs microseconds.
_PARALLEL_MIN = 1 << 16
# Strides and dilations above this cannot be meant; refusing them keeps index arithmetic in range.
_MAX_STEP = 2**31 - 1


class DepthwiseConv2D(Function):
    """y = depthwise_conv2d(x, K) on NHWC arrays (see the module docstring for f).

    Partials, for a loss L and G = dL/dy (N, OH, OW, C*M):

        dL/dxpad[n, oh*sh + i*dh, ow*sw + j*dw, c] += sum_m G[n, oh, ow, c*M + m] * K[i, j, c, m]
        dL/dK[i, j, c, m] = sum_{n, oh, ow} xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] * G[n, oh, ow, c*M + m]

    and dL/dx is dL/dxpad with the padding cut off. The input gradient needs K, the kernel
    gradient needs x: forward keeps only what the requested gradients need.
    """

    @staticmethod
    def forward(ctx, x, depthwise_kernel, *, strides, padding, dilation_rate):
        dtype = np.result_type(x.dtype, depthwise_kernel.dtype)  # float32 with float64 -> float64
        x_nhwc = np.ascontiguousarray(x, dtype=dtype)
        kernel = np.ascontiguousarray(depthwise_kernel, dtype=dtype)
        out = forward_output(ctx, x_nhwc, kernel, strides, padding, dilation_rate)
        _kernels.depthwise_forward(x_nhwc, kernel, out, *ctx.geometry, ctx.threads)

        need_x, need_kernel = ctx.needs_input_grad
        ctx.dtype = dtype
        ctx.input_dtypes = (x.dtype, depthwise_kernel.dtype)
        ctx.x_shape, ctx.kernel_shape = x_nhwc.shape, kernel.shape
        ctx.x = x_nhwc if need_kernel else None      # dL/dK reads x
        ctx.kernel = kernel if need_x else None      # dL/dx reads K
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_kernel = ctx.needs_input_grad
        g = np.ascontiguousarray(grad, dtype=ctx.dtype)
        gx = buffers.empty(ctx.x_shape, ctx.dtype) if need_x else None
        gk = np.empty(ctx.kernel_shape, dtype=ctx.dtype) if need_kernel else None
        if need_x and need_kernel:  # one thread team for both: waking threads costs time
            _kernels.depthwise_backward(ctx.x, ctx.kernel, g, gx, gk, *ctx.geometry, ctx.threads)
        elif need_x:
            _kernels.depthwise_grad_input(g, ctx.kernel, gx, *ctx.geometry, ctx.threads)
        elif need_kernel:
            _kernels.depthwise_grad_kernel(ctx.x, g, gk, *ctx.geometry, ctx.threads)
        grad_x = grad_kernel = None
        if need_x:
            grad_x = gx.astype(ctx.input_dtypes[0], copy=False)
        if need_kernel:
            grad_kernel = gk.astype(ctx.input_dtypes[1], copy=False)
        return grad_x, grad_kernel


def forward_output(ctx, x, kernel, strides, padding, dilation_rate):
    """The output array of the forward of NHWC x and kernel (a pooled buffer), with the kernels'
    geometry (``ctx.geometry``) and thread count (``ctx.threads``) set on ``ctx``."""
    n, h, w, c = x.shape
    kh, kw, _, m = kernel.shape
    (oh, ow), (pad_top, _), (pad_left, _) = conv_geometry((h, w), (kh, kw), strides,
                                                          dilation_rate, padding)
    ctx.geometry = (*strides, *dilation_rate, pad_top, pad_left)
    # pooled: a fresh multi-megabyte array costs more page faults than the convolution
    out = buffers.empty((n, oh, ow, c * m), x.dtype)
    ctx.threads = threads_for(out.size * kh * kw, _PARALLEL_MIN)
    return out


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid",
                     data_format="channels_last", dilation_rate=(1, 1)):
    """Depthwise 2-D convolution (TensorFlow / TF.js semantics), differentiable in x and kernel.

    Args:
        x: (N, H, W, C) for ``"channels_last"``, (N, C, H, W) for ``"channels_first"``.
        depthwise_kernel: (KH, KW, C, M); output channel ``c*M + m`` is channel c filtered by
            ``depthwise_kernel[:, :, c, m]``.
        strides, dilation_rate: a positive int or a pair (rows, columns). Both may exceed 1
            together.
        padding: ``"valid"`` (no padding; an empty output when the dilated window is larger
            than the input) or ``"same"`` (output ceil(H / stride), the extra padding
            row/column at the bottom/right).
        data_format: ``"channels_last"`` (or None) or ``"channels_first"``.

    Returns:
        A Tensor (N, OH, OW, C*M), or (N, C*M, OH, OW) for channels_first; float64 when an input
        is float64, else float32.

    >>> x = np.ones((1, 3, 3, 2), dtype=np.float32)
    >>> k = np.ones((2, 2, 2, 1), dtype=np.float32)
    >>> depthwise_conv2d(x, k).shape
    (1, 2, 2, 2)
    >>> depthwise_conv2d(x, k, padding="same").numpy()[0, :, :, 0].tolist()
    [[4.0, 4.0, 2.0], [4.0, 4.0, 2.0], [2.0, 2.0, 1.0]]
    """
    x, depthwise_kernel, settings, axis = check_arguments(_WHO, x, depthwise_kernel, strides,
                                                          padding, data_format, dilation_rate)
    y = DepthwiseConv2D.apply(to_channels_last(x, axis), depthwise_kernel, **settings)
    return from_channels_last(y, axis)


def check_arguments(who, x, depthwise_kernel, strides, padding, data_format, dilation_rate):
    """:func:`depthwise_conv2d`'s arguments checked before any kernel runs: returns x and the
    kernel as Tensors, the settings ``DepthwiseConv2D.apply`` takes (strides, padding,
    dilation_rate, normalised) and the channel axis of x."""
    data_format = normalize_data_format(data_format, who)
    padding = normalize_padding(padding, who)
    strides = normalize_tuple(strides, 2, "strides", who)
    dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", who)
    for name, value in (("strides", strides), ("dilation_rate", dilation_rate)):
        if max(value) > _MAX_STEP:
            raise ValueError(f"{who}: {name} must be at most {_MAX_STEP}, got {value}")
    x = tensor_argument(x, "x", who)
    depthwise_kernel = tensor_argument(depthwise_kernel, "depthwise_kernel", who)
    layout = "(N, H, W, C)" if data_format == "channels_last" else "(N, C, H, W)"
    if x.ndim != 4:
        raise ValueError(f"{who}: x must be 4-D {layout} for data_format={data_format!r}, got "
                         f"shape {x.shape}")
    if depthwise_kernel.ndim != 4:
        raise ValueError(f"{who}: depthwise_kernel must be 4-D (kernel_h, kernel_w, channels, "
                         f"depth_multiplier), got shape {depthwise_kernel.shape}")
    kh, kw, kernel_channels, multiplier = depthwise_kernel.shape
    if kh < 1 or kw < 1:
        raise ValueError(f"{who}: the kernel size must be at least 1x1, got {kh}x{kw} "
                         f"(depthwise_kernel shape {depthwise_kernel.shape})")
    if multiplier < 1:
        raise ValueError(f"{who}: the depth multiplier (depthwise_kernel.shape[3]) must be a "
                         f"positive integer, got {multiplier}")
    channels = x.shape[3] if data_format == "channels_last" else x.shape[1]
    if kernel_channels != channels:
        raise ValueError(f"{who}: depthwise_kernel has {kernel_channels} input channels "
                         f"(shape[2] of {depthwise_kernel.shape}) but x has {channels} "
                         f"(shape {x.shape}, data_format={data_format!r})")
    settings = {"strides": strides, "padding": padding, "dilation_rate": dilation_rate}
    return x, depthwise_kernel, settings, channel_axis(data_format)
