"""`sealkit demo` runs the whole flow on a fresh home and every artefact it names exists and verifies."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from sealkit.config import load_config
from sealkit.flows import verify_contract
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
    # The purchaser's seal was used under a grant, and each use is in the register (用印授权, 用印登记).
    grant = report["grant"]
    assert (grant["seal"], grant["purposes"], grant["status"]) == (report["seal_id"], ["contract"], "active")
    assert grant["used"] == 2 and grant["max_uses"] == 10
    pdf_use, ofd_use = report["register"]
    signed = Path(report["files"]["signed"]).read_bytes()
    assert (pdf_use["document"], pdf_use["field"], pdf_use["status"]) == (
        "contract.signed.pdf",
        "采购人",
        "done",
    )
    assert pdf_use["sha256"] == hashlib.sha256(signed).hexdigest() and pdf_use["grant"] == grant["grant_id"]
    assert ofd_use["document"] == "contract.signed.ofd" and ofd_use["grant"] == grant["grant_id"]
    custody = purchaser["seal"]["custody"]
    assert custody["register_entry"]["use_id"] == pdf_use["use_id"] and custody["held_grant"] is True
    # The OFD's seal signature is found in the register too (named by its SignedValue.dat).
    ofd = verify_contract(
        report["files"]["ofd_signed"],
        trust=[report["files"]["sm2_root"]],
        seal_maker_trust=[report["files"]["seal_authority_root"]],
        registry_url=f"sqlite:///{report['files']['registry']}",
        config=load_config(report["files"]["config"]),  # pins the registry's certificate
    )
    [ofd_signature] = ofd.signatures
    ofd_custody = ofd_signature.seal["custody"]
    assert ofd_custody["register_entry"]["use_id"] == ofd_use["use_id"] and ofd_custody["held_grant"] is True
    assert next(c for c in ofd_signature.checks if c.name == "seal-custody").ok
    for path in report["files"].values():
        assert Path(path).is_file(), path
    # An independent re-verification of the signed contract with the demo's roots: the purchaser's field
    # requires its unit's seal, which only a seal checker (the seal makers' root) can vouch for.
    files = report["files"]
    again = verify_pdf(files["signed"], trust=[files["sm2_root"], files["rsa_root"]])
    assert again.indication == "INDETERMINATE" and again.signatures[1].reasons == ["trust.seal-not-checked"]
    again = verify_contract(
        files["signed"],
        trust=[files["sm2_root"], files["rsa_root"]],
        seal_maker_trust=[files["seal_authority_root"]],
    )
    assert again.passed, again.to_dict()
    # The demo's sealkit.toml pins the registry certificate: the CLI checks the signed audit head with it.
    audit = subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", "--config", files["config"], "seal", "audit"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert audit.returncode == 0 and "head signature verified" in audit.stdout, audit.stderr
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
    assert "(用印授权)" in result.stdout and "register U00000001 (用印登记)" in result.stdout
