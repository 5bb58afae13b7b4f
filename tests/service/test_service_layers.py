"""sealkit.flows, and sealkit.service, sealkit.batch and sealkit.report (which signs reports through the
flows) built on it, sit on top: nothing below imports them, and the flows do not import the service (which
needs the optional FastAPI extra)."""

from pathlib import Path

from tests.test_layers import SRC, _imports


def test_nothing_below_imports_the_flows_or_the_service():
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        top = relative.parts[0].removesuffix(".py")
        if top in ("flows", "service", "batch", "report"):
            continue
        for imported in _imports(path) & {"flows", "service", "batch", "report"}:
            bad.append(f"{relative} imports sealkit.{imported}")
    assert bad == []


def test_the_flows_do_not_need_the_service():
    assert "service" not in _imports(Path(SRC / "flows.py"))
