"""Batch normalisation, inference and training forms, with the fused closed-form backward.

Per channel c (the ``axis`` of x), over the P values of that channel in the batch::

    xhat = (x - mean) / sqrt(var + eps)          y = gamma * xhat + beta

*Inference* uses given (moving) ``mean`` and ``var``: y is an affine map of x, and every input has
a plain partial (see :class:`BatchNorm`). *Training* uses the batch's own mean and biased variance
(divide by P), which depend on x; differentiating through them gives the closed form

    dL/dx     = (gamma / sqrt(var + eps)) * (G - mean(G) - xhat * mean(G * xhat))
    dL/dgamma = sum(G * xhat),    dL/dbeta = sum(G)

which the kernels compute in two passes over memory (:mod:`minigrad.backend.kernels.batchnorm`,
twins in :mod:`minigrad.backend.kernels.reference.batchnorm`). The
layer updates its moving statistics from the returned batch statistics with
:func:`moving_average_update`. A ReLU or ReLU6 right after the normalisation can be fused in
(``activation=``): its forward costs nothing more, and in the backward G is zeroed where it
clipped, recomputed from x inside the same two passes.

The kernels work on a (P, C) view with channels innermost; a channel ``axis`` other than the last is
moved last around them (a transpose in the op). ``gamma`` / ``beta`` may be None (Keras
``scale=False`` / ``center=False``).
"""
import numbers

import numpy as np

from ..backend import kernels
from ..backend.buffers import buffers
from ..engine.function import Function
from ._common import check_axis, shape_of, threads_for
from .layout import from_channels_last, to_channels_last
_bn = kernels.get("batchnorm")   # chosen once, at import


def _to_rows(x):
    """Channels-last x as a C-contiguous (P, C) array (a view when it already is contiguous)."""
    return np.ascontiguousarray(x).reshape(-1, x.shape[-1])


def _params(params, has_gamma, has_beta, c, dtype):
    """gamma and beta as ``dtype`` arrays (ones / zeros when switched off)."""
    i = 0
    gamma = beta = None
    if has_gamma:
        gamma, i = params[0].astype(dtype, copy=False), 1
    if has_beta:
        beta = params[i].astype(dtype, copy=False)
    gamma = np.ones(c, dtype=dtype) if gamma is None else gamma
    beta = np.zeros(c, dtype=dtype) if beta is None else beta
    return gamma, beta


def _param_grads(ctx, dgamma, dbeta):
    """The gradients of the optional gamma/beta inputs, in their own dtypes."""
    out = []
    dtypes = iter(ctx.param_dtypes)
    if ctx.has_gamma:
        out.append(dgamma.astype(next(dtypes)))
    if ctx.has_beta:
        out.append(dbeta.astype(next(dtypes)))
    return out


# Clip bounds of an activation fused into the normalisation (its forward is then free, and its
# derivative, 1 strictly inside the bounds and 0 elsewhere, is recomputed from x in the backward).
_ACTIVATIONS = {None: (-np.inf, np.inf), "linear": (-np.inf, np.inf), "relu": (0.0, np.inf),
                "relu6": (0.0, 6.0)}


class _Normalizer:
    """The per-channel map y = clip((x - center) * scale + shift, lo, hi) as the kernels take it:
    (C,) vectors in x's dtype, and the clip bounds."""

    def __init__(self, center, scale, shift, bounds, dtype):
        self.center, self.scale, self.shift = (v.astype(dtype) for v in (center, scale, shift))
        self.lo, self.hi = bounds

    def prologue(self):
        """The map as a kernel that stages its input through it takes it: (center, scale, shift,
        lo, hi) (``depthwise.depthwise_forward``'s ``prologue``)."""
        return (self.center, self.scale, self.shift, self.lo, self.hi)

    def forward(self, x2, nt):
        y2 = buffers.empty(x2.shape, x2.dtype)
        _bn.normalize(x2, self.center, self.scale, self.shift, self.lo, self.hi, y2, nt)
        return y2

    def sums(self, x2, g2, mean, nt):
        """sum(G'), sum(G' * (x - mean)) per channel; G' = G where the clip passes it."""
        c = x2.shape[1]
        sum_g, sum_gxc = np.empty(c), np.empty(c)
        _bn.backward_sums(x2, g2, mean, self.center, self.scale, self.shift, self.lo, self.hi,
                          sum_g, sum_gxc, nt)
        return sum_g, sum_gxc

    def input_gradient(self, x2, g2, a, b, d, nt):
        """a * G' + b * (x - center) + d, per channel."""
        dt = x2.dtype
        gx2 = buffers.empty(x2.shape, dt)
        if self.lo == -np.inf and self.hi == np.inf and not b.any() and not d.any():
            # inference without a clip: a * G reads G alone, not x too
            zero = np.zeros_like(self.center)
            _bn.normalize(g2, zero, a.astype(dt), zero, self.lo, self.hi, gx2, nt)
        else:
            _bn.normalize_backward(g2, x2, self.center, self.scale, self.shift, self.lo, self.hi,
                                   a.astype(dt), b.astype(dt), d.astype(dt), gx2, nt)
        return gx2


class BatchNormTrain(Function):
    """Training batch norm over a (P, C) view; see the module docstring for f and its partials.

    Inputs: x (channels last), then gamma if ``has_gamma``, then beta if ``has_beta``. The batch
    mean and biased
    variance (float64, shape (C,)) are written into the dict ``stats`` under "mean" and "variance"
    (forward returns one array, the output). ``bounds`` clip the output (a fused ReLU/ReLU6); G is
    then zeroed where the clip was active before the closed form applies.
    """

    @staticmethod
    def forward(ctx, x, *params, epsilon, has_gamma, has_beta, bounds, stats):
        x2 = train_statistics(ctx, x, params, epsilon, has_gamma, has_beta, bounds, stats)
        y2 = ctx.map.forward(x2, threads_for(x2.size))
        return y2.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return tuple(train_gradients(ctx, grad, ctx.needs_input_grad[0]))


def train_statistics(ctx, x, params, epsilon, has_gamma, has_beta, bounds, stats):
    """The forward of :class:`BatchNormTrain` up to its output: the batch mean and variance of x
    (into ``stats``), and on ``ctx`` the map they give (``ctx.map``, a :class:`_Normalizer`) and
    what :func:`train_gradients` needs. Returns x as (P, C) rows. (Shared with the fused ops of
    :mod:`minigrad.ops.fused`, which apply ``ctx.map`` inside another kernel.)"""
    x2 = _to_rows(x)
    c = x2.shape[1]
    mean, var = np.empty(c), np.empty(c)
    _bn.moments(x2, mean, var, threads_for(x2.size))
    invstd = 1.0 / np.sqrt(var + epsilon)
    gamma, beta = _params(params, has_gamma, has_beta, c, x.dtype)
    ctx.map = _Normalizer(mean, gamma * invstd, beta, bounds, x.dtype)
    stats["mean"], stats["variance"] = mean, var
    ctx.x2, ctx.mean, ctx.invstd, ctx.gamma = x2, mean, invstd, gamma
    ctx.shape, ctx.has_gamma, ctx.has_beta = x.shape, has_gamma, has_beta
    ctx.param_dtypes = [q.dtype for q in params]
    return x2


def train_gradients(ctx, grad, need_x):
    """[dL/dx (None unless ``need_x``), then dL/dgamma, dL/dbeta for those given] from G = ``grad``,
    the gradient of the (clipped) output, for a ``ctx`` that :func:`train_statistics` filled."""
    x2, mean, invstd = ctx.x2, ctx.mean, ctx.invstd
    p = x2.shape[0]
    g2 = _to_rows(grad.astype(x2.dtype, copy=False))
    nt = threads_for(x2.size)
    sum_g, sum_gxc = ctx.map.sums(x2, g2, mean, nt)
    dgamma = sum_gxc * invstd                               # sum(G * xhat)
    out = [None]
    if need_x:
        # dx = a*(G - mean(G) - xhat*mean(G*xhat)) with a = gamma*invstd, written as
        # a*G + b*(x - mean) + d so that one pass over G and x makes it
        a = ctx.gamma * invstd
        b = -a * invstd * (dgamma / p)
        d = -a * (sum_g / p)
        out[0] = ctx.map.input_gradient(x2, g2, a, b, d, nt).reshape(ctx.shape)
    return out + _param_grads(ctx, dgamma, sum_g)


class BatchNorm(Function):
    """Inference batch norm: y = scale * (x - mean) + beta, scale = gamma / sqrt(var + eps).

    Inputs: x (channels last), mean, variance, then gamma if ``has_gamma``, then beta if
    ``has_beta``. Partials
    (s = 1 / sqrt(var + eps), sums over the P values of each channel; with a fused activation G is
    first zeroed where its clip was active):

        dL/dx = G * gamma * s          dL/dmean = -sum(G) * gamma * s
        dL/dvar = -1/2 * gamma * s^3 * sum(G * (x - mean))
        dL/dgamma = s * sum(G * (x - mean))       dL/dbeta = sum(G)
    """

    @staticmethod
    def forward(ctx, x, mean, variance, *params, epsilon, has_gamma, has_beta, bounds):
        x2 = _to_rows(x)
        c = x2.shape[1]
        ctx.stat_dtypes = (mean.dtype, variance.dtype)
        mean = mean.astype(np.float64)
        s = 1.0 / np.sqrt(variance.astype(np.float64) + epsilon)
        gamma, beta = _params(params, has_gamma, has_beta, c, x.dtype)
        ctx.map = _Normalizer(mean, gamma * s, beta, bounds, x.dtype)
        y2 = ctx.map.forward(x2, threads_for(x2.size))
        ctx.x2, ctx.mean, ctx.s, ctx.gamma = x2, mean, s, gamma
        ctx.shape, ctx.has_gamma, ctx.has_beta = x.shape, has_gamma, has_beta
        ctx.param_dtypes = [q.dtype for q in params]
        return y2.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x2, mean, s, gamma = ctx.x2, ctx.mean, ctx.s, ctx.gamma
        c = x2.shape[1]
        g2 = _to_rows(grad.astype(x2.dtype, copy=False))
        nt = threads_for(x2.size)
        out = [None, None, None]
        if ctx.needs_input_grad[0]:
            zero = np.zeros(c)
            gx2 = ctx.map.input_gradient(x2, g2, gamma * s, zero, zero, nt)
            out[0] = gx2.reshape(ctx.shape)
        if any(ctx.needs_input_grad[1:]):
            sum_g, sum_gxc = ctx.map.sums(x2, g2, mean, nt)
            out[1] = (-sum_g * gamma * s).astype(ctx.stat_dtypes[0])
            out[2] = (-0.5 * gamma * s ** 3 * sum_gxc).astype(ctx.stat_dtypes[1])
            out += _param_grads(ctx, s * sum_gxc, sum_g)
        else:
            out += [None] * (ctx.has_gamma + ctx.has_beta)
        return tuple(out)


def check_activation(who, activation):
    """The clip bounds (lo, hi) of a fused ``activation``, else a ValueError naming it."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{who}: activation must be None, 'linear', 'relu' or 'relu6', got "
                         f"{activation!r}")
    return _ACTIVATIONS[activation]


def check_arguments(who, x, axis, epsilon, vectors):
    """Validate before any kernel runs; returns the channel ``axis`` as :func:`to_channels_last`
    takes it: -1 when it is the last axis, else a non-negative int."""
    shape = shape_of(x)
    if len(shape) < 1:
        raise ValueError(f"{who}: x must have at least one axis, got a scalar")
    axis = check_axis(axis, shape, who)
    # a float is the usual case: tested first, before the slower checks against numbers.Real
    if not (type(epsilon) is float and epsilon >= 0) and (
            isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon >= 0):
        raise ValueError(f"{who}: epsilon must be a non-negative number, got {epsilon!r}")
    c = shape[axis]
    for name, v in vectors:
        if v is not None and shape_of(v) != (c,):
            raise ValueError(f"{who}: {name} must have shape ({c},), the size of axis {axis} of x "
                             f"(shape {shape}), got shape {shape_of(v)}")
    return -1 if axis == len(shape) - 1 else axis


def batch_norm(x, gamma, beta, mean, variance, epsilon=1e-3, axis=-1, activation=None):
    """Inference batch normalisation: ``gamma * (x - mean) / sqrt(variance + epsilon) + beta``.

    Args:
        x: any shape; ``axis`` is the channel axis (-1 for NHWC, 1 for NCHW).
        gamma, beta: (C,) or None (scale / center switched off).
        mean, variance: (C,), the moving statistics.
        activation: None, ``"relu"`` or ``"relu6"``, fused into the same pass (the result equals
            ``relu6(batch_norm(...))``, value and gradient, without the activation's own passes).

    >>> batch_norm(np.array([[1.0, 2.0]]), None, None, np.array([1.0, 0.0]), np.array([4.0, 1.0]),
    ...            epsilon=0.0).numpy().tolist()
    [[0.0, 2.0]]
    """
    who = "batch_norm"
    axis = check_arguments(who, x, axis, epsilon, [("gamma", gamma), ("beta", beta),
                                                   ("mean", mean), ("variance", variance)])
    bounds = check_activation(who, activation)
    params = [q for q in (gamma, beta) if q is not None]
    inputs = [to_channels_last(x, axis), mean, variance] + params
    y = BatchNorm.apply(*inputs, epsilon=float(epsilon), has_gamma=gamma is not None,
                        has_beta=beta is not None, bounds=bounds)
    return from_channels_last(y, axis)


def batch_norm_train(x, gamma, beta, epsilon=1e-3, axis=-1, activation=None):
    """Training batch normalisation with the batch's own statistics.

    Returns ``(y, batch_mean, batch_variance)``: the normalised Tensor, and the mean and *biased*
    variance (divided by the count P) of each channel as ndarrays of x's dtype, for the moving
    averages (:func:`moving_average_update`). ``gamma`` / ``beta`` are (C,) or None. ``activation``
    (None, ``"relu"``, ``"relu6"``) is fused in as in :func:`batch_norm`; the statistics are those of
    x either way.

    >>> y, m, v = batch_norm_train(np.array([[1.0], [3.0]]), None, None, epsilon=0.0)
    >>> y.numpy().tolist(), m.tolist(), v.tolist()
    ([[-1.0], [1.0]], [2.0], [1.0])
    """
    who = "batch_norm_train"
    axis = check_arguments(who, x, axis, epsilon, [("gamma", gamma), ("beta", beta)])
    bounds = check_activation(who, activation)
    shape = shape_of(x)
    if 0 in shape:
        raise ValueError(f"{who}: x has shape {shape}: every channel needs at least one value to "
                         f"take batch statistics of")
    stats = {}
    inputs = [to_channels_last(x, axis)] + [q for q in (gamma, beta) if q is not None]
    y = BatchNormTrain.apply(*inputs, epsilon=float(epsilon), has_gamma=gamma is not None,
                             has_beta=beta is not None, bounds=bounds, stats=stats)
    y = from_channels_last(y, axis)
    return y, stats["mean"].astype(y.dtype), stats["variance"].astype(y.dtype)


def moving_average_update(moving, value, momentum):
    """Keras's moving statistic: ``moving * momentum + value * (1 - momentum)``, a new array of
    ``moving``'s dtype (``1 - momentum`` is taken in Python floats, as Keras does).

    >>> moving_average_update(np.array([1.0]), np.array([3.0]), 0.75).tolist()
    [1.5]
    """
    if not (type(momentum) is float and 0 <= momentum <= 1) and (
            isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)
            or not 0 <= momentum <= 1):
        raise ValueError(f"moving_average_update: momentum must be a number in [0, 1], got "
                         f"{momentum!r}")
    moving = np.asarray(moving)
    value = np.asarray(value)
    if moving.shape != value.shape:
        raise ValueError(f"moving_average_update: value has shape {value.shape}, expected the "
                         f"shape of moving {moving.shape}")
    return (moving * momentum + value.astype(moving.dtype, copy=False) * (1.0 - momentum)).astype(
        moving.dtype, copy=False)
