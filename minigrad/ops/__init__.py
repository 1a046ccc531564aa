"""Differentiable ops. Each takes Tensors, arrays or numbers and returns a Tensor.

Every op is a :class:`~minigrad.function.Function` subclass with ``forward`` and ``backward`` side
by side; the lowercase names here are the functions people call. Tensor's operators (``+``, ``@``,
``x[i]``, ``x.sum()``...) are these same ops, attached to Tensor at the bottom of this file, so that
``tensor.py`` stays below ``ops/`` in the layering.
"""
from ..tensor import Tensor
from .activation import (elu, gelu, hard_sigmoid, leaky_relu, log_softmax, relu, relu6, selu,
                         sigmoid, softmax, softplus, softsign, swish, tanh)
from .arithmetic import (abs, add, cast, clip, div, exp, log, maximum, minimum, mul, neg, power,
                         sqrt, square, sub, where)
from .reduction import matmul, max, mean, sum
from .shape import concatenate, getitem, pad, reshape, stack, transpose


def _as_method(fn):
    """A plain function (which binds to the Tensor), whatever ``fn`` is (``Op.apply`` is a bound
    classmethod, which would not bind)."""
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = getattr(fn, "__name__", "method")
    method.__doc__ = fn.__doc__
    return method


def _install_tensor_methods():
    def rsub(a, b):
        return sub(b, a)

    def rdiv(a, b):
        return div(b, a)

    def rpow(a, b):
        return power(b, a)

    def rmatmul(a, b):
        return matmul(b, a)

    methods = {
        "__add__": add, "__radd__": add, "__sub__": sub, "__rsub__": rsub,
        "__mul__": mul, "__rmul__": mul, "__truediv__": div, "__rtruediv__": rdiv,
        "__pow__": power, "__rpow__": rpow, "__neg__": neg, "__matmul__": matmul,
        "__rmatmul__": rmatmul, "__getitem__": getitem,
        "sum": sum, "mean": mean, "max": max, "reshape": reshape, "transpose": transpose,
        "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "clip": clip,
        "relu": relu, "sigmoid": sigmoid, "tanh": tanh,
    }
    for name, fn in methods.items():
        setattr(Tensor, name, _as_method(fn))
    Tensor.T = property(lambda t: transpose(t))


_install_tensor_methods()
