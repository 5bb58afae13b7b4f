"""Comparing revisions, third forger round (issue 10, forger3 a03, a04, a08).

* a03: a *direct* optional-content group (always on) replaced after signing by a reference to a group in
  /OFF with the same content: the clause under it disappears. A direct dictionary and an object are not
  the same thing, in either direction.
* a04: a form field that is also a stream, drawn by the page as a form XObject: the field rules compared
  its dictionary, its data nowhere.
* a08: an update that rewrites an object stream of the signed revision and registers only the stream:
  pyHanko reads the members from the newest stream in every revision's view, so both sides of the
  comparison showed the forged font. Rewriting an object stream after signing is a modification.

Each has an honest twin that still passes.
"""

from __future__ import annotations

import io
import re
import zlib

import pikepdf
import pytest

from sealkit.pdf import verify_pdf
from tests.pdf_verify import forgeries as f
from tests.pdf_verify.contracts import contract_pdf, sign

OCG = b"<< /Type /OCG /Name (Clause) >>"
CLAUSES = (
    b"BT /Helv 12 Tf 72 740 Td (Procurement contract No. 2024-17, page 1) Tj ET\n"
    b"/OC /oc1 BDC BT /Helv 14 Tf 72 680 Td (The Supplier is NOT liable for late delivery.) Tj ET EMC\n"
)
AMOUNT = b"BT /Helv 14 Tf 0 8 Td (Contract amount: CNY %s) Tj ET"
DRAW_FIELD = (
    b"BT /Helv 12 Tf 72 740 Td (Procurement contract No. 2024-17, page 1) Tj ET\nq 1 0 0 1 72 670 cm /Am Do Q"
)


def _body(data: bytes, number: int) -> bytes:
    return re.findall(rb"\n%d 0 obj\n(.*?)\nendobj" % number, data, re.S)[-1]


def _stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<<%s /Length %d >>\nstream\n%s\nendstream" % (extra, len(content), content)


def _page_resources(base: bytes, resources: bytes) -> bytes:
    page = _body(base, 10)
    old = b"/Resources << /Font << /Helv 4 0 R >> >>"
    assert old in page
    return page.replace(old, b"/Resources << /Font << /Helv 4 0 R >> " + resources + b" >>")


def direct_group_contract() -> bytes:
    """a03: the clause under a direct group; the catalog lists group 50 (off)."""
    base = contract_pdf()
    catalog = _body(base, 1).replace(b">>", b" /OCProperties << /OCGs [50 0 R] /D << /OFF [50 0 R] >> >> >>")
    return f.raw_update(
        base,
        {
            1: catalog,
            10: _page_resources(base, b"/Properties << /oc1 " + OCG + b" >>"),
            11: _stream(CLAUSES),
            50: OCG,
        },
    )


def field_stream(amount: bytes) -> bytes:
    return _stream(
        AMOUNT % amount,
        b" /FT /Tx /T (note) /Subtype /Form /BBox [0 0 400 30] /Resources << /Font << /Helv 4 0 R >> >>",
    )


def stream_field_contract() -> bytes:
    """a04: field 40 is a stream, drawn on page 1 as /Am."""
    base = contract_pdf()
    form = _body(base, 3)
    assert b"/Fields [5 0 R 6 0 R 7 0 R]" in form
    form = form.replace(b"/Fields [5 0 R 6 0 R 7 0 R]", b"/Fields [5 0 R 6 0 R 7 0 R 40 0 R]")
    return f.raw_update(
        base,
        {
            3: form,
            10: _page_resources(base, b"/XObject << /Am 40 0 R >>"),
            11: _stream(DRAW_FIELD),
            40: field_stream(b"1,200,000.00"),
        },
    )


def object_stream_contract() -> bytes:
    """The contract with its objects in object streams, as qpdf and most producers write it."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(contract_pdf())) as pdf:
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def rewrite_object_stream(signed: bytes, number: int, old: bytes, new: bytes) -> bytes:
    """a08: an update that redefines only the object stream holding ``number``, its member edited."""
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.get("/Type") == "/ObjStm":
                raw, first, count = obj.read_bytes(), int(obj.First), int(obj.N)
                head = [int(token) for token in raw[:first].split()]
                numbers = head[0 : 2 * count : 2]
                if number in numbers:
                    stream = obj.objgen[0]
                    break
        else:
            raise AssertionError(f"object {number} is in no object stream")
    offsets = [*head[1 : 2 * count : 2], len(raw) - first]
    bodies = [raw[first + offsets[i] : first + offsets[i + 1]] for i in range(count)]
    index = numbers.index(number)
    assert old in bodies[index], bodies[index]
    bodies[index] = bodies[index].replace(old, new)
    positions = [sum(len(body) for body in bodies[:i]) for i in range(count)]
    header = b" ".join(b"%d %d" % pair for pair in zip(numbers, positions, strict=True)) + b" "
    data = zlib.compress(header + b"".join(bodies))
    size = int(re.findall(rb"/Size (\d+)", signed)[-1])
    prev = int(re.findall(rb"startxref\s+(\d+)", signed)[-1])
    root = re.findall(rb"/Root (\d+ \d+ R)", signed)[-1]
    at = len(signed)
    update = (
        b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (stream, count, len(header), len(data))
        + data
        + b"\nendstream\nendobj\n"
    )
    xref = at + len(update)
    update += b"xref\n%d 1\n%010d 00000 n \n" % (stream, at)
    trailer = b"trailer\n<< /Size %d /Root %s /Prev %d >>\n" % (size, root, prev)
    update += trailer + b"startxref\n%d\n%%%%EOF\n" % xref
    return signed + update


def _verdict(data: bytes, trust) -> tuple[str, str | None, list[str], list[str]]:
    report = verify_pdf(data, trust=trust)
    reasons = [r for sig in report.signatures for r in sig.reasons]
    details = [c.detail for sig in report.signatures for c in sig.checks if c.level != "pass"]
    return report.indication, report.sub_indication, reasons, details


@pytest.fixture(scope="module")
def buyer(rsa_pki):
    return rsa_pki.signer("Buyer Ltd")


def test_direct_group_replaced_by_reference_to_off_group_fails(buyer, rsa_pki, trust):
    signed = f.sign_as(direct_group_contract(), buyer, "buyer")
    assert verify_pdf(signed, trust=trust).passed
    assert verify_pdf(sign(signed, rsa_pki.signer("Supplier Co"), "supplier"), trust=trust).passed
    page = _body(signed, 10).replace(b"/oc1 " + OCG, b"/oc1 50 0 R")
    forged = f.raw_update(signed, {10: page})
    indication, sub, reasons, details = _verdict(forged, trust)
    assert (indication, sub) == ("TOTAL-FAILED", "HASH_FAILURE")
    assert "modification.page-resources" in reasons or "modification.page-changed" in reasons, reasons
    assert any("a direct dictionary replaced by object 50" in d for d in details), details


def test_field_that_is_a_stream_changed_after_signing_fails(buyer, rsa_pki, trust):
    signed = f.sign_as(stream_field_contract(), buyer, "buyer")
    assert verify_pdf(signed, trust=trust).passed
    assert verify_pdf(sign(signed, rsa_pki.signer("Supplier Co"), "supplier"), trust=trust).passed
    forged = f.raw_update(signed, {40: field_stream(b"9,900,000.00")})
    indication, sub, reasons, details = _verdict(forged, trust)
    assert (indication, sub) == ("TOTAL-FAILED", "HASH_FAILURE")
    assert "modification.object-changed" in reasons, reasons
    assert any("object 40" in d and "stream whose data changed" in d for d in details), details


@pytest.fixture(scope="module")
def objstm_signed(buyer):
    return f.sign_as(object_stream_contract(), buyer, "buyer")


def test_object_stream_rewritten_after_signing_fails(objstm_signed, trust):
    assert verify_pdf(objstm_signed, trust=trust).passed
    with pikepdf.open(io.BytesIO(objstm_signed)) as pdf:
        font = pdf.pages[0].obj.Resources.Font.Helv.objgen[0]
    forged = rewrite_object_stream(
        objstm_signed,
        font,
        b"/Encoding /WinAnsiEncoding",
        b"/Encoding << /BaseEncoding /WinAnsiEncoding /Differences [ 49 /nine ] >>",
    )
    indication, sub, reasons, details = _verdict(forged, trust)
    assert (indication, sub) == ("TOTAL-FAILED", "HASH_FAILURE")
    assert "modification.object-stream-rewritten" in reasons, reasons
    assert any("object stream" in d and "rewritten after signing" in d for d in details), details


def test_object_stream_document_signed_twice_and_extended_passes(objstm_signed, rsa_pki, trust):
    """The honest twin: a second signature and validation data on a file that uses object streams."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    both = sign(objstm_signed, rsa_pki.signer("Supplier Co"), "supplier")
    assert verify_pdf(both, trust=trust).passed
    out = io.BytesIO(both)
    contents = PdfFileReader(io.BytesIO(both)).embedded_signatures[0].pkcs7_content
    DocumentSecurityStore.add_dss(out, contents, certs=[rsa_pki.pki.root.certificate])
    assert verify_pdf(out.getvalue(), trust=trust).passed
