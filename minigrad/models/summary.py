"""``model.summary()``: the Keras table of layers, output shapes and parameter counts.

For a stack of layers (one input, each layer used once, each feeding the next)::

    Model: "mlp"
    _________________________________________________________________
     Layer (type)                Output Shape              Param #
    =================================================================
     dense (Dense)               (None, 4)                 16
    ...
    =================================================================
    Total params: 21
    Trainable params: 21
    Non-trainable params: 0
    _________________________________________________________________

A graph with branches gets a fourth column, "Connected to" (``layer[node][tensor]``).
"""
from ..layers import InputLayer


def _shape_text(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def _is_plain_stack(model):
    graph = model._graph
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return False
    for node in graph.nodes:
        if len(node.inputs) != 1 or len(graph.nodes_of[id(node.layer)]) != 1:
            return False
    return True


def _fit(fields, positions):
    """One line: field i cut or padded to end at column ``positions[i]`` (Keras's print_row),
    with at least one space between columns."""
    line = ""
    for i, (field, end) in enumerate(zip(fields, positions)):
        if i > 0:
            line = line[:-1] + " "
        line = (line + (" " if i == 0 else "") + str(field))[:end].ljust(end)
    return line.rstrip()


def _row_layers(model):
    """(name (Type), output shape text, params, [connected-to...]) for each listed layer."""
    graph, rows = model._graph, []
    listed = model.layers  # Sequential hides its InputLayer, as Keras does
    for layer in listed:
        nodes = graph.nodes_of.get(id(layer), [])
        if len(nodes) == 1:
            outputs = nodes[0].record.outputs
            shape = [t.shape for t in outputs] if isinstance(outputs, list) else outputs.shape
            text = _shape_text([shape] if isinstance(layer, InputLayer) else shape)
        else:
            text = "multiple"
        connected = [f"{t.layer.name}[{graph.relative_index[(id(t.layer), t.node_index)]}]"
                     f"[{t.tensor_index}]" for node in nodes for t in node.inputs
                     if not isinstance(layer, InputLayer)]
        rows.append((f"{layer.name} ({type(layer).__name__})", text, layer.count_params(),
                     connected))
    return rows


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """Print ``model``'s table through ``print_fn`` (default ``print``), one line per call."""
    print_fn = print if print_fn is None else print_fn
    plain = _is_plain_stack(model)
    line_length = line_length or (65 if plain else 98)
    positions = positions or ([0.45, 0.85, 1.0] if plain else [0.33, 0.55, 0.67, 1.0])
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    headers = ["Layer (type)", "Output Shape", "Param #"] + ([] if plain else ["Connected to"])

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    print_fn(_fit(headers, positions))
    print_fn("=" * line_length)
    rows = _row_layers(model)
    for name, shape, params, connected in rows:
        first = connected[0] if connected else ""
        print_fn(_fit([name, shape, params] + ([] if plain else [first]), positions))
        for extra in ([] if plain else connected[1:]):
            print_fn(_fit(["", "", ""] + [extra], positions))
        print_fn("")
    print_fn("=" * line_length)
    trainable = sum(w.data.size for w in model.trainable_weights)
    total = model.count_params()
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn("_" * line_length)
