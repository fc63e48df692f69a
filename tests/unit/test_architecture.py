"""The domain layer must stay usable without Qt (STYLE practice 1): enforced here, not by convention."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "desktop" / "models"


def test_no_module_in_models_imports_qt():
    offenders = []
    for source in MODELS.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{source.name}: {n}" for n in names if n.split(".")[0] in {"PySide6", "shiboken6",
                                                                                      "pyqtgraph"}]
    assert offenders == []


def test_importing_every_model_module_loads_no_qt():
    modules = sorted(
        "desktop.models." + ".".join(p.relative_to(MODELS).with_suffix("").parts)
        for p in MODELS.rglob("*.py") if p.name != "__init__.py"
    )
    assert len(modules) >= 8
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted(k for k in sys.modules if k.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
