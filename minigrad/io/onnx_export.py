"""``model.export(path, format="onnx")``: a built model as an ONNX file for ONNX Runtime.

The exported graph computes what ``model.predict`` computes (inference semantics):

* one graph input per model input, the same array ``predict`` takes (NHWC, or NCHW for a
  ``channels_first`` model), float32, with a dynamic batch dimension; one output per model output;
* BatchNormalization uses its moving statistics, folded into the convolution before it when that
  convolution's output feeds nothing else (W' = W * s, b' = (b - mean) * s + beta with
  s = gamma / sqrt(var + epsilon)), else written as a per-channel multiply and add;
* Dropout, the noise layers and the augmentation layers are the identity;
* layers keep their names: the node that produces a layer's output is named after the layer.

Tensors stay in the model's own layout. ONNX's convolutions and poolings read NCHW, so for a
``channels_last`` model a Transpose goes before and after each (ONNX Runtime's optimizer cancels the
pairs between two convolutions). TensorFlow's 'same' padding is written as explicit pads (the
extra row/column at the bottom/right), never ``auto_pad``.

The model is never changed: weights are copied out of it. A layer without an ONNX equivalent
raises a ValueError that names it.
"""
import os

import numpy as np

from ..layers import InputLayer
from . import onnx_conv, onnx_layers
from .onnx_layers import batch_norm_affine
from .onnx_graph import OnnxBuilder, onnx_module, write_model

CONVERTERS = {**onnx_layers.CONVERTERS, **onnx_conv.CONVERTERS}


def _is_model(layer):
    return hasattr(layer, "_graph") and hasattr(layer, "_plan")


def _batch_norm_folds(model):
    """{id(BatchNormalization node's record): the record of the convolution call it folds into}
    for each BN whose only input comes from a convolution (linear activation, channels on the
    BN's axis) whose output nothing else reads and is not a model output. Calls, not layers: a
    convolution called twice folds the BN into the one call that feeds it."""
    graph = model._graph
    readers = {}
    for node in graph.nodes:
        for t in node.inputs:
            readers[id(t)] = readers.get(id(t), 0) + 1
    outputs = {id(t) for t in graph_outputs(model)}
    folds = {}
    for node in graph.nodes:
        layer = node.layer
        if type(layer).__name__ != "BatchNormalization" or len(node.inputs) != 1:
            continue
        source = node.inputs[0]
        conv = source.layer
        if type(conv).__name__ not in onnx_conv.FOLDABLE or id(source) in outputs \
                or readers.get(id(source)) != 1:
            continue
        config = conv.get_config()
        if config.get("activation", "linear") != "linear":
            continue
        rank = len(source.shape)
        channel_axis = 1 if config.get("data_format") == "channels_first" else rank - 1
        if layer.axis % rank != channel_axis:
            continue
        folds[id(node.record)] = conv._call_records[source.node_index]
    return folds


def graph_outputs(model):
    return [t for t in _flat(model.outputs)]


def _flat(value):
    return [v for item in value for v in _flat(item)] if isinstance(value, (list, tuple)) \
        else [value]


def _emit(b, model, input_names, folds):
    """Add the nodes of ``model``'s graph, its inputs bound to ``input_names``; returns the ONNX
    names of its outputs. A nested model is inlined the same way."""
    graph = model._graph
    names = {id(t): n for t, n in zip(_flat(model.inputs), input_names)}
    pending = {}   # id(convolution call's record) -> the BN whose affine map it absorbs
    for node in graph.nodes:
        if id(node.record) in folds:
            pending[id(folds[id(node.record)])] = node.layer
    for node in graph.nodes:
        layer = node.layer
        ins = [names[id(t)] for t in node.inputs]
        if isinstance(layer, InputLayer):
            continue
        if id(node.record) in folds:                        # already inside the convolution
            names[id(node.outputs[0])] = names[id(node.inputs[0])]
            continue
        if node.record.kwargs:
            raise ValueError(f"export: layer '{layer.name}' was called with arguments "
                             f"{sorted(node.record.kwargs)}, which the ONNX export does not "
                             f"support")
        if _is_model(layer):
            outs = _emit(b, layer, ins, folds)
        else:
            convert = CONVERTERS.get(type(layer).__name__)
            if convert is None or not type(layer).__module__.startswith("minigrad."):
                raise ValueError(f"export: layer '{layer.name}' ({type(layer).__name__}) has no "
                                 f"ONNX equivalent in minigrad's exporter")
            b.scope = layer.name
            in_shapes = [tuple(t.shape) for t in node.inputs]
            out_shapes = [tuple(t.shape) for t in node.outputs]
            bn = pending.get(id(node.record))
            if bn is not None:
                outs = convert(b, layer, ins, in_shapes, out_shapes, fold=batch_norm_affine(bn))
            else:
                outs = convert(b, layer, ins, in_shapes, out_shapes)
            outs = outs if isinstance(outs, list) else [outs]
            suffix = "" if len(outs) == 1 else ":{}"
            outs = [b.finish(o, layer.name + suffix.format(i)) for i, o in enumerate(outs)]
        for t, name in zip(node.outputs, outs):
            names[id(t)] = name
    return [names[id(t)] for t in _flat(model.outputs)]


def export_onnx(model, filepath):
    """Write ``model`` (built) as an ONNX file at ``filepath``; see the module docstring."""
    who = "export"
    onnx = onnx_module(who)
    if getattr(model, "_graph", None) is None:
        raise ValueError(f"{who}: the model '{model.name}' is not built yet: call it on data or "
                         f"give its first layer an input shape before exporting")
    filepath = os.fspath(filepath)
    b = OnnxBuilder(onnx)
    input_names = []
    for t in _flat(model.inputs):
        input_names.append(t.layer.name)
        b.add_input(t.layer.name, tuple(t.shape))
    folds = {}
    for sub in _models(model):
        folds.update(_batch_norm_folds(sub))
    outputs = _emit(b, model, input_names, folds)
    for name, t in zip(outputs, _flat(model.outputs)):
        if name in input_names or name in {o.name for o in b.outputs}:
            b.scope = t.layer.name
            name = b.finish(b.node("Identity", [name]), t.layer.name + "_output")
        b.add_output(name, tuple(t.shape))
    write_model(onnx, b.model(model.name, f"minigrad model '{model.name}'"), filepath)


def _models(model):
    """The model and every model nested in it."""
    found = [model]
    for layer in model._graph.layers:
        if _is_model(layer):
            found.extend(_models(layer))
    return found
