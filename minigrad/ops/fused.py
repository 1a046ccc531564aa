"""Two layers' math in one op: a training batch norm (and its ReLU) read by a convolution that
applies it itself, as it stages its input: a depthwise convolution, or a 1x1 convolution.

In MobileNet every depthwise convolution reads the output of a BatchNormalization -> ReLU6 pair::

    a = clip(gamma * (x - mean) / sqrt(var + eps) + beta, 0, 6)      (batch statistics of x)
    y = depthwise_conv2d(a, K)

Run one after the other, the batch norm writes ``a`` (as large as x) and the convolution reads it
back, forward and again in the backward (its kernel gradient needs ``a``). But the depthwise
kernels never read their input straight from memory: they copy each input row into a small
per-thread buffer first (``depthwise.pyx``, "staged" rows). :func:`batch_norm_depthwise_conv2d`
hands them the batch norm's per-channel map instead (``prologue=``), and they compute ``a`` row by
row as they stage it, with the batch-norm module's own loop, so with the same bits. ``a`` never
exists in memory: one pass over the activations (the map's) and one array per block fewer.

The 1x1 convolution of a MobileNet block is a matrix product ``a (P, Cin) @ K (Cin, Cout)`` on
minigrad's own kernels (``gemm.pyx``); those stage each task's rows of ``a`` (and, for the
kernel gradient ``a^T @ G``, each block of them) the same way: :func:`batch_norm_pointwise_conv2d`.

Forward: the batch statistics of x (one pass), then the convolution through the map.
Backward, for G = dL/dy: the convolution's gradients (dL/da, and dL/dK with its staged rows of x
mapped again), then the batch norm's closed-form backward with dL/da as its G. Every partial is
the unfused ops' (see :mod:`.normalization` and :mod:`.depthwise`), computed by the same kernels
in the same order: the results equal ``depthwise_conv2d(batch_norm_train(x, ...)[0], K)`` bit for
bit, which the tests check. (Up to a zero's sign: at strides > 1 the unfused depthwise forward
reads its input in place, and on the FMA paths a sum whose products all underflow can end as -0
there where the staged sum ends as +0; see ``depthwise.pyx``.) A model's execution plan uses
these ops in place of the three layers where that is provably the same computation
(:mod:`minigrad.models.plan`).
"""
import numpy as np

from ..backend import kernels
from ..backend.buffers import buffers
from ..engine.function import Function
from . import depthwise as depthwise_op
from . import normalization as bn_op
from ._common import tensor_argument, threads_for
from ._matmul import kernels_take, matmul, matmul_tn

_dw = kernels.get("depthwise")   # chosen once, at import


class BatchNormDepthwiseConv2D(Function):
    """y = depthwise_conv2d(clip(batch_norm_train(x)), K), NHWC, depth multiplier 1.

    Inputs: x, the depthwise kernel, then gamma if ``has_gamma``, then beta if ``has_beta``. The
    batch mean and variance of x go into the dict ``stats`` (as :class:`~.normalization.
    BatchNormTrain` puts them). Partials: those of the two ops (module docstring)."""

    @staticmethod
    def forward(ctx, x, kernel, *params, epsilon, has_gamma, has_beta, bounds, stats, strides,
                padding, dilation_rate):
        x, kernel = np.ascontiguousarray(x), np.ascontiguousarray(kernel)   # views as they are
        bn_op.train_statistics(ctx, x, params, epsilon, has_gamma, has_beta, bounds, stats)
        out = depthwise_op.forward_output(ctx, x, kernel, strides, padding, dilation_rate)
        _dw.depthwise_forward(x, kernel, out, *ctx.geometry, ctx.threads, ctx.map.prologue())
        ctx.x, ctx.kernel = x, kernel
        return out

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        need_a = need[0] or any(need[2:])   # dL/da feeds the batch norm's gradients
        g = np.ascontiguousarray(grad, dtype=ctx.x.dtype)
        # pooled, as the unfused op's: a fresh multi-megabyte array costs page faults
        ga = buffers.empty(ctx.x.shape, ctx.x.dtype) if need_a else None
        gk = np.empty_like(ctx.kernel) if need[1] else None
        prologue = ctx.map.prologue()
        if need_a and need[1]:
            _dw.depthwise_backward(ctx.x, ctx.kernel, g, ga, gk, *ctx.geometry, ctx.threads,
                                   prologue)
        elif need_a:
            _dw.depthwise_grad_input(g, ctx.kernel, ga, *ctx.geometry, ctx.threads)
        elif need[1]:
            _dw.depthwise_grad_kernel(ctx.x, g, gk, *ctx.geometry, ctx.threads, prologue)
        if need_a:
            grads = bn_op.train_gradients(ctx, ga, need[0])
        else:
            grads = [None] * (1 + ctx.has_gamma + ctx.has_beta)
        return (grads[0], gk, *grads[1:])


def batch_norm_depthwise_conv2d(x, gamma, beta, depthwise_kernel, epsilon=1e-3, activation=None,
                                strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
    """``depthwise_conv2d(batch_norm_train(x, gamma, beta, epsilon, activation=activation)[0],
    depthwise_kernel, strides, padding, "channels_last", dilation_rate)`` as one op, without the
    batch norm's output in memory (module docstring).

    x is NHWC (channels last); the kernel (KH, KW, C, 1) has depth multiplier 1 and x's dtype
    (float32 or float64). Returns ``(y, batch_mean, batch_variance)`` as
    :func:`~.normalization.batch_norm_train` does.

    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
    >>> y, mean, var = batch_norm_depthwise_conv2d(x, None, None, np.ones((1, 1, 2, 1)),
    ...                                            epsilon=0.0, activation="relu")
    >>> mean.tolist(), y.numpy()[0, :, :, 0].round(4).tolist()    # channel 0: (x - 3) / sqrt(5)
    ([3.0, 4.0], [[0.0, 0.0], [0.4472, 1.3416]])
    """
    who = "batch_norm_depthwise_conv2d"
    x, depthwise_kernel, settings, _ = depthwise_op.check_arguments(
        who, x, depthwise_kernel, strides, padding, "channels_last", dilation_rate)
    if depthwise_kernel.shape[3] != 1:
        raise ValueError(f"{who}: the depth multiplier (depthwise_kernel.shape[3]) must be 1, got "
                         f"{depthwise_kernel.shape[3]}")
    return _apply(BatchNormDepthwiseConv2D, who, x, gamma, beta, depthwise_kernel,
                  "depthwise_kernel", epsilon, activation, settings)


class BatchNormPointwiseConv2D(Function):
    """y = conv2d(clip(batch_norm_train(x)), K) for a 1x1 kernel K (1, 1, Cin, Cout), stride 1:
    the product ``a @ K`` with a = the batch norm's output, read through the map by the product
    kernels. Inputs and ``stats`` as :class:`BatchNormDepthwiseConv2D`'s.

    Partials (G = dL/dy as (P, Cout)): dL/da = G @ K^T, dL/dK = a^T @ G (a staged again), then
    the batch norm's. Where the product is BLAS's (:func:`~._matmul.kernels_take`: a kernel of
    more than ``MAX_KERNEL_ELEMENTS``), ``a`` is written out and read as the unfused ops do."""

    @staticmethod
    def forward(ctx, x, kernel, *params, epsilon, has_gamma, has_beta, bounds, stats):
        x2 = bn_op.train_statistics(ctx, x, params, epsilon, has_gamma, has_beta, bounds, stats)
        cin, cout = kernel.shape[2:]
        ctx.kernel = kernel.reshape(cin, cout)
        ctx.a = None                    # the batch norm's output, only where BLAS must read it
        if kernels_take(x2, ctx.kernel):
            y = matmul(x2, ctx.kernel, prologue=ctx.map.prologue())
        else:
            ctx.a = ctx.map.forward(x2, threads_for(x2.size))
            y = matmul(ctx.a, ctx.kernel)
        return y.reshape(*x.shape[:3], cout)

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        cin, cout = ctx.kernel.shape
        g2 = np.ascontiguousarray(grad).reshape(-1, cout)   # one copy, if any, for both products
        gk = None
        if need[1]:
            if ctx.a is None:
                gk = matmul_tn(ctx.x2, g2, prologue=ctx.map.prologue())
            else:
                gk = matmul_tn(ctx.a, g2)
            gk = gk.reshape(1, 1, cin, cout)
        if need[0] or any(need[2:]):    # dL/da feeds the batch norm's gradients
            ga = matmul(g2, np.ascontiguousarray(ctx.kernel.T)).reshape(ctx.shape)
            grads = bn_op.train_gradients(ctx, ga, need[0])
        else:
            grads = [None] * (1 + ctx.has_gamma + ctx.has_beta)
        return (grads[0], gk, *grads[1:])


def batch_norm_pointwise_conv2d(x, gamma, beta, kernel, epsilon=1e-3, activation=None):
    """``conv2d(batch_norm_train(x, gamma, beta, epsilon, activation=activation)[0], kernel)`` for a
    1x1 ``kernel`` (1, 1, Cin, Cout), stride 1, NHWC, as one op, without the batch norm's output
    in memory (module docstring). Returns ``(y, batch_mean, batch_variance)``.

    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
    >>> y, mean, var = batch_norm_pointwise_conv2d(x, None, None, np.ones((1, 1, 2, 1)),
    ...                                            epsilon=0.0, activation="relu")
    >>> y.numpy()[0, :, :, 0].round(4).tolist()        # both channels: (x - mean) / sqrt(5)
    [[0.0, 0.0], [0.8944, 2.6833]]
    """
    who = "batch_norm_pointwise_conv2d"
    x = tensor_argument(x, "x", who)
    kernel = tensor_argument(kernel, "kernel", who)
    if x.ndim != 4:
        raise ValueError(f"{who}: x must be 4-D (N, H, W, C), got shape {x.shape}")
    if kernel.ndim != 4 or kernel.shape[:2] != (1, 1) or kernel.shape[2] != x.shape[3] \
            or kernel.shape[3] < 1:
        raise ValueError(f"{who}: kernel must have shape (1, 1, {x.shape[3]}, filters) with "
                         f"filters >= 1 for x of shape {x.shape}, got {kernel.shape}")
    return _apply(BatchNormPointwiseConv2D, who, x, gamma, beta, kernel, "kernel", epsilon,
                  activation, {})


def _apply(op, who, x, gamma, beta, kernel, kernel_name, epsilon, activation, settings):
    """The checks both fused ops share, then ``op.apply``; returns (y, mean, variance)."""
    bn_op.check_arguments(who, x, -1, epsilon, [("gamma", gamma), ("beta", beta)])
    bounds = bn_op.check_activation(who, activation)
    if x.dtype != kernel.dtype or x.dtype not in (np.float32, np.float64):
        raise ValueError(f"{who}: x and {kernel_name} must have one dtype, float32 or float64, "
                         f"got {x.dtype} and {kernel.dtype}")
    if 0 in x.shape:
        raise ValueError(f"{who}: x has shape {x.shape}: every channel needs at least one value "
                         f"to take batch statistics of")
    params = [q for q in (gamma, beta) if q is not None]
    stats = {}
    y = op.apply(x, kernel, *params, epsilon=float(epsilon), has_gamma=gamma is not None,
                 has_beta=beta is not None, bounds=bounds, stats=stats, **settings)
    return y, stats["mean"].astype(y.dtype), stats["variance"].astype(y.dtype)
