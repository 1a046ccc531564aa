"""Elementwise arithmetic and math: f and its partials, forward and backward side by side.

All binary ops broadcast like NumPy; their backward sums the gradient back to each input's shape
with :func:`~minigrad.engine.function.unbroadcast`. A number among their inputs (the 2 in ``2 * x``)
becomes a constant Tensor reused from call to call (``constant = ...``: see ops/constants.py).
"""
import numpy as np

from ..engine.function import Function, unbroadcast
from ..engine.tensor import Tensor
from .constants import reused_constant


class Add(Function):
    """f(a, b) = a + b;  df/da = 1, df/db = 1."""
    constant = staticmethod(reused_constant)

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return unbroadcast(grad, sa), unbroadcast(grad, sb)


class Sub(Function):
    """f(a, b) = a - b;  df/da = 1, df/db = -1."""
    constant = staticmethod(reused_constant)

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return unbroadcast(grad, sa), unbroadcast(-grad, sb) if ctx.needs_input_grad[1] else None


class Mul(Function):
    """f(a, b) = a * b;  df/da = b, df/db = a."""
    constant = staticmethod(reused_constant)

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.a, ctx.b
        ga = unbroadcast(grad * b, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(grad * a, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """f(a, b) = a / b;  df/da = 1/b, df/db = -a/b**2."""
    constant = staticmethod(reused_constant)

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.a, ctx.b
        ga = unbroadcast(grad / b, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(-grad * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """f(x) = -x;  df/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """f(a, p) = a ** p;  df/da = p * a**(p-1), df/dp = a**p * log(a) (a > 0)."""
    constant = staticmethod(reused_constant)

    @staticmethod
    def forward(ctx, a, p):
        y = np.power(a, p)
        ctx.a, ctx.p, ctx.y = a, p, y
        return y

    @staticmethod
    def backward(ctx, grad):
        a, p, y = ctx.a, ctx.p, ctx.y
        ga = gp = None
        if ctx.needs_input_grad[0]:
            if (p == 0).any():  # d(a**0)/da = 0 everywhere, but 0 * 0**-1 would say nan at a = 0
                with np.errstate(divide="ignore", invalid="ignore"):
                    da = np.where(p == 0, 0, p * np.power(a, p - 1))
            else:
                da = p * np.power(a, p - 1)
            ga = unbroadcast(grad * da, a.shape)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
            gp = unbroadcast(grad * y * log_a, p.shape)
        return ga, gp


class Exp(Function):
    """f(x) = e**x;  df/dx = e**x."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.y


class Log(Function):
    """f(x) = ln x;  df/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.x


class Sqrt(Function):
    """f(x) = sqrt(x);  df/dx = 1 / (2 sqrt(x))."""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad / (2 * ctx.y)


class Abs(Function):
    """f(x) = |x|;  df/dx = sign(x) (0 at 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * np.sign(ctx.x)


class Clip(Function):
    """f(x) = min(max(x, lo), hi);  df/dx = 1 where lo <= x <= hi, else 0.

    At the bounds themselves the gradient passes, as TensorFlow's clip_by_value does (the
    crossentropy losses clip probabilities and rely on it)."""

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        ctx.inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            ctx.inside &= x >= lo
        if hi is not None:
            ctx.inside &= x <= hi
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)  # a float64 bound must not promote

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.inside


class Maximum(Function):
    """f(a, b) = max(a, b);  the gradient goes to the larger input (split evenly on ties)."""
    constant = staticmethod(reused_constant)

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        return _select_grads(ctx, grad, ctx.a > ctx.b)


class Minimum(Function):
    """f(a, b) = min(a, b);  the gradient goes to the smaller input (split evenly on ties)."""
    constant = staticmethod(reused_constant)

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        return _select_grads(ctx, grad, ctx.a < ctx.b)


def _select_grads(ctx, grad, a_wins):
    a, b = ctx.a, ctx.b
    tie = (a == b) * 0.5
    share_a = (a_wins + tie).astype(grad.dtype)
    ga = unbroadcast(grad * share_a, a.shape) if ctx.needs_input_grad[0] else None
    gb = unbroadcast(grad * (1 - share_a), b.shape) if ctx.needs_input_grad[1] else None
    return ga, gb


class Where(Function):
    """f(a, b) = a where cond else b;  df/da = cond, df/db = not cond."""
    constant = staticmethod(reused_constant)

    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.cond, ctx.shapes = condition, (a.shape, b.shape)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        zero = np.zeros((), dtype=grad.dtype)
        ga = unbroadcast(np.where(ctx.cond, grad, zero), sa) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(np.where(ctx.cond, zero, grad), sb) if ctx.needs_input_grad[1] else None
        return ga, gb


class Cast(Function):
    """f(x) = x in another float dtype;  the gradient is cast back."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype)


add, sub, mul, div, neg, power = Add.apply, Sub.apply, Mul.apply, Div.apply, Neg.apply, Pow.apply
exp, log, sqrt, abs = Exp.apply, Log.apply, Sqrt.apply, Abs.apply
maximum, minimum = Maximum.apply, Minimum.apply


def square(x):
    """f(x) = x**2."""
    return Mul.apply(x, x)


def clip(x, min_value=None, max_value=None):
    """Clamp ``x`` to [min_value, max_value] (either may be None)."""
    if min_value is None and max_value is None:
        raise ValueError("clip: give min_value, max_value or both; got neither")
    if min_value is not None and max_value is not None and min_value > max_value:
        raise ValueError(f"clip: min_value ({min_value}) must not exceed max_value ({max_value})")
    return Clip.apply(x, lo=min_value, hi=max_value)


def where(condition, a, b):
    """Elementwise ``a if condition else b``; ``condition`` is a boolean array (not differentiated)."""
    if isinstance(condition, Tensor):
        condition = condition.data
    return Where.apply(a, b, condition=np.asarray(condition, dtype=bool))


def cast(x, dtype):
    """``x`` as float32 or float64, differentiably."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"cast: dtype must be float32 or float64, got {dtype}")
    return Cast.apply(x, dtype=dtype)
