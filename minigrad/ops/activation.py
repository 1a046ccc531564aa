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
