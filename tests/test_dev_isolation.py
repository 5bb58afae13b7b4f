"""Test-only code lives in ``sealkit.dev`` and no production module imports it."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "sealkit"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_production_module_imports_sealkit_dev():
    offenders = [
        f"{path.relative_to(SRC)}: {name}"
        for path in sorted(SRC.rglob("*.py"))
        if "dev" not in path.relative_to(SRC).parts
        for name in _imports(path)
        if name == "sealkit.dev" or name.startswith("sealkit.dev.")
    ]
    assert offenders == []


def test_test_only_modules_are_gone_from_production_places():
    for old in ("pki.py", "demo.py", "pdf/sample_contract.py"):
        assert not (SRC / old).exists(), old
