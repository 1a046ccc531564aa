"""NumPy twin of ``depthwise.pyx``: depthwise convolution, NHWC, and its two gradients.

Shapes and indices used throughout:

* ``x``: (N, H, W, C); ``kernel``: (KH, KW, C, M) with depth multiplier M;
* ``out`` and ``grad_out``: (N, OH, OW, C*M), output channel ``c*M + m``;
* geometry (computed once by the op with :func:`minigrad.ops.geometry.conv_geometry`): strides
  (sh, sw), dilations (dh, dw), ``pad_top`` and ``pad_left`` (the zeros before the image; the
  output size is the shape of ``out``; rows/columns after the image are zeros too).

With ``xpad`` the input surrounded by those zeros, tap (i, j) of the window of output pixel
(oh, ow) reads ``xpad[n, oh*sh + i*dh, ow*sw + j*dw, c]``, and

    out[n, oh, ow, c*M + m] = sum_{i, j} xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] * kernel[i, j, c, m]

Its two gradients, for a loss L with G = dL/dout:

    dL/dxpad[n, oh*sh + i*dh, ow*sw + j*dw, c] += sum_m G[n, oh, ow, c*M + m] * kernel[i, j, c, m]
    dL/dkernel[i, j, c, m] = sum_{n, oh, ow} xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] * G[n, oh, ow, c*M + m]

and dL/dx is dL/dxpad without the padding. Every function writes into the array it is given
(``out``, ``grad_x``, ``grad_kernel``) and returns None; ``num_threads`` is accepted for the
signature's sake (NumPy here runs on one thread).

``prologue`` = (center, scale, shift, lo, hi), for the functions that read x: x is first mapped
through a batch norm and its clip, ``clip((x - center) * scale + shift, lo, hi)`` per channel
(``batchnorm.normalize``), and the padding around it stays zero. The compiled kernels make that
map as they stage each row, so a batch norm's output never has to be written out (the model's
plan fuses BatchNormalization -> ReLU -> DepthwiseConv2D so; see ``minigrad.ops.fused``).

>>> x = np.arange(16, dtype=np.float64).reshape(1, 4, 4, 1)
>>> k = np.ones((2, 2, 1, 1))
>>> out = np.empty((1, 2, 2, 1))
>>> depthwise_forward(x, k, out, 2, 2, 1, 1, 0, 0, 1)   # 2x2 sums of each 2x2 block
>>> out[0, :, :, 0].tolist()
[[10.0, 18.0], [42.0, 50.0]]
"""
import numpy as np

from ._windows import pad_image, padded_size, tap
from .batchnorm import normalize


def _through(x, prologue):
    """x read through the prologue's batch norm and clip (x itself when there is none)."""
    if prologue is None:
        return x
    center, scale, shift, lo, hi = prologue
    mapped = np.empty_like(x)
    normalize(x.reshape(-1, x.shape[-1]), center, scale, shift, lo, hi,
              mapped.reshape(-1, x.shape[-1]), 1)
    return mapped


def depthwise_forward(x, kernel, out, stride_h, stride_w, dilation_h, dilation_w, pad_top,
                      pad_left, num_threads, prologue=None):
    """out[n, oh, ow, c*M + m] = sum_{i,j} xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] kernel[i, j, c, m]."""
    x = _through(x, prologue)
    n, _, _, c = x.shape
    kh, kw, _, m = kernel.shape
    out_hw, strides, dilations = out.shape[1:3], (stride_h, stride_w), (dilation_h, dilation_w)
    if out.size == 0:
        return
    xpad = pad_image(x, out_hw, (kh, kw), strides, dilations, (pad_top, pad_left))
    acc = np.zeros((n, *out_hw, c, m), dtype=out.dtype)
    for i in range(kh):
        for j in range(kw):
            acc += tap(xpad, i, j, out_hw, strides, dilations)[..., None] * kernel[i, j]
            # (N, OH, OW, C, 1) * (C, M): channel c meets its M filters
    out[...] = acc.reshape(n, *out_hw, c * m)


def depthwise_grad_input(grad_out, kernel, grad_x, stride_h, stride_w, dilation_h, dilation_w,
                         pad_top, pad_left, num_threads):
    """grad_x = dL/dx: each tap sends sum_m G * kernel back to the pixel it read."""
    n, h, w, c = grad_x.shape
    kh, kw, _, m = kernel.shape
    out_hw, strides, dilations = grad_out.shape[1:3], (stride_h, stride_w), (dilation_h, dilation_w)
    if grad_out.size == 0:
        grad_x[...] = 0
        return
    gpad = np.zeros((n, padded_size(h, out_hw[0], kh, stride_h, dilation_h, pad_top),
                     padded_size(w, out_hw[1], kw, stride_w, dilation_w, pad_left), c),
                    dtype=grad_x.dtype)
    g = grad_out.reshape(n, *out_hw, c, m)
    for i in range(kh):
        for j in range(kw):
            # a view of gpad: += adds into the pixels this tap read
            tap(gpad, i, j, out_hw, strides, dilations)[...] += (g * kernel[i, j]).sum(axis=-1)
    grad_x[...] = gpad[:, pad_top:pad_top + h, pad_left:pad_left + w]


def depthwise_grad_kernel(x, grad_out, grad_kernel, stride_h, stride_w, dilation_h, dilation_w,
                          pad_top, pad_left, num_threads, prologue=None):
    """grad_kernel[i, j, c, m] = sum_{n,oh,ow} xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] G[n, oh, ow, c*M + m]."""
    x = _through(x, prologue)
    n, _, _, c = x.shape
    kh, kw, _, m = grad_kernel.shape
    out_hw, strides, dilations = grad_out.shape[1:3], (stride_h, stride_w), (dilation_h, dilation_w)
    if grad_out.size == 0:
        grad_kernel[...] = 0
        return
    xpad = pad_image(x, out_hw, (kh, kw), strides, dilations, (pad_top, pad_left))
    g = grad_out.reshape(n, *out_hw, c, m)
    for i in range(kh):
        for j in range(kw):
            grad_kernel[i, j] = np.einsum("nhwc,nhwcm->cm", tap(xpad, i, j, out_hw, strides,
                                                                dilations), g)


def depthwise_backward(x, kernel, grad_out, grad_x, grad_kernel, stride_h, stride_w, dilation_h,
                       dilation_w, pad_top, pad_left, num_threads, prologue=None):
    """Both gradients at once: depthwise_grad_input into grad_x, depthwise_grad_kernel into
    grad_kernel (the Cython kernel runs them in one thread team; the math is the same)."""
    geometry = (stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, num_threads)
    depthwise_grad_input(grad_out, kernel, grad_x, *geometry)
    depthwise_grad_kernel(x, grad_out, grad_kernel, *geometry, prologue)

