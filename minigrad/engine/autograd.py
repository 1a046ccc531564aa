"""The graph and the backward walk: chapter 0's algorithm, on arrays.

In docs/00 every ``Value`` made by an op remembers its inputs (``_prev``) and how to push its
gradient to them (``_backward``); ``backward()`` then visits every value once, each after all the
values that use it, and the gradients that meet at a value add up. Here the same parts are:

* a :class:`Node` per op application: the op, its input Tensors, and what its forward saved
  (the ``ctx`` of ``Function.forward`` and ``Function.backward``);
* :func:`run_backward`, the walk. It first counts, for every node, how many inputs of other
  nodes it made (its consumers), then starts at the output and runs a node's ``backward`` once
  all its consumers have passed their gradients on: Kahn's algorithm, the topological order of
  docs/00 built from counts instead of a recursive search. Both passes are loops over an
  explicit stack, so a chain of 100,000 ops needs no recursion. Each node's saved arrays are
  freed as soon as it is done;
* leaf tensors (made by the user, not by an op) keep what arrives in ``.grad``, added up across
  calls until ``zero_grad()``.

One rule is new on arrays, about *which array* a leaf may keep. ``backward`` returns arrays, and
a leaf's first gradient is stored as the array itself (no copy) only if nothing else can see it:
it is a copy when the array is the gradient the op was handed (at the output that is the
caller's own seed; an op such as ``x + 1`` passes its gradient on unchanged, and the same array
may also go on elsewhere), a view of another array (``ig.base is not None``), or one array
returned for two inputs (``x + x``; ``a + b``). Anything else the op made for this call, so the
leaf takes it over. (An op's ``backward`` must therefore not keep, and later change, an array it
returns, and must not write into the ``grad`` it is given.) Memory reuse (the buffer pool) is
the ops' business, not the walk's.
"""
import contextlib
import inspect

import numpy as np

__all__ = ["Node", "no_grad", "is_grad_enabled", "run_backward"]

_grad_enabled = True  # read through is_grad_enabled(); Node reads it here, in its own module


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
    work (the first convolution of a network never needs the gradient of the image). Under
    ``no_grad()`` no input does, and ``Function.apply`` then drops the node.
    """

    # The node's own fields are slots; what an op saves (ctx.x = ...) goes into __dict__, so
    # that freeing the graph is one __dict__.clear() and keeps op and needs_input_grad.
    __slots__ = ("op", "inputs", "needs_input_grad", "__dict__")

    def __init__(self, op, inputs):
        self.op = op
        self.inputs = inputs
        if not _grad_enabled:  # nothing will be differentiated: forward need not save anything
            self.needs_input_grad = (False,) * len(inputs)
        # one or two inputs spelled out, for every op of every forward pass: 4.40 vs 4.66 us/op
        # (a, b tensors) and 5.18 vs 5.34 (numbers) in bench_engine.py with a comprehension
        elif len(inputs) == 2:
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
    (otherwise part of its gradient would arrive too late); the count says when that is.
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
    if root is None:  # a leaf: its gradient is the seed itself (copied: the caller holds it)
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
            if type(input_grads) is not tuple:  # a lone gradient or a list (checked there)
                input_grads = _as_grad_tuple(node.op, input_grads)
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
                if ig.dtype is not data.dtype:  # (`is not`: one pointer test in the usual case)
                    ig = _narrow(ig, data.dtype)
                # gradients are never added in place: the same array may be held elsewhere
                if parent is not None:    # made by an op: sum what reaches it, pass it on later
                    previous = pending.get(parent)
                    pending[parent] = ig if previous is None else previous + ig
                elif t.grad is not None:  # a leaf that already has a gradient
                    t.grad = t.grad + ig
                elif ig is g or ig.base is not None or _returned_twice(ig, input_grads):
                    t.grad = ig.copy()    # the value rule of the module docstring
                else:
                    t.grad = ig           # made for this call alone: the leaf takes it over
            if parent is not None:
                left = consumers[parent] - 1
                consumers[parent] = left
                if left == 0:
                    ready.append(parent)
        if not retain_graph:
            node.__dict__.clear()  # drops what forward saved: the graph is freed as we go
            node.inputs = None


def _returned_twice(ig, input_grads):
    """Whether the array ``ig`` is more than one of an op's gradients (one array, two inputs)."""
    return sum(1 for other in input_grads if other is ig) > 1


def _as_grad_tuple(op, returned):
    """What ``op.backward`` returned, as a tuple: a tuple as it is, a list's items, or a lone
    gradient (an ndarray or None: a one-input op may return it bare). Anything else is a
    TypeError that says what backward must return."""
    if type(returned) is tuple:
        return returned
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


def _narrow(grad, dtype):
    """``grad`` cast down to ``dtype`` when it is wider, else unchanged.

    A float32 input of a float64 op (float32 * float64 is float64) gets its gradient back in
    float32 (a new array). The other way is never hidden: a float32 gradient for a float64 input
    means an op lost precision, and gradcheck should see it.
    """
    return grad.astype(dtype) if grad.dtype.itemsize > dtype.itemsize else grad


def _accumulate_leaf(t, g):
    """``t.grad += g`` for a leaf that requires grad, never in place and never keeping ``g``: it
    is the caller's own seed array."""
    if t.requires_grad:
        g = _narrow(g, t.data.dtype)
        t.grad = g.copy() if t.grad is None else t.grad + g
