"""``sealkit ltv-update``: B-LTA through the CLI, --json, and one-line failures that write nothing."""

from __future__ import annotations

import json

from pyhanko.pdf_utils.reader import PdfFileReader
from sealkit_cli.main import run

from sealkit.dev.issuing import issue_with_revocation
from sealkit.trust import make_timestamper
from tests.helpers.pki_signing import sign_contract


def test_ltv_update_json(services, contract, tmp_path, capsys):
    signer = issue_with_revocation(services.pki, "cli", ocsp_url=services.ocsp_url, crl_url=services.crl_url)
    sign_contract(
        contract, tmp_path / "c.pdf", signer, services.pki, timestamper=make_timestamper(services.tsa_url)
    )
    root = str(services.pki.root.cert_path)
    code = run(["ltv-update", str(tmp_path / "c.pdf"), "--tsa", services.tsa_url, "--trust", root, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["document_timestamp"] is True and report["dss"]["ocsps"] >= 1
    with (tmp_path / "c-lta.pdf").open("rb") as handle:
        assert len(PdfFileReader(handle).embedded_timestamp_signatures) == 1


def test_ltv_update_uses_the_configured_tsa(services, contract, tmp_path, capsys, monkeypatch):
    signer = services.pki.issue("cli-env", "sign")
    sign_contract(
        contract, tmp_path / "c.pdf", signer, services.pki, timestamper=make_timestamper(services.tsa_url)
    )
    monkeypatch.setenv("SEALKIT_TSA", services.tsa_url)
    out = tmp_path / "out.pdf"
    code = run(
        ["ltv-update", str(tmp_path / "c.pdf"), "-o", str(out), "--trust", str(services.pki.root.cert_path)]
    )
    assert code == 0, capsys.readouterr().err
    assert out.exists()


def test_ltv_update_failure_is_one_line(services, contract, tmp_path, capsys):
    signer = services.pki.issue("cli-fail", "sign")
    sign_contract(
        contract, tmp_path / "c.pdf", signer, services.pki, timestamper=make_timestamper(services.tsa_url)
    )
    args = ["ltv-update", str(tmp_path / "c.pdf"), "--tsa", "http://127.0.0.1:9/tsa"]
    code = run([*args, "--trust", str(services.pki.root.cert_path)])
    err = capsys.readouterr().err
    assert code == 12
    assert err.count("\n") == 1 and err.startswith("sealkit: TSA http://127.0.0.1:9/tsa")
    assert not (tmp_path / "c-lta.pdf").exists()


def test_ltv_update_without_tsa_is_a_config_error(contract, capsys):
    assert run(["ltv-update", str(contract), "--json"]) == 11
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "ConfigError"
