# ruff: noqa: E501 - long PDF literals and assertions read better on one line
"""``sealkit verify`` and ``sealkit file``: reports, exit codes, config anchors, filing records, refusals."""

import json

import pytest
from cryptography.hazmat.primitives import hashes
from sealkit_cli.main import run

from tests.helpers.shared import ENCRYPTED_SAMPLE
from tests.pdf_verify.tampering import change_field_value, incremental


@pytest.fixture
def files(tmp_path, signed, rsa_pki):
    good = tmp_path / "contract.pdf"
    good.write_bytes(signed)
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(incremental(signed, change_field_value))
    return good, bad, str(rsa_pki.root.cert_path)


def test_verify_passes_with_exit_0(files, capsys):
    good, _, root = files
    assert run(["verify", str(good), "--trust", root]) == 0
    out = capsys.readouterr().out
    assert (
        "✓ integrity" in out
        and "Overall: TOTAL-PASSED" in out
        and "Unsigned signature fields: supplier" in out
    )


def test_verify_tampered_exit_3_report_first(files, capsys):
    _, bad, root = files
    assert run(["verify", str(bad), "--trust", root]) == 3
    captured = capsys.readouterr()
    assert "✗ modification" in captured.out and "Overall: TOTAL-FAILED" in captured.out
    assert captured.err.count("\n") == 1 and "TOTAL-FAILED" in captured.err


def test_verify_untrusted_exit_4(files):
    good, _, _ = files
    assert run(["verify", str(good)]) == 4


def test_verify_json(files, capsys):
    good, _, root = files
    assert run(["verify", str(good), "--trust", root, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["indication"] == "TOTAL-PASSED" and data["signatures"][0]["field"] == "buyer"


def test_trust_anchor_from_config(files, tmp_path, monkeypatch):
    good, _, root = files
    config = tmp_path / "sealkit.toml"
    config.write_text(f'[trust]\nanchors = ["{root}"]\n', encoding="utf-8")
    monkeypatch.setenv("SEALKIT_CONFIG", str(config))
    assert run(["verify", str(good)]) == 0


def test_verify_missing_file_is_one_line(tmp_path, capsys):
    assert run(["verify", str(tmp_path / "nope.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sealkit: ") and err.count("\n") == 1 and "Traceback" not in err


def test_encrypted_pdf_password_from_environment(monkeypatch, capsys):
    path = str(ENCRYPTED_SAMPLE)
    monkeypatch.setenv("CI", "1")
    assert run(["verify", path]) == 9  # PdfPasswordRequired, no prompt without a terminal
    monkeypatch.setenv("SEALKIT_PDF_PASSWORD", "openpassword")
    assert run(["verify", path, "--json"]) == 4  # readable, but not signed
    assert "openpassword" not in capsys.readouterr().out


def test_file_writes_record_beside_input(files, capsys):
    good, _, root = files
    before = good.read_bytes()
    assert run(["file", str(good), "--trust", root]) == 3  # filing requires seals; this one has none
    assert "sig-constraints.seal-required" in capsys.readouterr().out
    assert run(["file", str(good), "--trust", root, "--allow-unsealed", "--json"]) == 0
    record_path = good.with_name("contract.filing.json")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    digest = hashes.Hash(hashes.SM3())
    digest.update(before)
    assert record["file"]["sm3"] == digest.finalize().hex()
    assert record["file"]["size"] == len(before) and record["indication"] == "TOTAL-PASSED"
    assert record["signatures"][0]["field"] == "buyer" and record["signatures"][0]["signing_time"]
    assert record["sealkit_version"] and record["filed_at"].endswith("+08:00")
    assert good.read_bytes() == before
    assert json.loads(capsys.readouterr().out)["filing_record"] == str(record_path)


def test_file_to_output_dir(files, tmp_path):
    good, _, root = files
    out = tmp_path / "archive"
    out.mkdir()
    assert run(["file", str(good), "--trust", root, "-o", str(out), "--allow-unsealed"]) == 0
    assert (out / "contract.filing.json").is_file()


@pytest.mark.parametrize(("which", "code"), [("bad", 3), ("untrusted", 4)])
def test_file_refuses_and_writes_nothing(files, tmp_path, which, code):
    good, bad, root = files
    args = ["file", str(bad), "--trust", root] if which == "bad" else ["file", str(good)]
    args.append("--allow-unsealed")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run(args) == code
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_cli_module_does_not_import_pyhanko():
    import subprocess
    import sys

    code = "import sys, sealkit_cli.verify_commands; sys.exit('pyhanko' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
