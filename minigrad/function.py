"""The base class of every differentiable op, and the one helper that undoes broadcasting.

An op is a class with two static methods side by side::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):            # ndarrays in, one ndarray out
            y = np.exp(x)
            ctx.y = y                   # save only what backward needs
            return y

        @staticmethod
        def backward(ctx, grad):        # dL/dy in, one dL/d(input) per input out (None: no gradient)
            return grad * ctx.y

    exp = Exp.apply                     # Tensors (or arrays, numbers) in, a Tensor out

``ctx`` is the graph node; ``ctx.needs_input_grad[i]`` says whether input i wants a gradient.
"""
import numpy as np

from . import autograd
from .autograd import Node
from .tensor import Tensor


class Function:
    """Subclass with ``forward(ctx, *arrays, **attrs)`` and ``backward(ctx, grad)``."""

    @staticmethod
    def forward(ctx, *arrays, **attrs):
        raise NotImplementedError("an op must define forward(ctx, *arrays, **attrs)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("an op must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run forward on the inputs' arrays; record a node when a gradient will be needed."""
        tensors = _as_tensors(inputs, cls.__name__)
        node = Node(cls, tensors)
        out = cls.forward(node, *[t.data for t in tensors], **attrs)
        if autograd._grad_enabled and True in node.needs_input_grad:
            return Tensor._from_op(out, node)
        return Tensor._from_op(out, None)


def _as_tensors(inputs, who):
    """Tensors stay; numbers take the dtype of the first Tensor (so 2 * float32 stays float32);
    arrays follow Tensor's rule (float64 kept, everything else float32)."""
    like = None
    for x in inputs:
        if type(x) is Tensor:
            like = x.data.dtype
            break
    out = []
    for x in inputs:
        if type(x) is Tensor or isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, (int, float)) and not isinstance(x, bool) and like is not None:
            out.append(Tensor._from_op(np.array(x, dtype=like), None))
        else:
            try:
                out.append(Tensor(x))
            except TypeError as e:
                raise TypeError(f"{who}: every input must be a Tensor, an array or a number; "
                                f"{e}") from None
    return tuple(out)


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the gradient of NumPy broadcasting.

    Broadcasting copies an input along new leading axes and along axes of size 1; each copy
    contributed to the output, so the gradient of the input is the *sum* over those axes.

    >>> unbroadcast(np.ones((2, 3, 4)), (3, 1)).tolist()
    [[8.0], [8.0], [8.0]]
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad
