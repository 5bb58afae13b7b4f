"""Seals in signatures (usable_seal, the CMS attribute, seal_checker, SES_Signature in /Contents), signed
revocation lists, and the lifecycle through the CLI."""

import datetime as dt
import hashlib
import json

import pytest
from asn1crypto import algos, cms, core
from sealkit_cli.main import run

from sealkit.errors import SealDisabled, SealError, SealExpired, SealRevoked, VerificationFailed
from sealkit.seal import (
    SEAL_ATTRIBUTE_OID,
    SealRegistry,
    check_seal_in_signature,
    load_revocation_list,
    make_revocation_list,
    make_ses_signature,
    parse_ses_signature,
    seal_signed_attribute,
    usable_seal,
)
from sealkit.ukey import open_key

from .conftest import EXAMPLE_FORM

UNTIL = dt.date.today() + dt.timedelta(days=365)
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture()
def registry(tmp_path):
    with SealRegistry(f"sqlite:///{tmp_path / 'r.db'}", actor="test") as reg:
        yield reg


@pytest.fixture()
def record(registry, form, pki, maker):
    return registry.issue(form, "contract", [pki["holder"].certificate], *maker, UNTIL)


def test_usable_seal_and_refusals(registry, record, pki, form, maker):
    holder = pki["holder"].certificate
    usable = usable_seal(registry, record.es_id, holder)
    assert usable.seseal_der == record.seal_der and (usable.width_mm, usable.height_mm) == (40, 40)
    with pytest.raises(SealError, match="not a holder"):
        usable_seal(registry, record.es_id, pki["other"].certificate)
    with pytest.raises(SealExpired, match="expired"):
        usable_seal(registry, record.es_id, holder, at=NOW + dt.timedelta(days=800))
    with pytest.raises(SealExpired, match="not valid before"):
        usable_seal(registry, record.es_id, holder, at=NOW - dt.timedelta(days=2))
    registry.set_enabled(record.es_id, False)
    with pytest.raises(SealDisabled):
        usable_seal(registry, record.es_id, holder)
    registry.revoke(record.es_id, "dissolved")
    with pytest.raises(SealRevoked, match="dissolved"):
        usable_seal(registry, record.es_id, holder)


def test_signed_attribute_round_trip(record):
    attribute = seal_signed_attribute(record.seal_der)
    parsed = cms.CMSAttribute.load(attribute.dump())
    assert parsed["type"].dotted == SEAL_ATTRIBUTE_OID
    assert parsed["values"][0].native == record.seal_der
    assert SEAL_ATTRIBUTE_OID.startswith("2.25.")
    with pytest.raises(Exception):  # noqa: B017 - anything but a seal is refused
        seal_signed_attribute(b"not a seal")


def signed_data_with_seal(seal_der, identity, handle):
    """A real CMS SignedData whose signer's signed attributes carry the seal."""
    cert = identity.certificate
    content = b"contract bytes"
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["data"]},
            {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
            seal_signed_attribute(seal_der),
        ]
    )
    signature = handle.sign(attrs.dump())
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}}
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
            "signature": signature,
        }
    )
    data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "data"},
            "certificates": [cert],
            "signer_infos": [signer],
        }
    )
    return cms.SignedData.load(data.dump())


def test_seal_checker_before_and_after_revocation(registry, record, pki, makers):
    signed = signed_data_with_seal(record.seal_der, pki["holder"], open_key(pki["holder"].keyref))
    report = check_seal_in_signature(signed, None, trust=makers, revocations=registry)
    assert report["ok"] and report["es_id"] == record.es_id and report["time_source"] == "none"
    assert (report["unit"], report["unit_code"], report["signer_matches_unit"]) == (
        "山东省示范数据研究院",
        "12370102MB00000014",
        True,
    )
    registry.revoke(record.es_id, "merged", successor="91350100M000100Y43")
    revoked = registry.get(record.es_id)
    revoked_at = revoked.revocation.revoked_at
    # proven between the seal's first day (Beijing midnight, maybe minutes ago) and the revocation
    used_at = revoked.valid_start + (revoked_at - revoked.valid_start) / 2
    before = check_seal_in_signature(signed, used_at, trust=makers, revocations=registry)
    assert before["ok"] and before["revoked_after_signing"] and before["evidence"] == "timestamp"
    assert (
        before["revocation"]["reason"] == "merged"
        and before["revocation"]["successor"] == "91350100M000100Y43"
    )
    after = check_seal_in_signature(
        signed, revoked_at + dt.timedelta(seconds=1), trust=makers, revocations=registry
    )
    assert not after["ok"] and after["failed_step"] == "revocation" and after["reason"] == "seal.revoked"
    assert (after["indication"], after["sub_indication"]) == ("TOTAL-FAILED", "REVOKED")
    # No proof of time: judged now, after the revocation — distinct from a proven revoked use.
    unproven = check_seal_in_signature(signed, None, trust=makers, revocations=registry)
    assert not unproven["ok"] and unproven["reason"] == "seal.revoked-no-poe"
    assert (unproven["indication"], unproven["sub_indication"]) == ("INDETERMINATE", "REVOKED_NO_POE")
    # A claimed (not proven) time before the revocation changes nothing.
    claimed = check_seal_in_signature(
        signed, revoked_at - dt.timedelta(days=1), trust=makers, revocations=registry, time_source="claimed"
    )
    assert claimed["reason"] == "seal.revoked-no-poe"
    expired = check_seal_in_signature(signed, NOW + dt.timedelta(days=800), trust=makers)
    assert not expired["ok"] and expired["reason"] in ("seal.expired", "seal.maker-expired")
    expired_now = check_seal_in_signature(signed, None, trust=makers, now=NOW + dt.timedelta(days=400))
    assert expired_now["reason"] == "seal.expired-no-poe" and expired_now["indication"] == "INDETERMINATE"


def test_seal_checker_refuses_a_non_holder_and_ignores_unsealed(record, pki, makers):
    signed = signed_data_with_seal(record.seal_der, pki["other"], open_key(pki["other"].keyref))
    report = check_seal_in_signature(signed, None, trust=makers)
    assert not report["ok"] and report["failed_step"] == "signer-in-certlist"
    assert report["reason"] == "seal.not-holder" and report["signer_matches_unit"] is False
    plain = signed.copy()
    attrs = plain["signer_infos"][0]["signed_attrs"]
    plain["signer_infos"][0]["signed_attrs"] = cms.CMSAttributes([attrs[0], attrs[1]])
    assert check_seal_in_signature(cms.SignedData.load(plain.dump()), None) is None


def test_ses_signature_in_pdf_contents(record, pki, makers):
    holder = open_key(pki["holder"].keyref)
    ses = make_ses_signature(record.seal_der, holder, pki["holder"].certificate, b"byte range")
    contents = ses + b"\x00" * 500  # /Contents is zero padded
    report = parse_ses_signature(contents, b"byte range", trust=makers)
    assert report["ok"] and report["seal"]["es_id"] == record.es_id and "holder" in report["signer"]
    assert parse_ses_signature(contents, b"other bytes", trust=[])["failed_step"] == "maker-certificate"
    broken = parse_ses_signature(b"\x30\x82\xff\xff" + b"\x00" * 10)
    assert not broken["ok"] and broken["failed_step"] == "format"


def test_revocation_list_sign_and_verify(tmp_path, registry, record, pki):
    maker_handle = open_key(pki["maker"].keyref)
    registry.revoke(record.es_id, "merged", successor="91350100M000100Y43", note="合并")
    data = make_revocation_list(registry.revocations(), maker_handle, pki["maker"].certificate)
    revlist = load_revocation_list(data, [pki["maker"].certificate])
    assert [(e.es_id, e.reason, e.successor, e.note) for e in revlist.entries] == [
        (record.es_id, "merged", "91350100M000100Y43", "合并")
    ]
    assert load_revocation_list(data, [pki["maker_ca"].root.certificate]).entries == revlist.entries
    with pytest.raises(VerificationFailed, match="not trusted"):  # the signers' CA makes no lists
        load_revocation_list(data, [pki["ca"].root.certificate])
    with pytest.raises(VerificationFailed, match="not trusted"):
        load_revocation_list(data, [pki["holder"].certificate])
    tampered = data.replace(record.es_id.encode(), b"37010202000009")
    with pytest.raises(VerificationFailed, match="signature"):
        load_revocation_list(tampered, [pki["maker"].certificate])
    with pytest.raises(Exception, match="not a sealkit revocation list"):
        load_revocation_list(b"\x30\x00", [pki["maker"].certificate])


# --- the CLI ---


def cli(capsys, *args):
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_lifecycle_and_merger(tmp_path, capsys, pki):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    maker = [
        "--maker",
        pki["maker"].keyref,
        "--maker-cert",
        str(pki["maker"].cert_path),
        "--seal-maker-trust",
        str(pki["maker_ca"].root.cert_path),
    ]
    common = ["--registry", url, "--actor", "clerk"]
    ids = []
    for kind in ("official", "contract", "legal-rep"):
        code, out, err = cli(
            capsys,
            "seal",
            "issue",
            "--form",
            str(EXAMPLE_FORM),
            "--kind",
            kind,
            "--holder-cert",
            str(pki["holder"].cert_path),
            *maker,
            "--valid-until",
            UNTIL.isoformat(),
            *common,
        )
        assert code == 0, err
        ids.append(out.strip())
    code, out, _ = cli(capsys, "seal", "list", "--json", *common)
    assert code == 0 and [s["es_id"] for s in json.loads(out)["seals"]] == ids
    code, out, _ = cli(capsys, "seal", "extend", ids[0], "--until", "2031-01-01", *maker, "--json", *common)
    assert code == 0 and json.loads(out)["version"] == 2
    assert cli(capsys, "seal", "disable", ids[1], *common)[0] == 0
    code, out, _ = cli(capsys, "seal", "show", ids[1], "--json", *common)
    assert json.loads(out)["status"] == "disabled"
    code, out, _ = cli(
        capsys,
        "seal",
        "merge",
        "--units",
        "12370102MB00000014",
        "--into",
        "91350100M000100Y43",
        "--json",
        *common,
    )
    assert code == 0 and sorted(json.loads(out)["revoked"]) == ids
    code, _, err = cli(capsys, "seal", "extend", ids[0], "--until", "2032-01-01", *maker, *common)
    assert code == 7 and err.count("\n") == 1 and "revoked" in err
    revlist = tmp_path / "revoked.der"
    assert cli(capsys, "seal", "export-revocations", "-o", str(revlist), *maker, *common)[0] == 0
    other = ["--registry", f"sqlite:///{tmp_path / 'other.db'}"]
    code, out, _ = cli(
        capsys,
        "seal",
        "import-revocations",
        str(revlist),
        "--seal-maker-trust",
        str(pki["maker_ca"].root.cert_path),
        "--json",
        *other,
    )
    assert code == 0 and json.loads(out)["added"] == 3
    code, out, _ = cli(capsys, "seal", "audit", "--verify", "--json", *common)
    assert code == 0 and json.loads(out)["ok"]
    code, _, err = cli(
        capsys, "seal", "import-revocations", str(revlist), "--trust", str(pki["holder"].cert_path), *other
    )
    assert code == 3 and "not trusted" in err


def test_cli_errors_are_one_line(tmp_path, capsys, pki):
    url = ["--registry", f"sqlite:///{tmp_path / 'e.db'}"]
    code, _, err = cli(capsys, "seal", "show", "NOPE", *url)
    assert code == 7 and err == "sealkit: no seal 'NOPE' in the registry\n"
    bad_form = tmp_path / "unit.toml"
    bad_form.write_text(
        EXAMPLE_FORM.read_text(encoding="utf-8").replace("MB00000014", "MB00000015"), encoding="utf-8"
    )
    code, out, err = cli(
        capsys,
        "seal",
        "issue",
        "--form",
        str(bad_form),
        "--kind",
        "official",
        "--holder-cert",
        str(pki["holder"].cert_path),
        "--maker",
        pki["maker"].keyref,
        "--maker-cert",
        str(pki["maker"].cert_path),
        "--valid-until",
        "2030-01-01",
        "--json",
        *url,
    )
    assert code == 2 and json.loads(out)["error"]["type"] == "FormError" and "unit.uscc" in err
    code, _, err = cli(capsys, "seal", "list", "--expiring", "soon", *url)
    assert code == 2 and "--expiring" in err
    code, _, err = cli(capsys, "seal", "audit", "--verify", "--registry", "mysql://x")
    assert code == 10


def test_cli_audit_detects_tampering(tmp_path, capsys, pki, form, maker):
    import sqlite3

    path = tmp_path / "t.db"
    with SealRegistry(f"sqlite:///{path}") as registry:
        registry.issue(form, "official", [pki["holder"].certificate], *maker, UNTIL)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE seals SET status = 'disabled'")
    code, _, err = cli(capsys, "seal", "audit", "--verify", "--registry", f"sqlite:///{path}")
    assert code == 10 and "audit check failed" in err and "seal:37010201000001" in err


def test_cli_image(tmp_path, capsys):
    out_png = tmp_path / "legal.png"
    code, out, _ = cli(
        capsys, "seal", "image", "--kind", "legal-rep", "--name", "张明华", "-o", str(out_png), "--json"
    )
    assert code == 0 and json.loads(out)["width_mm"] == 20 and out_png.read_bytes()[:4] == b"\x89PNG"
    core.OctetString(b"")  # asn1crypto stays importable alongside the CLI


def test_documented_example_runs():
    import subprocess
    import sys

    from .conftest import REPO

    result = subprocess.run(
        [sys.executable, str(REPO / "docs" / "examples" / "seal_lifecycle.py")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "audit: OK 5 entries" in result.stdout
