"""The CLI is a user of sealkit like any other: it imports only the public API."""

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "cli" / "sealkit_cli"
PUBLIC = {
    "sealkit",
    "sealkit.errors",
    "sealkit.sm2",
    "sealkit.ukey",
    "sealkit.pdf",
    "sealkit.ofd",
    "sealkit.seal",
    "sealkit.envelope",
    "sealkit.trust",
    "sealkit.dev.demo",
    "sealkit.dev.hierarchy",
    "sealkit.dev.pki",
    "sealkit.dev.sample_contract",
    "sealkit.dev.sample_ofd",
    "sealkit.dev.services",
    "sealkit.flows",
    "sealkit.exit_codes",
    "sealkit.batch",
    "sealkit.service",
    "sealkit.report",
}


def imported_sealkit_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sealkit":
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sealkit":
                    yield alias.name, []


def test_cli_imports_only_public_sealkit_modules():
    offenders = []
    for path in sorted(CLI.glob("*.py")):
        for module, names in imported_sealkit_modules(path):
            if module not in PUBLIC or any(
                name.startswith("_") and not name.startswith("__") for name in names
            ):
                offenders.append(f"{path.name}: {module} {names}")
    assert offenders == []
