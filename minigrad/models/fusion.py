"""Running BatchNormalization -> ReLU6 as one fused op, without changing the model.

MobileNet's blocks are a BatchNormalization followed by ``ReLU(max_value=6)``. The batch-norm
kernels can apply that clip inside their own passes (``activation="relu6"`` of
:func:`~minigrad.ops.normalization.batch_norm_train` and :func:`~minigrad.ops.normalization.batch_norm`):
the activation's forward pass, its backward pass and the two multi-megabyte arrays they write are
saved, about half the cost of the pair. The model keeps its layers as written (``model.layers``,
``summary()``, configs and files are Keras's); only the executor (:meth:`Model.call`) runs such a
pair as one call, and only where that is provably the same computation:

* the BatchNormalization node's one output feeds exactly one input of one node, a ReLU layer, and
  is not a model output (nobody else may see the un-clipped values);
* the ReLU is relu6 exactly (``max_value == 6``, ``negative_slope == 0``, ``threshold == 0``), or
  a plain relu (``max_value`` None), which the kernels clip the same way;
* both are the library's own classes (a subclass may override ``call``), neither has an activity
  regularizer (it would read the output in between), both have the same dtype (the ReLU would
  otherwise cast its input) and neither node was called with extra keyword arguments.

Then the fused op gives the same values and gradients: forward, clip(bn(x), 0, 6) is computed the
same way; backward, relu6' (1 where 0 < y < 6) is recomputed from x inside the BN kernels, and the
BN gradient of that masked G is the same sum in the same order. The moving statistics are those of
x either way, and the ReLU layer has no weights, so ``layer.losses`` are unchanged (the BN layer is
still called through ``Layer.__call__``; the ReLU layer's ``losses`` stay empty).
"""
from ..layers.core import ReLU
from ..layers.normalization import BatchNormalization


def candidate_pairs(graph, outputs):
    """``{position of a BatchNormalization node: position of the ReLU node that alone consumes
    it}`` in ``graph.nodes``: the structural half of the rules above (fixed for a graph)."""
    uses = {}                      # id(symbolic tensor) -> how many node inputs read it
    for node in graph.nodes:
        for t in node.inputs:
            uses[id(t)] = uses.get(id(t), 0) + 1
    for t in outputs:
        uses[id(t)] = uses.get(id(t), 0) + 1
    consumer = {}                  # id(symbolic tensor) -> position of a node that reads it
    for j, node in enumerate(graph.nodes):
        if len(node.inputs) == 1:
            consumer[id(node.inputs[0])] = j
    pairs = {}
    for i, node in enumerate(graph.nodes):
        if type(node.layer) is not BatchNormalization or len(node.outputs) != 1:
            continue
        out = node.outputs[0]
        j = consumer.get(id(out))
        if j is None or uses[id(out)] != 1:
            continue
        relu = graph.nodes[j]
        if type(relu.layer) is ReLU and relu.record.inputs is out:   # a bare tensor, not a list
            pairs[i] = j
    return pairs


def fused_activation(bn_node, relu_node):
    """``"relu6"`` (or ``"relu"`` for a plain ReLU) when the pair may run fused now (the layers' settings can change between
    calls, so this half of the rules is checked on every call), else None."""
    bn, relu = bn_node.layer, relu_node.layer
    if bn_node.record.kwargs or relu_node.record.kwargs or bn.dtype != relu.dtype:
        return None
    if getattr(bn, "activity_regularizer", None) is not None or \
            getattr(relu, "activity_regularizer", None) is not None:
        return None
    if relu.negative_slope != 0 or relu.threshold != 0:
        return None
    if relu.max_value is None:
        return "relu"
    return "relu6" if relu.max_value == 6 else None
