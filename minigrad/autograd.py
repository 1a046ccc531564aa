"""The graph and the backward walk.

Every Tensor made by an op carries a :class:`Node`: the op, what its forward saved for backward, and
the input Tensors. ``backward`` visits each node once, in reverse topological order: a node used
by two later ops must receive *both* gradients before it passes anything on, so the walk first
counts each node's consumers and runs a node when the last of them is done (Kahn's algorithm). It
sums the gradients that meet at each tensor and stores them in the ``.grad`` of leaf tensors. Both
passes are loops with an explicit stack, so a chain of 100,000 ops needs no recursion.
"""
import contextlib
import inspect
import sys

import numpy as np

from . import _buffers

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

    # The node's own fields are slots; what an op saves (ctx.x = ...) goes into __dict__, so
    # that freeing the graph is one __dict__.clear() and keeps op and needs_input_grad.
    __slots__ = ("op", "inputs", "needs_input_grad", "__dict__")

    def __init__(self, op, inputs):
        self.op = op
        self.inputs = inputs
        if not _grad_enabled:  # nothing will be differentiated: forward need not save anything
            self.needs_input_grad = (False,) * len(inputs)
            return
        # one or two inputs, spelled out: on Python 3.11 a comprehension costs more than the
        # rest of this method, and this runs for every op of every forward pass
        if len(inputs) == 2:
            self.needs_input_grad = (inputs[0].requires_grad, inputs[1].requires_grad)
        elif len(inputs) == 1:
            self.needs_input_grad = (inputs[0].requires_grad,)
        else:
            self.needs_input_grad = tuple([t.requires_grad for t in inputs])

    def __repr__(self):
        return f"<Node {self.op.__name__}{' (freed)' if self.inputs is None else ''}>"


_FREED = ("backward: this graph was already freed by an earlier backward(); pass retain_graph=True "
          "to the first call to go through it twice")


def _count_consumers(root):
    """For every node reachable from ``root``: how many inputs of other reachable nodes it made.

    A node may pass its gradient on only once all of those consumers have given it theirs
    (otherwise part of its gradient would arrive too late); the count says when that is. A loop
    with an explicit stack, so a chain of 100,000 ops needs no recursion.
    """
    consumers = {root: 0}  # nodes hash by identity
    stack = [root]
    while stack:
        node = stack.pop()
        if node.inputs is None:
            raise RuntimeError(_FREED)
        for t in node.inputs:
            parent = t._node
            if parent is None:
                continue
            if parent in consumers:
                consumers[parent] += 1
            else:
                consumers[parent] = 1
                stack.append(parent)
    return consumers


def run_backward(tensor, grad, retain_graph=False):
    """Backpropagate ``grad`` (an ndarray shaped like ``tensor``) through the graph of ``tensor``.

    Gradients of leaf tensors that require grad are *added* to their ``.grad``. The graph is freed
    afterwards (its saved arrays released) unless ``retain_graph`` is True.
    """
    root = tensor._node
    if root is None:  # a leaf: its gradient is the seed itself
        _accumulate_leaf(tensor, grad)
        return
    consumers = _count_consumers(root)
    pending = {root: grad}  # node -> gradient of its output, summed over its consumers so far
    ready = [root]          # nodes whose consumers have all passed their gradients on
    while ready:
        node = ready.pop()
        inputs = node.inputs
        g = pending.pop(node, None)
        if g is None:  # no path from this node to the root carried a gradient
            input_grads = (None,) * len(inputs)
        else:
            input_grads = node.op.backward(node, g)
            if type(input_grads) is not tuple:  # one bare gradient (the usual case), or a list
                input_grads = ((input_grads,) if type(input_grads) is np.ndarray
                               else _as_grad_tuple(node.op, input_grads))
            if len(input_grads) != len(inputs):
                raise _count_error(node.op, inputs, len(input_grads))
        for t, ig, needed in zip(inputs, input_grads, node.needs_input_grad):
            parent = t._node
            if ig is not None and needed:
                data = t.data
                if ig.shape != data.shape:
                    raise RuntimeError(
                        f"{node.op.__name__}.backward returned a gradient of shape {ig.shape} for "
                        f"an input of shape {data.shape}")
                if ig.dtype is not data.dtype:  # (`is not` first: the usual case is one check)
                    ig = _narrow(ig, data.dtype)
                # never add in place: the same array may have been handed to two inputs
                if parent is None:  # a leaf (needed: it requires grad): store the gradient
                    if t.grad is None:
                        # ig itself when nothing else can see it (it owns its memory and only
                        # this loop refers to it, or the buffer pool too, which then lets it go),
                        # else a copy: it may be the caller's seed, another input's gradient too,
                        # or an array an op still holds
                        refs = sys.getrefcount(ig) if ig.base is None else None
                        unshared = refs is not None and (
                            refs <= _LOOP_REFS or
                            refs == _LOOP_REFS + 1 and _buffers.release(ig))
                        t.grad = ig if unshared else ig.copy()
                    else:
                        t.grad = t.grad + ig
                else:
                    previous = pending.get(parent)
                    pending[parent] = ig if previous is None else previous + ig
            if parent is not None:
                left = consumers[parent] - 1
                consumers[parent] = left
                if left == 0:
                    ready.append(parent)
        if not retain_graph:
            node.__dict__.clear()  # drops what forward saved: the graph is freed as we go
            node.inputs = None


def _as_grad_tuple(op, returned):
    """What ``op.backward`` returned, when not a tuple, as a tuple: a list's items, or a lone
    gradient (an ndarray or None: a one-input op may return it bare). Anything else is a
    TypeError that says what backward must return."""
    if type(returned) is list:
        return tuple(returned)
    if returned is None or isinstance(returned, (np.ndarray, np.generic)):
        return (returned,)
    raise TypeError(f"{op.__name__}.backward must return one gradient (an ndarray, or None) per "
                    f"input, in a tuple or a list (or the gradient alone for an op of one input); "
                    f"it returned a {type(returned).__name__}")


def _count_error(op, inputs, count):
    """The RuntimeError for a backward that returned ``count`` gradients for another number of
    inputs. Too few usually means a parameter such as a slope was passed to ``apply``
    positionally: every positional argument is an input (a number becomes a constant tensor),
    so the error says to pass it by keyword, naming it after ``forward``'s own argument."""
    name, n = op.__name__, len(inputs)
    message = (f"{name}.backward returned {count} gradient{'s' * (count != 1)} for {n} "
               f"input{'s' * (n != 1)}; it must return one (an ndarray, or None) per positional "
               f"argument of {name}.apply, in order")
    if 0 < count < n:
        try:  # forward's positional arguments after ctx, to name the one meant as a parameter
            params = [p.name for p in inspect.signature(op.forward).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
        except (TypeError, ValueError):
            params = []
        first = ", ".join(params[:count]) if len(params) >= count else "x"
        arg = params[count] if len(params) > count else "alpha"
        extra = inputs[count].data
        value = f"{extra.item():.6g}" if extra.size == 1 and extra.dtype.kind in "fiu" else "..."
        message += (f". Every positional argument is an input, a number too: pass a parameter "
                    f"that is not a tensor by keyword, as in {name}.apply({first}, {arg}={value}), "
                    f"and forward receives it as the keyword argument {arg}")
    return RuntimeError(message)


def _loop_refs():
    """What ``sys.getrefcount`` reports for an array that only a tuple being zipped over (and the
    loop variable) refers to, as in :func:`run_backward`'s loop over an op's gradients: measured,
    not assumed, because the interpreter's own references vary by version."""
    grads = (np.empty(1),)
    for _, g, _ in zip((None,), grads, (True,)):   # zip's reused result tuple is one of them
        return sys.getrefcount(g)


_LOOP_REFS = _loop_refs()


def _narrow(grad, dtype):
    """``grad`` cast down to ``dtype`` when it is wider, else unchanged.

    A float32 input of a float64 op (float32 * float64 is float64) gets its gradient back in
    float32. The other way is never hidden: a float32 gradient for a float64 input means an op
    lost precision, and gradcheck should see it.
    """
    return grad.astype(dtype) if grad.dtype.itemsize > dtype.itemsize else grad


def _accumulate_leaf(t, g):
    """``t.grad += g`` for a leaf that requires grad, never in place and never sharing ``g`` (it
    may be the caller's own seed array). The walk above does the same, inline."""
    if t.requires_grad:
        g = _narrow(g, t.data.dtype)
        t.grad = g.copy() if t.grad is None else t.grad + g
