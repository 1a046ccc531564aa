"""Batch normalisation, inference and training forms, with the fused closed-form backward.

Per channel c (the ``axis`` of x), over the P values of that channel in the batch::

    xhat = (x - mean) / sqrt(var + eps)          y = gamma * xhat + beta

*Inference* uses given (moving) ``mean`` and ``var``: y is an affine map of x, and every input has
a plain partial (see :class:`BatchNorm`). *Training* uses the batch's own mean and biased variance
(divide by P), which depend on x; differentiating through them gives the closed form

    dL/dx     = (gamma / sqrt(var + eps)) * (G - mean(G) - xhat * mean(G * xhat))
    dL/dgamma = sum(G * xhat),    dL/dbeta = sum(G)

which the kernels compute in two passes over memory (:mod:`minigrad._kernels.batchnorm`). The
layer updates its moving statistics from the returned batch statistics with
:func:`moving_average_update`. A ReLU or ReLU6 right after the normalisation can be fused in
(``activation=``): its forward costs nothing more, and in the backward G is zeroed where it
clipped, recomputed from x inside the same two passes.

The kernels work on a (P, C) view with channels innermost; a channel ``axis`` other than the last is
moved last around them. ``gamma`` / ``beta`` may be None (Keras ``scale=False`` / ``center=False``).
"""
import numbers

import numpy as np

from .. import _threads
from .._buffers import buffers
from .._kernels import batchnorm as _bn
from ..function import Function

# Below this many elements one thread is faster: starting an OpenMP team costs microseconds.
_PARALLEL_MIN = 1 << 15


def _threads_for(n):
    return _threads.get_num_threads() if n >= _PARALLEL_MIN else 1


def _to_rows(x, axis):
    """x as a C-contiguous (P, C) array with the channel ``axis`` last (a view when it already is)."""
    if axis != x.ndim - 1:
        x = np.moveaxis(x, axis, -1)
    return np.ascontiguousarray(x).reshape(-1, x.shape[-1])


def _from_rows(y2, shape, axis):
    """The inverse of :func:`_to_rows` for an array of the original ``shape``."""
    moved = shape[:axis] + shape[axis + 1:] + (shape[axis],)
    y = y2.reshape(moved)
    return y if axis == len(shape) - 1 else np.ascontiguousarray(np.moveaxis(y, -1, axis))


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

    Inputs: x, then gamma if ``has_gamma``, then beta if ``has_beta``. The batch mean and biased
    variance (float64, shape (C,)) are written into the dict ``stats`` under "mean" and "variance"
    (forward returns one array, the output). ``bounds`` clip the output (a fused ReLU/ReLU6); G is
    then zeroed where the clip was active before the closed form applies.
    """

    @staticmethod
    def forward(ctx, x, *params, epsilon, axis, has_gamma, has_beta, bounds, stats):
        x2 = _to_rows(x, axis)
        p, c = x2.shape
        nt = _threads_for(x2.size)
        mean, var = np.empty(c), np.empty(c)
        _bn.moments(x2, mean, var, nt)
        invstd = 1.0 / np.sqrt(var + epsilon)
        gamma, beta = _params(params, has_gamma, has_beta, c, x.dtype)
        ctx.map = _Normalizer(mean, gamma * invstd, beta, bounds, x.dtype)
        y2 = ctx.map.forward(x2, nt)
        stats["mean"], stats["variance"] = mean, var
        ctx.x2, ctx.mean, ctx.invstd, ctx.gamma = x2, mean, invstd, gamma
        ctx.shape, ctx.axis, ctx.has_gamma, ctx.has_beta = x.shape, axis, has_gamma, has_beta
        ctx.param_dtypes = [q.dtype for q in params]
        return _from_rows(y2, x.shape, axis)

    @staticmethod
    def backward(ctx, grad):
        x2, mean, invstd = ctx.x2, ctx.mean, ctx.invstd
        p = x2.shape[0]
        g2 = _to_rows(grad.astype(x2.dtype, copy=False), ctx.axis)
        nt = _threads_for(x2.size)
        sum_g, sum_gxc = ctx.map.sums(x2, g2, mean, nt)
        dgamma = sum_gxc * invstd                               # sum(G * xhat)
        out = [None]
        if ctx.needs_input_grad[0]:
            # dx = a*(G - mean(G) - xhat*mean(G*xhat)) with a = gamma*invstd, written as
            # a*G + b*(x - mean) + d so that one pass over G and x makes it
            a = ctx.gamma * invstd
            b = -a * invstd * (dgamma / p)
            d = -a * (sum_g / p)
            out[0] = _from_rows(ctx.map.input_gradient(x2, g2, a, b, d, nt), ctx.shape, ctx.axis)
        out += _param_grads(ctx, dgamma, sum_g)
        return tuple(out)


class BatchNorm(Function):
    """Inference batch norm: y = scale * (x - mean) + beta, scale = gamma / sqrt(var + eps).

    Inputs: x, mean, variance, then gamma if ``has_gamma``, then beta if ``has_beta``. Partials
    (s = 1 / sqrt(var + eps), sums over the P values of each channel; with a fused activation G is
    first zeroed where its clip was active):

        dL/dx = G * gamma * s          dL/dmean = -sum(G) * gamma * s
        dL/dvar = -1/2 * gamma * s^3 * sum(G * (x - mean))
        dL/dgamma = s * sum(G * (x - mean))       dL/dbeta = sum(G)
    """

    @staticmethod
    def forward(ctx, x, mean, variance, *params, epsilon, axis, has_gamma, has_beta, bounds):
        x2 = _to_rows(x, axis)
        c = x2.shape[1]
        ctx.stat_dtypes = (mean.dtype, variance.dtype)
        mean = mean.astype(np.float64)
        s = 1.0 / np.sqrt(variance.astype(np.float64) + epsilon)
        gamma, beta = _params(params, has_gamma, has_beta, c, x.dtype)
        ctx.map = _Normalizer(mean, gamma * s, beta, bounds, x.dtype)
        y2 = ctx.map.forward(x2, _threads_for(x2.size))
        ctx.x2, ctx.mean, ctx.s, ctx.gamma = x2, mean, s, gamma
        ctx.shape, ctx.axis, ctx.has_gamma, ctx.has_beta = x.shape, axis, has_gamma, has_beta
        ctx.param_dtypes = [q.dtype for q in params]
        return _from_rows(y2, x.shape, axis)

    @staticmethod
    def backward(ctx, grad):
        x2, mean, s, gamma = ctx.x2, ctx.mean, ctx.s, ctx.gamma
        c = x2.shape[1]
        g2 = _to_rows(grad.astype(x2.dtype, copy=False), ctx.axis)
        nt = _threads_for(x2.size)
        out = [None, None, None]
        if ctx.needs_input_grad[0]:
            zero = np.zeros(c)
            gx2 = ctx.map.input_gradient(x2, g2, gamma * s, zero, zero, nt)
            out[0] = _from_rows(gx2, ctx.shape, ctx.axis)
        if any(ctx.needs_input_grad[1:]):
            sum_g, sum_gxc = ctx.map.sums(x2, g2, mean, nt)
            out[1] = (-sum_g * gamma * s).astype(ctx.stat_dtypes[0])
            out[2] = (-0.5 * gamma * s ** 3 * sum_gxc).astype(ctx.stat_dtypes[1])
            out += _param_grads(ctx, s * sum_gxc, sum_g)
        else:
            out += [None] * (ctx.has_gamma + ctx.has_beta)
        return tuple(out)


def _shape(x):
    return np.shape(getattr(x, "data", x))


def _bounds(who, activation):
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{who}: activation must be None, 'linear', 'relu' or 'relu6', got "
                         f"{activation!r}")
    return _ACTIVATIONS[activation]


def _check(who, x, axis, epsilon, vectors):
    """Validate before any kernel runs; returns ``axis`` as a non-negative int."""
    shape = _shape(x)
    if len(shape) < 1:
        raise ValueError(f"{who}: x must have at least one axis, got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or \
            not -len(shape) <= axis < len(shape):
        raise ValueError(f"{who}: axis must be an integer in [-{len(shape)}, {len(shape) - 1}] for "
                         f"x of shape {shape}, got {axis!r}")
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon >= 0:
        raise ValueError(f"{who}: epsilon must be a non-negative number, got {epsilon!r}")
    axis = int(axis) % len(shape)
    c = shape[axis]
    for name, v in vectors:
        if v is not None and _shape(v) != (c,):
            raise ValueError(f"{who}: {name} must have shape ({c},), the size of axis {axis} of x "
                             f"(shape {shape}), got shape {_shape(v)}")
    return axis


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
    axis = _check(who, x, axis, epsilon, [("gamma", gamma), ("beta", beta), ("mean", mean),
                                          ("variance", variance)])
    bounds = _bounds(who, activation)
    inputs = [x, mean, variance] + [q for q in (gamma, beta) if q is not None]
    return BatchNorm.apply(*inputs, epsilon=float(epsilon), axis=axis, has_gamma=gamma is not None,
                           has_beta=beta is not None, bounds=bounds)


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
    axis = _check(who, x, axis, epsilon, [("gamma", gamma), ("beta", beta)])
    bounds = _bounds(who, activation)
    shape = _shape(x)
    if int(np.prod(shape)) == 0:
        raise ValueError(f"{who}: x has shape {shape}: every channel needs at least one value to "
                         f"take batch statistics of")
    stats = {}
    inputs = [x] + [q for q in (gamma, beta) if q is not None]
    y = BatchNormTrain.apply(*inputs, epsilon=float(epsilon), axis=axis,
                             has_gamma=gamma is not None, has_beta=beta is not None, bounds=bounds,
                             stats=stats)
    return y, stats["mean"].astype(y.dtype), stats["variance"].astype(y.dtype)


def moving_average_update(moving, value, momentum):
    """Keras's moving statistic: ``moving * momentum + value * (1 - momentum)``, a new array of
    ``moving``'s dtype (``1 - momentum`` is taken in Python floats, as Keras does).

    >>> moving_average_update(np.array([1.0]), np.array([3.0]), 0.75).tolist()
    [1.5]
    """
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
        raise ValueError(f"moving_average_update: momentum must be a number in [0, 1], got "
                         f"{momentum!r}")
    moving = np.asarray(moving)
    value = np.asarray(value)
    if moving.shape != value.shape:
        raise ValueError(f"moving_average_update: value has shape {value.shape}, expected the "
                         f"shape of moving {moving.shape}")
    return (moving * momentum + value.astype(moving.dtype, copy=False) * (1.0 - momentum)).astype(
        moving.dtype, copy=False)


# -- NumPy twins of the kernels in minigrad/_kernels/batchnorm.pyx (same signatures) -------------
# What a student reads first; tests hold the kernels equal to them.

def moments_reference(x, mean, var, num_threads):
    """mean[c] = mean over rows of x (P, C); var[c] = biased variance (float64 outputs)."""
    m = x.mean(axis=0, dtype=np.float64)
    mean[:] = m
    var[:] = ((x - m) ** 2).mean(axis=0) if x.shape[0] else 0.0


def _passed(x, g, center, scale, shift, lo, hi):
    """g where the clip of (x - center) * scale + shift lets the gradient through, else 0."""
    if lo == -np.inf and hi == np.inf:
        return g
    y = (x - center) * scale + shift
    return np.where((y > lo) & (y < hi), g, 0)


def backward_sums_reference(x, g, mean, center, scale, shift, lo, hi, sum_g, sum_gxc, num_threads):
    """sum_g[c] = sum of g'[:, c];  sum_gxc[c] = sum of g'[:, c] * (x[:, c] - mean[c])."""
    g = _passed(x, g, center, scale, shift, lo, hi)
    sum_g[:] = g.sum(axis=0, dtype=np.float64)
    sum_gxc[:] = (g.astype(np.float64) * (x - mean)).sum(axis=0)


def normalize_reference(x, center, scale, shift, lo, hi, out, num_threads):
    """out = clip((x - center) * scale + shift, lo, hi), per channel."""
    np.subtract(x, center, out=out)
    out *= scale
    out += shift
    np.clip(out, lo, hi, out=out)


def normalize_backward_reference(g, x, center, scale, shift, lo, hi, a, b, d, out, num_threads):
    """out = a * g' + b * (x - center) + d, per channel."""
    np.multiply(_passed(x, g, center, scale, shift, lo, hi), a, out=out)
    out += b * (x - center)
    out += d
