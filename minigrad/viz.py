"""Pictures of the graph autograd recorded: Graphviz DOT text, and rendering when graphviz is there.

``to_dot(t)`` walks back from ``t`` through the nodes that made it and writes one box per tensor
(its name or shape, and a summary of its data and gradient) and one ellipse per op, with arrows in
the direction the data flowed. It needs nothing but the standard library; ``draw(t, path)``
renders the text with the optional ``graphviz`` package (``pip install graphviz`` and the Graphviz
``dot`` program).

>>> import minigrad as mg
>>> a = mg.Tensor([1.0, 2.0], requires_grad=True)
>>> b = (a * a).sum()
>>> text = to_dot(b, names={"a": a})
>>> text.count("shape=box"), text.count("shape=ellipse"), text.count("->")  # a feeds Mul twice
(3, 2, 5)

Call ``to_dot`` before ``backward()`` (or use ``backward(retain_graph=True)``): backward frees the
graph as it walks it, and after that only the output box is left.
"""
import numpy as np


def _summary(array):
    """A short description of an array's values: the value itself when tiny, else mean/min/max."""
    if array is None:
        return "none"
    if array.size == 0:
        return "empty"
    if array.size <= 4:
        return np.array2string(np.asarray(array).ravel(), precision=3, separator=", ")
    return f"mean {array.mean():.3g}, min {array.min():.3g}, max {array.max():.3g}"


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _graph(root):
    """Every tensor and op node reachable from ``root`` (iteratively: graphs can be deep)."""
    tensors, nodes, edges = {}, {}, []
    stack = [root]
    while stack:
        t = stack.pop()
        if id(t) in tensors:
            continue
        tensors[id(t)] = t
        node = t._node
        if node is None or getattr(node, "inputs", None) is None:
            continue
        nodes[id(node)] = node
        edges.append((id(node), id(t)))  # op -> the tensor it produced
        for parent in node.inputs:
            edges.append((id(parent), id(node)))  # input tensor -> op
            stack.append(parent)
    return tensors, nodes, edges


def to_dot(tensor, names=None, rankdir="LR"):
    """Graphviz DOT text of the graph that produced ``tensor``.

    Args:
        tensor: the Tensor to draw the history of (usually a loss).
        names: optional ``{label: tensor}`` to name leaf tensors (weights, inputs) in the picture.
        rankdir: "LR" (left to right) or "TB" (top to bottom).
    """
    labels = {id(t): name for name, t in (names or {}).items()}
    tensors, nodes, edges = _graph(tensor)
    lines = ["digraph minigrad {", f"  rankdir={rankdir};", '  node [fontname="Helvetica", fontsize=10];']
    for key, t in tensors.items():
        title = labels.get(key) or t.name or ("output" if t is tensor else "")
        head = f"{title} " if title else ""
        text = f"{head}{tuple(t.shape)} {t.dtype}\\ndata: {_escape(_summary(t.data))}"
        if t.requires_grad and t._node is None:
            text += f"\\ngrad: {_escape(_summary(t.grad))}"
        fill = "lightblue" if t._node is None and t.requires_grad else "white"
        lines.append(f'  t{key} [shape=box, style=filled, fillcolor={fill}, label="{text}"];')
    for key, node in nodes.items():
        lines.append(f'  n{key} [shape=ellipse, style=filled, fillcolor=lightyellow, '
                     f'label="{node.op.__name__}"];')
    for src, dst in edges:
        a = f"n{src}" if src in nodes else f"t{src}"
        b = f"n{dst}" if dst in nodes else f"t{dst}"
        lines.append(f"  {a} -> {b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


NO_DOT = ("minigrad.viz.draw needs the Graphviz 'dot' program, which the graphviz Python "
          "package runs: install Graphviz with your system's package manager (apt-get install "
          "graphviz, brew install graphviz, conda install graphviz, or graphviz.org/download); "
          "minigrad.viz.to_dot works without it")


def draw(tensor, path, names=None, rankdir="LR"):
    """Render the graph of ``tensor`` to ``path`` (.svg, .png or .pdf) with the graphviz package.

    Returns the path written. Raises ImportError with the install command when the graphviz
    package or the Graphviz ``dot`` program it runs is missing (then nothing is written).
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError("minigrad.viz.draw needs the optional graphviz package: "
                          "pip install graphviz (and the Graphviz 'dot' program, e.g. "
                          "apt-get install graphviz); minigrad.viz.to_dot works without it") from None
    import os
    import shutil

    stem, ext = os.path.splitext(os.fspath(path))
    fmt = ext.lstrip(".").lower() or "svg"
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"draw: path must end in .svg, .png or .pdf, got {path!r}")
    if shutil.which("dot") is None:  # pip's graphviz is only a wrapper around the program
        raise ImportError(NO_DOT)
    source = graphviz.Source(to_dot(tensor, names=names, rankdir=rankdir))
    existed = os.path.exists(stem)
    try:
        return source.render(filename=stem, format=fmt, cleanup=True)
    except graphviz.ExecutableNotFound:  # 'dot' is on PATH but graphviz could not run it
        if not existed and os.path.exists(stem):
            os.remove(stem)  # render writes the source first; don't leave it behind
        raise ImportError(NO_DOT) from None
