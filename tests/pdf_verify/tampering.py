# ruff: noqa: E501 - long PDF literals and assertions read better on one line
"""Ways to tamper with a signed PDF, for the negative tests (each returns new bytes; inputs untouched)."""

from __future__ import annotations

import io
import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[([0-9 ]+)\]\s*")


def byte_range(data: bytes) -> tuple[list[int], int, int]:
    """The last /ByteRange of ``data``: its numbers and the span of the '[…]   ' text."""
    match = list(_BYTE_RANGE.finditer(data))[-1]
    return [int(x) for x in match.group(1).split()], match.start(), match.end()


def set_byte_range(data: bytes, replacement: bytes) -> bytes:
    """Replace the last '/ByteRange [...]' (and its padding) with ``replacement``, keeping the length."""
    _, start, end = byte_range(data)
    width = end - start
    text = replacement.ljust(width - 1) + b"\n"
    assert len(text) == width, "replacement too long"
    return data[:start] + text + data[end:]


def contents_span(data: bytes) -> tuple[int, int]:
    """Offsets of the last signature's '<…>' /Contents string."""
    numbers, _, _ = byte_range(data)
    return numbers[1], numbers[2]


def replace_contents_hex(data: bytes, hex_body: bytes) -> bytes:
    """Put ``hex_body`` (padded with '0' to the same width) inside the last signature's /Contents."""
    start, end = contents_span(data)
    width = end - start - 2
    return data[:start] + b"<" + hex_body.ljust(width, b"0") + b">" + data[end:]


def incremental(data: bytes, change) -> bytes:
    """Append an incremental update made by ``change(writer)``."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page(writer, index: int = 0):
    return writer.root["/Pages"]["/Kids"][index].get_object()


def replace_page_content(writer) -> None:
    stream = generic.StreamObject(stream_data=b"BT /Helv 12 Tf 72 740 Td (Contract amount: 1.00 CNY) Tj ET")
    target = page(writer)
    target["/Contents"] = writer.add_object(stream)
    writer.update_container(target)


def add_overlay_annotation(writer) -> None:
    appearance = generic.StreamObject(
        {generic.pdf_name("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 200, 20)])},
        stream_data=b"1 1 1 rg 0 0 200 20 re f BT /Helv 10 Tf 2 6 Td (1.00) Tj ET",
    )
    appearance["/Type"] = generic.pdf_name("/XObject")
    appearance["/Subtype"] = generic.pdf_name("/Form")
    annot = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/FreeText"),
            generic.pdf_name("/Rect"): generic.ArrayObject(
                [generic.NumberObject(v) for v in (300, 700, 500, 720)]
            ),
            generic.pdf_name("/AP"): generic.DictionaryObject(
                {generic.pdf_name("/N"): writer.add_object(appearance)}
            ),
        }
    )
    target = page(writer)
    annots = target["/Annots"]
    annots.append(writer.add_object(annot))
    writer.update_container(target)


def change_field_value(writer) -> None:
    field = writer.root["/AcroForm"]["/Fields"][0].get_object()
    field["/V"] = generic.TextStringObject("1.00")
    writer.update_container(field)


def add_page(writer) -> None:
    pages = writer.root["/Pages"]
    content = writer.add_object(
        generic.StreamObject(stream_data=b"BT /Helv 12 Tf 72 740 Td (Annex: all rights waived) Tj ET")
    )
    new_page = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Page"),
            generic.pdf_name("/Parent"): writer.root.raw_get("/Pages"),
            generic.pdf_name("/MediaBox"): generic.ArrayObject(
                [generic.NumberObject(v) for v in (0, 0, 595, 842)]
            ),
            generic.pdf_name("/Contents"): content,
        }
    )
    pages["/Kids"].append(writer.add_object(new_page))
    pages["/Count"] = generic.NumberObject(pages["/Count"] + 1)
    writer.update_container(pages)


def change_font(writer) -> None:
    font = writer.root["/AcroForm"]["/DR"]["/Font"]["/Helv"]
    font["/BaseFont"] = generic.pdf_name("/Courier")
    writer.update_container(font)


def hidden_update_after_eof(data: bytes) -> bytes:
    """isa-3 style: new objects, an empty xref and a trailer appended after %%EOF, with no %%EOF."""
    offset = len(data)
    tail = (
        b"\n12 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 99 0 R >>\nendobj\n"
        b"99 0 obj\n<< /Length 44 >>\nstream\nBT /Helv 12 Tf 72 740 Td (Manipulated!) Tj ET\nendstream\nendobj\n"
    )
    xref_at = offset + len(tail)
    return data + tail + b"xref\ntrailer\n<< /Root 1 0 R >>\nstartxref\n%d\n" % xref_at


def hidden_update_behind_empty_xref(data: bytes) -> bytes:
    """A well-formed revision whose xref section is empty: its new object definitions are registered nowhere."""
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    size = int(re.findall(rb"/Size (\d+)", data)[-1])
    body = b"\n10 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 99 0 R >>\nendobj\n"
    xref_at = len(data) + len(body)
    trailer = b"xref\n0 0\ntrailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        prev,
        xref_at,
    )
    return data + body + trailer
