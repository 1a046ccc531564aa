"""ONNX converters for the layers that are not convolutions or poolings (see
:mod:`minigrad.io.onnx_conv` for those): activations, Dense, shape layers, normalizations,
merging layers, and the layers that are the identity at inference.

A converter is ``convert(b, layer, inputs, in_shapes, out_shapes)``: it adds nodes to the
:class:`~minigrad.io.onnx_graph.OnnxBuilder` ``b`` reading the ONNX tensors named ``inputs`` (one
per layer input; shapes with None for the batch) and returns the name of the output. Each reads
the layer's Keras config and weights, so it follows what the layer computes, not how.
"""
import numpy as np

from .. import activations


def _weights(layer):
    return [np.asarray(w, np.float32) for w in layer.get_weights()]


# -- activations: f(x) written with ONNX operators -------------------------------------------------
def _mul(b, x, y):
    return b.node("Mul", [x, y])


def _clip(b, x, low, high):
    return b.node("Clip", [x, "" if low is None else b.const(low, label="min"),
                           "" if high is None else b.const(high, label="max")])


def _gelu(b, x):
    half = b.node("Mul", [x, b.const(0.5)])
    erf = b.node("Erf", [b.node("Mul", [x, b.const(1 / np.sqrt(2.0))])])
    return b.node("Mul", [half, b.node("Add", [erf, b.const(1.0)])])


ACTIVATIONS = {
    "linear": lambda b, x: x,
    "relu": lambda b, x: b.node("Relu", [x]),
    "relu6": lambda b, x: _clip(b, x, 0.0, 6.0),
    "sigmoid": lambda b, x: b.node("Sigmoid", [x]),
    "tanh": lambda b, x: b.node("Tanh", [x]),
    "softmax": lambda b, x: b.node("Softmax", [x], axis=-1),
    "log_softmax": lambda b, x: b.node("LogSoftmax", [x], axis=-1),
    "elu": lambda b, x: b.node("Elu", [x], alpha=1.0),
    "selu": lambda b, x: b.node("Selu", [x], alpha=1.6732632423543772,
                                gamma=1.0507009873554805),
    "softplus": lambda b, x: b.node("Softplus", [x]),
    "softsign": lambda b, x: b.node("Softsign", [x]),
    "exponential": lambda b, x: b.node("Exp", [x]),
    "swish": lambda b, x: _mul(b, x, b.node("Sigmoid", [x])),
    "silu": lambda b, x: _mul(b, x, b.node("Sigmoid", [x])),
    "gelu": _gelu,
    "mish": lambda b, x: b.node("Mish", [x]),
    "hard_sigmoid": lambda b, x: b.node("HardSigmoid", [x], alpha=1 / 6, beta=0.5),
    "hard_silu": lambda b, x: b.node("HardSwish", [x]),
    "hard_swish": lambda b, x: b.node("HardSwish", [x]),
    "leaky_relu": lambda b, x: b.node("LeakyRelu", [x], alpha=0.2),
    "celu": lambda b, x: b.node("Celu", [x], alpha=1.0),
    "hard_tanh": lambda b, x: _clip(b, x, -1.0, 1.0),
    "tanh_shrink": lambda b, x: b.node("Sub", [x, b.node("Tanh", [x])]),
    "soft_shrink": lambda b, x: b.node("Shrink", [x], bias=0.5, lambd=0.5),
    "hard_shrink": lambda b, x: b.node("Shrink", [x], bias=0.0, lambd=0.5),
    "log_sigmoid": lambda b, x: b.node("Neg", [b.node("Softplus", [b.node("Neg", [x])])]),
}


def activation(b, fn, x, who):
    """Apply the activation ``fn`` (a function of :mod:`minigrad.activations` or its name)."""
    name = fn if isinstance(fn, str) else activations.serialize(fn)
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"export: layer '{who}' uses the activation {name!r}, which has no ONNX "
                         f"equivalent in minigrad's exporter")
    return ACTIVATIONS[name](b, x)


def channel_vector(b, vector, rank, axis, label):
    """``vector`` (C,) as a constant that broadcasts along ``axis`` of a rank-``rank`` tensor."""
    axis = axis % rank
    return b.const(np.reshape(vector, (-1,) + (1,) * (rank - 1 - axis)), label=label)


# -- core layers -------------------------------------------------------------------------------
def _identity(b, layer, ins, in_shapes, out_shapes):
    return b.node("Identity", [ins[0]])


def _activation(b, layer, ins, in_shapes, out_shapes):
    out = activation(b, layer.activation, ins[0], layer.name)
    return out if out != ins[0] else b.node("Identity", [out])


def _dense(b, layer, ins, in_shapes, out_shapes):
    weights = _weights(layer)
    y = b.node("MatMul", [ins[0], b.const(weights[0], label="kernel")])
    if len(weights) > 1:
        y = b.node("Add", [y, b.const(weights[1], label="bias")])
    return activation(b, layer.activation, y, layer.name)


def _relu(b, layer, ins, in_shapes, out_shapes):
    """Keras 3's general relu: x where x > threshold, else 0; clipped to [0, max_value]; minus
    negative_slope * relu(threshold - x)."""
    x, config = ins[0], layer.get_config()
    slope, threshold, top = config["negative_slope"], config["threshold"], config["max_value"]
    if slope == 0 and threshold == 0:
        y = b.node("Relu", [x])
        return _clip(b, y, None, top) if top is not None else y
    y = b.node("Where", [b.node("Greater", [x, b.const(threshold)]), x, b.const(0.0)])
    if top is not None:
        y = _clip(b, y, 0.0, top)
    if slope != 0:
        below = b.node("Relu", [b.node("Sub", [b.const(threshold), x])])
        y = b.node("Sub", [y, b.node("Mul", [below, b.const(slope)])])
    return y


def _leaky_relu(b, layer, ins, in_shapes, out_shapes):
    return b.node("LeakyRelu", [ins[0]], alpha=float(layer.get_config()["negative_slope"]))


def _elu(b, layer, ins, in_shapes, out_shapes):
    return b.node("Elu", [ins[0]], alpha=float(layer.get_config()["alpha"]))


def _prelu(b, layer, ins, in_shapes, out_shapes):
    return b.node("PRelu", [ins[0], b.const(_weights(layer)[0], label="alpha")])


def _softmax(b, layer, ins, in_shapes, out_shapes):
    axes = layer.get_config()["axis"]
    axes = [axes] if isinstance(axes, int) else list(axes)
    if len(axes) != 1:
        raise ValueError(f"export: Softmax '{layer.name}' over several axes {axes} has no ONNX "
                         f"equivalent in minigrad's exporter")
    return b.node("Softmax", [ins[0]], axis=int(axes[0]))


def _flatten(b, layer, ins, in_shapes, out_shapes):
    x, rank = ins[0], len(in_shapes[0])
    if layer.get_config().get("data_format") == "channels_first" and rank > 2:
        x = b.node("Transpose", [x], perm=[0] + list(range(2, rank)) + [1])
    return b.node("Flatten", [x], axis=1)


def _reshape(b, layer, ins, in_shapes, out_shapes):
    target = [0] + [-1 if d is None else int(d) for d in out_shapes[0][1:]]
    return b.node("Reshape", [ins[0], b.ints(target)])


def _permute(b, layer, ins, in_shapes, out_shapes):
    return b.node("Transpose", [ins[0]], perm=[0] + [int(d) for d in layer.get_config()["dims"]])


def _repeat_vector(b, layer, ins, in_shapes, out_shapes):
    x = b.node("Unsqueeze", [ins[0], b.ints([1], "axes")])
    return b.node("Tile", [x, b.ints([1, layer.get_config()["n"], 1], "repeats")])


def _rescaling(b, layer, ins, in_shapes, out_shapes):
    config = layer.get_config()
    y = b.node("Mul", [ins[0], b.const(config["scale"], label="scale")])
    return b.node("Add", [y, b.const(config["offset"], label="offset")])


# -- normalizations ------------------------------------------------------------------------------
def batch_norm_affine(layer):
    """(scale, shift) of a BatchNormalization in inference: y = x * scale + shift."""
    gamma = layer.gamma.numpy() if layer.gamma is not None else 1.0
    beta = layer.beta.numpy() if layer.beta is not None else 0.0
    mean, var = layer.moving_mean.numpy(), layer.moving_variance.numpy()
    scale = gamma / np.sqrt(var.astype(np.float64) + layer.epsilon)
    return scale, beta - mean * scale


def _batch_norm(b, layer, ins, in_shapes, out_shapes):
    rank = len(in_shapes[0])
    scale, shift = batch_norm_affine(layer)
    y = b.node("Mul", [ins[0], channel_vector(b, scale, rank, layer.axis, "scale")])
    return b.node("Add", [y, channel_vector(b, shift, rank, layer.axis, "shift")])


def _normalize(b, x, axes, epsilon, centre_output=True):
    """(x - mean) / sqrt(var + epsilon) over ``axes`` (biased variance, as Keras); x itself
    over that root when not ``centre_output``."""
    axes = b.ints(axes, "axes")
    centred = b.node("Sub", [x, b.node("ReduceMean", [x, axes], keepdims=1)])
    var = b.node("ReduceMean", [b.node("Mul", [centred, centred]), axes], keepdims=1)
    root = b.node("Sqrt", [b.node("Add", [var, b.const(epsilon)])])
    return b.node("Div", [centred if centre_output else x, root])


def _affine(b, layer, y, broadcast_shape, scale, center):
    """y * gamma + beta with the layer's weights (Keras order: gamma if ``scale``, then beta if
    ``center``) reshaped to ``broadcast_shape``."""
    weights = iter(_weights(layer))
    if scale:
        gamma = b.const(np.reshape(next(weights), broadcast_shape), label="gamma")
        y = b.node("Mul", [y, gamma])
    if center:
        y = b.node("Add", [y, b.const(np.reshape(next(weights), broadcast_shape), label="beta")])
    return y


def _layer_norm(b, layer, ins, in_shapes, out_shapes):
    """Over ``axis``: (x - mean) / sqrt(var + epsilon) * gamma + beta; with Keras's deprecated
    ``rms_scaling``, x / sqrt(var + epsilon) * gamma (x not centred, no beta), as Keras 3 does."""
    config, rank = layer.get_config(), len(in_shapes[0])
    axes = config["axis"] if isinstance(config["axis"], list) else [config["axis"]]
    axes = sorted(a % rank for a in axes)
    rms = config.get("rms_scaling", False)
    y = _normalize(b, ins[0], axes, config["epsilon"], centre_output=not rms)
    shape = [in_shapes[0][i] if i in axes else 1 for i in range(rank)]
    return _affine(b, layer, y, shape[1:] if 0 not in axes else shape,
                   config["scale"] or rms, config["center"] and not rms)


def _group_norm(b, layer, ins, in_shapes, out_shapes):
    config, shape = layer.get_config(), in_shapes[0]
    rank, axis = len(shape), config["axis"] % len(shape)
    channels = shape[axis]
    groups = channels if config["groups"] == -1 else config["groups"]   # -1: one per channel
    if axis == rank - 1:     # (N, ..., C) -> (N, S, G, C/G), statistics over S and C/G
        grouped, stats = [0, -1, groups, channels // groups], [1, 3]
    elif axis == 1:          # (N, C, ...) -> (N, G, C/G * S)
        grouped, stats = [0, groups, -1], [2]
    else:
        raise ValueError(f"export: GroupNormalization '{layer.name}' with axis {config['axis']} "
                         f"(neither the first nor the last) is not supported by the exporter")
    y = _normalize(b, b.node("Reshape", [ins[0], b.ints(grouped)]), stats, config["epsilon"])
    y = b.node("Reshape", [y, b.node("Shape", [ins[0]])])
    return _affine(b, layer, y, [channels] + [1] * (rank - 1 - axis), config["scale"],
                   config["center"])


# -- merging ---------------------------------------------------------------------------------------
def _lifted(b, ins, in_shapes, rank):
    """Lower-rank inputs get size-1 axes after the batch axis, as the merging layers do."""
    out = []
    for x, shape in zip(ins, in_shapes):
        missing = rank - len(shape)
        out.append(b.node("Unsqueeze", [x, b.ints(range(1, 1 + missing), "axes")])
                   if missing else x)
    return out


def _elementwise(op, finish=None):
    def convert(b, layer, ins, in_shapes, out_shapes):
        xs = _lifted(b, ins, in_shapes, len(out_shapes[0]))
        y = b.node(op, xs) if op in ("Sum", "Max", "Min") else xs[0]
        if op in ("Sub", "Mul"):
            for x in xs[1:]:
                y = b.node(op, [y, x])
        return finish(b, y, len(xs)) if finish else y
    return convert


def _concatenate(b, layer, ins, in_shapes, out_shapes):
    return b.node("Concat", ins, axis=int(layer.get_config()["axis"]))


def _l2_normalize(b, x, axis):
    sq = b.node("ReduceSum", [b.node("Mul", [x, x]), b.ints([axis], "axes")], keepdims=1)
    return b.node("Mul", [x, b.node("Reciprocal", [b.node("Sqrt", [
        b.node("Max", [sq, b.const(1e-12)])])])])


def _dot(b, layer, ins, in_shapes, out_shapes):
    config = layer.get_config()
    axes = config["axes"] if isinstance(config["axes"], list) else [config["axes"]] * 2
    ranks = [len(s) for s in in_shapes]
    axes = [a % r for a, r in zip(axes, ranks)]
    xs = [_l2_normalize(b, x, a) for x, a in zip(ins, axes)] if config["normalize"] else ins
    if ranks == [2, 2]:
        return b.node("ReduceSum", [b.node("Mul", xs), b.ints([1], "axes")], keepdims=1)
    if ranks == [3, 3]:   # batched matrix product contracting axes[0] of a with axes[1] of b
        a = xs[0] if axes[0] == 2 else b.node("Transpose", [xs[0]], perm=[0, 2, 1])
        c = xs[1] if axes[1] == 1 else b.node("Transpose", [xs[1]], perm=[0, 2, 1])
        return b.node("MatMul", [a, c])
    raise ValueError(f"export: Dot '{layer.name}' on inputs of ranks {ranks} is not supported "
                     f"by the exporter (2-D and 3-D inputs are)")


CONVERTERS = {
    "Dropout": _identity, "SpatialDropout1D": _identity, "SpatialDropout2D": _identity,
    "SpatialDropout3D": _identity, "GaussianNoise": _identity, "GaussianDropout": _identity,
    "RandomFlip": _identity, "RandomRotation": _identity, "RandomZoom": _identity,
    "RandomTranslation": _identity, "RandomContrast": _identity,
    "Activation": _activation, "Dense": _dense, "ReLU": _relu, "LeakyReLU": _leaky_relu,
    "ELU": _elu, "PReLU": _prelu, "Softmax": _softmax,
    "Flatten": _flatten, "Reshape": _reshape, "Permute": _permute,
    "RepeatVector": _repeat_vector, "Rescaling": _rescaling,
    "BatchNormalization": _batch_norm, "LayerNormalization": _layer_norm,
    "GroupNormalization": _group_norm,
    "Add": _elementwise("Sum"), "Subtract": _elementwise("Sub"),
    "Multiply": _elementwise("Mul"), "Maximum": _elementwise("Max"),
    "Minimum": _elementwise("Min"),
    "Average": _elementwise("Sum", lambda b, y, n: b.node("Mul", [y, b.const(1.0 / n)])),
    "Concatenate": _concatenate, "Dot": _dot,
}
