"""Pure-NumPy twins of the Cython kernels: the same names, the same arguments, the same results.

Read these first. Each is a few lines of array slicing that says *what* the fast kernel in
``depthwise.pyx`` or ``elementwise.pyx`` computes; the Cython version says *how* to do it quickly.
Tests hold the two equal.

Depthwise convolution, NHWC. Shapes and indices used throughout:

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

>>> x = np.arange(16, dtype=np.float64).reshape(1, 4, 4, 1)
>>> k = np.ones((2, 2, 1, 1))
>>> out = np.empty((1, 2, 2, 1))
>>> depthwise_forward(x, k, out, 2, 2, 1, 1, 0, 0, 1)   # 2x2 sums of each 2x2 block
>>> out[0, :, :, 0].tolist()
[[10.0, 18.0], [42.0, 50.0]]
"""
import math

import numpy as np


def _padded_size(n, out, k, stride, dilation, pad):
    """Length of the zero-padded axis: the image after ``pad`` zeros, and every pixel a window reads."""
    return max(pad + n, (out - 1) * stride + (k - 1) * dilation + 1)


def _tap(a, i, j, out_hw, strides, dilations):
    """The (N, OH, OW, C) view of padded array ``a`` that tap (i, j) of every window reads."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, strides, dilations
    return a[:, i * dh: i * dh + (oh - 1) * sh + 1: sh, j * dw: j * dw + (ow - 1) * sw + 1: sw, :]


def depthwise_forward(x, kernel, out, stride_h, stride_w, dilation_h, dilation_w, pad_top,
                      pad_left, num_threads):
    """out[n, oh, ow, c*M + m] = sum_{i,j} xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] kernel[i, j, c, m]."""
    n, h, w, c = x.shape
    kh, kw, _, m = kernel.shape
    oh, ow = out.shape[1:3]
    if out.size == 0:
        return
    hp = _padded_size(h, oh, kh, stride_h, dilation_h, pad_top)
    wp = _padded_size(w, ow, kw, stride_w, dilation_w, pad_left)
    xpad = np.zeros((n, hp, wp, c), dtype=x.dtype)
    xpad[:, pad_top:pad_top + h, pad_left:pad_left + w] = x
    acc = np.zeros((n, oh, ow, c, m), dtype=out.dtype)
    for i in range(kh):
        for j in range(kw):
            window_tap = _tap(xpad, i, j, (oh, ow), (stride_h, stride_w), (dilation_h, dilation_w))
            acc += window_tap[..., None] * kernel[i, j]  # (N, OH, OW, C, 1) * (C, M)
    out[...] = acc.reshape(n, oh, ow, c * m)


def depthwise_grad_input(grad_out, kernel, grad_x, stride_h, stride_w, dilation_h, dilation_w,
                         pad_top, pad_left, num_threads):
    """grad_x = dL/dx: each tap sends sum_m G * kernel back to the pixel it read."""
    n, h, w, c = grad_x.shape
    kh, kw, _, m = kernel.shape
    oh, ow = grad_out.shape[1:3]
    if grad_out.size == 0:
        grad_x[...] = 0
        return
    hp = _padded_size(h, oh, kh, stride_h, dilation_h, pad_top)
    wp = _padded_size(w, ow, kw, stride_w, dilation_w, pad_left)
    gpad = np.zeros((n, hp, wp, c), dtype=grad_x.dtype)
    g = grad_out.reshape(n, oh, ow, c, m)
    for i in range(kh):
        for j in range(kw):
            window_tap = _tap(gpad, i, j, (oh, ow), (stride_h, stride_w), (dilation_h, dilation_w))
            window_tap += (g * kernel[i, j]).sum(axis=-1)  # a view: adds into gpad
    grad_x[...] = gpad[:, pad_top:pad_top + h, pad_left:pad_left + w]


def depthwise_grad_kernel(x, grad_out, grad_kernel, stride_h, stride_w, dilation_h, dilation_w,
                          pad_top, pad_left, num_threads):
    """grad_kernel[i, j, c, m] = sum_{n,oh,ow} xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] G[n, oh, ow, c*M + m]."""
    n, h, w, c = x.shape
    kh, kw, _, m = grad_kernel.shape
    oh, ow = grad_out.shape[1:3]
    if grad_out.size == 0:
        grad_kernel[...] = 0
        return
    hp = _padded_size(h, oh, kh, stride_h, dilation_h, pad_top)
    wp = _padded_size(w, ow, kw, stride_w, dilation_w, pad_left)
    xpad = np.zeros((n, hp, wp, c), dtype=x.dtype)
    xpad[:, pad_top:pad_top + h, pad_left:pad_left + w] = x
    g = grad_out.reshape(n, oh, ow, c, m)
    for i in range(kh):
        for j in range(kw):
            window_tap = _tap(xpad, i, j, (oh, ow), (stride_h, stride_w), (dilation_h, dilation_w))
            grad_kernel[i, j] = np.einsum("nhwc,nhwcm->cm", window_tap, g)


def depthwise_backward(x, kernel, grad_out, grad_x, grad_kernel, stride_h, stride_w, dilation_h,
                       dilation_w, pad_top, pad_left, num_threads):
    """Both gradients at once: depthwise_grad_input into grad_x, depthwise_grad_kernel into
    grad_kernel (the Cython kernel runs them in one thread team; the math is the same)."""
    geometry = (stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, num_threads)
    depthwise_grad_input(grad_out, kernel, grad_x, *geometry)
    depthwise_grad_kernel(x, grad_out, grad_kernel, *geometry)


# -- elementwise.pyx -----------------------------------------------------------------------------

def erf(x, out, num_threads):
    """out[i] = erf(x[i]): Python's ``math.erf`` on every element (clear, but one Python call per
    element, so about 10x slower than the kernel, which calls C's ``erf``)."""
    out[...] = np.vectorize(math.erf, otypes=[np.float64])(x)
