"""The base class of every differentiable op, and the one helper that undoes broadcasting.

An op is a class with two static methods side by side (docs/01)::

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
``backward`` returns its gradients in a tuple or a list, in the order of the inputs (one gradient
may come alone); it must not write into ``grad``, nor keep an array it returns. Every positional
argument of ``apply`` is an input, a number too (it becomes a constant tensor); a parameter that
is not a tensor, such as a slope or an axis, goes by keyword: ``Op.apply(x, alpha=0.5)`` calls
``Op.forward(ctx, x_array, alpha=0.5)``.
"""
import numpy as np

from .autograd import Node
from .tensor import Tensor

__all__ = ["Function", "as_tensor", "as_tensors", "unbroadcast"]


class Function:
    """Subclass with ``forward(ctx, *arrays, **attrs)`` and ``backward(ctx, grad)``."""

    @staticmethod
    def forward(ctx, *arrays, **attrs):
        raise NotImplementedError("an op must define forward(ctx, *arrays, **attrs)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("an op must define backward(ctx, grad)")

    @staticmethod
    def constant(value, dtype):
        """A number among ``apply``'s inputs (the 2 in ``2 * x``) as a Tensor that needs no
        gradient. An op that meets the same numbers over and over may reuse them instead (the
        arithmetic ops do: :mod:`minigrad.ops.constants`)."""
        return Tensor._from_op(np.array(value, dtype=dtype), None)

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run forward on the inputs' arrays; keep the node when an input wants a gradient.

        This runs for every op of every forward pass: inputs are converted only when one is not
        a Tensor (a number becomes ``cls.constant(value, dtype)``).
        """
        for x in inputs:
            if type(x) is not Tensor:
                inputs = _convert(inputs, cls)
                break
        ctx = Node(cls, inputs)
        # the usual one or two inputs spelled out, no list: 4.40 vs 4.64 us/op (a, b tensors)
        # and 5.18 vs 5.38 (numbers) in bench_engine.py with the list for all
        n = len(inputs)
        if n == 2:
            out = cls.forward(ctx, inputs[0].data, inputs[1].data, **attrs)
        elif n == 1:
            out = cls.forward(ctx, inputs[0].data, **attrs)
        else:
            out = cls.forward(ctx, *[t.data for t in inputs], **attrs)
        if type(out) is not np.ndarray:  # a NumPy reduction may hand back a scalar, not a 0-d array
            out = np.asarray(out)
        # no input wants a gradient (or no_grad() is on): the node is dropped with what it saved
        return Tensor._from_op(out, ctx if True in ctx.needs_input_grad else None)


def _convert(inputs, op):
    """:func:`as_tensors` for ``op.apply``, whose error also says how to pass a parameter."""
    name = op.__name__
    try:
        return as_tensors(inputs, name, op.constant)
    except TypeError as e:  # most often a parameter (a mode, an axis) passed positionally
        raise TypeError(f"{e}. Every positional argument of {name}.apply is an input; pass a "
                        f"parameter that is not a tensor by keyword, as in "
                        f"{name}.apply(x, mode='same'), and forward receives it as the keyword "
                        f"argument mode") from None


def as_tensor(x, who):
    """``x`` if it is a Tensor, else ``Tensor(x)``: for op functions that look at an input's shape
    before applying the op, so that a non-numeric input is a TypeError naming ``who`` first."""
    return x if isinstance(x, Tensor) else as_tensors((x,), who)[0]


def as_tensors(inputs, who, constant=None):
    """Tensors stay; numbers take the dtype of the first Tensor (so 2 * float32 stays float32)
    and become ``constant(value, dtype)`` (default :meth:`Function.constant`); arrays follow
    Tensor's rule (float64 kept, everything else float32)."""
    like = None
    for x in inputs:
        if isinstance(x, Tensor):
            like = x.data.dtype
            break
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, (int, float)) and not isinstance(x, bool) and like is not None:
            out.append((constant or Function.constant)(x, like))
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
