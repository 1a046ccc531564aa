"""Sliding windows as strided slices of a padded array, for the convolution and pooling twins.

Along one axis, tap ``t`` of the window of output ``o`` reads padded position
``o * stride + t * dilation``; the image starts ``pad`` positions in. For one tap and *every* output
at once, the positions read form one strided slice, so a twin loops over the taps in Python and
never over pixels.

>>> a = np.arange(6.0).reshape(1, 6, 1, 1)             # one column of 6 pixels, no padding
>>> tap(a, 1, 0, (2, 1), (2, 1), (1, 1))[0, :, 0, 0]     # tap 1 of 2 outputs at stride 2
array([1., 3.])
"""
import numpy as np


def padded_size(n, out, k, stride, dilation, pad):
    """Length of the padded axis: the image after ``pad`` positions, and every position a window
    of the ``out`` outputs reads."""
    return max(pad + n, (out - 1) * stride + (k - 1) * dilation + 1)


def pad_image(x, out_hw, kernel_hw, strides, dilations, pads, fill=0.0):
    """NHWC ``x`` inside an array of ``fill`` that every window of the ``out_hw`` outputs fits in;
    ``pads`` = (pad_top, pad_left): where the image starts."""
    n, h, w, c = x.shape
    hp = padded_size(h, out_hw[0], kernel_hw[0], strides[0], dilations[0], pads[0])
    wp = padded_size(w, out_hw[1], kernel_hw[1], strides[1], dilations[1], pads[1])
    xpad = np.full((n, hp, wp, c), fill, dtype=x.dtype)
    xpad[:, pads[0]:pads[0] + h, pads[1]:pads[1] + w] = x
    return xpad


def tap(a, i, j, out_hw, strides, dilations):
    """The (N, OH, OW, C) view of padded array ``a`` that tap (i, j) of every window reads."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, strides, dilations
    return a[:, i * dh: i * dh + (oh - 1) * sh + 1: sh, j * dw: j * dw + (ow - 1) * sw + 1: sw, :]
