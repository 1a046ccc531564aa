"""Reductions: sum, mean and max over axes (the matrix product is in :mod:`.linalg`).

This module defines ``sum``, ``mean`` and ``max`` ops, so Python's own are reached as ``builtins.*``.
"""
import builtins

import numpy as np

from ..engine.function import Function, as_tensor


def _normalize_axis(axis, ndim, who):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes, validated."""
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, (int, np.integer, tuple, list)):
        raise ValueError(f"{who}: axis must be None, an int or a tuple of ints, got {axis!r}")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    n = builtins.max(ndim, 1)  # a 0-d tensor accepts axis 0 or -1, as in PyTorch
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -n <= a < n:
            raise ValueError(f"{who}: axis {axis!r} is out of range for a tensor of rank {ndim}")
        out.append(int(a) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{who}: axis {axis!r} names the same axis twice")
    return tuple(sorted(out)) if ndim else ()


def _expand(grad, axes, keepdims):
    """Put back the reduced axes (as size 1) so ``grad`` broadcasts against the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    """f(x) = sum of x over ``axes``;  df/dx = 1 (the gradient is broadcast back)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return np.asarray(x.sum(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_expand(grad, ctx.axes, ctx.keepdims), ctx.shape).copy()


class Mean(Function):
    """f(x) = mean of x over ``axes``;  df/dx = 1/n for the n elements averaged."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        ctx.count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        return np.asarray(x.mean(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        g = _expand(grad, ctx.axes, ctx.keepdims) / builtins.max(ctx.count, 1)
        return np.broadcast_to(g, ctx.shape).astype(grad.dtype)


class Max(Function):
    """f(x) = max of x over ``axes``;  df/dx = 1 at the maximum (split evenly between ties)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        y = np.max(x, axis=axes, keepdims=True)
        ctx.mask = x == y
        ctx.axes, ctx.keepdims = axes, keepdims
        return np.asarray(y if keepdims else np.squeeze(y, axis=axes))

    @staticmethod
    def backward(ctx, grad):
        mask = ctx.mask
        share = mask / mask.sum(axis=ctx.axes, keepdims=True)
        return (_expand(grad, ctx.axes, ctx.keepdims) * share).astype(grad.dtype)


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (None: all axes; an int or a tuple)."""
    x = as_tensor(x, "sum")
    return Sum.apply(x, axes=_normalize_axis(axis, x.ndim, "sum"), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (None: all axes; an int or a tuple)."""
    x = as_tensor(x, "mean")
    return Mean.apply(x, axes=_normalize_axis(axis, x.ndim, "mean"), keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``; refuses an empty reduction (it has no maximum)."""
    x = as_tensor(x, "max")
    axes = _normalize_axis(axis, x.ndim, "max")
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"max: cannot take the maximum over an empty axis (shape {x.shape}, "
                         f"axis {axis!r})")
    return Max.apply(x, axes=axes, keepdims=keepdims)
