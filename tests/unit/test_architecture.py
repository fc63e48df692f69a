"""The layers of docs/architecture.md, enforced here rather than by convention: the domain (desktop/models) and
the PDF reports (desktop/reports) never touch Qt (STYLE practice 1), and the domain's modules import one another
without a cycle, so each can be read, tested and moved on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

DESKTOP = Path(__file__).resolve().parents[2] / "desktop"
QT = {"PySide6", "shiboken6", "pyqtgraph"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(DESKTOP.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module *path* imports, at the top or inside a function, as absolute dotted names."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            out.add(source)
            out.update(f"{source}.{a.name}" for a in node.names)
    return out


def import_graph(folder: Path) -> dict[str, set[str]]:
    """Module → the modules of the same folder it imports."""
    files = {module_name(p): p for p in folder.rglob("*.py")}
    return {name: {m for m in imported(path) if m in files and m != name} for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("layer", ["models", "reports"])
def test_no_module_of_the_layer_imports_qt(layer):
    offenders = [
        f"{p.relative_to(DESKTOP)}: {m}"
        for p in sorted((DESKTOP / layer).rglob("*.py"))
        for m in imported(p)
        if m.split(".")[0] in QT
    ]
    assert offenders == []


@pytest.mark.parametrize("layer", ["models", "reports"])
def test_importing_every_module_of_the_layer_loads_no_qt(layer):
    modules = sorted(module_name(p) for p in (DESKTOP / layer).rglob("*.py"))
    assert len(modules) >= 8
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(k for k in sys.modules if k.split('.')[0] in {sorted(QT)!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_domain_modules_import_one_another_without_a_cycle():
    assert cycles(import_graph(DESKTOP / "models")) == []


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_domain_does_not_reach_up_into_views_or_reports():
    offenders = [
        f"{p.relative_to(DESKTOP)}: {m}"
        for p in sorted((DESKTOP / "models").rglob("*.py"))
        for m in imported(p)
        if m.startswith(("desktop.views", "desktop.reports", "desktop.app"))
    ]
    assert offenders == []
