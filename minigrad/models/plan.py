"""A model's execution plan: its layer calls in order, made once per graph, run by ``Model.call``.

The graph (:mod:`minigrad.models.graph`) says *what* is connected; the plan says *how to run it*,
decided once instead of on every call. Each tensor of the graph gets a slot in a list of values
(the model's inputs first), and each node becomes a step that reads its input slots, calls its
layer and writes its output slots. :meth:`Model.call` is then a loop::

    values = plan.start(inputs)
    for step in plan.steps:
        step.run(values, training)
    outputs = [values[slot] for slot in plan.output_slots]

Each step also lets go of the values that no later step reads (``frees``): without that, a call
keeps every intermediate array alive until it returns, which under ``no_grad`` (evaluate,
predict) is many times the memory the pass needs (26 activations of a 256-image batch, 226 MB, for
examples/mnist_mobilenet.py, instead of the two or three in use at a time). In training the graph
keeps what backward needs anyway.

>>> import minigrad as mg
>>> from minigrad import layers
>>> inputs = layers.Input(shape=(8, 8, 3))
>>> x = layers.Conv2D(4, 3, use_bias=False, name="conv")(inputs)
>>> x = layers.BatchNormalization(name="bn")(x)
>>> x = layers.ReLU(max_value=6.0, name="relu6")(x)
>>> model = mg.models.Model(inputs, layers.GlobalAveragePooling2D(name="pool")(x))
>>> for step in model._plan.steps:
...     print(step)
conv
bn + relu6 (fused)
pool

**The fused step: BatchNormalization -> ReLU6 as one op, without changing the model.**
MobileNet's blocks are a BatchNormalization followed by ``ReLU(max_value=6)``. The batch-norm
kernels can apply that clip inside their own passes (``activation="relu6"`` of
:func:`~minigrad.ops.normalization.batch_norm_train` and
:func:`~minigrad.ops.normalization.batch_norm`): the activation's forward pass, its backward pass
and the two multi-megabyte arrays they write are saved, about half the cost of the pair. The model
keeps its layers as written (``model.layers``, ``summary()``, configs and files are Keras's); only
the plan runs such a pair as one step, and only where that is provably the same computation:

* the BatchNormalization node was called on one tensor (not a list), and its one output feeds
  exactly one input of one node, a ReLU layer, and is not a model output (nobody else may see the
  un-clipped values);
* the ReLU is relu6 exactly (``max_value == 6``, ``negative_slope == 0``, ``threshold == 0``), or
  a plain relu (``max_value`` None), which the kernels clip the same way;
* both are the library's own classes (a subclass may override ``call``), neither has an activity
  regularizer (it would read the output in between), both have the same dtype (the ReLU would
  otherwise cast its input) and neither node was called with extra keyword arguments.

The structural rules (the first point, the classes, the keyword arguments) are fixed for a graph;
the layers' settings (max_value, negative_slope, threshold, activity regularizer, dtype) are checked
when the plan is made *and again on every call*, since they are attributes anyone may change:
a fused step whose pair no longer qualifies runs its two layers one after the other.

Then the fused op gives the same values and gradients: forward, clip(bn(x), 0, 6) is computed the
same way; backward, relu6' (1 where 0 < y < 6) is recomputed from x inside the BN kernels, and the
BN gradient of that masked G is the same sum in the same order. The moving statistics are those of
x either way, and the ReLU layer has no weights, so ``layer.losses`` are unchanged: the fused step
does for the BN layer what ``Layer.__call__`` does (the input cast to the layer's dtype, the input
checked against its spec, the weights' regularization terms recorded as its ``losses``), computing
with the layer's own :meth:`BatchNormalization._normalize` (the same code as its ``call``, so the
training / ``trainable=False`` switch and the moving-statistics update are the layer's own); the
ReLU layer is not called, and its ``losses`` stay empty.
"""
from ..layers.core import ReLU
from ..layers.normalization import BatchNormalization
from . import graph as graph_module


class Plan:
    """The steps that compute ``outputs`` from ``inputs`` (flat lists of SymbolicTensors) over
    ``graph`` (a :class:`~minigrad.models.graph.Graph`).

    Attributes:
        steps: :class:`LayerStep` s and :class:`FusedStep` s, producers before consumers.
        size: how many value slots a call needs (one per tensor of the graph).
        output_slots: where the model's outputs are, in the order of ``outputs``.
    """

    def __init__(self, graph, inputs, outputs):
        slots = {}   # id(SymbolicTensor) -> its slot in the values list
        for i, t in enumerate(inputs):
            slots[id(t)] = i
        self.size = len(inputs)
        for node in graph.nodes:
            for t in node.outputs:
                slots[id(t)] = self.size
                self.size += 1
        self._n_inputs = len(inputs)
        self.output_slots = [slots[id(t)] for t in outputs]

        pairs = _fusable_pairs(graph.nodes, outputs)
        self.steps, fused_away = [], set()
        for i, node in enumerate(graph.nodes):
            if i in fused_away:   # this ReLU runs inside the BatchNormalization's step
                continue
            step = LayerStep(node, slots)
            j = pairs.get(i)
            if j is not None:
                step = FusedStep(step, LayerStep(graph.nodes[j], slots))
                fused_away.add(j)
            self.steps.append(step)
        _set_frees(self.steps, set(self.output_slots))

    def start(self, inputs):
        """A fresh values list holding ``inputs`` (one value per model input, in order)."""
        values = [None] * self.size
        values[:self._n_inputs] = inputs
        return values


class LayerStep:
    """One node: its layer called on the values of its inputs, as the model recorded the call."""

    __slots__ = ("layer", "kwargs", "structure", "sources", "targets", "frees")

    def __init__(self, node, slots):
        self.layer = node.layer
        self.kwargs = node.record.kwargs     # extra keyword arguments of the recorded call
        recorded = node.record.inputs
        # a layer called on a list gets a list back (the same nesting); else the one tensor
        self.structure = recorded if isinstance(recorded, (list, tuple)) else None
        self.sources = [slots[id(t)] for t in node.inputs]
        self.targets = [slots[id(t)] for t in node.outputs]
        self.frees = ()   # slots read for the last time here (set by the Plan)

    def run(self, values, training):
        if self.structure is None:
            args = values[self.sources[0]]
        else:
            args = graph_module.pack_like(self.structure, iter([values[s] for s in self.sources]))
        outputs = self.layer(args, training=training, **self.kwargs)
        for slot, value in zip(self.targets, graph_module.flatten(outputs)):
            values[slot] = value
        for slot in self.frees:
            values[slot] = None

    def __str__(self):
        return self.layer.name


class FusedStep:
    """A BatchNormalization node and the ReLU node that alone reads it, run as one batch-norm op
    with the clip inside (see the module docstring for why this is the same computation)."""

    __slots__ = ("bn_step", "relu_step", "bn", "relu", "source", "target", "frees")

    def __init__(self, bn_step, relu_step):
        self.bn_step, self.relu_step = bn_step, relu_step
        self.bn, self.relu = bn_step.layer, relu_step.layer
        self.source, self.target = bn_step.sources[0], relu_step.targets[0]
        self.frees = ()

    @property
    def sources(self):
        """The slots the pair reads (the BatchNormalization's output only when run one by one)."""
        return self.bn_step.sources + self.relu_step.sources

    @property
    def targets(self):
        return self.bn_step.targets + self.relu_step.targets

    def run(self, values, training):
        activation = fused_activation(self.bn, self.relu)
        if activation is None:   # a setting changed since the plan was made: one by one
            self.bn_step.run(values, training)
            self.relu_step.run(values, training)
        else:
            # the BatchNormalization's own call, with the clip computed inside its kernels
            bn, training = self.bn, bool(training)
            values[self.target] = bn._call_eager(
                values[self.source], lambda x: bn._normalize(x, training, activation))
        for slot in self.frees:
            values[slot] = None

    def __str__(self):
        return f"{self.bn.name} + {self.relu.name} (fused)"


def _set_frees(steps, keep):
    """Give each step the slots it reads (or writes) for the last time: a slot's value can go
    once its last reader has run, except the model's outputs (``keep``)."""
    last = {}
    for i, step in enumerate(steps):
        for slot in step.targets:   # a value nobody reads goes right after its step
            last[slot] = i
        for slot in step.sources:
            last[slot] = i
    for i, step in enumerate(steps):
        step.frees = tuple(sorted({slot for slot in step.sources + step.targets
                                   if last[slot] == i and slot not in keep}))


def fused_activation(bn, relu):
    """``"relu6"`` (or ``"relu"`` for a plain ReLU) when the layers' settings let the pair run
    fused now, else None. (These are attributes, so they are checked on every call.)"""
    if bn.dtype != relu.dtype:
        return None
    if getattr(bn, "activity_regularizer", None) is not None or \
            getattr(relu, "activity_regularizer", None) is not None:
        return None
    if relu.negative_slope != 0 or relu.threshold != 0:
        return None
    if relu.max_value is None:
        return "relu"
    return "relu6" if relu.max_value == 6 else None


def _fusable_pairs(nodes, outputs):
    """``{position of a BatchNormalization node: position of the ReLU node that alone reads it}``
    in ``nodes``, for the pairs that meet every rule of the module docstring now."""
    uses = {}                      # id(symbolic tensor) -> how many node inputs read it
    for node in nodes:
        for t in node.inputs:
            uses[id(t)] = uses.get(id(t), 0) + 1
    for t in outputs:
        uses[id(t)] = uses.get(id(t), 0) + 1
    consumer = {}                  # id(symbolic tensor) -> position of a node that reads it
    for j, node in enumerate(nodes):
        if len(node.inputs) == 1:
            consumer[id(node.inputs[0])] = j
    pairs = {}
    for i, bn in enumerate(nodes):
        if type(bn.layer) is not BatchNormalization or len(bn.outputs) != 1 \
                or isinstance(bn.record.inputs, (list, tuple)):
            continue
        out = bn.outputs[0]
        j = consumer.get(id(out))
        if j is None or uses[id(out)] != 1:
            continue
        relu = nodes[j]
        if type(relu.layer) is not ReLU or relu.record.inputs is not out:   # a bare tensor only
            continue
        if bn.record.kwargs or relu.record.kwargs:
            continue
        if fused_activation(bn.layer, relu.layer) is not None:
            pairs[i] = j
    return pairs
