"""Issue 10, items 7 and 16: time that nobody proved, CMS variants other tools write, honest labels, and one
validation per signature."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from sealkit.pdf import sign_pdf, verify_pdf
from sealkit.pki import make_test_pki
from sealkit.ukey import open_key
from tests.pdf_verify.cms_forge import GM_DATA, GM_SIGNED_DATA, resign
from tests.pdf_verify.contracts import contract_pdf, sign

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
INTERNAL_WORDS = ("Error", "Traceback", "Exception", "object at 0x", "NoneType")


def _no_internal_text(report) -> None:
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    for word in INTERNAL_WORDS:
        assert word not in text, f"internal text {word!r} in the report: {text[:400]}"


@pytest.fixture(scope="module")
def sm2_material(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sm2-foreign")
    pki = make_test_pki(folder / "pki", "sm2")
    ident = pki.issue("SM2 Buyer", "sign")
    (folder / "c.pdf").write_bytes(contract_pdf())
    sign_pdf(folder / "c.pdf", folder / "s.pdf", open_key(ident.keyref), cert=ident.cert_path, field="buyer")
    return (folder / "s.pdf").read_bytes(), ident, pki.root.cert_path


# --- item 7: a claimed time proves nothing ---


def test_expired_certificate_with_backdated_claims_is_not_passed(contract, rsa_pki, trust):
    ident = rsa_pki.identity(
        "Backdater Co", not_before=NOW - dt.timedelta(days=400), not_after=NOW - dt.timedelta(days=30)
    )
    signed = sign(
        contract,
        rsa_pki.signer(
            "Backdater Co", not_before=NOW - dt.timedelta(days=400), not_after=NOW - dt.timedelta(days=30)
        ),
    )
    # The forger re-signs with a signingTime inside the certificate's validity.
    forged = resign(
        signed, ident.key_path, ident.certificate, kind="rsa", signing_time=NOW - dt.timedelta(days=60)
    )
    report = verify_pdf(forged, trust=trust)
    verdict = report.signatures[0]
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    assert "out-of-bounds-no-poe.certificate" in verdict.reasons
    assert verdict.proven_time is None and verdict.claimed_time is not None
    assert not any(c.ok and c.name == "validity" for c in verdict.checks)
    _no_internal_text(report)


def test_honest_twin_valid_certificate_passes(signed, trust):
    report = verify_pdf(signed, trust=trust)
    assert report.passed, report.to_dict()
    assert report.signatures[0].proven_time is None  # B-B: nothing proven, judged now, still valid now


def test_validation_time_is_when_things_are_judged(signed, trust):
    """Without a timestamp the signer is judged at the validation time: years later it is out of bounds."""
    later = verify_pdf(signed, trust=trust, validation_time=NOW + dt.timedelta(days=3650))
    assert (later.indication, later.sub_indication) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")


# --- item 16: foreign CMS variants and honest labels ---


@pytest.mark.parametrize(
    "variant",
    [
        dict(econtent_type=GM_DATA, version="v3", signing_time=NOW),
        dict(econtent_type=GM_DATA, version="v3", signing_time=NOW, algorithm_protection=True),
        dict(econtent_type="data", version="v1", signing_time=NOW, algorithm_protection=True),
    ],
    ids=["bc-gm-data-v3", "gm-data-v3-cmsalgprot", "data-cmsalgprot"],
)
def test_sm2_cms_variants_other_tools_write_verify(sm2_material, variant):
    data, ident, root = sm2_material
    variant_pdf = resign(data, ident.key_path, ident.certificate, kind="sm2", digest="sm3", **variant)
    report = verify_pdf(variant_pdf, trust=[root])
    assert report.passed, report.to_dict()
    assert report.signatures[0].algorithm == "SM2-with-SM3"
    _no_internal_text(report)


def test_gm_signed_data_content_info_is_read_or_refused_in_words(sm2_material):
    data, ident, root = sm2_material
    variant_pdf = resign(
        data,
        ident.key_path,
        ident.certificate,
        kind="sm2",
        digest="sm3",
        econtent_type=GM_DATA,
        outer_type=GM_SIGNED_DATA,
        version="v3",
    )
    report = verify_pdf(variant_pdf, trust=[root])
    _no_internal_text(report)
    if not report.passed:
        assert report.sub_indication == "FORMAT_FAILURE"
        assert any("GM/T 0010" in c.detail or "CMS" in c.detail for c in report.signatures[0].checks)


def test_sm2_without_signed_attributes_says_so(sm2_material):
    data, ident, root = sm2_material
    bare = resign(data, ident.key_path, ident.certificate, kind="sm2", digest="sm3", signed_attributes=False)
    report = verify_pdf(bare, trust=[root])
    verdict = report.signatures[0]
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE")
    assert "format.sm2-without-signed-attributes" in verdict.reasons
    assert "integrity.digest-mismatch" not in verdict.reasons
    assert not any("messageDigest does not match" in c.detail for c in verdict.checks)


def test_no_trust_anchors_is_indeterminate_not_a_crypto_failure(signed):
    report = verify_pdf(signed)
    verdict = report.signatures[0]
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    assert "crypto.signature-invalid" not in verdict.reasons
    assert any(c.name == "signature" and c.ok for c in verdict.checks)


@pytest.mark.parametrize("digest", ["sha1", "md5"])
def test_weak_digest_is_a_crypto_constraints_failure(contract, rsa_pki, trust, digest):
    ident = rsa_pki.identity("Buyer Ltd")
    signed = sign(contract, rsa_pki.signer("Buyer Ltd"))
    weak = resign(signed, ident.key_path, ident.certificate, kind="rsa", digest=digest)
    report = verify_pdf(weak, trust=trust)
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE")
    assert "crypto-constraints.weak-digest" in report.signatures[0].reasons
    _no_internal_text(report)


# --- one validation per signature ---


def test_each_signature_is_validated_once(sm2_material, monkeypatch):
    from pyhanko.sign.validation import generic_cms

    from sealkit.validation import SM2SignatureValidator

    data, ident, root = sm2_material
    calls = {"cms": 0, "sm2-signer": 0}
    original_cms = generic_cms.cms_basic_validation
    original_sm2 = SM2SignatureValidator.validate_signature
    signer_key = ident.certificate.public_key.dump()

    async def counting_cms(*args, **kwargs):
        calls["cms"] += 1
        return await original_cms(*args, **kwargs)

    def counting_sm2(self, signature, signed_data, public_key_info, *args, **kwargs):
        if public_key_info.dump() == signer_key:
            calls["sm2-signer"] += 1
        return original_sm2(self, signature, signed_data, public_key_info, *args, **kwargs)

    monkeypatch.setattr(generic_cms, "cms_basic_validation", counting_cms)
    monkeypatch.setattr(SM2SignatureValidator, "validate_signature", counting_sm2)
    report = verify_pdf(data, trust=[root])
    assert report.passed, report.to_dict()
    assert calls == {"cms": 1, "sm2-signer": 1}
