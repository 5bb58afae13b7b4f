"""Revocation where it is declared (EN 319 102-1 §5.2.5): a certificate that names an OCSP responder or a CRL
distribution point and has no status — nothing embedded, nothing fetched, responder down — is INDETERMINATE /
TRY_LATER, never TOTAL-PASSED; removing evidence must never improve a verdict (forger4 a10/a11: a PDF signed
with a revoked certificate, no timestamp, no revocation data, passed). Each attack has an honest twin that
passes once the evidence is there (--online with the responder up, embedded fresh OCSP, ltv-update).
"""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from asn1crypto import ocsp

from sealkit.dev.issuing import issue_with_revocation
from sealkit.dev.pki import Role
from sealkit.dev.responses import KeyedIdentity, Revocation, ocsp_response
from sealkit.dev.services import PkiServices
from sealkit.pdf import verify_pdf
from sealkit.trust import ltv_update, make_timestamper
from sealkit.validation import Evidence, Purpose, validate_certificate
from sealkit.validation.paths import REVOCATION_POLICY
from tests.helpers.pki_signing import sign_contract

rsa_and_sm2 = pytest.mark.parametrize("services", ["rsa", "sm2"], indirect=True)
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/ocsp"


def _ocsp(services: PkiServices, cert, *, at: dt.datetime, revoked: bool = False) -> ocsp.OCSPResponse:
    issuer = services.pki.root.certificate
    request = ocsp.OCSPRequest(
        {
            "tbs_request": {
                "request_list": [
                    {
                        "req_cert": {
                            "hash_algorithm": {"algorithm": "sha1"},
                            "issuer_name_hash": issuer.subject.sha1,
                            "issuer_key_hash": issuer.public_key.sha1,
                            "serial_number": cert.serial_number,
                        }
                    }
                ]
            }
        }
    )
    gone = {cert.serial_number: Revocation(at - dt.timedelta(hours=1))} if revoked else {}
    return ocsp_response(request, issuer=issuer, responder=services.responder, revoked=gone, now=at)


@rsa_and_sm2
@pytest.mark.parametrize("purpose", list(Purpose), ids=lambda p: p.value)
def test_declared_pointers_without_status(services, purpose):
    role = {Purpose.TIMESTAMPING: Role.TSA, Purpose.SEAL_MAKING: Role.SEAL_MAKER}.get(purpose, Role.SIGN)
    if purpose is Purpose.CLIENT_AUTHENTICATION:
        role = Role.TLS_CLIENT
    cert = issue_with_revocation(
        services.pki, f"declared-{purpose.value}", role, ocsp_url=_dead_url(), crl_url=None
    ).certificate
    anchors = [services.pki.root.certificate]
    offline = validate_certificate(cert, anchors, purpose=purpose)
    online = validate_certificate(cert, anchors, purpose=purpose, online=True)  # responder unreachable
    if REVOCATION_POLICY[purpose] == "hard-fail":
        for result in (offline, online):
            assert (result.ok, result.indication, result.sub_indication) == (
                False,
                "INDETERMINATE",
                "TRY_LATER",
            )
            assert "revocation status unknown" in result.message and "ltv-update" in result.message
    else:  # no channel for evidence yet (see REVOCATION_POLICY): absent status is not a failure
        assert offline.ok and online.ok, (offline.message, online.message)
    # Without pointers nothing can be checked: today's behaviour (pass; reports say "unknown").
    plain = services.pki.issue(f"plain-{purpose.value}", role).certificate
    assert validate_certificate(plain, anchors, purpose=purpose).ok


@rsa_and_sm2
def test_removing_evidence_never_improves_the_verdict(services):
    cert = issue_with_revocation(services.pki, "a10", ocsp_url=_dead_url(), crl_url=None).certificate
    anchors = [services.pki.root.certificate]

    def judged(*responses: ocsp.OCSPResponse) -> tuple[bool, str, str | None]:
        evidence = Evidence(certs=[services.responder.cert], ocsps=list(responses))
        result = validate_certificate(cert, anchors, purpose=Purpose.DOCUMENT_SIGNING, evidence=evidence)
        return result.ok, result.indication, result.sub_indication

    stale = judged(_ocsp(services, cert, at=NOW - dt.timedelta(days=60)))
    nothing = judged()
    assert stale == nothing == (False, "INDETERMINATE", "TRY_LATER")
    assert judged(_ocsp(services, cert, at=NOW, revoked=True)) == (False, "INDETERMINATE", "REVOKED_NO_POE")
    # the honest twin: a fresh "good" response settles it
    assert judged(_ocsp(services, cert, at=NOW)) == (True, "TOTAL-PASSED", None)


@rsa_and_sm2
def test_pdf_signed_without_timestamp_or_revocation_data(services, contract, tmp_path):
    """a11: a stolen UKey signs now, no timestamp, no revocation data; offline and --online with the
    responder down are TRY_LATER; with the responder up, or the status embedded by ltv-update, it passes."""
    root = [services.pki.root.cert_path]
    for name, ocsp_url in (("down", _dead_url()), ("up", services.ocsp_url)):
        signer = issue_with_revocation(services.pki, f"ukey-{name}", ocsp_url=ocsp_url, crl_url=None)
        signed = tmp_path / f"{name}.pdf"
        sign_contract(contract, signed, signer, services.pki)
        for online in (False, True):
            report = verify_pdf(signed, trust=root, online=online)
            if name == "up" and online:
                assert report.passed, report.to_dict()
                continue
            data = report.to_dict()
            assert (data["indication"], data["sub_indication"]) == ("INDETERMINATE", "TRY_LATER"), data
            [signature] = data["signatures"]
            assert "try-later.revocation" in signature["reasons"]
            assert signature["revocation"][0]["status"] == "unknown"

    # The same contract made verifiable offline: ltv-update embeds the OCSP response (and a timestamp).
    lta = ltv_update(tmp_path / "up.pdf", tmp_path / "up-lta.pdf", services.tsa_url, trust_anchors=root)
    report = verify_pdf(lta.output_path, trust=root)
    assert report.passed, report.to_dict()
    assert report.signatures[0].revocation[0]["source"] == "embedded-ocsp"

    # A revoked signer stays refused whichever way the evidence comes.
    thief = issue_with_revocation(services.pki, "ukey-revoked", ocsp_url=services.ocsp_url, crl_url=None)
    sign_contract(contract, tmp_path / "revoked.pdf", thief, services.pki)
    services.revoke(thief.certificate.serial_number, at=NOW - dt.timedelta(days=1))
    data = verify_pdf(tmp_path / "revoked.pdf", trust=root, online=True).to_dict()
    assert (data["indication"], data["sub_indication"]) == ("INDETERMINATE", "REVOKED_NO_POE")


@rsa_and_sm2
def test_a_tsa_without_revocation_status_proves_no_time(services, contract, tmp_path):
    """A TSA whose certificate names an OCSP responder nobody can reach: its token proves no time (a stolen
    TSA key could date anything), so the signature is judged now — and says why."""
    declared = issue_with_revocation(
        services.pki, "tsa-declared", Role.TSA, ocsp_url=_dead_url(), crl_url=None
    )
    honest, services.tsa = services.tsa, KeyedIdentity.load(declared)
    try:
        signer = services.pki.issue("ts-signer", Role.SIGN)  # names no pointers: judged now, valid now
        stamper = make_timestamper(services.tsa_url)
        sign_contract(contract, tmp_path / "bt.pdf", signer, services.pki, timestamper=stamper)
    finally:
        services.tsa = honest
    report = verify_pdf(tmp_path / "bt.pdf", trust=[services.pki.root.cert_path])
    [signature] = report.signatures
    assert signature.timestamp is not None and signature.timestamp["trusted"] is False
    assert signature.proven_time is None
    [check] = [c for c in signature.checks if c.name == "timestamp"]
    assert not check.ok and "TSA's revocation status unknown" in check.detail, check.detail
    assert report.passed  # the signer is good now: a B-B verdict, no proven time

    # the honest twin: the services' own TSA (no pointers) proves its time
    sign_contract(contract, tmp_path / "ok.pdf", signer, services.pki, timestamper=stamper)
    proven = verify_pdf(tmp_path / "ok.pdf", trust=[services.pki.root.cert_path]).signatures[0]
    assert proven.timestamp is not None and proven.timestamp["trusted"] is True and proven.proven_time
