"""`sealkit demo` runs the whole flow on a fresh home and every artefact it names exists and verifies."""

import json
import subprocess
import sys
from pathlib import Path

from sealkit.pdf import verify_pdf


def test_demo_runs_the_whole_flow(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", "demo", "--dir", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["indication"] == "TOTAL-PASSED"
    assert report["bid_roundtrip"] is True
    assert report["ofd_indication"] == "TOTAL-PASSED"
    assert [s["field"] for s in report["signatures"]] == ["供应商", "采购人"]
    purchaser = report["signatures"][1]
    assert purchaser["seal"]["ok"] is True
    assert purchaser["seal"]["seal"]["es_id"] == report["seal_id"]
    for path in report["files"].values():
        assert Path(path).is_file(), path
    # An independent re-verification of the signed contract with the demo's roots.
    files = report["files"]
    again = verify_pdf(files["signed"], trust=[files["sm2_root"], files["rsa_root"]])
    assert again.passed
    record = json.loads(Path(files["filing_record"]).read_text(encoding="utf-8"))
    assert record["indication"] == "TOTAL-PASSED"
    assert record["file"]["size"] == Path(files["signed"]).stat().st_size


def test_demo_human_output_says_where_everything_is(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", "demo", "--dir", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "TOTAL-PASSED" in result.stdout
    assert str(out / "contract.signed.pdf") in result.stdout
