"""The cross-entropy ops that the losses fold a softmax or sigmoid into, forward and backward side
by side (each docstring gives f and its partials). Numerics follow Keras: probabilities are
clipped to ``[EPSILON, 1 - EPSILON]``."""
import numpy as np

from ..engine.function import Function

EPSILON = 1e-7  # Keras's backend.epsilon(): how close to 0 and 1 a probability may get


class SoftmaxCrossEntropy(Function):
    """Per-sample L = -sum_c y_c log softmax(x)_c along ``axis`` (y: the target, not differentiated).

    dL/dx_c = softmax(x)_c * sum_k y_k - y_c, which is the famous ``p - y`` when y sums to 1.
    Fusing saves the graph of log_softmax, mul and sum; the value is computed exactly as
    ``-(y * ops.log_softmax(x)).sum(axis)``.
    """

    @staticmethod
    def forward(ctx, logits, target, axis):
        shifted = logits - logits.max(axis=axis, keepdims=True)
        log_prob = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.log_prob, ctx.target, ctx.axis = log_prob, target, axis
        return -(target * log_prob).sum(axis=axis)

    @staticmethod
    def backward(ctx, grad):
        target, axis = ctx.target, ctx.axis
        g = np.expand_dims(grad, axis)
        return g * (np.exp(ctx.log_prob) * target.sum(axis=axis, keepdims=True) - target)


class ProbabilityCrossEntropy(Function):
    """Per-sample L = -sum_c y_c log q_c with q = clip(x / sum(x), eps, 1 - eps) along ``axis``.

    Keras's math for probabilities. With p = x / s, s = sum_c x_c:
    dL/dq_c = -y_c / q_c;  dq/dp = 1 inside [eps, 1 - eps] (bounds included, as TensorFlow's
    clip_by_value), 0 outside;  dL/dx_k = (dL/dp_k - sum_c dL/dp_c p_c) / s.
    """

    @staticmethod
    def forward(ctx, x, target, axis):
        total = x.sum(axis=axis, keepdims=True)
        p = x / total
        q = np.clip(p, EPSILON, 1.0 - EPSILON)
        ctx.p, ctx.q, ctx.total, ctx.target, ctx.axis = p, q, total, target, axis
        return -(target * np.log(q)).sum(axis=axis)

    @staticmethod
    def backward(ctx, grad):
        p, q, axis = ctx.p, ctx.q, ctx.axis
        inside = (p >= q.dtype.type(EPSILON)) & (p <= q.dtype.type(1.0 - EPSILON))
        d_p = np.where(inside, -ctx.target / q, 0).astype(q.dtype) * np.expand_dims(grad, axis)
        return (d_p - (d_p * p).sum(axis=axis, keepdims=True)) / ctx.total


class SigmoidCrossEntropy(Function):
    """Elementwise L = -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), for logits x.

    Computed as TensorFlow's sigmoid_cross_entropy_with_logits, max(x, 0) - x y + log(1 + e^-|x|),
    which never overflows;  dL/dx = sigmoid(x) - y.
    """

    @staticmethod
    def forward(ctx, x, target):
        ctx.x, ctx.target = x, target
        return np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        x = ctx.x
        e = np.exp(-np.abs(x))
        sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        return grad * (sigmoid - ctx.target)
