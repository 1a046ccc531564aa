"""The house keeps its map (docs/README.md, DESIGN): imports flow downward, the one cycle is
Tensor <-> ops, and no module grows past what a reader takes in at once.

Imports are read from the source (``ast``), module-level and inside functions alike: an import
moved into a function to dodge a cycle is still the same dependency.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "minigrad"
MAX_LINES = 450


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name):
    """The minigrad modules that module ``name`` imports (a package counts as a module)."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles(graph):
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, components, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(component)
    return components


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [{"a", "b", "c"}]


def test_the_only_import_cycle_is_tensor_and_ops():
    """Tensor's operators call ops, and ops make Tensors: the one mutual use the design allows
    (engine.function joins it, since ops import it and it imports engine.tensor)."""
    allowed = {"minigrad.engine.tensor", "minigrad.engine.function"}
    for component in _cycles(GRAPH):
        outside = sorted(m for m in component
                         if m not in allowed and not m.startswith("minigrad.ops"))
        assert not outside, f"an import cycle through {outside}: {sorted(component)}"


def _below(name, prefixes):
    return sorted(m for m in GRAPH[name] if m.startswith(prefixes))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_flow_downward(name):
    upper = ("minigrad.layers", "minigrad.models", "minigrad.training", "minigrad.io",
             "minigrad.utils", "minigrad.optimizers", "minigrad.losses", "minigrad.metrics")
    if name == "minigrad._checks":
        assert not GRAPH[name], "_checks.py is the bottom of the house: it imports no minigrad"
    if name.startswith("minigrad.backend"):
        assert not _below(name, ("minigrad.engine", "minigrad.ops") + upper), \
            "the backend (kernels, buffers, threads) knows nothing of Tensors or what uses them"
    if name.startswith("minigrad.engine"):
        assert all(m.startswith(("minigrad.engine", "minigrad.ops")) for m in GRAPH[name]), \
            f"the engine imports only itself (and ops, for Tensor's operators): {GRAPH[name]}"
    if name.startswith("minigrad.ops"):
        assert not _below(name, upper), "ops know nothing of layers, models or training"
    if name.startswith("minigrad.layers"):
        assert not _below(name, ("minigrad.models", "minigrad.training", "minigrad.io")), \
            "layers know nothing of models, training or files"


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*")
                                        if p.suffix in (".py", ".pyx", ".pxd", ".h")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_longer_than_a_reader_takes_in(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines: split it by concept"
