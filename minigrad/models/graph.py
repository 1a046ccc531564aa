"""The graph of a functional model, and its JSON form.

Calling a layer on :class:`~minigrad.layers.SymbolicTensor` s records a *node* (``CallRecord``:
the input tensors, the output tensors, extra keyword arguments) on the layer. A model is the set
of nodes that lead from its inputs to its outputs, found by walking back from the outputs.

Ordering follows Keras, so that ``model.layers`` and a saved ``model.json`` list layers as Keras
and TF.js do: a node's *depth* is its distance from the outputs (the longest path), nodes run from
the deepest to depth 0, and layers are listed by depth, ties broken by the order in which the walk
from the outputs first met them.

A layer may be called several times (a shared layer): each call is a node. In the JSON a node is
named by the layer's name and its index *among this model's nodes of that layer* (Keras and TF.js
renumber them per model), so a layer shared with another model keeps valid references.
"""
import collections

from ..layers import InputLayer, SymbolicTensor

Node = collections.namedtuple("Node", "layer index record inputs outputs")


def flatten(structure):
    """The leaves of a tensor or a (nested) list/tuple of tensors, in order."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_like(structure, leaves):
    """``structure`` with its leaves replaced, in order, by those of the iterator ``leaves``."""
    if isinstance(structure, (list, tuple)):
        return [pack_like(item, leaves) for item in structure]
    return next(leaves)


def node_key(tensor):
    return id(tensor.layer), tensor.node_index


class Graph:
    """The nodes between ``inputs`` and ``outputs`` (flat lists of SymbolicTensors).

    Attributes:
        nodes: the nodes to run, producers before consumers (input layers excluded).
        layers: every layer of the model, Keras order, input layers included.
        relative_index: {(id(layer), node index): the node's index among the model's nodes of
            that layer}, used in the JSON form.
        nodes_of: {id(layer): the layer's nodes in this model}.
    """

    def __init__(self, inputs, outputs, who):
        input_keys = {node_key(t) for t in inputs}
        order, visited, seen_layers = [], set(), {}
        stack = [(t.layer, t.node_index, False) for t in reversed(outputs)]
        while stack:  # iterative depth-first walk from the outputs (no recursion limit)
            layer, index, expanded = stack.pop()
            key = (id(layer), index)
            if expanded:
                order.append(key)
                continue
            if key in visited:
                continue
            visited.add(key)
            seen_layers.setdefault(id(layer), (len(seen_layers), layer))
            stack.append((layer, index, True))
            if key in input_keys:
                continue
            if isinstance(layer, InputLayer):
                raise ValueError(f"{who}: the outputs depend on the input layer '{layer.name}', "
                                 f"which is not among the model's inputs (graph disconnected)")
            for parent in reversed(flatten(layer._call_records[index].inputs)):
                stack.append((parent.layer, parent.node_index, False))
        for t in inputs:
            key = node_key(t)
            if key not in visited:
                # an input no output depends on: Keras 3 keeps it (a loss or a metric may use
                # it) at depth 0, listed before the other layers of that depth
                visited.add(key)
                seen_layers.setdefault(id(t.layer), (-1, t.layer))
                order.append(key)

        records = {key: seen_layers[key[0]][1]._call_records[key[1]] for key in order}
        depth = dict.fromkeys(order, 0)
        for key in reversed(order):  # consumers before producers
            if key in input_keys:
                continue
            for parent in flatten(records[key].inputs):
                depth[node_key(parent)] = max(depth[node_key(parent)], depth[key] + 1)
        position = {key: i for i, key in enumerate(order)}
        layer_depth = {}
        for (layer_id, _), d in depth.items():
            layer_depth[layer_id] = max(layer_depth.get(layer_id, 0), d)
        by_layer = sorted(seen_layers.values(), key=lambda e: (-layer_depth[id(e[1])], e[0]))
        self.layers = [layer for _, layer in by_layer]
        names = collections.Counter(layer.name for layer in self.layers)
        duplicated = sorted(n for n, c in names.items() if c > 1)
        if duplicated:
            raise ValueError(f"{who}: layer names must be unique within a model; these are used by "
                             f"several layers: {duplicated}")

        self.nodes, self.nodes_of, self.relative_index = [], {}, {}
        for key in sorted(order, key=lambda k: (-depth[k], position[k])):
            layer = seen_layers[key[0]][1]
            record = records[key]
            node = Node(layer, key[1], record, flatten(record.inputs), flatten(record.outputs))
            self.nodes_of.setdefault(key[0], []).append(node)
            if key not in input_keys:
                self.nodes.append(node)
        for layer_id, nodes in self.nodes_of.items():
            nodes.sort(key=lambda n: n.index)
            for i, node in enumerate(nodes):
                self.relative_index[(layer_id, node.index)] = i

    def reference(self, tensor):
        """``[layer name, node index in this model, tensor index]`` for a tensor of the graph."""
        return [tensor.layer.name, self.relative_index[node_key(tensor)], tensor.tensor_index]


# -- JSON form (Keras 2 / TF.js "Model" config) ------------------------------------------------
def graph_config(graph, name, inputs, outputs, serialize_layer):
    """``{"name", "layers", "input_layers", "output_layers"}`` as TF.js and Keras 2 write it."""
    entries = []
    for layer in graph.layers:
        entry = serialize_layer(layer)
        inbound = []
        for node in graph.nodes_of[id(layer)]:
            if isinstance(layer, InputLayer):
                continue
            kwargs = dict(node.record.kwargs)
            inbound.append([graph.reference(t) + [kwargs] for t in node.inputs])
        entries.append({"name": layer.name, "class_name": entry["class_name"],
                        "config": entry["config"], "inbound_nodes": inbound})
    return {"name": name, "layers": entries,
            "input_layers": [graph.reference(t) for t in inputs],
            "output_layers": [graph.reference(t) for t in outputs]}


def _references(value):
    """[(layer name, node index, tensor index)] in a Keras 3 node's ``args`` structure."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            name, node, tensor = value["config"]["keras_history"]
            return [(name, int(node), int(tensor))]
        return [r for v in value.values() for r in _references(v)]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in _references(v)]
    return []


def _substitute(value, lookup):
    """A Keras 3 ``args`` structure with its tensors replaced by the rebuilt SymbolicTensors."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return lookup(*value["config"]["keras_history"])
    if isinstance(value, (list, tuple)):
        return [_substitute(v, lookup) for v in value]
    return value


def _as_ref_list(refs, who, key):
    """``input_layers`` / ``output_layers``: a list of [name, node, tensor] (Keras 3 writes a
    bare triple for a single tensor)."""
    if not isinstance(refs, list) or not refs:
        raise ValueError(f"{who}: '{key}' must be a non-empty list of [layer name, node index, "
                         f"tensor index], got {refs!r}")
    return [refs] if isinstance(refs[0], str) else refs


def rebuild_graph(config, deserialize_layer, who):
    """Recreate the layers of a functional config and call them as the config says.

    Returns ``(inputs, outputs, layers)`` (SymbolicTensor lists and the layers by name). Nodes
    are replayed in file order; a node whose inputs are not made yet waits for a later pass (a
    file may list a shared layer before the layer that feeds its second call).
    """
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"{who}: a functional model config needs a 'layers' list, got "
                         f"{str(config)[:200]}")
    created, produced, pending = {}, {}, collections.OrderedDict()
    for entry in config["layers"]:
        if not isinstance(entry, dict) or "class_name" not in entry:
            raise ValueError(f"{who}: each layer entry needs 'class_name' and 'config', got "
                             f"{str(entry)[:200]}")
        layer = deserialize_layer(entry)
        name = entry.get("name", layer.name)
        if name in created:
            raise ValueError(f"{who}: the layer name {name!r} appears twice in the config")
        created[name] = layer
        produced[name] = [layer.output] if isinstance(layer, InputLayer) else []
        nodes = entry.get("inbound_nodes") or []
        pending[name] = collections.deque([] if isinstance(layer, InputLayer) else nodes)

    def lookup(name, node, tensor):
        return flatten(produced[name][int(node)])[int(tensor)]

    def ready(name, node, tensor):
        return name in produced and int(node) < len(produced[name])

    while any(pending.values()):
        progress = False
        for name, queue in pending.items():
            while queue:
                node = queue[0]
                if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
                    refs = _references(node.get("args", []))
                    if not all(ready(*r) for r in refs):
                        break
                    args = _substitute(node.get("args", []), lookup)
                    inputs = args[0] if len(args) == 1 else args
                    kwargs = {k: v for k, v in (node.get("kwargs") or {}).items()
                              if k not in ("training", "mask")}
                else:  # Keras 2 / TF.js: [[name, node, tensor, kwargs], ...]
                    try:
                        refs = [(r[0], r[1], r[2]) for r in node]
                    except (TypeError, IndexError, KeyError):
                        raise ValueError(f"{who}: layer {name!r} has a malformed inbound node "
                                         f"{str(node)[:200]}") from None
                    if not all(ready(*r) for r in refs):
                        break
                    tensors = [lookup(*r) for r in refs]
                    inputs = tensors[0] if len(tensors) == 1 else tensors
                    kwargs = {}
                    for r in node:
                        if len(r) > 3 and isinstance(r[3], dict):
                            kwargs.update({k: v for k, v in r[3].items()
                                           if k not in ("training", "mask")})
                produced[name].append(created[name](inputs, **kwargs))
                queue.popleft()
                progress = True
        if not progress:
            stuck = {n: str(q[0])[:120] for n, q in pending.items() if q}
            raise ValueError(f"{who}: cannot rebuild the graph: these layers' inbound nodes refer "
                             f"to layers or nodes that do not exist: {stuck}")

    def resolve(refs, key):
        out = []
        for ref in _as_ref_list(refs, who, key):
            try:
                name, node, tensor = ref[0], ref[1], ref[2]
                out.append(lookup(name, node, tensor))
            except (KeyError, IndexError, TypeError, ValueError):
                raise ValueError(f"{who}: '{key}' refers to {ref!r}, which is not a tensor of "
                                 f"the rebuilt graph") from None
        return out

    return (resolve(config.get("input_layers"), "input_layers"),
            resolve(config.get("output_layers"), "output_layers"), created)


def is_symbolic(value):
    return all(isinstance(t, SymbolicTensor) for t in flatten(value))
