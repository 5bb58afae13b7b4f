"""``sealkit sign``, ``verify`` and ``file`` choose OFD by content (a ZIP with OFD.xml), not by extension."""

import json
from pathlib import Path

import pytest
from sealkit_cli.main import run

from sealkit.seal import SealRegistry, load_form
from sealkit.ukey import open_key

EXAMPLE_FORM = Path(__file__).resolve().parents[2] / "docs" / "examples" / "unit.toml"


@pytest.fixture()
def registry(tmp_path, pki):
    import datetime as dt

    url = f"sqlite:///{tmp_path / 'seals.db'}"
    with SealRegistry(url, actor="test") as reg, open_key(pki["maker"].keyref) as maker:
        holders = [pki["supplier"].certificate, pki["purchaser"].certificate]
        until = dt.date.today() + dt.timedelta(days=365)
        record = reg.issue(
            load_form(EXAMPLE_FORM),
            "contract",
            holders,
            maker,
            pki["maker"].certificate,
            until,
            maker_trust=[pki["sealing"].root.certificate],
            allow_foreign_holder="test signers from a shared test PKI",
        )
    return url, record.es_id


def cli(capsys, *args):
    code = run([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_sign_verify_file_an_ofd_whatever_its_name(tmp_path, capsys, pki, registry, contract):
    url, es_id = registry
    disguised = tmp_path / "contract.bin"  # the content decides, not the extension
    disguised.write_bytes(contract.read_bytes())
    signed = tmp_path / "signed.data"
    code, out, err = cli(
        capsys,
        "sign",
        disguised,
        "-o",
        signed,
        "--key",
        pki["supplier"].keyref,
        "--cert",
        pki["supplier"].cert_path,
        "--seal",
        es_id,
        "--registry",
        url,
        "--at-text",
        "供应商（乙方）（盖章）：",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["format"] == "ofd" and result["field"] == "s001" and result["stamps"][0]["page"] == 3
    anchors = ["--trust", pki["signing"].root.cert_path, "--seal-maker-trust", pki["sealing"].root.cert_path]
    code, out, err = cli(capsys, "verify", signed, *anchors, "--registry", url, "--json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report["indication"] == "TOTAL-PASSED" and report["file"]["format"] == "ofd"
    steps = report["signatures"][0]["seal"]["steps"]
    assert {k: steps[6][k] for k in ("name", "ok")} == {"name": "seal-revocation", "ok": True}
    code, out, _ = cli(capsys, "verify", signed, *anchors, "--registry", url)
    assert code == 0 and "Overall: TOTAL-PASSED" in out and "✓ data-hash" in out
    code, out, err = cli(capsys, "file", signed, "-o", tmp_path, *anchors, "--registry", url, "--json")
    assert code == 0, err
    assert json.loads(out)["indication"] == "TOTAL-PASSED"
    assert (tmp_path / "signed.filing.json").exists()
    # the seal revoked now: without a timestamp nothing proves the seal was used before
    with SealRegistry(url, actor="test") as reg:
        reg.revoke(es_id, "dissolved")
    code, out, _ = cli(capsys, "verify", signed, *anchors, "--registry", url, "--json")
    assert code == 4 and "evaluation.seal-revoked-no-poe" in json.loads(out)["signatures"][0]["reasons"]


def test_cli_refusals_are_one_line(tmp_path, capsys, pki, registry, contract):
    url, es_id = registry
    code, _, err = cli(
        capsys,
        "sign",
        contract,
        "--key",
        pki["rsa"].keyref,
        "--cert",
        pki["rsa"].cert_path,
        "--seal",
        es_id,
        "--registry",
        url,
        "--page",
        "1",
    )
    assert code != 0 and err.count("\n") == 1
    assert "SM2 only" in err
    code, _, err = cli(
        capsys, "sign", contract, "--key", pki["supplier"].keyref, "--seal-image", contract, "--page", "1"
    )
    assert code == 2 and "not for OFD" in err and err.count("\n") == 1
    code, _, err = cli(
        capsys,
        "sign",
        contract,
        "--key",
        pki["supplier"].keyref,
        "--cert",
        pki["supplier"].cert_path,
        "--registry",
        url,
        "--page",
        "1",
    )
    assert code == 2 and "--seal" in err
    assert not list(tmp_path.glob("*.signed.ofd"))


def test_cli_timestamped_final_cross_page(tmp_path, capsys, pki, registry, contract):
    from sealkit.dev.services import PkiServices

    url, es_id = registry
    signed = tmp_path / "final.ofd"
    with PkiServices.start(pki["signing"]) as services:
        code, out, err = cli(
            capsys,
            "sign",
            contract,
            "-o",
            signed,
            "--key",
            pki["purchaser"].keyref,
            "--cert",
            pki["purchaser"].cert_path,
            "--seal",
            es_id,
            "--registry",
            url,
            "--page",
            "3",
            "--rect",
            "20,40,40,40",
            "--cross-page",
            "--tsa",
            services.tsa_url,
            "--final",
            "--json",
        )
    assert code == 0, err
    result = json.loads(out)
    assert result["final"] and result["timestamped"]
    assert [s["kind"] for s in result["stamps"]] == ["seal", "strip", "strip", "strip"]
    anchors = ["--trust", pki["signing"].root.cert_path, "--seal-maker-trust", pki["sealing"].root.cert_path]
    code, out, err = cli(capsys, "verify", signed, *anchors, "--registry", url, "--json")
    assert code == 0, out + err
    verdict = json.loads(out)["signatures"][0]
    assert verdict["timestamp"]["trusted"] and verdict["coverage"] == "entire-file"
    assert verdict["seal"]["time_source"] == "timestamp"
    code, _, err = cli(
        capsys,
        "sign",
        signed,
        "--key",
        pki["supplier"].keyref,
        "--cert",
        pki["supplier"].cert_path,
        "--seal",
        es_id,
        "--registry",
        url,
        "--page",
        "1",
    )
    assert code == 9 and "closed to more signatures" in err


def test_dev_writes_a_sample_ofd_contract(tmp_path, capsys):
    from sealkit.ofd import is_ofd

    code, out, err = cli(capsys, "dev", "contract", tmp_path / "c.ofd", "--pages", "2")
    assert code == 0, err
    assert "sample OFD contract" in out
    assert is_ofd((tmp_path / "c.ofd").read_bytes())
    code, out, err = cli(capsys, "dev", "contract", tmp_path / "c.bin", "--format", "ofd")
    assert code == 0 and is_ofd((tmp_path / "c.bin").read_bytes())
