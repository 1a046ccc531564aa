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

**One step further: the convolution that reads the pair applies it itself.** When the ReLU's
output is in turn read only by a DepthwiseConv2D or a 1x1 Conv2D (a MobileNet block's two
convolutions), the three layers run as one step, in training (the batch norm on its batch
statistics): the convolution's kernels stage their input through the batch norm's map and clip as
they read it (:mod:`minigrad.ops.fused`), so the pair's output, as large as its input, is neither
written nor read back, forward or backward. It is the same computation, bit for bit (the staging
is the batch-norm module's own loop; up to the sign of a zero sum of underflowed products, which
:mod:`minigrad.ops.fused` explains), where:

* the pair qualifies as above, and the ReLU's one output feeds exactly one input of one node, a
  DepthwiseConv2D or Conv2D of the library's own classes, called with no keyword arguments and
  not on a list, and is not a model output;
* the three nodes come one after the other in the graph's order, so that running the
  convolution at the batch norm's place changes no order of calls (a layer called at several
  nodes keeps the losses of its last call);
* the convolution is channels_last, a depthwise one has depth multiplier 1, a Conv2D a 1x1
  kernel, stride 1 and one group; the batch norm normalises the last axis of a 4-D input; all
  three layers have one dtype (checked on every call, as above).

Outside training (or with a frozen batch norm) such a step runs the pair, then the convolution.
The convolution's own bias, activation and activity regularizer apply to its output as in its
``call``; the batch norm's moving statistics are updated as in its ``call``.

>>> x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw")(x)
>>> model = mg.models.Model(inputs, x)
>>> for step in model._plan.steps:
...     print(step)
conv
bn + relu6 + dw (fused)
"""
from ..layers.convolutional import Conv2D
from ..layers.core import ReLU
from ..layers.depthwise import DepthwiseConv2D
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

        readers = _sole_readers(graph.nodes, outputs)
        pairs = _fusable_pairs(graph.nodes, readers)
        convs = _staging_convs(graph.nodes, pairs, readers)
        self.steps, fused_away = [], set()
        for i, node in enumerate(graph.nodes):
            if i in fused_away:   # this ReLU (or convolution) runs inside the batch norm's step
                continue
            step = LayerStep(node, slots)
            j = pairs.get(i)
            if j is not None:
                step = FusedStep(step, LayerStep(graph.nodes[j], slots))
                fused_away.add(j)
                k = convs.get(i)
                if k is not None:
                    step = StagedStep(step, LayerStep(graph.nodes[k], slots))
                    fused_away.add(k)
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


class _Combined:
    """What a step made of consecutive steps (its ``parts``) shares: it reads and writes the slots
    they do, the inner ones too (filled only when the parts run one by one, as they do when a
    setting changed since the plan was made)."""

    __slots__ = ()

    @property
    def sources(self):
        return [slot for part in self.parts for slot in part.sources]

    @property
    def targets(self):
        return [slot for part in self.parts for slot in part.targets]


class FusedStep(_Combined):
    """A BatchNormalization node and the ReLU node that alone reads it, run as one batch-norm op
    with the clip inside (see the module docstring for why this is the same computation)."""

    __slots__ = ("bn_step", "relu_step", "bn", "relu", "source", "target", "frees")

    def __init__(self, bn_step, relu_step):
        self.bn_step, self.relu_step = bn_step, relu_step
        self.bn, self.relu = bn_step.layer, relu_step.layer
        self.source, self.target = bn_step.sources[0], relu_step.targets[0]
        self.frees = ()

    @property
    def parts(self):
        return self.bn_step, self.relu_step

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


class StagedStep(_Combined):
    """A fused BatchNormalization -> ReLU pair (a :class:`FusedStep`) and the convolution that
    alone reads it (a DepthwiseConv2D, or a 1x1 Conv2D), run in training as one op whose kernels
    stage the convolution's input through the batch norm (see the module docstring for why this
    is the same computation)."""

    __slots__ = ("pair", "conv_step", "bn", "relu", "conv", "source", "target", "frees")

    def __init__(self, pair, conv_step):
        self.pair, self.conv_step = pair, conv_step
        self.bn, self.relu, self.conv = pair.bn, pair.relu, conv_step.layer
        self.source, self.target = pair.source, conv_step.targets[0]
        self.frees = ()

    @property
    def parts(self):
        return self.pair, self.conv_step

    def run(self, values, training):
        activation = fused_activation(self.bn, self.relu)
        if activation is None or not (training and self.bn.trainable) \
                or not stages_batch_norm(self.bn, self.conv):
            self.pair.run(values, training)      # the pair (fused as it may), then the conv
            self.conv_step.run(values, training)
        else:
            # each layer's own call around the math (its input checked, its losses recorded);
            # the convolution's input spec is checked on x, which has the pair's output's shape
            bn, conv = self.bn, self.conv
            values[self.target] = bn._call_eager(
                values[self.source],
                lambda x: conv._call_eager(x, lambda x: conv._call_after_batch_norm(x, bn,
                                                                                    activation)))
        for slot in self.frees:
            values[slot] = None

    def __str__(self):
        return f"{self.bn.name} + {self.relu.name} + {self.conv.name} (fused)"


def stages_batch_norm(bn, conv):
    """Whether the kernels of ``conv`` can stage their input through ``bn`` now: ``bn`` on the
    last axis of a 4-D input, one dtype, a channels_last convolution, and a DepthwiseConv2D of
    depth multiplier 1 or a Conv2D with a 1x1 kernel, stride 1 and one group."""
    if getattr(bn, "_axis", None) != 3 or bn.dtype != conv.dtype \
            or conv.data_format != "channels_last":
        return False
    if type(conv) is DepthwiseConv2D:
        return conv.depth_multiplier == 1
    return (type(conv) is Conv2D and conv.kernel_size == (1, 1) and conv.strides == (1, 1)
            and conv.groups == 1)


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


def _sole_readers(nodes, outputs):
    """``{id(symbolic tensor): position of the node that alone reads it}`` for the tensors that
    exactly one input of one node reads, as a bare tensor (not in a list), and that are not model
    outputs: a fused step may keep such a tensor to itself."""
    uses = {}                      # id(symbolic tensor) -> how many node inputs read it
    for node in nodes:
        for t in node.inputs:
            uses[id(t)] = uses.get(id(t), 0) + 1
    for t in outputs:
        uses[id(t)] = uses.get(id(t), 0) + 1
    readers = {}
    for j, node in enumerate(nodes):
        if len(node.inputs) == 1 and uses[id(node.inputs[0])] == 1 \
                and node.record.inputs is node.inputs[0]:
            readers[id(node.inputs[0])] = j
    return readers


def _fusable_pairs(nodes, readers):
    """``{position of a BatchNormalization node: position of the ReLU node that alone reads it}``
    in ``nodes``, for the pairs that meet every rule of the module docstring now."""
    pairs = {}
    for i, bn in enumerate(nodes):
        if type(bn.layer) is not BatchNormalization or len(bn.outputs) != 1 \
                or isinstance(bn.record.inputs, (list, tuple)):
            continue
        j = readers.get(id(bn.outputs[0]))
        if j is None or type(nodes[j].layer) is not ReLU:
            continue
        if bn.record.kwargs or nodes[j].record.kwargs:
            continue
        if fused_activation(bn.layer, nodes[j].layer) is not None:
            pairs[i] = j
    return pairs


def _staging_convs(nodes, pairs, readers):
    """``{position of a paired BatchNormalization node: position of the convolution node that
    alone reads its ReLU}`` for the convolutions that can stage their input through the pair."""
    convs = {}
    for i, j in pairs.items():
        k = readers.get(id(nodes[j].outputs[0])) if len(nodes[j].outputs) == 1 else None
        if k is None or type(nodes[k].layer) not in (DepthwiseConv2D, Conv2D) \
                or nodes[k].record.kwargs:
            continue
        if (j, k) != (i + 1, i + 2):   # another node in between: it would run after the conv
            continue
        if stages_batch_norm(nodes[i].layer, nodes[k].layer):
            convs[i] = k
    return convs
