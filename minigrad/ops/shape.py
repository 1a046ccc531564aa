"""Ops that move elements around without arithmetic: reshape, transpose, indexing, concatenate,
stack and pad. Their backward moves the gradient back to where each element came from."""
import numpy as np

from ..engine.function import Function, as_tensors, as_tensor
from ..engine.tensor import Tensor


def _contiguous(a):
    """``a`` C-contiguous, copied only when it is not already (and, unlike
    ``np.ascontiguousarray``, a 0-d array stays 0-d)."""
    return np.asarray(a, order="C")


class Reshape(Function):
    """f(x) = x viewed with a new shape;  the gradient is reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Transpose(Function):
    """f(x) = x with its axes permuted;  the gradient is permuted back (inverse permutation)."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.inverse = np.argsort(axes)
        return _contiguous(x.transpose(axes))

    @staticmethod
    def backward(ctx, grad):
        return _contiguous(grad.transpose(ctx.inverse))


def _is_basic_index(index):
    """Slices, ints, None and Ellipsis select each element at most once (so backward can assign)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (slice, int, np.integer, type(None), type(Ellipsis))) and
               not isinstance(i, bool) for i in items)


class GetItem(Function):
    """f(x) = x[index];  the gradient is scattered back (summed where an index repeats)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return _contiguous(x[index])

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        if _is_basic_index(ctx.index):
            out[ctx.index] = grad
        else:
            np.add.at(out, ctx.index, grad)
        return out


class Concatenate(Function):
    """f(x1, ..., xn) = the inputs joined along ``axis``;  each gets its slice of the gradient."""

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(_contiguous(g) for g in np.split(grad, ctx.splits, axis=ctx.axis))


class Stack(Function):
    """f(x1, ..., xn) = the inputs stacked along a new ``axis``;  each gets its slice back."""

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(_contiguous(np.take(grad, i, axis=ctx.axis))
                     for i in range(grad.shape[ctx.axis]))


class Pad(Function):
    """f(x) = x with constant borders;  the gradient is the interior of the output gradient."""

    @staticmethod
    def forward(ctx, x, pad_width, constant):
        ctx.interior = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape))
        if x.ndim == 0:  # nothing to pad (and np.pad refuses an empty pad_width)
            return x.copy()
        return np.pad(x, pad_width, mode="constant", constant_values=constant)

    @staticmethod
    def backward(ctx, grad):
        return _contiguous(grad[ctx.interior])


def reshape(x, *shape):
    """``x`` with a new shape (one entry may be -1); ``reshape(x, 2, 3)`` or ``reshape(x, (2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    x = as_tensor(x, "reshape")
    old = x.shape
    shape = tuple(int(s) for s in shape)
    try:
        return Reshape.apply(x, shape=shape)
    except ValueError:  # NumPy refused: say it in the op's words
        raise ValueError(f"reshape: cannot reshape a tensor of shape {old} ({int(np.prod(old))} "
                         f"elements) into shape {tuple(shape)}") from None


def transpose(x, *axes):
    """Permute axes (default: reverse them); ``transpose(x, 0, 2, 1)`` or with a tuple."""
    x = as_tensor(x, "transpose")
    ndim = x.ndim
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        axes = tuple(range(ndim))[::-1]
    if (not all(isinstance(a, (int, np.integer)) and -ndim <= a < ndim for a in axes)
            or sorted(a % ndim for a in axes) != list(range(ndim))):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {ndim} axes of a "
                         f"tensor of shape {x.shape}")
    return Transpose.apply(x, axes=tuple(int(a) % ndim for a in axes))


def _index_part(i):
    """One part of an index as NumPy takes it: a list becomes an array, a Tensor its data."""
    if isinstance(i, list):
        return np.asarray(i)
    if isinstance(i, Tensor):
        return i.data
    return i


def getitem(x, index):
    """``x[index]`` with NumPy's basic and advanced indexing."""
    x = as_tensor(x, "getitem")
    if isinstance(index, tuple):
        index = tuple(_index_part(i) for i in index)
    else:
        index = _index_part(index)
    try:
        np.empty(x.shape, dtype=np.bool_)[index]  # NumPy's own check, on an array that costs nothing
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape "
                         f"{x.shape}: {e}") from None
    return GetItem.apply(x, index=index)


def _check_join(tensors, axis, who, new_axis):
    """The tensors as Tensors, and ``axis`` as a non-negative int, once their shapes are checked."""
    if not isinstance(tensors, (list, tuple)) or len(tensors) == 0:
        raise ValueError(f"{who}: tensors must be a non-empty list of tensors, got {tensors!r}")
    tensors = as_tensors(tuple(tensors), who)
    shapes = [t.shape for t in tensors]
    ndim = len(shapes[0]) + (1 if new_axis else 0)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{who}: axis {axis} is out of range for rank {ndim}")
    axis %= ndim
    for s in shapes[1:]:
        same = s == shapes[0] if new_axis else (
            len(s) == len(shapes[0]) and all(a == b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != axis))
        if not same:
            raise ValueError(f"{who}: shapes {shapes} do not match "
                             f"{'exactly' if new_axis else 'outside axis ' + str(axis)}")
    return tensors, axis


def concatenate(tensors, axis=-1):
    """Join tensors along an existing ``axis``."""
    tensors, axis = _check_join(tensors, axis, "concatenate", False)
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Stack tensors of one shape along a new ``axis``."""
    tensors, axis = _check_join(tensors, axis, "stack", True)
    return Stack.apply(*tensors, axis=axis)


def pad(x, pad_width, constant_values=0.0):
    """Pad with a constant: ``pad_width`` is ((before, after), ...) per axis, as in ``np.pad``."""
    x = as_tensor(x, "pad")
    ndim = x.ndim
    try:
        widths = np.asarray(pad_width, dtype=np.int64)
        widths = np.broadcast_to(widths, (ndim, 2)) if ndim else widths.reshape(0, 2)
    except (ValueError, TypeError):
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of rank {ndim}; "
                         f"expected ((before, after),) * {ndim}") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    return Pad.apply(x, pad_width=tuple(map(tuple, widths.tolist())), constant=constant_values)
