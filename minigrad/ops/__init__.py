"""Differentiable ops. Each takes Tensors, arrays or numbers and returns a Tensor.

Every op is a :class:`~minigrad.function.Function` subclass with ``forward`` and ``backward`` side
by side; the lowercase names here are the functions people call. Tensor's operators (``+``, ``@``,
``x[i]``, ``x.sum()``...) are these same ops, attached to Tensor at the bottom of this file, so that
``tensor.py`` stays below ``ops/`` in the layering.
"""
import inspect

from ..tensor import Tensor
from .activation import (elu, gelu, hard_sigmoid, leaky_relu, log_softmax, relu, relu6, selu,
                         sigmoid, softmax, softplus, softsign, swish, tanh)
from .arithmetic import (abs, add, cast, clip, div, exp, log, maximum, minimum, mul, neg, power,
                         sqrt, square, sub, where)
from .reduction import matmul, max, mean, sum
from .shape import concatenate, getitem, pad, reshape, stack, transpose
from .conv import conv2d
from .depthwise import depthwise_conv2d
from .nn import bias_add, dropout, flatten
from .normalization import batch_norm, batch_norm_train
from .pooling import avg_pool2d, global_avg_pool2d, max_pool2d


def _as_method(fn):
    """A plain function (which binds to the Tensor), whatever ``fn`` is (``Op.apply`` is a bound
    classmethod, which would not bind)."""
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = getattr(fn, "__name__", "method")
    method.__doc__ = fn.__doc__
    # help() and inspect show t.sum(axis=None, keepdims=False), not (*args, **kwargs)
    params = list(inspect.signature(fn).parameters.values())
    if params and params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
        params[0] = params[0].replace(name="self")
        method.__signature__ = inspect.Signature(params)
    return method


def _as_operator(fn, reflected=False):
    """``t + u`` and friends: a fixed arity, so nothing is packed on the hottest path of a forward
    pass. ``reflected``: ``u + t`` with the Tensor ``t`` on the right."""
    if reflected:
        def method(self, other):
            return fn(other, self)
    else:
        def method(self, other):
            return fn(self, other)
    method.__name__ = method.__qualname__ = getattr(fn, "__name__", "method")
    method.__doc__ = fn.__doc__
    return method


def _install_tensor_methods():
    operators = {"__add__": add, "__sub__": sub, "__mul__": mul, "__truediv__": div,
                 "__pow__": power, "__matmul__": matmul}
    for name, fn in operators.items():
        setattr(Tensor, name, _as_operator(fn))
        setattr(Tensor, name.replace("__", "__r", 1), _as_operator(fn, reflected=True))
    Tensor.__getitem__ = _as_operator(getitem)
    methods = {
        "__neg__": neg, "sum": sum, "mean": mean, "max": max, "reshape": reshape,
        "transpose": transpose, "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "clip": clip,
        "relu": relu, "sigmoid": sigmoid, "tanh": tanh,
    }
    for name, fn in methods.items():
        setattr(Tensor, name, _as_method(fn))
    Tensor.T = property(lambda t: transpose(t))


_install_tensor_methods()
