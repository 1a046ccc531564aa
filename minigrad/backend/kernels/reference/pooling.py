"""NumPy twin of ``pooling.pyx``: max and average pooling on NHWC arrays, and their gradients.

Geometry as in the kernels: window (kh, kw), strides (sh, sw), top/left padding (pt, pl); output
(oh, ow) reads input pixel (oh*sh + i - pt, ow*sw + j - pl) through tap (i, j). The twins pad the
image (with -inf for max pooling, which then never picks the padding; with 0 for average pooling,
which counts only the real pixels of each window) and take one strided slice of the whole batch
per tap, as the depthwise twin does.

>>> x = np.arange(16.0).reshape(1, 4, 4, 1)
>>> y, argmax = np.empty((1, 2, 2, 1)), np.empty((1, 2, 2, 1), np.int32)
>>> max_pool_forward(x, y, argmax, 2, 2, 2, 2, 0, 0, 1)
>>> y[0, :, :, 0].tolist(), argmax[0, :, :, 0].tolist()     # argmax: h*W + w of the maximum
([[5.0, 7.0], [13.0, 15.0]], [[5, 7], [13, 15]])
"""
import numpy as np

from ._windows import pad_image, tap


def _taps(kh, kw):
    """The taps (i, j) of a window, in the kernels' order: row by row."""
    return [(i, j) for i in range(kh) for j in range(kw)]


def max_pool_forward(x, y, argmax, kh, kw, sh, sw, pt, pl, num_threads):
    """y[n, oh, ow, c] = max of the window; argmax = h*W + w of the first maximum (row by row), or
    -1 for a window with no real pixel (then y is -inf)."""
    _, _, w, _ = x.shape
    out_hw = y.shape[1:3]
    y[...] = -np.inf
    argmax[...] = -1
    if y.size == 0:
        return
    xpad = pad_image(x, out_hw, (kh, kw), (sh, sw), (1, 1), (pt, pl), fill=-np.inf)
    rows = np.arange(out_hw[0])[:, None] * sh - pt       # input row of tap i = 0, per output row
    cols = np.arange(out_hw[1])[None, :] * sw - pl
    for i, j in _taps(kh, kw):
        src = tap(xpad, i, j, out_hw, (sh, sw), (1, 1))
        better = src > y        # strictly: an equal later tap does not take the arg-max (as TF)
        np.copyto(y, src, where=better)
        flat = ((rows + i) * w + cols + j)[None, :, :, None].astype(np.int32)
        np.copyto(argmax, np.broadcast_to(flat, argmax.shape), where=better)


def max_pool_backward(grad, argmax, gx, num_threads):
    """gx (N, H*W, C), zeroed by the caller: gx[n, argmax[n, oh, ow, c], c] += grad[n, oh, ow, c]."""
    n, _, _, c = grad.shape
    batch = np.broadcast_to(np.arange(n)[:, None, None, None], grad.shape)
    channel = np.broadcast_to(np.arange(c)[None, None, None, :], grad.shape)
    hit = argmax >= 0
    np.add.at(gx, (batch[hit], argmax[hit], channel[hit]), grad[hit])   # += that repeats add up


def _window_counts(x_shape, out_hw, kh, kw, sh, sw, pt, pl):
    """The number of real pixels in each window, (OH, OW, 1): pool an image of ones."""
    ones = np.ones((1, *x_shape[1:3], 1))
    onespad = pad_image(ones, out_hw, (kh, kw), (sh, sw), (1, 1), (pt, pl))
    return sum(tap(onespad, i, j, out_hw, (sh, sw), (1, 1)) for i, j in _taps(kh, kw))[0]


def avg_pool_forward(x, y, kh, kw, sh, sw, pt, pl, num_threads):
    """y[n, oh, ow, c] = mean of the window's real pixels (TF's 'same' rule for the count)."""
    out_hw = y.shape[1:3]
    y[...] = 0
    if y.size == 0:
        return
    xpad = pad_image(x, out_hw, (kh, kw), (sh, sw), (1, 1), (pt, pl))
    for i, j in _taps(kh, kw):
        y += tap(xpad, i, j, out_hw, (sh, sw), (1, 1))
    with np.errstate(divide="ignore"):   # a window of padding only: 0 * inf below, as 0 / 0
        inv = (1 / _window_counts(x.shape, out_hw, kh, kw, sh, sw, pt, pl)).astype(y.dtype)
    y *= np.where(np.isinf(inv), 0, inv)


def avg_pool_backward(grad, gx, kh, kw, sh, sw, pt, pl, num_threads):
    """gx, zeroed by the caller: every real pixel of a window gets grad / count of that window."""
    n, h, w, c = gx.shape
    out_hw = grad.shape[1:3]
    if grad.size == 0:
        return
    with np.errstate(divide="ignore"):
        inv = 1 / _window_counts(gx.shape, out_hw, kh, kw, sh, sw, pt, pl)
    share = grad * np.where(np.isinf(inv), 0, inv).astype(grad.dtype)
    gpad = pad_image(np.zeros_like(gx), out_hw, (kh, kw), (sh, sw), (1, 1), (pt, pl))
    for i, j in _taps(kh, kw):
        tap(gpad, i, j, out_hw, (sh, sw), (1, 1))[...] += share   # a view: adds into gpad
    gx += gpad[:, pt:pt + h, pl:pl + w]
