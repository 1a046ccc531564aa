"""The Tensor: a NumPy array, its gradient, and the node of the graph that made it.

It is docs/00's ``Value`` on arrays: ``data`` and ``grad`` as there, and ``_node`` (the op and its
inputs: :class:`~minigrad.engine.autograd.Node`) where ``Value`` keeps ``_prev`` and ``_backward``.
Its operators (``+``, ``@``, ``t[i]``, ``t.sum()``...) close the class, one line each, calling the
op of that name in ``minigrad.ops``.

>>> import minigrad as mg
>>> x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
array([2., 4., 6.], dtype=float32)
"""
import numpy as np

from . import autograd

__all__ = ["Tensor"]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _as_float_array(data, dtype, who="Tensor"):
    """``data`` as a C-contiguous float32/float64 array of the same shape (0-d stays 0-d).

    An array (or NumPy scalar, or Tensor) of dtype float64 stays float64; everything else, Python
    floats included, becomes float32 unless ``dtype`` says otherwise (as in PyTorch: float32 is the
    default, float64 is kept when asked for). Strings, objects and None are refused.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in _FLOAT_DTYPES:
            raise TypeError(f"{who}: dtype must be float32 or float64, got {dtype}")
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as e:  # ragged nested lists, for example
        raise TypeError(f"{who}: data must be numeric (an array, a number or nested lists of "
                        f"numbers), got {type(data).__name__}: {e}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{who}: data must be numeric (bool, int or float), got "
                        f"{type(data).__name__} of dtype {array.dtype}")
    if dtype is None:
        given_float64 = isinstance(data, (np.ndarray, np.generic)) and array.dtype == np.float64
        dtype = _FLOAT_DTYPES[1] if given_float64 else _FLOAT_DTYPES[0]
    # not np.ascontiguousarray: it turns a 0-d array into shape (1,)
    return np.asarray(array, dtype=dtype, order="C")


class Tensor:
    """An n-dimensional array that records the ops applied to it, for reverse-mode autograd.

    Args:
        data: array-like of numbers, its shape kept (a number is a 0-d tensor). Stored as
            float32 (Python floats too), unless it is a float64 array or ``dtype`` says.
        requires_grad: whether ``backward()`` should compute a gradient for this tensor.
        dtype: ``"float32"`` or ``"float64"`` (or the NumPy types).

    Attributes:
        data: the ``numpy.ndarray`` (C-contiguous).
        grad: ``numpy.ndarray`` shaped like ``data``, or None; backward() adds to it until
            ``zero_grad()``.
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "name", "__weakref__")
    __array_priority__ = 1000  # ndarray + Tensor calls Tensor.__radd__, not NumPy's loop

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _as_float_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        self.name = None

    @classmethod
    def _from_op(cls, data, node):
        """Wrap an op's output array without copying or checking (the op made it)."""
        t = cls.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = node is not None
        t._node = node
        t.name = None
        return t

    # -- plain properties -------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    @property
    def is_leaf(self):
        """True for tensors made by the user (not by an op); only leaves keep ``.grad``."""
        return self._node is None

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != np.float32:
            extra += f", dtype={self.data.dtype}"
        return f"Tensor({body}{extra})"

    # -- leaving the graph --------------------------------------------------------------------
    def numpy(self):
        """The data as an ndarray (the same memory; no graph)."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor has an item, this one has shape "
                             f"{self.data.shape}")
        return self.data.item()

    def detach(self):
        """A new leaf tensor sharing this data, cut from the graph."""
        return Tensor._from_op(self.data, None)

    def zero_grad(self):
        """Forget the accumulated gradient."""
        self.grad = None

    # -- autograd -----------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Compute the gradient of this tensor w.r.t. every leaf that requires grad.

        Args:
            grad: d(something)/d(self), shaped like self. May be omitted only for a one-element
                tensor (then it is 1).
            retain_graph: keep the graph so that backward() can run through it again.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad (no input of the ops "
                               "that made it has requires_grad=True, or it was made under no_grad())")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward: grad may be omitted only for a one-element tensor; "
                                 f"this one has shape {self.data.shape}, so pass grad= of that shape")
            grad = np.ones_like(self.data)
        else:
            grad = _as_float_array(grad, self.data.dtype, who="backward")
            if grad.shape != self.data.shape:
                raise ValueError(f"backward: grad has shape {grad.shape}, expected {self.data.shape} "
                                 f"(the shape of the tensor)")
        autograd.run_backward(self, grad, retain_graph=retain_graph)

    # -- what a Tensor can do: each is an op of minigrad.ops, differentiable, with NumPy's
    # broadcasting. The reflected forms (__radd__ ...) serve `2 * t` and `ndarray @ t`.
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.power(self, other)
    def __rpow__(self, other): return ops.power(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __getitem__(self, index): return ops.getitem(self, index)

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (None: all axes; an int or a tuple): :func:`minigrad.ops.sum`."""
        return ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` (None: all axes; an int or a tuple): :func:`minigrad.ops.mean`."""
        return ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis`` (None: all axes; an int or a tuple): :func:`minigrad.ops.max`."""
        return ops.max(self, axis, keepdims)

    def reshape(self, *shape):
        """A new shape (one entry may be -1): ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        return ops.reshape(self, *shape)

    def transpose(self, *axes):
        """Permute the axes (default: reverse them): ``t.transpose(0, 2, 1)`` or with a tuple."""
        return ops.transpose(self, *axes)

    @property
    def T(self):
        """The tensor with its axes reversed: ``t.transpose()``."""
        return ops.transpose(self)

    def exp(self):
        """e ** t, elementwise."""
        return ops.exp(self)

    def log(self):
        """The natural logarithm, elementwise."""
        return ops.log(self)

    def sqrt(self):
        """The square root, elementwise."""
        return ops.sqrt(self)

    def abs(self):
        """|t|, elementwise."""
        return ops.abs(self)

    def clip(self, min_value=None, max_value=None):
        """Clamp to [min_value, max_value] (either may be None): :func:`minigrad.ops.clip`."""
        return ops.clip(self, min_value, max_value)

    def relu(self):
        """max(t, 0), elementwise."""
        return ops.relu(self)

    def sigmoid(self):
        """1 / (1 + e ** -t), elementwise."""
        return ops.sigmoid(self)

    def tanh(self):
        """The hyperbolic tangent, elementwise."""
        return ops.tanh(self)

    def astype(self, dtype):
        """A differentiable cast to float32 or float64: :func:`minigrad.ops.cast`."""
        return ops.cast(self, dtype)


# The methods above call the ops, and the ops make Tensors: the one mutual use in minigrad's
# layering. Imported here, once Tensor exists, so that each call costs one attribute lookup.
from .. import ops  # noqa: E402
