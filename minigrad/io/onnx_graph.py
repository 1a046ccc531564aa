"""An ONNX graph under construction: nodes, constant tensors, inputs and outputs.

This module knows the ONNX format and nothing of layers: :mod:`minigrad.io.onnx_export` walks a
model and asks the converters of :mod:`minigrad.io.onnx_layers` and
:mod:`minigrad.io.onnx_conv` to add nodes here. ONNX is a list of nodes in topological order,
each naming its input and output tensors; weights are *initializers* (named constant tensors).

The ``onnx`` package is an optional extra (``pip install "minigrad[onnx]"``), imported only when a
model is exported.
"""
import numpy as np

from .safe_files import atomic_write

OPSET = 18   # Resize's ``axes`` and the Reduce ops' ``axes`` input; ONNX Runtime runs it everywhere


def onnx_module(who):
    """The ``onnx`` package, or an ImportError that names the extra to install."""
    try:
        import onnx
    except ImportError as error:
        raise ImportError(f'{who}: exporting to ONNX needs the onnx package: pip install '
                          f'"minigrad[onnx]" (or pip install onnx)') from error
    return onnx


class OnnxBuilder:
    """Collects the graph. Every node gets a unique name: the layer's name for the node that
    produces the layer's output, ``layer/OpType`` (numbered when repeated) for the others."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes, self.initializers = [], []
        self.inputs, self.outputs = [], []
        self._names = set()
        self._producer = {}            # tensor name -> the node that writes it
        self._consumed = set()         # tensor names some node reads
        self.scope = "graph"

    def unique(self, name):
        """``name``, or ``name_1``, ``name_2``... if it is taken."""
        candidate, i = name, 0
        while candidate in self._names:
            i += 1
            candidate = f"{name}_{i}"
        self._names.add(candidate)
        return candidate

    def node(self, op, inputs, n_outputs=1, **attrs):
        """Add ``op(inputs)`` (attributes as keywords); returns its output name (a list of names
        when ``n_outputs > 1``). An empty string stands for an omitted optional input."""
        name = self.unique(f"{self.scope}/{op}")
        outputs = [self.unique(f"{name}:{i}") for i in range(n_outputs)]
        node = self.onnx.helper.make_node(op, list(inputs), outputs, name=name, **attrs)
        self.nodes.append(node)
        for out in outputs:
            self._producer[out] = node
        self._consumed.update(i for i in inputs if i)
        return outputs[0] if n_outputs == 1 else outputs

    def const(self, value, dtype=np.float32, label="const"):
        """A constant tensor (an initializer) holding ``value``; returns its name."""
        array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        name = self.unique(f"{self.scope}/{label}")
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def ints(self, values, label="shape"):
        """An int64 constant: shapes, axes, pads."""
        return self.const(list(values), np.int64, label)

    def finish(self, tensor, name):
        """Give the tensor that ends a layer the name ``name`` (and its node the layer's name),
        so that the file reads like the model; an Identity node where it cannot be renamed (a
        graph input, a constant, a tensor already read by another node)."""
        if name in self._names:
            name = self.unique(name)
        else:
            self._names.add(name)
        node = self._producer.get(tensor)
        if node is None or tensor in self._consumed:
            node = self.onnx.helper.make_node("Identity", [tensor], [name],
                                              name=self.unique(self.scope))
            self.nodes.append(node)
            self._consumed.add(tensor)
        else:
            outputs = list(node.output)
            outputs[outputs.index(tensor)] = name
            del node.output[:]
            node.output.extend(outputs)
            if node.name.startswith(self.scope + "/") and self.scope not in \
                    {n.name for n in self.nodes}:
                node.name = self.scope
        self._producer[name] = node
        return name

    def add_input(self, name, shape):
        """A graph input of float32 and ``shape`` (None: a named dynamic dimension)."""
        dims = ["batch" if i == 0 and d is None else (f"{name}_dim{i}" if d is None else int(d))
                for i, d in enumerate(shape)]
        self._names.add(name)
        self.inputs.append(self.onnx.helper.make_tensor_value_info(
            name, self.onnx.TensorProto.FLOAT, dims))

    def add_output(self, name, shape):
        dims = ["batch" if i == 0 and d is None else (f"{name}_dim{i}" if d is None else int(d))
                for i, d in enumerate(shape)]
        self.outputs.append(self.onnx.helper.make_tensor_value_info(
            name, self.onnx.TensorProto.FLOAT, dims))

    def model(self, graph_name, doc):
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs,
                                  initializer=self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="minigrad", doc_string=doc)
        model.ir_version = min(model.ir_version, 9)   # what ONNX Runtime reads, opset 18 included
        return model


def write_model(onnx, model, path):
    """Check the model as ONNX's own checker does (``full_check``: shapes inferred and
    consistent), then write it atomically."""
    onnx.checker.check_model(model, full_check=True)
    atomic_write(path, model.SerializeToString())
