"""Layer and group normalisation: statistics of each sample, not of the batch.

Both normalise x over a set A of axes of a *view* of x, per position on the other axes, then scale
and shift by gamma / beta, which broadcast over the view::

    mean = mean_A(x)          var = mean_A((x - mean)^2)        (biased: divided by K = |A|)
    r = 1 / sqrt(var + eps)   xhat = (x - mean) * r             y = gamma * xhat + beta

* :func:`layer_norm`: the view is x itself and A the given ``axis`` (one or several); gamma and
  beta have the shape of those axes, as Keras's ``LayerNormalization``.
* :func:`group_norm`: the channel axis (C) is split into (groups, C // groups); A is every axis
  but the batch and the group one, so each sample's group of channels (with all its spatial
  positions) has one mean and variance; gamma and beta are per channel (C,).

Keras's (deprecated) ``rms_scaling=True`` of ``LayerNormalization`` scales x without centring it
but still by its *variance*: ``y = gamma * x * r`` (no beta), r as above.

Partials, with G = dL/dy, g = G * gamma and means over A (per position on the other axes)::

    dL/dx     = r * (g - mean_A(g) - xhat * mean_A(g * xhat))
    rms:  dL/dx = r * g - r^2 * (x - mean) * mean_A(g * u),   u = x * r
    dL/dgamma = sum(G * xhat)  (rms: sum(G * u)),   dL/dbeta = sum(G)

the sums over every view axis on which gamma is broadcast. Everything is computed in float64 and
the output returned in x's dtype (Keras computes in at least float32).
"""
import numbers

import numpy as np

from .._checks import check_axis as check_axes, check_bool, check_int
from ..engine.function import Function
from ._common import check_axis, shape_of, tensor_argument


class Normalize(Function):
    """Normalise x over ``axes`` of its ``view`` shape, then ``* gamma + beta`` broadcast from
    ``param_shape`` (a shape of the view's rank); see the module docstring for f and its partials.

    Inputs: x, then gamma if ``has_gamma``, then beta if ``has_beta`` (any shapes with
    ``prod(param_shape)`` entries). ``rms``: Keras's rms scaling (no centring of the output).
    """

    @staticmethod
    def forward(ctx, x, *params, view, axes, param_shape, epsilon, rms, has_gamma, has_beta):
        xv = x.reshape(view).astype(np.float64)
        mean = xv.mean(axis=axes, keepdims=True)
        xc = xv - mean
        r = 1.0 / np.sqrt((xc * xc).mean(axis=axes, keepdims=True) + epsilon)
        u = (xv if rms else xc) * r            # rms: x * r, else xhat
        gamma = params[0].reshape(param_shape).astype(np.float64) if has_gamma else None
        beta = params[-1].reshape(param_shape).astype(np.float64) if has_beta else None
        y = u if gamma is None else u * gamma
        if beta is not None:
            y = y + beta
        ctx.u, ctx.r, ctx.gamma = u, r, gamma
        ctx.xc = xc if rms else None
        ctx.axes, ctx.rms, ctx.has_beta = axes, rms, has_beta
        # gamma / beta broadcast over these view axes: their gradients are sums over them
        ctx.sum_axes = tuple(i for i, s in enumerate(param_shape) if s == 1)
        ctx.shape, ctx.view = x.shape, view
        ctx.param_meta = [(q.shape, q.dtype) for q in params]
        return y.astype(x.dtype, copy=False).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        G = grad.reshape(ctx.view).astype(np.float64)
        u, r, axes = ctx.u, ctx.r, ctx.axes
        out = [None]
        if ctx.needs_input_grad[0]:
            g = G if ctx.gamma is None else G * ctx.gamma
            mean_gu = (g * u).mean(axis=axes, keepdims=True)
            if ctx.rms:
                dx = r * g - (r * r) * ctx.xc * mean_gu
            else:
                dx = r * (g - g.mean(axis=axes, keepdims=True) - u * mean_gu)
            out[0] = dx.reshape(ctx.shape).astype(grad.dtype, copy=False)
        sums = []
        if ctx.gamma is not None:
            sums.append(G * u)
        if ctx.has_beta:
            sums.append(G)
        for s, (shape, dtype) in zip(sums, ctx.param_meta):
            out.append(s.sum(axis=ctx.sum_axes).reshape(shape).astype(dtype))
        return tuple(out)


def _check_epsilon(epsilon, who):
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon >= 0:
        raise ValueError(f"{who}: epsilon must be a non-negative number, got {epsilon!r}")
    return float(epsilon)


def _params(who, gamma, beta, expected, shape):
    """gamma / beta as Tensors (or None), each checked to have the ``expected`` shape."""
    out = []
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v is None:
            continue
        v = tensor_argument(v, name, who)
        if tuple(v.shape) != expected:
            raise ValueError(f"{who}: {name} must have shape {expected} for x of shape {shape}, "
                             f"got shape {tuple(v.shape)}")
        out.append(v)
    return out


def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-3, rms_scaling=False):
    """Keras 3's ``ops.layer_normalization``: x normalised over ``axis`` (an int or a list of
    ints), per position on the other axes; ``gamma * xhat + beta``.

    Args:
        x: any shape with at least one axis.
        gamma, beta: None, or the shape of x's ``axis`` axes in increasing order (e.g. ``(C,)``
            for ``axis=-1``; ``(H, W, C)`` for ``axis=[1, 2, 3]`` of an NHWC x).
        epsilon: added to the variance, inside the square root.
        rms_scaling: Keras's deprecated variant ``gamma * x / sqrt(var + epsilon)`` (x not centred,
            no beta: ``beta`` must then be None).

    >>> layer_norm(np.array([[1.0, 3.0]]), epsilon=0.0).numpy().tolist()
    [[-1.0, 1.0]]
    """
    who = "layer_norm"
    x = tensor_argument(x, "x", who)
    shape = tuple(x.shape)
    if not shape:
        raise ValueError(f"{who}: x must have at least one axis, got a scalar")
    axes = check_axes(axis, who, len(shape), allow_none=False)
    axes = tuple(sorted(axes if isinstance(axes, tuple) else (axes,)))
    epsilon = _check_epsilon(epsilon, who)
    rms = check_bool(rms_scaling, "rms_scaling", who)
    if rms and beta is not None:
        raise ValueError(f"{who}: beta must be None with rms_scaling=True (Keras's rms scaling "
                         f"has no offset), got an array of shape {shape_of(beta)}")
    params = _params(who, gamma, beta, tuple(shape[a] for a in axes), shape)
    param_shape = tuple(s if i in axes else 1 for i, s in enumerate(shape))
    return Normalize.apply(x, *params, view=shape, axes=axes, param_shape=param_shape,
                           epsilon=epsilon, rms=rms, has_gamma=gamma is not None,
                           has_beta=beta is not None)


def group_norm(x, gamma, beta, groups, axis=-1, epsilon=1e-3):
    """Group normalisation (Wu and He, 2018) as Keras 3's ``GroupNormalization``: the C channels
    of ``axis`` split into ``groups`` runs of C // groups consecutive channels; each sample's group
    is normalised over its channels and every other non-batch axis; then ``gamma * xhat + beta``
    per channel.

    Args:
        x: (N, ..., C, ...), axis 0 the batch; ``axis`` the channel axis (-1 for channels_last,
            1 for channels_first).
        gamma, beta: (C,) or None.
        groups: a positive integer that divides C (1: layer norm over all non-batch axes with
            per-channel gamma; C: instance normalisation).

    >>> group_norm(np.array([[1.0, 3.0, 0.0, 4.0]]), None, None, groups=2,
    ...            epsilon=0.0).numpy().tolist()
    [[-1.0, 1.0, -1.0, 1.0]]
    """
    who = "group_norm"
    x = tensor_argument(x, "x", who)
    shape = tuple(x.shape)
    if len(shape) < 2:
        raise ValueError(f"{who}: x must have a batch axis and a channel axis, got shape {shape}")
    c_axis = check_axis(axis, shape, who)
    if c_axis == 0:
        raise ValueError(f"{who}: axis must be a channel axis, not the batch axis 0, got {axis!r}")
    groups = check_int(groups, "groups", who, low=1)
    c = shape[c_axis]
    if c % groups:
        raise ValueError(f"{who}: groups must divide the number of channels {c} (axis {axis} of "
                         f"x of shape {shape}), got {groups}")
    epsilon = _check_epsilon(epsilon, who)
    params = _params(who, gamma, beta, (c,), shape)
    # (..., C, ...) -> (..., groups, C // groups, ...): statistics over all but axes 0 and c_axis
    view = shape[:c_axis] + (groups, c // groups) + shape[c_axis + 1:]
    axes = tuple(a for a in range(1, len(view)) if a != c_axis)
    param_shape = tuple(view[a] if a in (c_axis, c_axis + 1) else 1 for a in range(len(view)))
    return Normalize.apply(x, *params, view=view, axes=axes, param_shape=param_shape,
                           epsilon=epsilon, rms=False, has_gamma=gamma is not None,
                           has_beta=beta is not None)
