"""The rules that close the review's forgeries (tests/pdf_verify/test_review_forgeries.py) name themselves,
and their honest twins pass.

The attacks are built by the review's own helpers; here each rejection is pinned to its reason code, so a
forgery cannot start failing "by accident" for another reason and hide that its rule broke.
"""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from sealkit.dev.responses import KeyedIdentity
from sealkit.pdf import verify_pdf
from tests.pdf_verify import forgeries as f
from tests.pdf_verify.test_review_forgeries import (
    EVIL_TEXT,
    NOW,
    FixedTimeTSA,
    _body,
    _update,
    _visible_document_timestamp,
)


@pytest.fixture(scope="module")
def signed_contract(contract, rsa_pki):
    return f.sign_as(contract, rsa_pki.signer("Buyer Ltd"), "buyer")


@pytest.fixture(scope="module")
def supplier(rsa_pki):
    return rsa_pki.signer("Supplier Co")


@pytest.fixture(scope="module")
def tsa(rsa_pki):
    return KeyedIdentity.load(rsa_pki.pki.issue("Fixes TSA", "tsa"))


def _reasons(report) -> list[str]:
    return [r for s in report.signatures for r in s.reasons] + list(report.file["reasons"])


def test_duplicate_key_is_named(signed_contract, trust):
    page1 = _body(signed_contract, 10).replace(b"/Contents 11 0 R", b"/Contents 11 0 R /Contents 99 0 R")
    report = verify_pdf(
        f.raw_update(signed_contract, {99: f.content_stream(EVIL_TEXT), 10: page1}), trust=trust
    )
    assert "structure.duplicate-key" in report.signatures[0].reasons


def test_rewritten_page_without_duplicate_key_is_no_duplicate(signed_contract, trust):
    """The twin: the same object written again unchanged is no change and no duplicate."""
    report = verify_pdf(f.raw_update(signed_contract, {10: _body(signed_contract, 10)}), trust=trust)
    assert report.passed, _reasons(report)


def test_new_generation_and_mismatched_header_are_named(signed_contract, trust):
    hidden = _update(signed_contract, [b"11 1 obj\n" + f.content_stream(b"") + b"\nendobj"], [(11, 1, 0)])
    assert "modification.page-content" in verify_pdf(hidden, trust=trust).signatures[0].reasons
    forged = _update(
        signed_contract, [b"11 0 obj\n" + f.content_stream(EVIL_TEXT) + b"\nendobj"], [(11, 1, 0)]
    )
    assert "structure.xref-mismatch" in verify_pdf(forged, trust=trust).signatures[0].reasons


def test_visible_document_timestamp_is_named(signed_contract, trust, tsa):
    report = verify_pdf(_visible_document_timestamp(signed_contract, FixedTimeTSA(tsa, NOW)), trust=trust)
    assert "modification.visible-timestamp" in report.signatures[0].reasons


def test_invisible_document_timestamp_passes(signed_contract, trust, tsa):
    """The twin: pyHanko's ordinary (invisible) document timestamp is rule B."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_contract), strict=False)
    out = io.BytesIO()
    signers.PdfTimeStamper(FixedTimeTSA(tsa, NOW)).timestamp_pdf(writer, "sha256", output=out)
    report = verify_pdf(out.getvalue(), trust=trust)
    assert report.passed, _reasons(report)


def test_field_with_value_and_sub_fields_is_named(signed_contract, trust):
    form = _body(signed_contract, 3).replace(b"7 0 R ]", b"7 0 R 80 0 R ]")
    forged = f.raw_update(
        signed_contract,
        {
            3: form,
            80: b"<< /FT /Sig /T (x) /V 81 0 R /Kids [84 0 R] >>",
            81: b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /Contents <00> "
            b"/ByteRange [0 0 0 0] >>",
            84: b"<< /T (k) /Parent 80 0 R >>",
        },
    )
    report = verify_pdf(forged, trust=trust)
    buyer_verdict = next(s for s in report.signatures if s.field == "buyer")
    assert {"modification.signature-with-subfields", "modification.unverified-signature"} <= set(
        buyer_verdict.reasons
    )
    assert "x" in [s.field for s in report.signatures]  # the value under sub-fields is verified too


def test_too_many_fields_is_a_format_failure(signed_contract, trust):
    form = _body(signed_contract, 3).replace(b"7 0 R ]", b"7 0 R" + b" 90 0 R" * 10_001 + b" ]")
    assert form.count(b"90 0 R") == 10_001
    objects = {3: form, 90: b"<< /FT /Tx /T (t) >>"}
    report = verify_pdf(f.raw_update(signed_contract, objects), trust=trust)
    assert report.file["reasons"] == []  # listed twice: one field, no walk limit
    assert "modification.duplicate-field" in report.signatures[0].reasons
    many = b" ".join(b"%d 0 R" % n for n in range(100, 10_101))
    objects = {3: _body(signed_contract, 3).replace(b"7 0 R ]", b"7 0 R " + many + b" ]")}
    objects.update({n: b"<< /FT /Tx /T (t%d) >>" % n for n in range(100, 10_101)})
    report = verify_pdf(f.raw_update(signed_contract, objects), trust=trust)
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE")
    assert report.file["reasons"] == ["format.too-many-fields"]


def _later_signature(data: bytes, signer, box, *, also_on_page: int | None = None) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    append_signature_field(writer, SigFieldSpec("late", box=box, on_page=0))
    if also_on_page is not None:
        fields = writer.root["/AcroForm"]["/Fields"]
        page = writer.root["/Pages"]["/Kids"][also_on_page].get_object()
        page["/Annots"].append(fields.raw_get(len(fields) - 1))
        writer.update_container(page)
    out = io.BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="late", md_algorithm="sha256"), signer=signer
    ).sign_pdf(writer, output=out)
    return out.getvalue()


def test_seal_listed_on_two_pages_is_named(signed_contract, supplier, trust):
    report = verify_pdf(
        _later_signature(signed_contract, supplier, (72, 100, 200, 160), also_on_page=2), trust=trust
    )
    assert "modification.annotation-on-two-pages" in report.signatures[0].reasons


def test_later_seal_on_one_page_passes(signed_contract, supplier, trust):
    """The twin: the same later signer's seal listed on its own page only."""
    report = verify_pdf(_later_signature(signed_contract, supplier, (72, 100, 200, 160)), trust=trust)
    assert report.passed, _reasons(report)


def test_untrusted_later_signer_is_a_warning_on_the_earlier_signature(signed_contract, other_pki, trust):
    """A genuine later signature by a signer the verifier does not trust is INDETERMINATE itself; the earlier
    signature keeps its verdict and says so in a warning."""
    stranger = other_pki.signer("Stranger Co")
    report = verify_pdf(_later_signature(signed_contract, stranger, (72, 100, 200, 160)), trust=trust)
    first, later = report.signatures
    assert later.indication == "INDETERMINATE"
    assert first.passed, first.reasons
    assert any(c.name == "later-signature" and c.level == "warning" for c in first.checks)


def _warnings(report, name: str) -> list[str]:
    return [c.detail for s in report.signatures for c in s.checks if c.name == name and c.level == "warning"]


def test_duplicate_key_in_the_signed_revision_fails(contract, rsa_pki, trust):
    """Duplicate keys signed by the signer: viewers show the signed content differently, so the signature
    cannot say what was signed (issue 10: ambiguity anywhere is a failure)."""
    page1 = _body(contract, 10).replace(b"/Contents 11 0 R", b"/Contents 11 0 R /Contents 99 0 R")
    ambiguous = f.raw_update(contract, {99: f.content_stream(EVIL_TEXT), 10: page1})
    report = verify_pdf(f.sign_as(ambiguous, rsa_pki.signer("Buyer Ltd"), "buyer"), trust=trust)
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE")
    assert "structure.duplicate-key" in report.signatures[0].reasons
    failed = [
        c.detail for c in report.signatures[0].checks if c.name == "ambiguous-syntax" and c.level == "fail"
    ]
    assert any("/Contents" in d for d in failed), report.signatures[0].checks


def test_plain_signed_contract_reads_one_way(signed_contract, trust):
    assert _warnings(verify_pdf(signed_contract, trust=trust), "ambiguous-syntax") == []


def _second_field_sharing_the_value(data: bytes, signer, guess: int) -> bytes:
    """A later signer's update that also adds a field 'y' over the amount whose /V is object ``guess`` past
    the writer's last one: when that is the signature dictionary pyHanko allocates, both fields share it."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    append_signature_field(writer, SigFieldSpec("late", box=(72, 100, 200, 160), on_page=0))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    shared = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/FT"): pdf_name("/Sig"),
                pdf_name("/T"): generic.TextStringObject("y"),
                pdf_name("/V"): generic.IndirectObject(writer._lastobj_id + guess, 0, writer),
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/Rect"): f._numbers(f.AMOUNT_RECT),
                pdf_name("/F"): generic.NumberObject(4),
                pdf_name("/P"): page_ref,
                pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): f._appearance(writer)}),
            }
        )
    )
    writer.root["/AcroForm"]["/Fields"].append(shared)
    page = page_ref.get_object()
    page["/Annots"].append(shared)
    writer.update_container(page)
    writer.update_container(writer.root["/AcroForm"])
    out = io.BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="late", md_algorithm="sha256"), signer=signer
    ).sign_pdf(writer, output=out)
    return out.getvalue()


def test_two_fields_sharing_one_signature_value_is_named(signed_contract, supplier, trust):
    """A genuine later signature lent to a second field over the amount: matching later signatures to
    verdicts by value must not let the borrowed field count as verified."""
    for guess in range(1, 10):
        forged = _second_field_sharing_the_value(signed_contract, supplier, guess)
        report = verify_pdf(forged, trust=trust)
        if [s.indication for s in report.signatures if s.field in ("late", "y")] == ["TOTAL-PASSED"] * 2:
            break
    else:
        pytest.fail("could not build two fields with one signature value")
    assert "modification.duplicate-field" in report.signatures[0].reasons
    assert not report.passed
