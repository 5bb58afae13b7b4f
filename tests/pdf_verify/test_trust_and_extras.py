# ruff: noqa: E501 - long PDF literals and assertions read better on one line
"""Certificates (anchors, expiry, P-256), the seal-checker slot, pdfsig agreement and single-byte flips."""

import datetime as dt
import random
import re
import shutil
import subprocess

import pytest
from asn1crypto import cms

from sealkit.pdf import verify_pdf
from tests.pdf_verify.contracts import sign
from tests.pdf_verify.tampering import byte_range


def test_without_anchors_is_indeterminate(signed):
    report = verify_pdf(signed)
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    assert report.signatures[0].intact and not report.signatures[0].trusted


def test_wrong_anchor_is_indeterminate(signed, other_pki):
    report = verify_pdf(signed, trust=[other_pki.root.cert_path])
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")


def test_anchor_as_bytes_or_object(signed, rsa_pki):
    pem = rsa_pki.root.cert_path.read_bytes()
    assert verify_pdf(signed, trust=[pem]).passed
    assert verify_pdf(signed, trust=[rsa_pki.root.certificate]).passed


def test_bad_anchor_is_an_input_error(signed, tmp_path):
    from sealkit.errors import DecodingError, InvalidInput

    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"not a certificate")
    with pytest.raises(DecodingError):
        verify_pdf(signed, trust=[junk])
    with pytest.raises(InvalidInput):
        verify_pdf(signed, trust=[tmp_path / "missing.pem"])


def test_certificate_expired_without_a_timestamp_is_out_of_bounds_no_poe(contract, rsa_pki, trust):
    """No timestamp: nothing proves the signature was made while the certificate was valid (ETSI)."""
    now = dt.datetime.now(dt.UTC)
    signer = rsa_pki.signer(
        "Expired Co", not_before=now - dt.timedelta(days=60), not_after=now - dt.timedelta(days=30)
    )
    report = verify_pdf(sign(contract, signer), trust=trust)
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    assert "out-of-bounds-no-poe.certificate" in report.signatures[0].reasons


def test_certificate_not_yet_valid_at_signing_time(contract, rsa_pki, trust):
    now = dt.datetime.now(dt.UTC)
    signer = rsa_pki.signer(
        "Future Co", not_before=now + dt.timedelta(days=30), not_after=now + dt.timedelta(days=60)
    )
    report = verify_pdf(sign(contract, signer), trust=trust)
    assert report.sub_indication == "NOT_YET_VALID"


def test_p256_signature(contract, p256_pki):
    report = verify_pdf(sign(contract, p256_pki.signer("EC Buyer")), trust=[p256_pki.root.cert_path])
    assert report.passed
    assert report.signatures[0].algorithm == "ECDSA-SHA256"


def test_validation_time_is_used_for_the_chain(signed, trust):
    far_future = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
    report = verify_pdf(signed, trust=trust, validation_time=far_future)
    assert not report.passed


def test_seal_checker_fills_the_slot(signed, trust):
    seen = []

    def checker(signed_data, signing_time):
        seen.append((type(signed_data), signing_time))
        return {"ok": True, "detail": "SESeal 1234 valid", "seal_id": "1234"}

    report = verify_pdf(signed, trust=trust, seal_checker=checker)
    assert report.passed
    assert report.signatures[0].seal["seal_id"] == "1234"
    # No timestamp: the checker gets no proven time (None: judge at the validation time).
    assert seen[0][0] is cms.SignedData and seen[0][1] is None


@pytest.mark.parametrize("result", [{"ok": False, "detail": "seal revoked"}, RuntimeError("broken seal")])
def test_failing_seal_checker_fails_the_signature(signed, trust, result):
    def checker(signed_data, signing_time):
        if isinstance(result, Exception):
            raise result
        return result

    report = verify_pdf(signed, trust=trust, seal_checker=checker)
    assert report.indication == "TOTAL-FAILED"
    assert "seal.invalid" in report.signatures[0].reasons


def test_report_is_json_serialisable(signed, trust):
    import json

    data = json.loads(json.dumps(verify_pdf(signed, trust=trust).to_dict()))
    assert set(data) >= {"indication", "signatures", "file"}
    keys = {"field", "signer", "algorithm", "intact", "coverage", "modification", "trusted", "indication"}
    keys |= {"sub_indication", "seal", "signing_time", "timestamp", "revocation", "reasons", "checks"}
    keys |= {"proven_time", "claimed_time"}
    assert set(data["signatures"][0]) == keys
    assert data["signatures"][0]["timestamp"] is None  # signed without a TSA (B-B)
    assert set(data["signatures"][0]["checks"][0]) == {"name", "ok", "detail", "level"}


def test_single_byte_flips_never_pass(signed, trust):
    (_, len1, start2, len2), _, _ = byte_range(signed)
    rng = random.Random(20240917)
    offsets = rng.sample(range(0, len1), 15) + rng.sample(range(start2, start2 + len2), 15)
    for offset in offsets:
        flipped = bytearray(signed)
        flipped[offset] ^= 1 << rng.randrange(8)
        report = verify_pdf(bytes(flipped), trust=trust)
        assert report.indication != "TOTAL-PASSED", offset


@pytest.mark.skipif(
    not shutil.which("pdfsig") or not shutil.which("certutil"), reason="poppler/NSS tools missing"
)
def test_pdfsig_agrees_on_honest_and_tampered(tmp_path, signed, rsa_pki, trust):
    from tests.pdf_verify.tampering import change_field_value, incremental

    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(
        ["certutil", "-N", "--empty-password", "-d", f"sql:{nss}"], check=True, capture_output=True
    )
    subprocess.run(
        [
            "certutil",
            "-A",
            "-n",
            "root",
            "-t",
            "CT,C,C",
            "-i",
            str(rsa_pki.root.cert_path),
            "-d",
            f"sql:{nss}",
        ],
        check=True,
        capture_output=True,
    )

    def pdfsig(data):
        path = tmp_path / "f.pdf"
        path.write_bytes(data)
        out = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True
        ).stdout
        return (
            re.findall(r"Signature Validation: (.*)", out),
            re.findall(r"Certificate Validation: (.*)", out),
            out,
        )

    both = sign(signed, rsa_pki.signer("Supplier Co"), "supplier")
    sigs, certs, out = pdfsig(both)
    assert sigs == ["Signature is Valid."] * 2 and certs == ["Certificate is Trusted."] * 2, out
    assert verify_pdf(both, trust=trust).passed

    # A flipped byte inside the signed range: both tools say no.
    (_, len1, _, _), _, _ = byte_range(signed)
    flipped = bytearray(signed)
    flipped[len1 // 2] ^= 0x01
    sigs, _, out = pdfsig(bytes(flipped))
    assert sigs and sigs[0] != "Signature is Valid.", out
    assert not verify_pdf(bytes(flipped), trust=trust).passed

    # A later change of a field value: pdfsig still calls the first signature valid (it only checks the signed
    # revision and says the signature does not cover the whole document); sealkit fails it.
    tampered = incremental(signed, change_field_value)
    sigs, _, out = pdfsig(tampered)
    assert sigs == ["Signature is Valid."] and "not" in out.lower()
    assert verify_pdf(tampered, trust=trust).indication == "TOTAL-FAILED"
