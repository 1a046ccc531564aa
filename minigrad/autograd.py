"""The graph and the backward walk.

Every Tensor made by an op carries a :class:`Node`: the op, what its forward saved for backward, and
the input Tensors. ``backward`` visits the nodes once, in reverse topological order (a node used by
two later ops must receive *both* gradients before it passes anything on), sums the gradients that
meet at each tensor, and stores them in the ``.grad`` of leaf tensors. The walk is a loop with an
explicit stack, so a chain of 100,000 ops needs no recursion.
"""
import contextlib

import numpy as np

_grad_enabled = True


def is_grad_enabled():
    """True unless inside ``no_grad()``."""
    return _grad_enabled


@contextlib.contextmanager
def no_grad():
    """Run ops without recording a graph (inference, optimizer updates)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


class Node:
    """One recorded op application; also the ``ctx`` that the op's forward saves things on.

    ``needs_input_grad[i]`` tells backward whether input i wants a gradient, so an op can skip
    work (the first convolution of a network never needs the gradient of the image).
    """

    def __init__(self, op, inputs):
        self.op = op
        self.inputs = inputs
        self.needs_input_grad = tuple(t.requires_grad for t in inputs)

    def __repr__(self):
        return f"<Node {self.op.__name__}>"


_FREED = ("backward: this graph was already freed by an earlier backward(); pass retain_graph=True "
          "to the first call to go through it twice")


def _topological_order(root):
    """Nodes reachable from ``root``'s node, each before every node that feeds it (root first)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        if node.inputs is None:
            raise RuntimeError(_FREED)
        stack.append((node, True))
        for t in node.inputs:
            parent = t._node
            if parent is not None and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()  # post-order reversed: every consumer comes before what it consumes
    return order


def run_backward(tensor, grad, retain_graph=False):
    """Backpropagate ``grad`` (an ndarray shaped like ``tensor``) through the graph of ``tensor``.

    Gradients of leaf tensors that require grad are *added* to their ``.grad``. The graph is freed
    afterwards (its saved arrays released) unless ``retain_graph`` is True.
    """
    root = tensor._node
    if root is None:  # a leaf: its gradient is the seed itself
        _accumulate_leaf(tensor, grad)
        return
    pending = {id(root): grad}
    for node in _topological_order(root):
        g = pending.pop(id(node), None)
        inputs = node.inputs
        if g is not None:
            input_grads = node.op.backward(node, g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for t, ig, needed in zip(inputs, input_grads, node.needs_input_grad):
                if ig is None or not needed:
                    continue
                if ig.shape != t.data.shape:
                    raise RuntimeError(
                        f"{node.op.__name__}.backward returned a gradient of shape {ig.shape} for an "
                        f"input of shape {t.data.shape}")
                parent = t._node
                if parent is None:
                    _accumulate_leaf(t, ig)
                else:
                    key = id(parent)
                    previous = pending.get(key)
                    # never add in place: the same array may have been handed to two inputs
                    pending[key] = ig if previous is None else previous + ig
        if not retain_graph:
            node.__dict__.clear()  # drops saved arrays and inputs: the graph is freed as we go
            node.inputs = None


def _accumulate_leaf(t, g):
    if not t.requires_grad:
        return
    if g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype)
    # a copy on first store: the op may have handed the same array to another input
    t.grad = np.array(g, copy=True) if t.grad is None else t.grad + g
