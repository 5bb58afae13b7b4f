"""Signatures judged at their trusted time: revocation before/after, expiry, tampered tokens, B-LT/B-LTA."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from sealkit.dev.issuing import issue_with_revocation
from sealkit.dev.services import PkiServices
from sealkit.errors import ServiceError
from sealkit.trust import add_validation_info, evaluate_signature, ltv_context, ltv_update, make_timestamper
from tests.helpers.pki_signing import sign_contract

NOW = dt.datetime.now(dt.UTC)


def _signed(services: PkiServices, contract, path, name, **validity):
    signer = issue_with_revocation(
        services.pki, name, ocsp_url=services.ocsp_url, crl_url=services.crl_url, **validity
    )
    sign_contract(contract, path, signer, services.pki, timestamper=make_timestamper(services.tsa_url))
    return signer


def _evaluate(services: PkiServices, path, **kwargs):
    with path.open("rb") as handle:
        signature = PdfFileReader(handle).embedded_regular_signatures[0]
        return evaluate_signature(signature, [services.pki.root.cert_path], **kwargs)


def test_revoked_after_the_timestamp_is_valid_online(services, contract, tmp_path):
    signer = _signed(services, contract, tmp_path / "bt.pdf", "revoked-after")
    services.revoke(signer.certificate.serial_number, at=NOW + dt.timedelta(hours=1))
    evaluation = _evaluate(services, tmp_path / "bt.pdf", online=True, now=NOW + dt.timedelta(days=1))
    assert evaluation.indication == "TOTAL-PASSED", evaluation.message
    [entry] = evaluation.to_json()["revocation"]
    assert entry["status"] == "good"
    assert entry["source"].startswith("online-")
    assert entry["checked_at"] is not None


def test_revoked_before_the_timestamp_fails(services, contract, tmp_path):
    signer = _signed(services, contract, tmp_path / "bt.pdf", "revoked-before")
    services.revoke(
        signer.certificate.serial_number, at=NOW - dt.timedelta(hours=1), reason="affiliation_changed"
    )
    evaluation = _evaluate(services, tmp_path / "bt.pdf", online=True)
    assert (evaluation.indication, evaluation.sub_indication) == ("TOTAL-FAILED", "REVOKED")
    [entry] = evaluation.to_json()["revocation"]
    assert entry["status"] == "revoked"
    assert entry["reason"] == "affiliation_changed"
    assert (
        dt.datetime.fromisoformat(entry["revoked_at"]) < evaluation.timestamp.time
    )  # printed with an offset


def test_offline_without_embedded_data_reports_no_source(services, contract, tmp_path):
    _signed(services, contract, tmp_path / "bt.pdf", "offline")
    before = dict(services.requests)
    evaluation = _evaluate(services, tmp_path / "bt.pdf")
    assert evaluation.to_json()["revocation"][0]["source"] == "none"
    # the certificate names OCSP and CRL: without a status the time-stamped signature is not proven good
    assert (evaluation.indication, evaluation.sub_indication) == ("INDETERMINATE", "TRY_LATER")
    assert services.requests["ocsp"] == before["ocsp"] and services.requests["crl"] == before["crl"]


def test_expired_after_the_timestamp_is_valid(services, contract, tmp_path):
    _signed(services, contract, tmp_path / "bt.pdf", "short-lived", not_after=NOW + dt.timedelta(hours=2))
    later = NOW + dt.timedelta(days=3)
    assert _evaluate(services, tmp_path / "bt.pdf", online=True, now=later).passed
    # Without its timestamp the same signature is judged at `later`, when the certificate had expired.
    assert not _timestamp_less_verdict_passes(services, tmp_path / "bt.pdf", later)


def _timestamp_less_verdict_passes(services, path, moment) -> bool:
    from pyhanko.sign.validation import validate_pdf_signature

    from sealkit.trust import build_validation_context, embedded_evidence

    with path.open("rb") as handle:
        reader = PdfFileReader(handle)
        signature = reader.embedded_regular_signatures[0]
        context = build_validation_context(
            [services.pki.root.cert_path], embedded=embedded_evidence(reader, signature), moment=moment
        )
        return validate_pdf_signature(signature, context).bottom_line


def test_tampered_timestamp_token_fails(services, contract, tmp_path):
    _signed(services, contract, tmp_path / "bt.pdf", "tampered-ts")
    data = bytearray((tmp_path / "bt.pdf").read_bytes())
    with (tmp_path / "bt.pdf").open("rb") as handle:
        signature = PdfFileReader(handle).embedded_signatures[0]
        token = signature.signer_info["unsigned_attrs"][0]["values"][0]
        tsa_signature = token["content"]["signer_infos"][0]["signature"].native
    hex_sig = tsa_signature.hex().encode()
    start = bytes(data).lower().find(hex_sig)
    assert start > 0
    data[start + 10 : start + 12] = b"00" if data[start + 10 : start + 12] != b"00" else b"11"
    (tmp_path / "tampered.pdf").write_bytes(bytes(data))
    evaluation = _evaluate(services, tmp_path / "tampered.pdf")
    assert evaluation.indication == "TOTAL-FAILED"
    assert evaluation.to_json()["timestamp"]["intact"] is False


def test_b_lta_keeps_the_signature_valid_offline_after_revocation(services, contract, tmp_path):
    signer = _signed(services, contract, tmp_path / "bt.pdf", "archived")
    result = add_validation_info(
        tmp_path / "bt.pdf",
        tmp_path / "lta.pdf",
        validation_context=ltv_context([services.pki.root.cert_path]),
        timestamper=make_timestamper(services.tsa_url),
    )
    assert result.document_timestamp and result.ocsps >= 1 and result.certs >= 2
    services.revoke(signer.certificate.serial_number, at=NOW + dt.timedelta(minutes=30))
    before = dict(services.requests)
    evaluation = _evaluate(services, tmp_path / "lta.pdf", now=NOW + dt.timedelta(days=30))
    assert evaluation.passed, evaluation.message
    assert evaluation.to_json()["revocation"][0]["source"] == "embedded-ocsp"
    assert services.requests == before  # offline: nothing fetched

    refreshed = ltv_update(
        tmp_path / "lta.pdf",
        tmp_path / "lta2.pdf",
        services.tsa_url,
        trust_anchors=[services.pki.root.cert_path],
    )
    with refreshed.output_path.open("rb") as handle:
        assert len(PdfFileReader(handle).embedded_timestamp_signatures) == 2


def test_ltv_fails_cleanly_when_the_ocsp_responder_is_down(services, contract, tmp_path):
    signer = issue_with_revocation(
        services.pki, "no-responder", ocsp_url="http://127.0.0.1:9/ocsp", crl_url=None
    )
    sign_contract(
        contract, tmp_path / "bt.pdf", signer, services.pki, timestamper=make_timestamper(services.tsa_url)
    )
    with pytest.raises(ServiceError):
        add_validation_info(
            tmp_path / "bt.pdf",
            tmp_path / "lt.pdf",
            validation_context=ltv_context([services.pki.root.cert_path]),
        )
    assert not (tmp_path / "lt.pdf").exists()


def test_ltv_update_with_unreachable_tsa_writes_nothing(services, contract, tmp_path):
    _signed(services, contract, tmp_path / "bt.pdf", "tsa-down")
    with pytest.raises(ServiceError, match="TSA"):
        ltv_update(
            tmp_path / "bt.pdf",
            tmp_path / "lta.pdf",
            "http://127.0.0.1:9/tsa",
            trust_anchors=[services.pki.root.cert_path],
        )
    assert not (tmp_path / "lta.pdf").exists()


@pytest.mark.skipif(
    shutil.which("pdfsig") is None or shutil.which("certutil") is None, reason="needs poppler + NSS tools"
)
def test_pdfsig_accepts_rsa_b_t_and_b_lta(services, contract, tmp_path):
    if services.pki.kind != "rsa":
        pytest.skip("poppler/NSS verify RSA (and P-256) only here; SM2 is not supported by NSS")
    _signed(services, contract, tmp_path / "bt.pdf", "pdfsig")
    add_validation_info(
        tmp_path / "bt.pdf",
        tmp_path / "lta.pdf",
        validation_context=ltv_context([services.pki.root.cert_path]),
        timestamper=make_timestamper(services.tsa_url),
    )
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{nss}"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-n",
            "root",
            "-t",
            "CT,C,C",
            "-i",
            str(services.pki.root.cert_path),
            "-d",
            f"sql:{nss}",
        ],
        check=True,
    )
    for name in ("bt.pdf", "lta.pdf"):
        text = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{nss}", str(tmp_path / name)], capture_output=True, text=True
        ).stdout
        first = text.split("Signature #2")[0]
        assert "Signature is Valid." in first, text
        assert "Certificate is Trusted." in first, text
        assert re.search(r"Signature #1:", text)
