"""2-D convolution (Keras ``Conv2D`` semantics) as im2col + one matrix product.

For an NHWC input x (N, H, W, Cin) and a kernel K (kh, kw, Cin, Cout)::

    y[n, oh, ow, co] = sum_{i, j, ci} x[n, oh*sh + i*dh - pt, ow*sw + j*dw - pl, ci] * K[i, j, ci, co]

(pixels outside the image read as 0; ``pt``/``pl`` are the top/left padding of
:func:`~minigrad.ops.geometry.conv_geometry`). Gather every input pixel a window reads into a matrix
``cols`` (N*OH*OW, kh*kw*Cin) (:func:`im2col`) and the convolution is
``cols @ K.reshape(kh*kw*Cin, Cout)``, a product of minigrad's own kernels (:mod:`._matmul`). The
partials follow from the
product rule of a matrix product:

* dL/dK    = cols^T @ G                     (G: the output gradient as (N*OH*OW, Cout))
* dL/dcols = G @ K^T, and dL/dx adds every entry of dL/dcols back onto the pixel it was read from
  (:func:`col2im`: one strided ``+=`` per kernel tap, never a Python loop over pixels). With
  stride 1 the same dL/dx is cheaper as a convolution of G with the flipped kernel
  (:func:`_input_gradient`).

A 1x1 kernel with stride 1 (MobileNet's pointwise convolution) needs no gather at all: ``cols`` *is*
x viewed as (N*H*W, Cin), so forward and backward are three matrix products and no copies.

Large outputs, gradients and scratch matrices come from :data:`minigrad.backend.buffers.buffers`,
so a training step does not fault in fresh memory every time. ``channels_first`` inputs are
transposed to NHWC around the same code.

A *grouped* convolution (``groups`` G > 1, Keras's ``groups``) splits the Cin channels into G
consecutive blocks of Cin/G and the Cout filters into G blocks of Cout/G; filter block g sees only
channel block g, so the kernel is (kh, kw, Cin/G, Cout). The same ``cols``, viewed as
(N*OH*OW, kh*kw, G, Cin/G), becomes G matrices and one batched product (:class:`GroupedConv2D`).
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._checks import check_positive_int
from ..backend.buffers import buffers
from ..backend.kernels.depthwise_plan import column_range
from ..engine.function import Function
from ._common import check_image, shape_of
from ._matmul import matmul, matmul_tn
from .layout import channel_axis, from_channels_last, to_channels_last
from .geometry import conv_geometry, normalize_data_format, normalize_padding, normalize_tuple


def tap_ranges(n_in, n_out, k, stride, dilation, pad_before):
    """For each of the ``k`` taps of a window along one axis: ``(o0, o1, r0)``.

    Outputs ``o0 <= o < o1`` read the real input pixel ``r0 + (o - o0) * stride`` through that tap;
    the other outputs read padding. (Output o, tap t reads pixel o*stride + t*dilation - pad_before.)

    >>> tap_ranges(5, 3, 3, 2, 1, 1)      # 'same', stride 2: tap 0 of output 0 reads padding
    [(1, 3, 1), (0, 3, 0), (0, 2, 1)]
    """
    ranges = []
    for t in range(k):
        o0, o1 = column_range(n_in, n_out, t, stride, dilation, pad_before)
        ranges.append((o0, max(o1, o0), o0 * stride + t * dilation - pad_before))
    return ranges


def tap_slice(o0, o1, r0, stride):
    """The input slice read by outputs ``o0..o1-1`` of one tap (see :func:`tap_ranges`)."""
    return slice(r0, r0 + (o1 - o0 - 1) * stride + 1, stride) if o1 > o0 else slice(0, 0)


def im2col(x, kernel_hw, strides, dilation_rate, pads, out_hw):
    """The windows of NHWC ``x`` as a (N*OH*OW, kh*kw*C) matrix (zeros where a window reads
    padding), column (i*kw + j)*C + c holding tap (i, j), channel c: the rows of K.reshape(-1, Cout).

    ``pads`` is ((top, bottom), (left, right)). Two ways, both without Python loops over pixels:

    * C > 1: copy x into a zero-bordered buffer once; the windows are then a strided *view* of it
      (N, OH, OW, kh, kw, C), and one copy makes the matrix (each window row is kw*C contiguous
      numbers when dilation is 1, so NumPy copies long runs);
    * C == 1 (a network's first convolution, on grey images): one strided copy per tap into a
      (kh, kw, N, OH, OW) buffer, each tap a contiguous block, with only the padding border of each
      tap zeroed; the matrix is its transposed view, which the products read as it is.
    """
    n, h, w, c = x.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel_hw, strides, dilation_rate, out_hw
    (pt, pb), (pl, pr) = pads
    if c == 1:
        out = buffers.empty((kh, kw, n, oh, ow), x.dtype)
        rows = tap_ranges(h, oh, kh, sh, dh, pt)
        cols = tap_ranges(w, ow, kw, sw, dw, pl)
        for i, (h0, h1, r0) in enumerate(rows):
            for j, (w0, w1, c0) in enumerate(cols):
                dst = out[i, j]
                dst[:, :h0] = 0
                dst[:, h1:] = 0
                dst[:, h0:h1, :w0] = 0
                dst[:, h0:h1, w1:] = 0
                if h1 > h0 and w1 > w0:
                    dst[:, h0:h1, w0:w1] = x[:, tap_slice(h0, h1, r0, sh),
                                             tap_slice(w0, w1, c0, sw), 0]
        return out.reshape(kh * kw, n * oh * ow).T
    hp, wp = h + pt + pb, w + pl + pr
    # the view below must stay inside the buffer: the last window ends at (OH-1)*sh + eff - 1
    if (oh - 1) * sh + (kh - 1) * dh >= hp or (ow - 1) * sw + (kw - 1) * dw >= wp:
        raise RuntimeError(f"im2col: windows of {out_hw} outputs overrun the padded input "
                           f"({hp}, {wp})")
    if pt == pb == pl == pr == 0:
        xp = x
    else:
        xp = buffers.empty((n, hp, wp, c), x.dtype)
        xp[:, :pt] = 0
        xp[:, pt + h:] = 0
        xp[:, pt:pt + h, :pl] = 0
        xp[:, pt:pt + h, pl + w:] = 0
        xp[:, pt:pt + h, pl:pl + w] = x
    s0, s1, s2, s3 = xp.strides
    windows = as_strided(xp, (n, oh, ow, kh, kw, c), (s0, sh * s1, sw * s2, dh * s1, dw * s2, s3),
                         writeable=False)
    out = buffers.empty((n, oh, ow, kh, kw, c), x.dtype)
    np.copyto(out, windows)
    return out.reshape(n * oh * ow, kh * kw * c)


def col2im(gcols, in_shape, rows, cols, strides):
    """The adjoint of :func:`im2col`: add each window entry back onto the pixel it came from."""
    (sh, sw) = strides
    gx = buffers.zeros(in_shape, gcols.dtype)
    for i, (h0, h1, r0) in enumerate(rows):
        for j, (w0, w1, c0) in enumerate(cols):
            if h1 > h0 and w1 > w0:
                gx[:, tap_slice(h0, h1, r0, sh), tap_slice(w0, w1, c0, sw)] += \
                    gcols[:, h0:h1, w0:w1, i, j, :]
    return gx


def promote(ctx, x, kernel):
    """x and kernel in their common float type; their own dtypes kept on ``ctx``, so that the
    backward pass gives each gradient in its input's dtype."""
    dtype = np.result_type(x, kernel)
    ctx.x_dtype, ctx.k_dtype = x.dtype, kernel.dtype
    return x.astype(dtype, copy=False), kernel.astype(dtype, copy=False)


class Conv2D(Function):
    """y = conv2d(x, K) on NHWC arrays (see the module docstring for f and its partials).

    Attrs: ``strides`` (sh, sw), ``dilation_rate`` (dh, dw), ``out_hw`` (OH, OW) and
    ``pads`` ((pt, pb), (pl, pr)), all computed once by :func:`conv2d`.
    """

    @staticmethod
    def forward(ctx, x, kernel, *, strides, dilation_rate, out_hw, pads):
        x, kernel = promote(ctx, x, kernel)
        dtype = x.dtype
        kh, kw, cin, cout = kernel.shape
        n, h, w, _ = x.shape
        oh, ow = out_hw
        ctx.in_shape, ctx.strides, ctx.dilation_rate, ctx.pads = x.shape, strides, dilation_rate, pads
        need_x, need_k = ctx.needs_input_grad
        ctx.kernel = kernel if need_x else None
        ctx.kernel_shape, ctx.cols = kernel.shape, None
        if n * oh * ow == 0:   # an empty output ('valid' window larger than the input, or N == 0)
            return np.zeros((n, oh, ow, cout), dtype=dtype)
        ctx.pointwise = kh == kw == 1 and strides == (1, 1)
        if ctx.pointwise:
            cols = x.reshape(n * h * w, cin)          # a view: nothing is copied
        else:
            cols = im2col(x, (kh, kw), strides, dilation_rate, pads, out_hw)
        if need_k:
            ctx.cols = cols
        y = matmul(cols, kernel.reshape(-1, cout))
        return y.reshape(n, oh, ow, cout)

    @staticmethod
    def backward(ctx, grad):
        kh, kw, cin, cout = ctx.kernel_shape
        g2 = grad.reshape(-1, cout)
        gx = gk = None
        if ctx.needs_input_grad[1]:
            if ctx.cols is None:   # empty output: the kernel touched nothing
                gk = np.zeros(ctx.kernel_shape, dtype=ctx.k_dtype)
            else:
                gk = matmul_tn(ctx.cols, g2).reshape(ctx.kernel_shape)   # cols^T @ G, no transpose
                gk = gk.astype(ctx.k_dtype, copy=False)
        if ctx.needs_input_grad[0]:
            if g2.shape[0] == 0:
                gx = np.zeros(ctx.in_shape, dtype=ctx.x_dtype)
            else:
                gx = _input_gradient(ctx, grad).astype(ctx.x_dtype, copy=False)
        return gx, gk


class GroupedConv2D(Function):
    """y = conv2d(x, K, groups=G) on NHWC arrays, K (kh, kw, Cin/G, Cout). With T = kh*kw taps,
    P = N*OH*OW output pixels, the windows of group g are cols_g (P, T*Cin/G) (the columns of
    channel block g of :func:`im2col`'s matrix) and its filters K_g (T*Cin/G, Cout/G)::

        y[:, g*Cout/G:(g+1)*Cout/G] = cols_g @ K_g                 (one batched product over g)

    Partials, with G_g the output gradient of filter block g (P, Cout/G):

        dL/dK_g = cols_g^T @ G_g;  dL/dcols_g = G_g @ K_g^T, then col2im adds every window entry
        back onto the pixel it was read from, as for one group.

    Attrs as :class:`Conv2D`, plus ``groups``.
    """

    @staticmethod
    def forward(ctx, x, kernel, *, groups, strides, dilation_rate, out_hw, pads):
        x, kernel = promote(ctx, x, kernel)
        dtype = x.dtype
        kh, kw, cg, cout = kernel.shape
        n, (oh, ow), taps, fg = x.shape[0], out_hw, kh * kw, cout // groups
        ctx.in_shape, ctx.kernel_shape, ctx.groups = x.shape, kernel.shape, groups
        ctx.strides, ctx.dilation_rate, ctx.pads = strides, dilation_rate, pads
        need_x, need_k = ctx.needs_input_grad
        # K_g for every g at once: (G, T*Cin/G, Cout/G)
        k_groups = kernel.reshape(taps, cg, groups, fg).transpose(2, 0, 1, 3).reshape(
            groups, taps * cg, fg)
        ctx.k_groups = k_groups if need_x else None
        ctx.cols = None
        if n * oh * ow == 0:
            return np.zeros((n, oh, ow, cout), dtype=dtype)
        cols = im2col(x, (kh, kw), strides, dilation_rate, pads, out_hw)
        # cols_g for every g: column t*Cin + g*Cin/G + c  ->  [g, :, t*Cin/G + c]
        cols = np.ascontiguousarray(
            cols.reshape(-1, taps, groups, cg).transpose(2, 0, 1, 3)).reshape(groups, -1, taps * cg)
        if need_k:
            ctx.cols = cols
        y = np.matmul(cols, k_groups)                                   # (G, P, Cout/G)
        return np.ascontiguousarray(y.transpose(1, 0, 2)).reshape(n, oh, ow, cout)

    @staticmethod
    def backward(ctx, grad):
        kh, kw, cg, cout = ctx.kernel_shape
        groups, taps = ctx.groups, kh * kw
        n, h, w, cin = ctx.in_shape
        g3 = grad.reshape(-1, groups, cout // groups).transpose(1, 0, 2)  # (G, P, Cout/G)
        gx = gk = None
        if ctx.needs_input_grad[1]:
            if ctx.cols is None:   # empty output: the kernel touched nothing
                gk = np.zeros(ctx.kernel_shape, dtype=ctx.k_dtype)
            else:
                gk = np.matmul(ctx.cols.transpose(0, 2, 1), g3)     # (G, T*Cin/G, Cout/G)
                gk = gk.reshape(groups, taps, cg, -1).transpose(1, 2, 0, 3).reshape(
                    ctx.kernel_shape).astype(ctx.k_dtype, copy=False)
        if ctx.needs_input_grad[0]:
            if g3.shape[1] == 0:
                gx = np.zeros(ctx.in_shape, dtype=ctx.x_dtype)
            else:
                gcols = np.matmul(g3, ctx.k_groups.transpose(0, 2, 1))  # (G, P, T*Cin/G)
                gcols = gcols.reshape(groups, n, *grad.shape[1:3], kh, kw, cg)
                gcols = gcols.transpose(1, 2, 3, 4, 5, 0, 6).reshape(n, *grad.shape[1:3], kh, kw,
                                                                     cin)
                (sh, sw), (dh, dw), ((pt, _), (pl, _)) = ctx.strides, ctx.dilation_rate, ctx.pads
                rows = tap_ranges(h, grad.shape[1], kh, sh, dh, pt)
                cols = tap_ranges(w, grad.shape[2], kw, sw, dw, pl)
                gx = col2im(gcols, ctx.in_shape, rows, cols, ctx.strides).astype(ctx.x_dtype,
                                                                                 copy=False)
        return gx, gk


def _input_gradient(ctx, grad):
    """dL/dx for :class:`Conv2D`: one matrix product, then the cheaper way back to pixels.

    * pointwise: G @ K^T is already (N*H*W, Cin);
    * stride 1 with Cout not much above Cin: the gradient of a stride-1 convolution is itself a
      stride-1 convolution of G with the kernel flipped in space and its channel axes swapped
      (padding (eff - 1 - pad_before) before), so im2col of G and one product make it, with no
      scatter passes;
    * otherwise: dL/dcols = G @ K^T, then col2im adds every window entry back to its pixel.
    """
    n, h, w, cin = ctx.in_shape
    kh, kw, _, cout = ctx.kernel_shape
    g2 = grad.reshape(-1, cout)
    kernel = ctx.kernel
    if ctx.pointwise:
        return matmul(g2, np.ascontiguousarray(kernel.reshape(cin, cout).T)).reshape(ctx.in_shape)
    if ctx.strides == (1, 1) and cout <= 2 * cin:
        (dh, dw), ((pt, _), (pl, _)) = ctx.dilation_rate, ctx.pads
        oh, ow = grad.shape[1:3]
        # the flipped window starts eff - 1 - pad_before pixels before the gradient's first pixel
        top, left = (kh - 1) * dh - pt, (kw - 1) * dw - pl
        pads = ((top, h + pt - oh), (left, w + pl - ow))
        gcols = im2col(grad, (kh, kw), (1, 1), (dh, dw), pads, (h, w))
        flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2).reshape(kh * kw * cout, cin)
        return matmul(gcols, flipped).reshape(ctx.in_shape)
    gcols = matmul(g2, np.ascontiguousarray(kernel.reshape(-1, cout).T))
    gcols = gcols.reshape(n, *grad.shape[1:3], kh, kw, cin)
    (sh, sw), (dh, dw), ((pt, _), (pl, _)) = ctx.strides, ctx.dilation_rate, ctx.pads
    rows = tap_ranges(h, grad.shape[1], kh, sh, dh, pt)
    cols = tap_ranges(w, grad.shape[2], kw, sw, dw, pl)
    return col2im(gcols, ctx.in_shape, rows, cols, ctx.strides)


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format="channels_last",
           dilation_rate=(1, 1), groups=1):
    """2-D convolution (cross-correlation, as Keras/TF): a Tensor of the output.

    Args:
        x: (N, H, W, Cin) for ``"channels_last"``, (N, Cin, H, W) for ``"channels_first"``.
        kernel: (kh, kw, Cin, Cout), Keras's layout.
        strides, dilation_rate: an int or a pair (not both above 1, as in Keras and TF.js).
        padding: ``"valid"`` (no padding; an empty output when the window exceeds the input) or
            ``"same"`` (out = ceil(in / stride); TensorFlow puts the odd pixel bottom/right).
        groups: G, a positive divisor of Cin and Cout; then kernel is (kh, kw, Cin/G, Cout) and
            output channels g*Cout/G ... (g+1)*Cout/G - 1 see only input channels
            g*Cin/G ... (g+1)*Cin/G - 1 (Keras's ``groups``).

    Returns (N, OH, OW, Cout) (or (N, Cout, OH, OW)).

    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> conv2d(x, np.ones((2, 2, 1, 1)), strides=2).numpy()[0, :, :, 0].tolist()
    [[10.0, 18.0], [42.0, 50.0]]
    """
    who = "conv2d"
    data_format = normalize_data_format(data_format, who)
    padding = normalize_padding(padding, who)
    strides = normalize_tuple(strides, 2, "strides", who)
    dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", who)
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(f"{who}: strides {strides} and dilation_rate {dilation_rate} cannot both "
                         f"be above 1 (Keras and TF.js refuse this too)")
    shape = check_image(x, "x", who, data_format)
    kshape = shape_of(kernel)
    if len(kshape) != 4 or 0 in kshape:
        raise ValueError(f"{who}: kernel must be a 4-D tensor (kh, kw, in_channels, filters) with "
                         f"no zero dimension, got shape {kshape}")
    cin = shape[3] if data_format == "channels_last" else shape[1]
    if type(groups) is not int or groups < 1:   # a plain int >= 1 needs no further look
        groups = check_positive_int(groups, "groups", who)
    if groups == 1 and kshape[2] != cin:
        raise ValueError(f"{who}: kernel has {kshape[2]} input channels (shape {kshape}) but x has "
                         f"{cin} channels (shape {shape}, data_format={data_format!r})")
    if groups > 1:
        check_groups(groups, cin, kshape[3], who)
        if kshape[2] * groups != cin:
            raise ValueError(f"{who}: kernel has {kshape[2]} input channels (shape {kshape}) but "
                             f"x has {cin} channels (shape {shape}, data_format={data_format!r}) "
                             f"in {groups} groups: expected {cin // groups} per group")
    hw = shape[1:3] if data_format == "channels_last" else shape[2:4]
    out_hw, pad_h, pad_w = conv_geometry(hw, kshape[:2], strides, dilation_rate, padding)
    axis = channel_axis(data_format)
    geometry = dict(strides=strides, dilation_rate=dilation_rate, out_hw=out_hw,
                    pads=(pad_h, pad_w))
    if groups == 1:
        y = Conv2D.apply(to_channels_last(x, axis), kernel, **geometry)
    else:
        y = GroupedConv2D.apply(to_channels_last(x, axis), kernel, groups=groups, **geometry)
    return from_channels_last(y, axis)


def check_groups(groups, in_channels, filters, who):
    """Refuse a ``groups`` that does not divide the input channels or the filters (Keras's rule);
    ``filters`` None (a layer not built yet) checks nothing there."""
    for what, count in (("input channels", in_channels), ("filters", filters)):
        if count is not None and count % groups:
            raise ValueError(f"{who}: groups must divide the number of {what} ({count}), "
                             f"got groups={groups}")
