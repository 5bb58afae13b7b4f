"""The validation core: one path validation for every purpose, with ETSI indications and time rules."""

from __future__ import annotations

import datetime as dt

import pytest

from sealkit.dev.pki import Role, make_test_pki
from sealkit.errors import InvalidSignature
from sealkit.validation import (
    Purpose,
    key_matches_certificate,
    normalise_sm2_signature,
    validate_certificate,
    validity_at,
    verify_with_certificate,
)

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module", params=["sm2", "rsa"])
def pki(request, tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp(f"pki-{request.param}"), request.param)


def test_signer_chains_to_its_root(pki):
    signer = pki.issue("signer", Role.SIGN)
    result = validate_certificate(
        signer.certificate, [pki.root.certificate], purpose=Purpose.DOCUMENT_SIGNING
    )
    assert result.ok, result.message
    assert result.indication == "TOTAL-PASSED"
    assert [c.dump() for c in result.path][-1] == signer.certificate.dump()


def test_no_anchor_is_indeterminate_no_chain(pki, tmp_path):
    other = make_test_pki(tmp_path / "other", pki.kind)
    signer = pki.issue("signer2", Role.SIGN)
    result = validate_certificate(
        signer.certificate, [other.root.certificate], purpose=Purpose.DOCUMENT_SIGNING
    )
    assert (result.ok, result.indication, result.sub_indication) == (
        False,
        "INDETERMINATE",
        "NO_CERTIFICATE_CHAIN_FOUND",
    )
    empty = validate_certificate(signer.certificate, [], purpose=Purpose.DOCUMENT_SIGNING)
    assert empty.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"


def test_expired_without_proof_is_out_of_bounds_no_poe(pki):
    old = pki.issue(
        "old", Role.SIGN, not_before=NOW - dt.timedelta(days=400), not_after=NOW - dt.timedelta(days=10)
    )
    anchors = [pki.root.certificate]
    unproven = validate_certificate(old.certificate, anchors, purpose=Purpose.DOCUMENT_SIGNING)
    assert (unproven.indication, unproven.sub_indication) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    proven_before = validate_certificate(
        old.certificate, anchors, purpose=Purpose.DOCUMENT_SIGNING, at=NOW - dt.timedelta(days=20)
    )
    assert proven_before.ok, proven_before.message
    proven_after = validate_certificate(
        old.certificate, anchors, purpose=Purpose.DOCUMENT_SIGNING, at=NOW - dt.timedelta(days=5)
    )
    assert (proven_after.indication, proven_after.sub_indication) == ("TOTAL-FAILED", "EXPIRED")


def test_key_usage_of_the_purpose_is_required(pki):
    enc = pki.issue("enc", Role.ENCRYPT)
    result = validate_certificate(enc.certificate, [pki.root.certificate], purpose=Purpose.SEAL_MAKING)
    assert (result.ok, result.sub_indication) == (False, "CHAIN_CONSTRAINTS_FAILURE")
    signer = pki.issue("not-a-tsa", Role.SIGN)
    tsa = validate_certificate(signer.certificate, [pki.root.certificate], purpose=Purpose.TIMESTAMPING)
    assert (tsa.ok, tsa.sub_indication) == (False, "CHAIN_CONSTRAINTS_FAILURE")
    real_tsa = pki.issue("tsa", Role.TSA)
    assert validate_certificate(real_tsa.certificate, [pki.root.certificate], purpose=Purpose.TIMESTAMPING).ok


SIGNING_PURPOSES = [
    Purpose.DOCUMENT_SIGNING,
    Purpose.SEAL_MAKING,
    Purpose.ENVELOPE_SIGNING,
    Purpose.REVOCATION_LIST_SIGNING,
    Purpose.REGISTRY_SIGNING,
]


@pytest.mark.parametrize("purpose", SIGNING_PURPOSES, ids=lambda p: p.value)
def test_a_service_certificate_of_the_same_ca_signs_nothing(pki, purpose):
    """forger4 a06/a08: the CA's timestamping, OCSP and TLS server certificates carry digitalSignature, but
    their extended key usage limits them to that service (RFC 5280 4.2.1.12): no seals, bids or lists."""
    anchors = [pki.root.certificate]
    for role in (Role.TSA, Role.OCSP, Role.TLS_SERVER):
        service = pki.issue(f"{role.value}-{purpose.value}", role)
        result = validate_certificate(service.certificate, anchors, purpose=purpose)
        assert (result.ok, result.sub_indication) == (False, "CHAIN_CONSTRAINTS_FAILURE"), role
        assert f"not usable for {purpose.value}" in result.message
    for role in (Role.SIGN, Role.SEAL_MAKER, Role.TLS_CLIENT):  # no EKU, or clientAuth (Chinese CAs)
        holder = pki.issue(f"{role.value}-{purpose.value}", role)
        assert validate_certificate(holder.certificate, anchors, purpose=purpose).ok, role


def test_an_end_entity_cannot_act_as_a_ca(pki, tmp_path):
    """A signer certificate (no basicConstraints cA) that 'issues' a seal maker gives no path."""
    from sealkit import sm2
    from sealkit.sm2 import x509 as sm2_x509
    from sealkit.ukey import open_key

    supplier = pki.issue("supplier", Role.SIGN)
    with open_key(supplier.keyref) as handle:
        fake = sm2_x509.build_certificate(
            {"common_name": "forged seal maker"},
            sm2.generate_private_key().public_key(),
            supplier.certificate,
            handle,
            77,
            NOW - dt.timedelta(days=1),
            NOW + dt.timedelta(days=30),
            key_usage={"digital_signature", "non_repudiation"},
        )
    result = validate_certificate(
        fake, [pki.root.certificate], purpose=Purpose.SEAL_MAKING, intermediates=[supplier.certificate]
    )
    assert not result.ok
    assert result.indication == "INDETERMINATE"


def test_certificate_toolkit(pki):
    from sealkit.ukey import open_key

    signer = pki.issue("toolkit", Role.SIGN)
    cert = signer.certificate
    assert validity_at(cert, NOW) == "valid"
    assert validity_at(cert, NOW + dt.timedelta(days=5000)) == "expired"
    assert validity_at(cert, NOW - dt.timedelta(days=5000)) == "not-yet-valid"
    with open_key(signer.keyref) as handle:
        assert key_matches_certificate(cert, handle)
        assert not key_matches_certificate(pki.root.certificate, handle)
        oid = "sm2_sm3" if pki.kind == "sm2" else "sha256_rsa"
        from sealkit.ukey.base import SignOptions

        signature = handle.sign(b"data", SignOptions(digest="sm3" if pki.kind == "sm2" else "sha256"))
    verify_with_certificate(cert, oid, b"data", signature)
    with pytest.raises(InvalidSignature):
        verify_with_certificate(cert, oid, b"other data", signature)
    if pki.kind == "sm2":
        der = normalise_sm2_signature(signature)
        from asn1crypto import core

        seq = core.Sequence.load(der)
        raw = seq[0].native.to_bytes(32, "big") + seq[1].native.to_bytes(32, "big")
        verify_with_certificate(cert, "1.2.156.10197.1.501", b"data", raw)
