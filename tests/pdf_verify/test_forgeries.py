# ruff: noqa: E501 - long assertions read better on one line
"""Issue 10, attacks 1–6: each forgery fails with its indication, sub-indication, reason and place, in
every flow (plain, certified, two-party), and each has an honest twin that passes."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from sealkit.pdf import verify_pdf
from tests.pdf_verify import forgeries as f

VARIANTS = ["plain", "certified", "two-party"]


@pytest.fixture(scope="module")
def buyer(rsa_pki):
    return rsa_pki.signer("Buyer Ltd")


@pytest.fixture(scope="module")
def supplier(rsa_pki):
    return rsa_pki.signer("Supplier Co")


def signed_in(variant: str, document: bytes, buyer, supplier) -> bytes:
    """The contract after the honest signatures of ``variant``."""
    if variant == "plain":
        return f.sign_as(document, buyer, "buyer")
    if variant == "certified":
        return f.sign_as(document, buyer, "buyer", certify=2)
    return f.sign_as(f.sign_as(document, buyer, "buyer"), supplier, "supplier")


def finish(variant: str, data: bytes, supplier) -> bytes:
    """What the honest flow does next: the supplier signs their prepared field (unless already signed)."""
    return data if variant == "two-party" else f.sign_as(data, supplier, "supplier")


def failing(report, reason: str) -> list[str]:
    """The details of the failed checks of signatures that carry ``reason``."""
    return [c.detail for s in report.signatures if reason in s.reasons for c in s.checks if c.level == "fail"]


def assert_forged(
    report, reason: str, *places: str, sub: str = "HASH_FAILURE", signatures: int | None = None
) -> None:
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", sub), report.to_dict()
    hit = [s for s in report.signatures if reason in s.reasons]
    assert hit, [s.reasons for s in report.signatures]
    assert all((s.indication, s.sub_indication) == ("TOTAL-FAILED", sub) for s in hit)
    if signatures is not None:
        assert len(hit) == signatures
    details = " | ".join(failing(report, reason))
    for place in places:
        assert place in details, details


def assert_passes(report) -> None:
    assert report.passed, [(s.field, s.reasons) for s in report.signatures]


def warnings_of(report, name: str) -> list[str]:
    return [c.detail for s in report.signatures for c in s.checks if c.name == name and c.level == "warning"]


# -- attack 1: forward references -------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    ("plant", "define"),
    [
        (f.plant_forward_annotation, f.define_990_annotation),
        (f.plant_forward_contents, f.define_990_contents),
    ],
    ids=["annots", "contents"],
)
def test_forward_reference(contract, buyer, supplier, trust, variant, plant, define):
    signed = signed_in(variant, plant(contract), buyer, supplier)
    report = verify_pdf(define(signed), trust=trust)
    assert_forged(
        report,
        "modification.forward-reference",
        "object 990",
        "page 1",
        signatures=2 if variant == "two-party" else 1,
    )
    # the twin: the dangling reference stays dangling, the flow goes on and passes
    assert_passes(verify_pdf(finish(variant, signed, supplier), trust=trust))


# -- attack 2: a new signature field as an overlay ---------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_new_signature_field_overlay(contract, buyer, supplier, trust, variant):
    signed = signed_in(variant, contract, buyer, supplier)
    report = verify_pdf(f.add_signature_field(signed), trust=trust)
    assert_forged(report, "modification.new-field", "'overlay'", "page 1", "[300 700 500 720]")
    assert_passes(verify_pdf(finish(variant, signed, supplier), trust=trust))


@pytest.mark.parametrize("variant", VARIANTS)
def test_new_signature_field_with_five_number_rect(contract, buyer, supplier, trust, variant):
    signed = signed_in(variant, contract, buyer, supplier)
    report = verify_pdf(f.add_signature_field(signed, rect=(300, 700, 500, 720, 0)), trust=trust)
    assert_forged(report, "modification.malformed-rect", "'overlay'", "not four numbers")
    assert_forged(report, "modification.new-field", "'overlay'")


# -- attack 3: a new signature field carrying actions ------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_new_signature_field_with_actions(contract, buyer, supplier, trust, variant):
    signed = signed_in(variant, contract, buyer, supplier)
    report = verify_pdf(
        f.add_signature_field(signed, rect=(0, 0, 0, 0), appearance=False, actions=True), trust=trust
    )
    assert_forged(report, "modification.action-added", "'overlay'", "/A, /AA")
    assert_forged(report, "modification.new-field", "'overlay'")


# -- attack 4: appearance regeneration -----------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    ("update", "reason", "where"),
    [
        (f.set_need_appearances, "modification.need-appearances", "/NeedAppearances"),
        (f.redefine_dr_font, "modification.default-resources", "AcroForm /DR"),
    ],
    ids=["need-appearances", "dr-differences"],
)
def test_appearance_regeneration(contract, buyer, supplier, trust, variant, update, reason, where):
    signed = signed_in(variant, f.value_differs_from_appearance(contract), buyer, supplier)
    assert_forged(verify_pdf(update(signed), trust=trust), reason, where)
    assert_passes(verify_pdf(finish(variant, signed, supplier), trust=trust))


# -- attack 5: a second signer's seal over the amount, and /Info ---------------------------------------------


def _seal_over_amount(data: bytes, signer) -> bytes:
    """A later signer adds a new signature field whose visible seal sits on the amount, and signs it."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    append_signature_field(writer, SigFieldSpec("witness", box=f.AMOUNT_RECT, on_page=0))
    meta = signers.PdfSignatureMetadata(field_name="witness", md_algorithm="sha256")
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=signer).sign_pdf(writer, output=out)
    return out.getvalue()


def test_second_signer_seal_over_amount_is_reported(contract, buyer, supplier, trust):
    report = verify_pdf(_seal_over_amount(f.sign_as(contract, buyer, "buyer"), supplier), trust=trust)
    assert_passes(report)  # allowed by PDF on a document that is not certified, but said where:
    first = report.signatures[0]
    later = [c.detail for c in first.checks if c.name == "later-signature"]
    assert later == ["signature 'witness' added later in a new field: page 1 [300 700 500 720]"]
    (overlap,) = warnings_of(report, "seal-overlap")
    assert "page 1 [300 700 500 720]" in overlap and "form field 'amount'" in overlap


def test_second_signer_seal_in_prepared_field_has_no_overlap(contract, buyer, supplier, trust):
    report = verify_pdf(signed_in("two-party", contract, buyer, supplier), trust=trust)
    assert_passes(report)
    assert not warnings_of(report, "seal-overlap")


def test_second_signer_seal_in_new_field_fails_on_certified(contract, buyer, supplier, trust):
    report = verify_pdf(
        _seal_over_amount(f.sign_as(contract, buyer, "buyer", certify=2), supplier), trust=trust
    )
    assert_forged(report, "modification.new-field", "'witness'", "page 1 [300 700 500 720]", "certif")


@pytest.mark.parametrize("variant", VARIANTS)
def test_changed_info_is_a_warning(contract, buyer, supplier, trust, variant):
    report = verify_pdf(f.change_info_title(signed_in(variant, contract, buyer, supplier)), trust=trust)
    assert_passes(report)
    (warning, *_) = warnings_of(report, "metadata")
    assert "/Title" in warning and "Contract (amended)" in warning


# -- attack 6: bytes after the CMS, and PAdES without signingCertificateV2 ------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_bytes_smuggled_after_cms(contract, buyer, supplier, trust, variant):
    signed = signed_in(variant, contract, buyer, supplier)
    report = verify_pdf(f.smuggle_after_cms(signed), trust=trust)
    assert_forged(
        report, "modification.contents-trailing-bytes", "follow the CMS inside /Contents", signatures=1
    )
    assert_passes(verify_pdf(signed, trust=trust))


def test_pades_without_signing_certificate_v2(contract, rsa_pki, trust):
    ident = rsa_pki.identity("No ESS Ltd")
    loaded = signers.SimpleSigner.load(
        str(ident.key_path), str(ident.cert_path), ca_chain_files=(str(rsa_pki.root.cert_path),)
    )
    bare = f.without_signing_certificate_v2(loaded)
    report = verify_pdf(f.sign_as(contract, bare, "buyer", pades=True), trust=trust)
    assert_forged(report, "format.no-signing-certificate-v2", "signingCertificateV2", sub="FORMAT_FAILURE")
    # the twin: the same PAdES signature with the attribute
    assert_passes(
        verify_pdf(f.sign_as(contract, rsa_pki.signer("With ESS Ltd"), "buyer", pades=True), trust=trust)
    )


# -- certification with P=1 ------------------------------------------------------------------------------------


def test_no_changes_certification_refuses_a_later_signature(contract, buyer, supplier, trust):
    certified = f.sign_as(contract, buyer, "buyer", certify=1)
    assert_passes(verify_pdf(certified, trust=trust))
    report = verify_pdf(f.sign_as(certified, supplier, "supplier"), trust=trust)
    assert_forged(report, "modification.docmdp-violation", "P=1", "'supplier'")


def test_no_changes_certification_still_takes_info_as_a_warning(contract, buyer, trust):
    report = verify_pdf(f.change_info_title(f.sign_as(contract, buyer, "buyer", certify=1)), trust=trust)
    assert_passes(report)
    assert warnings_of(report, "metadata")


# -- the signature's own widget -----------------------------------------------------------------------------


def test_new_signed_field_with_five_number_rect_fails(contract, buyer, supplier, trust, monkeypatch):
    from pyhanko.sign.signers import cms_embedder

    # the attacker's tool sizes the appearance from the first four numbers
    monkeypatch.setattr(cms_embedder, "annot_width_height", lambda annot: (150.0, 60.0))
    signed = f.sign_as(contract, buyer, "buyer")
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    append_signature_field(writer, SigFieldSpec("witness", box=(72, 300, 222, 360), on_page=0))
    meta = signers.PdfSignatureMetadata(field_name="witness", md_algorithm="sha256")
    form = writer.root["/AcroForm"]["/Fields"]
    widget = form[len(form) - 1].get_object()
    widget["/Rect"] = generic.ArrayObject([*widget["/Rect"], generic.NumberObject(0)])
    widget[pdf_name("/F")] = generic.NumberObject(4)
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=supplier).sign_pdf(writer, output=out)
    report = verify_pdf(out.getvalue(), trust=trust)
    assert_forged(report, "modification.malformed-rect", "'witness'")


def test_own_widget_with_five_number_rect_is_a_format_failure(contract, buyer, trust, monkeypatch):
    from pyhanko.sign.signers import cms_embedder

    monkeypatch.setattr(cms_embedder, "annot_width_height", lambda annot: (150.0, 100.0))

    def five_numbers(writer):
        field = writer.root["/AcroForm"]["/Fields"][1].get_object()
        field["/Rect"] = generic.ArrayObject([*field["/Rect"], generic.NumberObject(0)])
        writer.update_container(field)

    report = verify_pdf(f.sign_as(f.incremental(contract, five_numbers), buyer, "buyer"), trust=trust)
    assert_forged(report, "format.malformed-rect", "not four numbers", sub="FORMAT_FAILURE")
