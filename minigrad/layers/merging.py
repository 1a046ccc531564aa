"""Merging layers: combine a list of tensors into one, as Keras 3's ``keras.layers.merging``.

Elementwise (inputs of one shape, or broadcast as Keras does): ``Add``, ``Subtract`` (exactly
2), ``Multiply``, ``Average``, ``Maximum``, ``Minimum``. Joining: ``Concatenate(axis=-1)``.
Products: ``Dot(axes, normalize)``, the per-sample dot product along one axis of each input
(cosine similarity with ``normalize``).

``Add()([a, b, ...])`` = a + b + ... is the residual connection of MobileNet V2.
"""
import math

from .. import ops
from .base import Layer, registry


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)


class Merge(Layer):
    """Base of the merging layers: checks that the layer gets a list of inputs and their shapes
    agree, then hands the tensors to :meth:`_merge`. No weights.

    Elementwise subclasses define ``_combine`` (the op on inputs of one rank); the others
    (Concatenate, Dot) override ``_check_shapes``, ``_merge`` and ``compute_output_shape``.
    ``_min_inputs`` / ``_max_inputs`` bound the length of the list.
    """
    _min_inputs = 2
    _max_inputs = None

    def _who(self):
        return f"{type(self).__name__} '{self.name}'"

    def _check_count(self, shapes):
        """Refuse a single tensor or a list of the wrong length, naming the layer."""
        if not isinstance(shapes, (list, tuple)) or not shapes or not all(map(_is_shape, shapes)):
            got = f"a single input of shape {tuple(shapes)}" if _is_shape(shapes) else shapes
            raise ValueError(f"{self._who()}: expected a list of at least {self._min_inputs} "
                             f"inputs, got {got}")
        n = len(shapes)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            want = (f"exactly {self._min_inputs}" if self._min_inputs == self._max_inputs
                    else f"at least {self._min_inputs}")
            raise ValueError(f"{self._who()}: expected a list of {want} inputs, got {n} inputs "
                             f"of shapes {[tuple(s) for s in shapes]}")

    def _check_shapes(self, shapes):
        """Elementwise layers, as Keras: one batch size, the other axes right-aligned and
        broadcast (equal sizes, or 1); a lower-rank input gets size-1 axes after the batch axis,
        so a (N, 1, 1, C) or (N, C) gate scales a (N, H, W, C) map. Returns the output shape
        without the batch axis; where one input knows a size another leaves None, it is known."""
        self._check_count(shapes)
        batch = {s[0] for s in shapes if len(s)} - {None}
        if len(batch) > 1 or any(len(s) == 0 for s in shapes):
            raise ValueError(f"{self._who()}: all inputs must have the same batch size, got "
                             f"{[tuple(s) for s in shapes]}")
        rank = max(len(s) for s in shapes)
        # the missing leading axes of a lower-rank input are the size-1 axes call() inserts
        padded = [(1,) * (rank - len(s)) + tuple(s[1:]) for s in shapes]
        out = []
        for dims in zip(*padded):
            known = {d for d in dims if d is not None and d != 1}
            if len(known) > 1:
                raise ValueError(f"{self._who()}: all inputs must have the same shape, got "
                                 f"{[tuple(s) for s in shapes]} (a size of 1 broadcasts)")
            out.append(known.pop() if known else (None if None in dims else 1))
        return tuple(out)

    def build(self, input_shape):
        self._check_shapes(input_shape)  # no weights: building only validates the shapes
        self.built = True

    def call(self, inputs, training=False):
        if not isinstance(inputs, (list, tuple)):
            self._check_shapes(tuple(inputs.shape))  # raises: a single tensor
        self._check_shapes([tuple(t.shape) for t in inputs])
        return self._merge(list(inputs))

    def _merge(self, inputs):
        """The elementwise op on inputs brought to one rank (size-1 axes after the batch)."""
        rank = max(t.ndim for t in inputs)
        return self._combine([t if t.ndim == rank else
                              ops.reshape(t, t.shape[0], *([1] * (rank - t.ndim)), *t.shape[1:])
                              for t in inputs])

    def _combine(self, inputs):
        raise NotImplementedError(f"{type(self).__name__} must define _combine()")

    def compute_output_shape(self, input_shape):
        rest = self._check_shapes(input_shape)
        batch = next((s[0] for s in input_shape if s[0] is not None), None)
        return (batch,) + rest


def _fold(fn, inputs):
    """fn(fn(fn(x0, x1), x2), ...): the binary op applied left to right."""
    out = inputs[0]
    for t in inputs[1:]:
        out = fn(out, t)
    return out


@registry.register()
class Add(Merge):
    """Elementwise sum of two or more inputs of the same shape: (N, ...) x k -> (N, ...)."""

    def _combine(self, inputs):
        return _fold(ops.add, inputs)


@registry.register()
class Subtract(Merge):
    """``inputs[0] - inputs[1]``, for exactly two inputs of the same shape."""
    _max_inputs = 2

    def _combine(self, inputs):
        return inputs[0] - inputs[1]


@registry.register()
class Multiply(Merge):
    """Elementwise product of two or more inputs of the same shape (gating, attention masks)."""

    def _combine(self, inputs):
        return _fold(ops.mul, inputs)


@registry.register()
class Average(Merge):
    """Elementwise mean of two or more inputs of the same shape (ensembling branches)."""

    def _combine(self, inputs):
        return _fold(ops.add, inputs) * (1.0 / len(inputs))


@registry.register()
class Maximum(Merge):
    """Elementwise maximum of two or more inputs; the gradient flows to the larger input."""

    def _combine(self, inputs):
        return _fold(ops.maximum, inputs)


@registry.register()
class Minimum(Merge):
    """Elementwise minimum of two or more inputs; the gradient flows to the smaller input."""

    def _combine(self, inputs):
        return _fold(ops.minimum, inputs)


@registry.register()
class Concatenate(Merge):
    """Join the inputs along ``axis`` (default -1, the channels of channels_last feature maps);
    every other axis must agree. A list of one input is passed through, as in Keras."""
    _min_inputs = 1

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Concatenate: axis must be an int, got {axis!r}")
        self.axis = axis

    def _check_shapes(self, shapes):
        self._check_count(shapes)
        rank = len(shapes[0])
        if not -rank <= self.axis < rank:
            raise ValueError(f"{self._who()}: axis={self.axis} is out of range for inputs of "
                             f"rank {rank} (shapes {[tuple(s) for s in shapes]})")
        axis = self.axis % rank
        for shape in shapes[1:]:
            if len(shape) != rank or any(
                    i != axis and a is not None and b is not None and a != b
                    for i, (a, b) in enumerate(zip(shapes[0], shape))):
                raise ValueError(f"{self._who()}: inputs must have the same shape except along "
                                 f"axis={self.axis}, got {[tuple(s) for s in shapes]}")
        return axis

    def _merge(self, inputs):
        return ops.concatenate(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        axis = self._check_shapes(input_shape)
        out = [next((d for d in dims if d is not None), None) for dims in zip(*input_shape)]
        sizes = [s[axis] for s in input_shape]
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@registry.register()
class Dot(Merge):
    """Per-sample dot product of two inputs along ``axes``: an int (the same axis of both) or
    ``[axis_of_first, axis_of_second]``; the batch axis 0 cannot be summed over.

    The output holds the first input's remaining axes then the second's (batch not repeated),
    e.g. (N, 3, 5) . (N, 10, 3) with ``axes=(1, 2)`` -> (N, 5, 10); (N, d) . (N, d) -> (N, 1).
    ``normalize=True`` divides both inputs by their L2 norm along the axis first (cosine
    similarity), the norm floored at 1e-7 as Keras does so a zero vector gives 0, not NaN.
    """
    _min_inputs = _max_inputs = 2
    _epsilon = 1e-7  # Keras's backend.epsilon(), the floor of the norm

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"Dot: axes must be an int or a list of two ints, got "
                                 f"axes={axes!r} ({len(axes)} elements)")
            if not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
                raise ValueError(f"Dot: axes must be an int or a list of two ints, got "
                                 f"axes={axes!r}")
            axes = list(axes)  # a tuple would come back from JSON as a list
        elif isinstance(axes, bool) or not isinstance(axes, int):
            raise TypeError(f"Dot: axes must be an int or a list of two ints, got axes={axes!r}")
        if not isinstance(normalize, bool):
            raise TypeError(f"Dot: normalize must be True or False, got {normalize!r}")
        self.axes = axes
        self.normalize = normalize

    def _axes_for(self, shapes):
        """The two summed axes as non-negative ints for inputs of ``shapes``, once checked."""
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else self.axes
        axes = []
        for ax, shape in zip(pair, shapes):
            rank = len(shape)
            if rank < 2 or not -rank <= ax < rank or ax % rank == 0:
                raise ValueError(f"{self._who()}: axes={self.axes} must name a non-batch axis of "
                                 f"each input (rank >= 2), got shapes "
                                 f"{[tuple(s) for s in shapes]}")
            axes.append(ax % rank)
        return axes

    def _check_shapes(self, shapes):
        self._check_count(shapes)
        a0, a1 = self._axes_for(shapes)
        d0, d1 = shapes[0][a0], shapes[1][a1]
        if d0 is not None and d1 is not None and d0 != d1:
            raise ValueError(f"{self._who()}: axes={self.axes} pairs axis {a0} of size {d0} with "
                             f"axis {a1} of size {d1}; they must be equal (shapes "
                             f"{[tuple(s) for s in shapes]})")
        n0, n1 = shapes[0][0], shapes[1][0]
        if n0 is not None and n1 is not None and n0 != n1:
            raise ValueError(f"{self._who()}: the inputs must have the same batch size, got "
                             f"shapes {[tuple(s) for s in shapes]}")
        return a0, a1

    def _unit(self, x, axis):
        norm = ops.maximum(ops.sum(x * x, axis=axis, keepdims=True).sqrt(), self._epsilon)
        return x / norm

    def _merge(self, inputs):
        x, y = inputs
        a0, a1 = self._check_shapes([x.shape, y.shape])
        if self.normalize:
            x, y = self._unit(x, a0), self._unit(y, a1)
        # move the summed axis last in x and first-after-batch in y, flatten the rest, and
        # one batched matmul (N, P, K) @ (N, K, Q) does every per-sample dot product
        x = ops.transpose(x, *[i for i in range(x.ndim) if i != a0], a0)
        y = ops.transpose(y, 0, a1, *[i for i in range(1, y.ndim) if i != a1])
        n, k = x.shape[0], x.shape[-1]
        x_rest, y_rest = x.shape[1:-1], y.shape[2:]
        out = ops.matmul(ops.reshape(x, n, math.prod(x_rest), k),
                         ops.reshape(y, n, k, math.prod(y_rest)))
        # Keras keeps a (N, 1) output rather than (N,) when nothing but the batch is left
        return ops.reshape(out, n, *((x_rest + y_rest) or (1,)))

    def compute_output_shape(self, input_shape):
        a0, a1 = self._check_shapes(input_shape)
        s0, s1 = list(input_shape[0]), list(input_shape[1])
        n = s0[0] if s0[0] is not None else s1[0]
        rest = s0[1:a0] + s0[a0 + 1:] + [d for i, d in enumerate(s1) if i not in (0, a1)]
        return (n, *(rest or [1]))

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


# -- Keras's functional forms: ``add([a, b])`` is ``Add()([a, b])`` ------------------------------
def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``: the elementwise sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``: inputs[0] - inputs[1]."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``: the elementwise product."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``: the elementwise mean."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``: the elementwise maximum."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``: the elementwise minimum."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """``Dot(axes, normalize, **kwargs)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
