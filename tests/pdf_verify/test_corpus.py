# ruff: noqa: E501 - long PDF literals and assertions read better on one line
"""Published attack files must fail for a reason beyond trust; honest files sign and verify."""

import io

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from sealkit.errors import PdfPasswordRequired
from sealkit.pdf import verify_pdf
from tests.helpers.shared import CORPUS
from tests.pdf_verify.contracts import sign

ATTACKS = sorted((CORPUS / "attacks").rglob("*.pdf"))
SAMPLES = sorted(p for p in (CORPUS / "sample-files").glob("*.pdf") if "password" not in p.name)
ENCRYPTED = CORPUS / "sample-files" / "libreoffice-writer-password.pdf"
SERIOUS = {"format", "structure", "integrity", "crypto", "coverage", "modification"}

pytestmark = pytest.mark.skipif(not ATTACKS, reason="shared corpus not present")


def test_corpus_is_there():
    assert len(ATTACKS) >= 15 and len(SAMPLES) >= 20


@pytest.mark.parametrize("path", ATTACKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_attack_file_fails_for_a_serious_reason(path):
    report = verify_pdf(path)
    assert report.indication == "TOTAL-FAILED", report.to_dict()
    document = {r.split(".")[0] for r in report.file["reasons"]}
    if document & SERIOUS:
        return  # e.g. a file pyHanko cannot parse: FORMAT_FAILURE for the document
    assert report.signatures, "an attack file must have at least one signature"
    # Every signature reported valid-but-untrusted would be a miss: at least one must fail seriously,
    # and none may pass.
    assert any({r.split(".")[0] for r in s.reasons} & SERIOUS for s in report.signatures)
    assert not any(s.indication == "TOTAL-PASSED" for s in report.signatures)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("itext/isa-3.pdf", "modification.unaccounted-bytes"),
        ("dss/dss-2236_replace.pdf", "modification.field-changed"),
        ("dss/dss-2236_hide.pdf", "modification.unreadable-update"),
        ("itext/siwa.pdf", "coverage.gap-not-contents"),
        ("dss/pdf-byterange-overlap.pdf", "coverage.gap-not-contents"),
        ("dss/pdf-signed-out-of-byteRange.pdf", "coverage.byte-range-outside-file"),
        ("pyhanko-coverage/one-byterange.pdf", "coverage.byte-range-malformed"),
        ("pyhanko-coverage/tail-uncovered.pdf", "coverage.partial"),
    ],
)
def test_known_pyhanko_holes_and_classics(name, reason):
    report = verify_pdf(CORPUS / "attacks" / name)
    assert reason in {r for s in report.signatures for r in s.reasons}


def test_unreadable_pdf_is_a_format_verdict():
    report = verify_pdf(CORPUS / "attacks" / "dss" / "pdf-spoofing-attack.pdf")
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE")
    assert report.file["reasons"] == ["format.unreadable-pdf"]


def test_not_a_pdf_at_all():
    report = verify_pdf(b"%PDF-1.7\nthis is not a pdf")
    assert report.sub_indication == "FORMAT_FAILURE"


@pytest.mark.parametrize("path", SAMPLES[::3], ids=lambda p: p.name)
def test_unsigned_sample_is_indeterminate(path):
    report = verify_pdf(path)
    assert report.indication in ("INDETERMINATE", "TOTAL-FAILED")
    if report.indication == "INDETERMINATE":
        assert "document.no-signatures" in report.file["reasons"]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_signed_sample_passes_with_anchor_only(path, rsa_pki, trust):
    try:
        signed = sign(
            path.read_bytes(), rsa_pki.signer("Sampler"), "sealkit-test", new_field_box=(10, 10, 110, 60)
        )
    except Exception as exc:  # pyHanko cannot sign it: not a verification question
        pytest.skip(f"pyHanko cannot sign {path.name}: {type(exc).__name__}")
    report = verify_pdf(signed, trust=trust)
    assert report.passed, report.to_dict()
    untrusted = verify_pdf(signed)
    assert (untrusted.indication, untrusted.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")


def test_encrypted_pdf_needs_its_password(rsa_pki):
    with pytest.raises(PdfPasswordRequired):
        verify_pdf(ENCRYPTED)
    with pytest.raises(PdfPasswordRequired):
        verify_pdf(ENCRYPTED, password="wrong")
    report = verify_pdf(ENCRYPTED, password="openpassword")
    assert "document.no-signatures" in report.file["reasons"]


def test_signed_encrypted_pdf(rsa_pki, trust):
    writer = IncrementalPdfFileWriter(io.BytesIO(ENCRYPTED.read_bytes()), strict=False)
    writer.encrypt("openpassword")
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    append_signature_field(writer, SigFieldSpec("s", box=(10, 10, 110, 60)))
    out = io.BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="s"), signer=rsa_pki.signer("Sampler")
    ).sign_pdf(writer, output=out)
    assert verify_pdf(out.getvalue(), trust=trust, password="openpassword").passed
