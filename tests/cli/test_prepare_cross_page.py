"""`sealkit prepare --cross-page NAME` reserves a later signer's cross-page seal; signing NAME fills it."""

import json
import subprocess
import sys

from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_contract import PURCHASER_BLOCK, SUPPLIER_BLOCK, write_sample_contract
from sealkit.pdf import verify_pdf
from sealkit.seal import render_seal


def sealkit(*args):
    return subprocess.run([sys.executable, "-m", "sealkit_cli.main", *args], capture_output=True, text=True)


def test_second_signer_fills_its_reserved_cross_page_seal(tmp_path):
    pki = make_test_pki(tmp_path / "pki", "rsa")
    supplier, purchaser = pki.issue("supplier"), pki.issue("purchaser")
    contract = write_sample_contract(tmp_path / "contract.pdf", pages=3)
    seal = tmp_path / "seal.png"
    seal.write_bytes(render_seal("contract", "济南市示范中学").png)
    prepared = tmp_path / "prepared.pdf"
    result = sealkit(
        "prepare",
        str(contract),
        "-o",
        str(prepared),
        "--field",
        f"供应商@{SUPPLIER_BLOCK}",
        "--field",
        f"采购人@{PURCHASER_BLOCK}",
        "--order",
        "供应商,采购人",
        "--cross-page",
        "采购人",
        "--unsealed",  # both sign with a seal picture here, no electronic seal
        "供应商",
        "--unsealed",
        "采购人",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    fields = {f["name"]: f for f in json.loads(result.stdout)["fields"]}
    assert fields["采购人"]["cross_page"] == [1, 2, 3]
    assert fields["供应商"]["cross_page"] == []

    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    for who, field, src, dst in ((supplier, "供应商", prepared, first), (purchaser, "采购人", first, second)):
        result = sealkit(
            "sign",
            str(src),
            "-o",
            str(dst),
            "--key",
            who.keyref,
            "--cert",
            str(who.cert_path),
            "--field",
            field,
            "--seal-image",
            str(seal),
            "--json",
        )
        assert result.returncode == 0, result.stderr
    stamps = json.loads(result.stdout)["stamps"]
    assert sorted(s["page"] for s in stamps if s["kind"] == "strip") == [1, 2, 3]
    report = verify_pdf(second, trust=[pki.root.cert_path])
    assert report.passed, report.to_dict()


def test_cross_page_for_an_unknown_field_is_refused(tmp_path):
    contract = write_sample_contract(tmp_path / "contract.pdf", pages=2)
    result = sealkit(
        "prepare",
        str(contract),
        "-o",
        str(tmp_path / "p.pdf"),
        "--field",
        "甲@1:10,10,40,40",
        "--cross-page",
        "乙",
    )
    assert result.returncode == 2
    assert "names no --field" in result.stderr
    assert not (tmp_path / "p.pdf").exists()
