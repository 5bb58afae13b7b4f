"""Object identity and dangling references (issue 10, forger2 a06, a06b, a02).

* a06/a06b: an optional content group that was OFF when signed is switched on after signing by an update
  that points /OCProperties /D /OFF at a *new* group with the same content. Viewers identify groups by
  reference, so the old one is now on: a reference that points at another object is a change
  (``modification.*``), whatever the contents.
* a02: a revision before signing frees an object that page 1's /Annots still lists. pyHanko and qpdf read
  null, poppler and PDFium resurrect the earlier definition: ``structure.dangling-reference``.

Each has honest twins: the same documents left alone, a second party's signature, a DSS update.
"""

from __future__ import annotations

import io
import re

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from sealkit.pdf import verify_pdf
from tests.pdf_verify import forgeries as f
from tests.pdf_verify import xref_forgeries as x
from tests.pdf_verify.contracts import contract_pdf, sign

OCG = b"<< /Type /OCG /Name (Draft layer) >>"
OC_PROPERTIES = b"<< /OCGs [61 0 R] /D << /Name (Default) /OFF [%d 0 R] >> >>"
FORGED_CONTENT = (
    b"BT /Helv 12 Tf 72 740 Td (Procurement contract No. 2024-17, page 1) Tj ET\n"
    b"BT /Helv 11 Tf 302 705 Td (100000.00) Tj ET\n"
    b"/OC /oc1 BDC 1 1 1 rg 298 696 260 30 re f BT /Helv 14 Tf 302 704 Td (9900000.00 FORGED) Tj ET EMC\n"
)


def _objects() -> dict[int, bytes]:
    return _objects_of(contract_pdf())


def _objects_of(data: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(rb"\n(\d+) 0 obj\n(.*?)\nendobj", data, re.S)}


def _write(objects: dict[int, bytes]) -> bytes:
    """One revision holding ``objects``, numbers not present listed free."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def ocg_annotation_contract() -> bytes:
    """a06: a stamp over the amount on page 1, in group 61, which is OFF."""
    objects = _objects()
    objects[1] = objects[1].replace(b">>", b" /OCProperties 60 0 R >>")
    objects[10] = x.evil_page()  # page 1: /Annots [5 0 R 40 0 R]
    objects[40] = (
        b"<< /Type /Annot /Subtype /Stamp /Rect [290 690 550 730] /F 4 /P 10 0 R /OC 61 0 R"
        b" /AP << /N 41 0 R >> >>"
    )
    objects[41] = x.ap_stream()
    objects[60] = OC_PROPERTIES % 61
    objects[61] = OCG
    return _write(objects)


def ocg_content_contract() -> bytes:
    """a06b: the forged amount in page 1's own content, marked /OC /oc1 (group 61, OFF)."""
    objects = _objects()
    objects[1] = objects[1].replace(b">>", b" /OCProperties 60 0 R >>")
    objects[10] = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 11 0 R"
        b" /Resources << /Font << /Helv 4 0 R >> /Properties << /oc1 61 0 R >> >> /Annots [5 0 R] >>"
    )
    objects[11] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(FORGED_CONTENT), FORGED_CONTENT)
    objects[60] = OC_PROPERTIES % 61
    objects[61] = OCG
    return _write(objects)


def switch_on_by_lookalike(signed: bytes) -> bytes:
    """After signing: /OFF [61 0 R] becomes /OFF [90 0 R], 90 a new group byte-identical to 61."""
    return f.raw_update(signed, {60: OC_PROPERTIES % 90, 90: OCG})


def freed_annotation_contract() -> bytes:
    """a02: revision 1 defines stamp 40, listed in page 1's /Annots; revision 2 frees it, page unchanged."""
    objects = _objects()
    objects[10] = x.evil_page()
    objects[40] = x.stamp_annot(41)
    objects[41] = x.ap_stream()
    first = _write(objects)
    xref = int(first[first.rindex(b"startxref") + 10 :].split()[0])
    update = len(first)
    tail = b"xref\n0 1\n0000000040 65535 f \n40 1\n0000000000 00001 f \n"
    tail += b"trailer\n<< /Size 42 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (xref, update)
    return first + tail


def _failed(data: bytes, trust, prefix: str) -> list[str]:
    report = verify_pdf(data, trust=trust)
    assert report.indication == "TOTAL-FAILED", report.to_dict()
    reasons = [r for sig in report.signatures for r in sig.reasons]
    assert any(r.startswith(prefix) for r in reasons), reasons
    return [c.detail for sig in report.signatures for c in sig.checks if c.level != "pass"]


def _passed(data: bytes, trust) -> None:
    report = verify_pdf(data, trust=trust)
    assert report.passed, report.to_dict()


@pytest.fixture(scope="module")
def buyer(rsa_pki):
    return rsa_pki.signer("Buyer Ltd")


# -- a06 / a06b: a reference retargeted at a look-alike object ----------------------------------------------


@pytest.mark.parametrize("make", [ocg_annotation_contract, ocg_content_contract], ids=["a06", "a06b"])
def test_ocg_swapped_for_lookalike_fails(make, buyer, trust):
    signed = f.sign_as(make(), buyer, "buyer")
    if make is ocg_content_contract:
        _passed(signed, trust)  # the group is off and nothing changed: the honest twin
    details = _failed(switch_on_by_lookalike(signed), trust, "modification.")
    assert any("instead of object 61" in d for d in details), details


def test_annotation_in_an_off_group_is_seen_by_some_viewers_only(buyer, trust):
    """a06's own signed document: PDFium (Chrome's viewer) ignores an annotation's /OC and draws the stamp
    that poppler and Acrobat hide — the signer and the reader may see different amounts."""
    signed = f.sign_as(ocg_annotation_contract(), buyer, "buyer")
    details = _failed(signed, trust, "sig-constraints.viewers-differ")
    assert any("page 1" in d and "Stamp annotation (object 40)" in d for d in details), details
    assert verify_pdf(signed, trust=trust).sub_indication == "SIG_CONSTRAINTS_FAILURE"


@pytest.mark.parametrize("make", [ocg_content_contract], ids=["a06b"])
def test_ocg_document_with_later_signature_and_dss_passes(make, buyer, rsa_pki, trust):
    signed = f.sign_as(make(), buyer, "buyer")
    both = sign(signed, rsa_pki.signer("Supplier Co"), "supplier")
    _passed(both, trust)
    out = io.BytesIO(both)
    contents = PdfFileReader(io.BytesIO(both)).embedded_signatures[0].pkcs7_content
    DocumentSecurityStore.add_dss(out, contents, certs=[rsa_pki.pki.root.certificate])
    _passed(out.getvalue(), trust)


def test_widget_parent_retargeted_at_copy_fails(signed, trust):
    """The general rule: the buyer's field (object 5) replaced in page 1's /Annots by a copy of itself."""
    body = x._body(signed, 5)
    annots = b"/Annots [90 0 R"
    page = x._body(signed, 10).replace(b"/Annots [5 0 R", annots)
    assert annots in page
    forged = f.raw_update(signed, {10: page, 90: body})
    _failed(forged, trust, "modification.")


# -- a02: a reference to an object freed before signing -----------------------------------------------------


def test_reference_to_freed_object_fails(buyer, trust):
    signed = f.sign_as(freed_annotation_contract(), buyer, "buyer")
    details = _failed(signed, trust, "structure.dangling-reference")
    assert any("object 40" in d for d in details), details
    report = verify_pdf(signed, trust=trust)
    assert report.sub_indication == "FORMAT_FAILURE"


def test_freed_object_no_longer_referenced_passes(buyer, rsa_pki, trust):
    """The honest twin: the stamp deleted properly (freed and removed from /Annots), then two parties sign."""
    data = freed_annotation_contract()
    page = x.evil_page().replace(b" 40 0 R", b"")
    data = f.raw_update(data, {10: page})
    signed = f.sign_as(data, buyer, "buyer")
    _passed(signed, trust)
    _passed(sign(signed, rsa_pki.signer("Supplier Co"), "supplier"), trust)


def test_ocg_replaced_by_direct_copy_fails(buyer, trust):
    """a06 with the look-alike written directly into /OFF: a direct dictionary is no group either."""
    signed = f.sign_as(ocg_annotation_contract(), buyer, "buyer")
    forged = f.raw_update(signed, {60: b"<< /OCGs [61 0 R] /D << /Name (Default) /OFF [%s] >> >>" % OCG})
    details = _failed(forged, trust, "modification.")
    assert any("object 61 replaced by a direct copy" in d for d in details), details


def test_reference_to_superseded_generation_fails(buyer, trust):
    """a02 with a new generation instead of a free entry: `40 1` registered (a harmless object) while page 1
    still lists `40 0 R`, read as nothing by some viewers and as the old stamp by others."""
    data = freed_annotation_contract()
    data = data[: data.rindex(b"xref\n0 1\n")]  # drop the free entry, keep revision 1
    base = _write({**_objects(), 10: x.evil_page(), 40: x.stamp_annot(41), 41: x.ap_stream()})
    assert data == base
    update = len(base)
    body = b"40 1 obj\n<< /Type /Annot /Subtype /Text /Rect [0 0 0 0] >>\nendobj\n"
    xref = update + len(body)
    prev = int(base[base.rindex(b"startxref") + 10 :].split()[0])
    tail = body + b"xref\n40 1\n%010d 00001 n \n" % update
    tail += b"trailer\n<< /Size 42 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (prev, xref)
    signed = f.sign_as(base + tail, buyer, "buyer")
    details = _failed(signed, trust, "structure.dangling-reference")
    assert any("object 40 0" in d for d in details), details


# -- forger3 a01: a lenient comparison must not leave an "equal" behind for a strict one -------------------


def dss_cycle_contract(cert_der: bytes) -> bytes:
    """a06b's hidden amount, with /OCProperties /D an indirect object (62) in a reference cycle with
    /OCProperties, and a DSS planted before signing whose certificate stream's dictionary points at 62."""
    objects = _objects()
    objects[1] = objects[1].replace(b">>", b" /OCProperties 60 0 R /DSS 70 0 R >>")
    objects.update({n: body for n, body in _objects_of(ocg_content_contract()).items() if n in (10, 11)})
    objects[60] = b"<< /OCGs [61 0 R] /D 62 0 R >>"
    objects[61] = OCG
    objects[62] = b"<< /Ext 60 0 R /OFF [61 0 R] >>"
    objects[70] = b"<< /Certs [71 0 R] >>"
    objects[71] = b"<< /Ext 62 0 R /Length %d >>\nstream\n%s\nendstream" % (len(cert_der), cert_der)
    return _write(objects)


def test_cycle_through_the_dss_does_not_hide_a_layer_switched_on(buyer, rsa_pki, trust):
    """The DSS rule accepts a changed DSS by its structure; comparing it walked 62 -> 60 -> /D 62 (a cycle,
    assumed equal meanwhile) and remembered 60 as equal for good, so the catalog's /OCProperties read "no
    change" while /OFF was emptied. An "equal" that relied on a pair still being compared is provisional."""
    cert = rsa_pki.pki.root.certificate.dump()
    signed = f.sign_as(dss_cycle_contract(cert), buyer, "buyer")
    _passed(signed, trust)
    forged = f.raw_update(signed, {62: b"<< /Ext 60 0 R /OFF [] >>"})
    details = _failed(forged, trust, "modification.catalog-changed")
    assert any("catalog /OCProperties /D /OFF" in d for d in details), details
