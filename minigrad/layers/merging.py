"""Merging layers: combine a list of tensors of one shape into one.

``Add()([a, b, ...])`` = a + b + ... (the residual connection of MobileNet V2).
"""
from .base import Layer, registry


@registry.register()
class Add(Layer):
    """Elementwise sum of two or more inputs of the same shape: (N, ...) x k -> (N, ...)."""

    def build(self, input_shape):
        self._check_shapes(input_shape)
        self.built = True

    def _check_shapes(self, shapes):
        who = f"{type(self).__name__} '{self.name}'"
        if not isinstance(shapes, list) or len(shapes) < 2:
            got = shapes if isinstance(shapes, list) else f"a single input of shape {tuple(shapes)}"
            raise ValueError(f"{who}: expected a list of at least 2 inputs, got {got}")
        first = tuple(shapes[0])
        for shape in shapes[1:]:
            if len(shape) != len(first) or any(a is not None and b is not None and a != b
                                                for a, b in zip(first, shape)):
                raise ValueError(f"{who}: all inputs must have the same shape, got "
                                 f"{[tuple(s) for s in shapes]}")
        return first

    def call(self, inputs, training=False):
        self._check_shapes([tuple(t.shape) for t in inputs])
        outputs = inputs[0] + inputs[1]
        for t in inputs[2:]:
            outputs = outputs + t
        return outputs

    def compute_output_shape(self, input_shape):
        self._check_shapes(input_shape)
        # where one input knows a size the others leave None, the output knows it too
        return tuple(next((d for d in dims if d is not None), None) for dims in zip(*input_shape))
