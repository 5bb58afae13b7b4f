"""The floors of the house (shared/notes/architecture.md): each layer imports only from below, and the
validation core depends on none of the packages that build on it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "sealkit"

#: package -> sealkit packages it must never import (at module level or inside functions)
FORBIDDEN = {
    "sm2": {"ukey", "validation", "pdf", "seal", "envelope", "trust", "dev", "ofd"},
    "validation": {"ukey", "pdf", "seal", "envelope", "trust", "dev", "ofd"},
    "pdf": {"trust", "dev"},
    "seal": {"pdf", "trust", "dev"},
    "envelope": {"pdf", "seal", "trust", "dev"},
    "ukey": {"validation", "pdf", "seal", "envelope", "trust", "dev"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:  # annotations only: no import at run time
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "sealkit" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_only_from_below(package):
    bad = []
    for path in sorted((SRC / package).rglob("*.py")):
        for imported in _imports(path) & FORBIDDEN[package]:
            bad.append(f"{path.relative_to(SRC)} imports sealkit.{imported}")
    assert not bad, "\n".join(bad)
