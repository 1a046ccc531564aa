"""Activation functions and softmax: f and its derivative, forward and backward side by side."""
import math

import numpy as np

from .._checks import check_number
from ..backend import kernels
from ..backend.buffers import buffers
from ..engine.function import Function, as_tensor
from ._common import check_axis, threads_for

_ew = kernels.get("elementwise")   # chosen once, at import


class ReLU(Function):
    """f(x) = max(x, 0);  f'(x) = 1 for x > 0, else 0."""

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad * (ctx.y > 0)


class ReLU6(Function):
    """f(x) = min(max(x, 0), 6);  f'(x) = 1 for 0 < x < 6, else 0.  (Cython kernel.)

    The backward reads the saved *output* y, not x: 0 < y < 6 exactly where 0 < x < 6, so the
    input can be freed as soon as the next op is done with it. Output and gradient come from the
    engine's buffer pool (:mod:`minigrad.backend.buffers`): in a CNN they are megabytes each.
    """

    @staticmethod
    def forward(ctx, x):
        x = np.asarray(x, order="C")  # the kernel reads a flat view; a 0-d array stays 0-d
        y = buffers.empty(x.shape, x.dtype)
        _ew.relu6_forward(x.reshape(-1), y.reshape(-1), threads_for(x.size))
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, grad):
        y = ctx.y
        grad = np.asarray(grad, dtype=y.dtype, order="C")
        out = buffers.empty(y.shape, y.dtype)
        _ew.relu6_backward(y.reshape(-1), grad.reshape(-1), out.reshape(-1), threads_for(y.size))
        return out


class LeakyReLU(Function):
    """f(x) = x for x > 0, alpha * x otherwise;  f'(x) = 1 or alpha."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.slope = np.where(x > 0, 1, alpha).astype(x.dtype)
        return x * ctx.slope

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.slope


class Sigmoid(Function):
    """f(x) = 1 / (1 + e^-x);  f'(x) = f(x) (1 - f(x)).  Computed without overflow for large |x|."""

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, grad):
        y = ctx.y
        return grad * y * (1 - y)


class Tanh(Function):
    """f(x) = tanh x;  f'(x) = 1 - tanh(x)^2."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad * (1 - ctx.y * ctx.y)


class ELU(Function):
    """f(x) = x for x > 0, alpha (e^x - 1) otherwise;  f'(x) = 1, or f(x) + alpha."""

    @staticmethod
    def forward(ctx, x, alpha, scale):
        neg = alpha * np.expm1(np.minimum(x, 0))
        y = scale * np.where(x > 0, x, neg)
        ctx.slope = (scale * np.where(x > 0, 1, neg + alpha)).astype(x.dtype)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.slope


class Softplus(Function):
    """f(x) = ln(1 + e^x);  f'(x) = sigmoid(x).  Stable for large |x|."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.x
        e = np.exp(-np.abs(x))
        return grad * np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Softsign(Function):
    """f(x) = x / (1 + |x|);  f'(x) = 1 / (1 + |x|)^2."""

    @staticmethod
    def forward(ctx, x):
        d = 1 + np.abs(x)
        ctx.d = d
        return x / d

    @staticmethod
    def backward(ctx, grad):
        return grad / (ctx.d * ctx.d)


class HardSigmoid(Function):
    """f(x) = clip(x / 6 + 0.5, 0, 1) (Keras 3);  f'(x) = 1/6 inside (-3, 3), else 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.inside = (x > -3) & (x < 3)
        return np.clip(x / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.inside / 6


class GELU(Function):
    """f(x) = x Phi(x) with Phi the standard normal CDF, Phi(x) = (1 + erf(x / sqrt 2)) / 2 (exact,
    erf form);  f'(x) = Phi(x) + x phi(x), phi the normal density.  (erf: a Cython kernel.)

    Phi is computed in the input's dtype, in place in one pooled buffer, and kept for backward."""

    @staticmethod
    def forward(ctx, x):
        x = np.asarray(x, order="C")  # the kernel reads a flat view; a 0-d array stays 0-d
        cdf = buffers.empty(x.shape, x.dtype)
        flat = cdf.reshape(-1)
        np.multiply(x.reshape(-1), _SQRT_HALF, out=flat)
        # in place is safe: each element is read before it is written, by one thread
        _ew.erf(flat, flat, threads_for(x.size))
        flat += 1
        flat *= 0.5
        y = buffers.empty(x.shape, x.dtype)
        np.multiply(x, cdf, out=y)
        ctx.x, ctx.cdf = x, cdf
        return y

    @staticmethod
    def backward(ctx, grad):
        x, cdf = ctx.x, ctx.cdf
        pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return (grad * (cdf + x * pdf)).astype(grad.dtype, copy=False)


class Mish(Function):
    """f(x) = x tanh(softplus(x)) (Misra, 2019);
    f'(x) = tanh(sp(x)) + x sigmoid(x) (1 - tanh(sp(x))^2), since sp'(x) = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        sp = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))  # softplus, stable for large |x|
        t = np.tanh(sp)
        ctx.x, ctx.t = x, t
        return (x * t).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.x, ctx.t
        e = np.exp(-np.abs(x))
        sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return (grad * (t + x * sig * (1 - t * t))).astype(grad.dtype, copy=False)


class HardSiLU(Function):
    """f(x) = x clip(x / 6 + 1/2, 0, 1) (hard swish, MobileNetV3);
    f'(x) = 0 for x < -3, x / 3 + 1/2 on [-3, 3], 1 for x > 3."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return (x * np.clip(x / 6 + 0.5, 0, 1)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.x
        slope = np.where(x < -3, 0, np.where(x > 3, 1, x / 3 + 0.5))
        return (grad * slope).astype(grad.dtype, copy=False)


class CELU(Function):
    """f(x) = x for x > 0, alpha (e^(x / alpha) - 1) otherwise (Barron, 2017);
    f'(x) = 1, or e^(x / alpha). Unlike elu it is differentiable at 0 for every alpha."""

    @staticmethod
    def forward(ctx, x, alpha):
        e = np.exp(np.minimum(x, 0) / alpha)  # min: no overflow on the branch where() drops
        ctx.slope = np.where(x > 0, 1, e).astype(x.dtype)
        return np.where(x > 0, x, alpha * (e - 1)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.slope


class Shrink(Function):
    """Soft shrink: f(x) = x - t for x > t, x + t for x < -t, 0 between;
    hard shrink: f(x) = x for |x| > t, 0 otherwise.  f'(x) = 1 for |x| > t, else 0 (both)."""

    @staticmethod
    def forward(ctx, x, threshold, soft):
        outside = np.abs(x) > threshold
        ctx.outside = outside
        y = x - np.sign(x) * threshold if soft else x
        return np.where(outside, y, 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.outside


class HardTanh(Function):
    """f(x) = clip(x, -1, 1);  f'(x) = 1 inside (-1, 1), else 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.inside = (x > -1) & (x < 1)
        return np.clip(x, -1, 1).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.inside


class Squareplus(Function):
    """f(x) = (x + sqrt(x^2 + b)) / 2 (Barron, 2021), a smooth relu without exp;
    f'(x) = (1 + x / sqrt(x^2 + b)) / 2."""

    @staticmethod
    def forward(ctx, x, b):
        r = np.sqrt(x * x + b)
        ctx.x, ctx.r = x, r
        return ((x + r) / 2).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, r = ctx.x, ctx.r
        # b = 0 makes r = |x| = 0 at x = 0: take x / r = 0 there (the mean of the two sides)
        ratio = np.divide(x, r, out=np.zeros_like(x), where=r > 0)
        return (grad * (1 + ratio) / 2).astype(grad.dtype, copy=False)


class SparsePlus(Function):
    """f(x) = 0 for x <= -1, (x + 1)^2 / 4 on (-1, 1), x for x >= 1 (a smooth relu, sparse
    below -1);  f'(x) = 0, (x + 1) / 2, 1 (continuous, so f is C^1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.slope = np.clip((x + 1) / 2, 0, 1).astype(x.dtype)  # exactly 0, (x+1)/2, 1
        y = np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.slope


class SparseSigmoid(Function):
    """f(x) = clip((x + 1) / 2, 0, 1) (0 below -1, 1 above 1);  f'(x) = 1/2 inside (-1, 1),
    else 0. (sparse_plus's derivative.)"""

    @staticmethod
    def forward(ctx, x):
        ctx.inside = (x > -1) & (x < 1)
        return np.clip((x + 1) / 2, 0, 1).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.inside / 2


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _minus_max(x, axis):
    """x - max(x) along ``axis``: every exponent is then <= 0, so e^x cannot overflow (softmax of
    [1000, 1000] is [0.5, 0.5], not nan). ``initial`` lets an empty axis through (no max there)."""
    return x - x.max(axis=axis, keepdims=True, initial=-np.inf)


class Softmax(Function):
    """s = e^(x - max x) / sum e^(x - max x) along ``axis``;  dL/dx = s (g - sum(g s))."""

    @staticmethod
    def forward(ctx, x, axis):
        e = np.exp(_minus_max(x, axis))
        s = e / e.sum(axis=axis, keepdims=True)
        ctx.s, ctx.axis = s, axis
        return s

    @staticmethod
    def backward(ctx, grad):
        s = ctx.s
        return s * (grad - (grad * s).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - max x - ln sum e^(x - max x) along ``axis``;  dL/dx = g - e^y sum(g)."""

    @staticmethod
    def forward(ctx, x, axis):
        shifted = _minus_max(x, axis)
        if x.size == 0:  # nothing to normalise (and log of an empty sum, 0, would warn)
            y = shifted
        else:
            y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.y, ctx.axis = y, axis
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad - np.exp(ctx.y) * grad.sum(axis=ctx.axis, keepdims=True)


relu, relu6, sigmoid, tanh = ReLU.apply, ReLU6.apply, Sigmoid.apply, Tanh.apply
softplus, softsign, hard_sigmoid, gelu = Softplus.apply, Softsign.apply, HardSigmoid.apply, GELU.apply
mish, hard_silu, hard_tanh = Mish.apply, HardSiLU.apply, HardTanh.apply
sparse_plus, sparse_sigmoid = SparsePlus.apply, SparseSigmoid.apply

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def leaky_relu(x, alpha=0.2):
    """x for x > 0, alpha x otherwise (Keras default 0.2); max(x, alpha x) if 0 <= alpha <= 1."""
    return LeakyReLU.apply(x, alpha=check_number(alpha, "alpha", "leaky_relu"))


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return ELU.apply(x, alpha=check_number(alpha, "alpha", "elu"), scale=1.0)


def selu(x):
    """Scaled ELU with the self-normalising constants of Klambauer et al. (2017)."""
    return ELU.apply(x, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def swish(x):
    """f(x) = x sigmoid(x) (also called SiLU)."""
    return x * sigmoid(x)


def softmax(x, axis=-1):
    """Softmax along ``axis``, shifted by the max so that large inputs do not overflow."""
    x = as_tensor(x, "softmax")
    return Softmax.apply(x, axis=check_axis(axis, x.shape, "softmax"))


def log_softmax(x, axis=-1):
    """log(softmax(x)) along ``axis``, computed stably (never log of 0)."""
    x = as_tensor(x, "log_softmax")
    return LogSoftmax.apply(x, axis=check_axis(axis, x.shape, "log_softmax"))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: x for x > 0, alpha (e^(x / alpha) - 1) otherwise."""
    return CELU.apply(x, alpha=check_number(alpha, "alpha", "celu", low=0, low_open=True))


def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, 0 between."""
    return Shrink.apply(x, threshold=check_number(threshold, "threshold", "soft_shrink", low=0),
                        soft=True)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, 0 elsewhere."""
    return Shrink.apply(x, threshold=check_number(threshold, "threshold", "hard_shrink", low=0),
                        soft=False)


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2; ``b`` >= 0 sets how round the corner at 0 is (b = 0: relu)."""
    return Squareplus.apply(x, b=check_number(b, "b", "squareplus", low=0))
