"""repro.imagefiles is a pure core: it imports no other part of repro but these."""

from __future__ import annotations

import ast
from pathlib import Path

import repro.imagefiles

ALLOWED_REPRO = {"repro.errors", "repro.dockerfile"}
FORBIDDEN = {"subprocess", "socket", "os", "pathlib", "shutil", "requests", "urllib"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_imports_stay_inside_the_core() -> None:
    package = Path(repro.imagefiles.__file__).parent
    offenders: dict[str, list[str]] = {}
    for path in sorted(package.glob("*.py")):
        for name in imported_modules(path):
            top = name.split(".")[0]
            inside = name.startswith("repro.imagefiles") or name in ALLOWED_REPRO
            if (top == "repro" and not inside) or top in FORBIDDEN:
                offenders.setdefault(path.name, []).append(name)
    assert offenders == {}
