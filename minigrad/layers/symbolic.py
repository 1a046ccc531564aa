"""Symbolic tensors: how the functional API records a graph without computing anything.

``Input(shape=(28, 28, 1))`` returns a :class:`SymbolicTensor`: a shape (the batch axis None) and
where it came from. Calling a layer on one runs no math: the layer builds its weights for that
shape, computes its output shape, and appends a :data:`CallRecord` (a *node*: the inputs, the
outputs and the call's keyword arguments) to its own list of calls. The outputs point back at the
layer and that node, so from a model's outputs ``minigrad.models`` can walk the graph back to its
inputs.

>>> from minigrad import layers
>>> x = layers.Input(shape=(3,), name="features")
>>> y = layers.Dense(2, name="fc")(x)
>>> y, y.layer.name, y.node_index
(<SymbolicTensor shape=(None, 2) from 'fc'>, 'fc', 0)
>>> y.layer._call_records[0].inputs is x
True
"""
import collections


class SymbolicTensor:
    """A placeholder for a tensor in a functional model: a shape (batch is None) and where it came
    from (``layer``, the call's ``node_index``, and which output ``tensor_index``)."""

    def __init__(self, shape, dtype="float32", layer=None, node_index=0, tensor_index=0):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.layer = layer
        self.node_index = node_index
        self.tensor_index = tensor_index

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        where = f" from '{self.layer.name}'" if self.layer is not None else ""
        return f"<SymbolicTensor shape={self.shape}{where}>"


#: One call of a layer on symbolic tensors (Keras's "node"): what went in, what came out, and the
#: call's keyword arguments.
CallRecord = collections.namedtuple("CallRecord", "inputs outputs kwargs")


def is_symbolic(x):
    """Whether ``x`` (or, for a list, any of its items) is a SymbolicTensor."""
    if isinstance(x, (list, tuple)):
        return any(isinstance(t, SymbolicTensor) for t in x)
    return isinstance(x, SymbolicTensor)


def shape_of(x):
    """The shape of a Tensor, array or SymbolicTensor (a list of them gives a list)."""
    if isinstance(x, (list, tuple)):
        return [shape_of(t) for t in x]
    return tuple(x.shape)


__all__ = ["SymbolicTensor", "CallRecord", "is_symbolic", "shape_of"]
