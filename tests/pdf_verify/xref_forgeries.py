# ruff: noqa: E501 - long PDF literals read better on one line
"""Forgeries of the cross-reference layer (ported from the forger's attack scripts, issue 10).

Each makes readers disagree: pyHanko reads one thing, poppler another (a page 1 with a "FORGED" amount
stamp). Every builder takes the honest material it needs and returns the file's bytes.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

from tests.pdf_verify.contracts import contract_pdf

AMOUNT_AP = b"q 1 1 1 rg 0 0 260 40 re f Q BT /Helv 14 Tf 1 0 0 rg 4 12 Td (9900000.00  FORGED) Tj ET"


def ap_stream() -> bytes:
    return (
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 260 40] /Resources << /Font << /Helv 4 0 R >> >>"
        b" /Length %d >>\nstream\n%s\nendstream" % (len(AMOUNT_AP), AMOUNT_AP)
    )


def stamp_annot(ap_ref: int) -> bytes:
    return (
        b"<< /Type /Annot /Subtype /Stamp /Rect [290 690 550 730] /F 4 /P 10 0 R /AP << /N %d 0 R >> >>"
        % ap_ref
    )


def evil_page() -> bytes:
    return (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 11 0 R"
        b" /Resources << /Font << /Helv 4 0 R >> >> /Annots [5 0 R 40 0 R] >>"
    )


def _prev(data: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", data)[-1])


def _trailer(data: bytes) -> bytes:
    trailer = re.findall(rb"trailer\s*(<<.*?>>)\s*startxref", data, re.S)[-1]
    return re.sub(rb"/Prev \d+", b"/Prev %d" % _prev(data), trailer)


def _body(data: bytes, number: int) -> bytes:
    return re.search(rb"\n%d 0 obj\n(.*?)\nendobj" % number, data, re.S).group(1)  # type: ignore[union-attr]


def xref_stream_update(
    data: bytes,
    plain: dict[int, bytes],
    in_objstm: dict[int, tuple[int, int]],
    xref_num: int,
    extra: bytes = b"",
    rows_override: list[tuple[int, bytes | None]] | None = None,
) -> bytes:
    """An incremental update whose xref section is a stream: ``plain`` objects written directly,
    ``in_objstm`` number -> (object stream, index); ``rows_override`` (number, raw row or None) replaces the rows."""
    prev = _prev(data)
    out = bytearray(data)
    offsets = {}
    for number in sorted(plain):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, plain[number])
    at = len(out)
    rows: dict[int, bytes] = {n: bytes([1]) + o.to_bytes(4, "big") + bytes(2) for n, o in offsets.items()}
    rows.update(
        {n: bytes([2]) + s.to_bytes(4, "big") + i.to_bytes(2, "big") for n, (s, i) in in_objstm.items()}
    )
    rows[xref_num] = bytes([1]) + at.to_bytes(4, "big") + bytes(2)
    listed = rows_override if rows_override is not None else [(n, None) for n in sorted(rows)]
    body = b"".join(row if row is not None else rows[n] for n, row in listed)
    index = b" ".join(b"%d 1" % n for n, _ in listed)
    packed = zlib.compress(body)
    out += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /Index [%s] /W [1 4 2] /Root 1 0 R /Prev %d%s /Filter /FlateDecode"
        b" /Length %d >>\nstream\n"
        % (xref_num, max(n for n, _ in listed) + 1, index, prev, extra, len(packed))
    )
    out += packed + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % at
    return bytes(out)


def objstm(objects: list[tuple[int, bytes]]) -> bytes:
    """An object stream holding ``objects`` in order (numbers may repeat)."""
    header, parts, pos = [], [], 0
    for number, text in objects:
        header.append(b"%d %d" % (number, pos))
        parts.append(text + b"\n")
        pos += len(text) + 1
    head = b" ".join(header) + b"\n"
    packed = zlib.compress(head + b"".join(parts))
    return b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (
        len(objects),
        len(head),
        len(packed),
        packed,
    )


def _info_id(data: bytes) -> bytes:
    found = re.search(rb"(/Info \d+ 0 R).*?(/ID \[.*?\])", _trailer(data), re.S)
    return b" " + found.group(1) + b" " + found.group(2) if found else b""  # type: ignore[union-attr]


# -- after signing ---------------------------------------------------------------------------------------


def dup_subsection(signed: bytes, comment_header: bool = True) -> bytes:
    """a01: an update's xref lists page 10 twice (evil copy first: poppler; the original last: pyHanko);
    the evil header is written ``10 0 %x\\nobj``."""
    data = bytearray(signed)
    orig10 = data.find(b"\n10 0 obj") + 1
    prev = _prev(signed)
    off41 = len(data)
    data += b"41 0 obj\n" + ap_stream() + b"\nendobj\n"
    off40 = len(data)
    data += b"40 0 obj\n" + stamp_annot(41) + b"\nendobj\n"
    evil = len(data)
    data += (b"10 0 %x\nobj\n" if comment_header else b"10 0 obj\n") + evil_page() + b"\nendobj\n"
    xref = len(data)
    data += b"xref\n10 1\n%010d 00000 n \n10 1\n%010d 00000 n \n40 2\n%010d 00000 n \n%010d 00000 n \n" % (
        evil,
        orig10,
        off40,
        off41,
    )
    data += b"trailer\n<< /Size 42 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (prev, xref)
    return bytes(data)


def table_update(signed: bytes, lines: bytes, startxref: bytes = b"%d") -> bytes:
    """An update of nothing but an xref table (``lines``: subsections and entries) and the last trailer."""
    tail = b"\nstartxref\n" + startxref + b"\n%%%%EOF\n"
    return signed + b"xref\n" + lines + b"trailer\n" + _trailer(signed) + tail % len(signed)


def dup_subsection_free_first(signed: bytes) -> bytes:
    """a07: the amount field (object 5) listed free, then at its old offset: poppler drops it."""
    orig5 = signed.find(b"\n5 0 obj") + 1
    return table_update(signed, b"5 1\n0000000000 00001 f \n5 1\n%010d 00000 n \n" % orig5)


def objstm_duplicate_number(signed: bytes) -> bytes:
    """a03: an object stream holds object 10 twice; the xref stream says index 1 (the evil copy)."""
    members = objstm([(10, _body(signed, 10)), (10, evil_page())])
    return xref_stream_update(signed, {40: stamp_annot(41), 41: ap_stream(), 50: members}, {10: (50, 1)}, 51)


def objstm_index_mismatch(signed: bytes) -> bytes:
    """a09: object 5 'at index 0' of a stream whose index 0 is object 77 (poppler: object 5 missing)."""
    members = objstm([(77, b"null"), (5, _body(signed, 5))])
    return xref_stream_update(signed, {50: members}, {5: (50, 0)}, 51, extra=_info_id(signed))


def startxref_plus(signed: bytes) -> bytes:
    """a04: an empty update whose startxref is ``+N`` (poppler reads 0 and rebuilds the xref)."""
    return table_update(signed, b"0 1\n0000000000 65535 f \n", startxref=b"+%d")


def free_then_used(signed: bytes) -> bytes:
    """a04b: an update lists the page tree (object 2) free, then used: poppler rebuilds the xref."""
    orig2 = signed.find(b"\n2 0 obj") + 1
    return table_update(signed, b"2 1\n0000000000 00001 f \n2 1\n%010d 00000 n \n" % orig2)


def type3_entry(signed: bytes) -> bytes:
    """a04c: an xref stream entry of type 3 (pyHanko skips it, poppler rebuilds the xref)."""
    return xref_stream_update(
        signed, {}, {}, 60, extra=_info_id(signed), rows_override=[(59, bytes([3]) + bytes(6)), (60, None)]
    )


def reregister_evil_copy(signed: bytes) -> bytes:
    """a08 (after signing): one xref line pointing object 10 at the evil copy the signed revision holds."""
    evil = [m.start() for m in re.finditer(rb"(?m)^10 0 obj", signed)][1]
    return table_update(signed, b"10 1\n%010d 00000 n \n" % evil)


def pad_to_linearized_length(signed: bytes) -> bytes:
    """a02 (after signing): pad with spaces to the /L the unsigned file announced."""
    length = int(re.search(rb"/L (\d+)", signed).group(1))  # type: ignore[union-attr]
    assert len(signed) < length
    return signed + b" " * (length - len(signed))


# -- before signing (the shadow is in the signed revision) -----------------------------------------------


def _hidden_shadow() -> bytes:
    return (
        b"10 0 obj\n"
        + evil_page()
        + b"\nendobj\n"
        + b"40 0 obj\n"
        + stamp_annot(41)
        + b"\nendobj\n"
        + b"41 0 obj\n"
        + ap_stream()
        + b"\nendobj\n"
    )


def unsigned_with_hidden_shadow() -> bytes:
    """a04's input: a second, unregistered ``10 0 obj`` (the evil page) before the xref."""
    honest = contract_pdf()
    at = _prev(honest)
    hidden = _hidden_shadow()
    return (
        honest[:at]
        + hidden
        + honest[at:].replace(b"startxref\n%d" % at, b"startxref\n%d" % (at + len(hidden)))
    )


def unsigned_with_duplicate_entry() -> bytes:
    """a08's input: revision 0's xref lists object 10 twice (honest first, the evil copy second)."""
    honest = contract_pdf()
    at = _prev(honest)
    body = bytearray(honest[:at])
    offsets = {}
    for number, text in ((10, evil_page()), (40, stamp_annot(41)), (41, ap_stream())):
        offsets[number] = len(body)
        body += b"%d 0 obj\n%s\nendobj\n" % (number, text)
    table = honest[at:].replace(
        b"trailer",
        b"10 1\n%010d 00000 n \n40 2\n%010d 00000 n \n%010d 00000 n \ntrailer"
        % (offsets[10], offsets[40], offsets[41]),
        1,
    )
    table = re.sub(rb"/Size \d+", b"/Size 42", table).replace(
        b"startxref\n%d" % at, b"startxref\n%d" % len(body)
    )
    return bytes(body) + table


def unsigned_linearized_trap(length: int) -> bytes:
    """a02's input: a /Linearized dictionary with /L ``length`` and a first-page xref (outside the
    startxref chain) that maps page 10 to an evil page."""
    honest = contract_pdf()
    start, at = honest.index(b"1 0 obj"), _prev(honest)
    body = honest[start:at]
    honest_offsets = {int(m.group(1)): m.start() for m in re.finditer(rb"(?m)^(\d+) 0 obj", body)}
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"

    def build(first_len: int) -> tuple[bytes, bytes, int]:
        lin = b"99 0 obj\n<< /Linearized 1 /L %010d /H [0 0] /O 10 /E 0 /N 3 /T 0 >>\nendobj\n" % length
        out = bytearray(head + lin)
        fp_at = len(out)
        out += b"\0" * first_len
        offsets = {}
        for number, text in ((10, evil_page()), (40, stamp_annot(41)), (41, ap_stream())):
            offsets[number] = len(out)
            out += b"%d 0 obj\n%s\nendobj\n" % (number, text)
        base = len(out)
        out += body
        main = {n: base + o for n, o in honest_offsets.items()} | {99: len(head)}
        main_at = len(out)
        out += b"xref\n0 1\n0000000000 65535 f \n"
        for number in sorted(main):
            out += b"%d 1\n%010d 00000 n \n" % (number, main[number])
        out += b"trailer\n<< /Size 100 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % main_at
        first = b"xref\n" + b"".join(b"%d 1\n%010d 00000 n \n" % (n, offsets[n]) for n in sorted(offsets))
        first += b"trailer\n<< /Size 100 /Root 1 0 R /Prev %010d >>\n" % main_at
        return bytes(out), first, fp_at

    _, first, _ = build(0)
    data, first, at_ = build(len(first))
    return data[:at_] + first + data[at_ + len(first) :]


HARMLESS_ANNOT = b"<< /Type /Annot /Subtype /Square /Rect [0 0 0 0] /F 2 /P 10 0 R >>"


def unsigned_far_linearized(comment: int, length: int) -> bytes:
    """forger2's a03 input: ``comment`` bytes of comment, then a /Linearized first object with /L ``length``
    (not the file's length yet); revision 1 defines annotation 40 as the forged stamp, revision 2 replaces
    it by a hidden empty square inside an object stream (what every reader shows while the file is not
    linearized to poppler)."""
    honest = contract_pdf()
    objects = {
        int(m.group(1)): m.group(2) for m in re.finditer(rb"\n(\d+) 0 obj\n(.*?)\nendobj", honest, re.S)
    }
    objects |= {10: evil_page(), 40: stamp_annot(41), 41: ap_stream()}
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n%" + b"c" * comment + b"\n")
    offsets = {99: len(out)}
    out += b"99 0 obj\n<< /Linearized 1 /L %010d /H [0 0] /O 10 /E 0 /N 3 /T 0 >>\nendobj\n" % length
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for number in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    out += b"trailer\n<< /Size 100 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return xref_stream_update(bytes(out), {50: objstm([(40, HARMLESS_ANNOT)])}, {40: (50, 0)}, 51)


def pad_update(signed: bytes, length: int) -> bytes:
    """a03 (after signing): an empty incremental update, padded with a comment to ``length`` bytes."""
    size = max(int(s) for s in re.findall(rb"/Size (\d+)", signed))
    ident = re.findall(rb"(/ID\s*\[.*?\])", signed, re.S)
    trailer = b"<< /Size %d /Root 1 0 R /Prev %d%s >>" % (
        size,
        _prev(signed),
        b" " + ident[-1] if ident else b"",
    )
    base = signed if signed.endswith(b"\n") else signed + b"\n"

    def build(pad: int) -> bytes:
        body = base + b"%" + b"p" * pad + b"\n"
        return body + b"xref\n0 1\n0000000000 65535 f \ntrailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (
            trailer,
            len(body),
        )

    pad = length - len(build(0))
    while len(build(pad)) != length:  # the startxref number may gain a digit
        pad -= len(build(pad)) - length
    return build(pad)


#: (name, make the forgery from a signed honest contract, the reason expected)
AFTER_SIGNING: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("a01-dup-subsection-comment-header", dup_subsection, "structure.duplicate-xref-entry"),
    (
        "a01b-dup-subsection",
        lambda s: dup_subsection(s, comment_header=False),
        "structure.duplicate-xref-entry",
    ),
    ("a03-objstm-duplicate-number", objstm_duplicate_number, "structure.object-stream"),
    ("a04-startxref-plus", startxref_plus, "structure.startxref"),
    ("a04b-free-then-used", free_then_used, "structure.duplicate-xref-entry"),
    ("a04c-type-3-entry", type3_entry, "structure.xref-entry-type"),
    ("a07-free-first", dup_subsection_free_first, "structure.duplicate-xref-entry"),
    ("a09-objstm-index-mismatch", objstm_index_mismatch, "structure.object-stream"),
]
