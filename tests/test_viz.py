"""minigrad.viz: DOT text of small graphs (node and edge counts, labels) and optional rendering."""
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz


def _counts(text):
    return (len(re.findall(r"shape=box", text)), len(re.findall(r"shape=ellipse", text)),
            len(re.findall(r"->", text)))


def test_small_graph_counts_and_labels():
    w = mg.Tensor(np.ones((3, 2)), requires_grad=True)
    x = mg.Tensor(np.arange(6.0).reshape(2, 3))
    loss = (x @ w).relu().mean()
    text = viz.to_dot(loss, names={"w": w, "x": x})
    # tensors: x, w, x@w, relu, loss; ops: MatMul, ReLU, Mean
    assert _counts(text) == (5, 3, 3 + 2 + 2)
    assert 'label="MatMul"' in text and 'label="ReLU"' in text and 'label="Mean"' in text
    assert "w (3, 2) float64" in text and "x (2, 3) float64" in text
    assert text.startswith("digraph minigrad {") and text.rstrip().endswith("}")


def test_reused_node_appears_once_with_two_edges():
    a = mg.Tensor([1.0, 2.0], requires_grad=True)
    h = a * 3.0
    out = (h * h + h).sum()  # h is used three times
    text = viz.to_dot(out, names={"a": a, "h": h})
    assert text.count('label="h ') == 1
    h_id = re.search(r't(\d+) \[shape=box[^\]]*label="h ', text).group(1)
    assert len(re.findall(rf"t{h_id} -> n", text)) == 3


def test_grad_summary_shown_after_backward_with_retained_graph():
    a = mg.Tensor([1.0, -1.0], requires_grad=True)
    out = (a * a).sum()
    out.backward(retain_graph=True)
    text = viz.to_dot(out, names={"a": a})
    assert "grad: [ 2., -2.]" in text


def test_draw_without_graphviz_says_how_to_install(monkeypatch, tmp_path):
    import builtins
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "graphviz":
            raise ImportError("no graphviz")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="pip install graphviz"):
        viz.draw(mg.Tensor([1.0]), tmp_path / "g.svg")


def test_draw_without_the_dot_program_says_what_to_install_and_writes_nothing(monkeypatch,
                                                                              tmp_path):
    """pip's graphviz package without the Graphviz program: an ImportError naming the system
    package, before anything is written (graphviz itself raised ExecutableNotFound after
    writing the source file)."""
    import shutil
    import sys
    import types

    class ExecutableNotFound(RuntimeError):
        pass

    class Source:
        def __init__(self, text):
            self.text = text

        def render(self, filename, format, cleanup):
            open(filename, "w").write(self.text)
            raise ExecutableNotFound("failed to execute 'dot'")

    fake = types.SimpleNamespace(Source=Source, ExecutableNotFound=ExecutableNotFound)
    monkeypatch.setitem(sys.modules, "graphviz", fake)
    a = mg.Tensor([1.0], requires_grad=True)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ImportError, match="apt-get install graphviz"):
        viz.draw(a.sum(), tmp_path / "g.svg")
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/" + name)   # there, but broken
    with pytest.raises(ImportError, match="Graphviz 'dot' program"):
        viz.draw(a.sum(), tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


def test_draw_renders_svg_when_graphviz_is_installed(tmp_path):
    pytest.importorskip("graphviz")
    a = mg.Tensor([1.0, 2.0], requires_grad=True)
    try:
        path = viz.draw((a * a).sum(), tmp_path / "graph.svg", names={"a": a})
    except ImportError as missing:
        pytest.skip(str(missing))
    assert open(path).read().lstrip().startswith(("<?xml", "<svg"))
