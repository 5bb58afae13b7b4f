"""What a /Linearized dictionary makes poppler do (:func:`check_linearization`, for :mod:`.xref_audit`).

poppler (``Linearization``, ``PDFDoc::isLinearized`` / ``getStartXRef``) reads the file's FIRST object
wherever it is — from the start of the file, skipping whitespace and comments of any length — and, when it
is a dictionary with /Linearized and its /L equals the length of the file *as it is now*, takes the file as
linearized: it looks for the first-page xref right after the first ``endobj`` in the first 1024 bytes and,
when that is not a readable xref, rebuilds the xref by scanning the file (which finds definitions that
later revisions replaced). Whether poppler does this therefore depends on the file's length, and an empty
update appended after signing can switch it on. The only /L that can never switch it on for a file with
later revisions is the end of the first revision; so a /Linearized first object must give exactly that, and
the first-page xref poppler finds must be one the startxref chain reads. A /Linearized dictionary in any
other object whose /L is the end of a later revision or the file's length is reported too (a reader that
takes another object for the first one would switch on it).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from sealkit.pdf.pdf_lexer import Lexer, LexError
from sealkit.pdf.xref_sections import OBJ_HEADER

#: poppler's window for the %PDF- header and for the first ``endobj`` (``linearizationSearchSize``).
SEARCH = 1024
#: poppler's ``Lexer::isSpace`` without NUL (``getStartXRef`` stops at a NUL byte).
_SPACE = b"\t\n\x0c\r "
_EOLS = (b"\r\n", b"\n", b"\r")
#: The name /Linearized, each letter also as a #xx escape.
_NAME = re.compile(rb"/" + b"".join(b"(?:%s|#%x)" % (bytes([c]), c) for c in b"Linearized"), re.I)


def _first_object(data: bytes, lexer: Lexer) -> tuple[int, int, object, int] | None:
    """(offset, number, value, position after it) of the file's first object as poppler's Linearization
    reads it: ``N G obj`` as the first tokens from the file's start or from its %PDF- header, after any
    whitespace and comments. The value is ``LexError`` when it cannot be read strictly."""
    starts = [0]
    header = bytes(data[:SEARCH]).find(b"%PDF-")
    if header > 0:
        starts.append(header)
    for start in starts:
        pos = lexer.skip(start)
        match = OBJ_HEADER.match(data, pos)
        if match is None:
            continue
        try:
            value, after = lexer.read(match.end())
        except LexError:
            return pos, int(match.group(1)), LexError, match.end()
        return pos, int(match.group(1)), value, after
    return None


def check_linearization(
    data: bytes,
    lexer: Lexer,
    ends: list[int],
    first_sections: set[int],
    headers: list[tuple[int, int, int]],
    add: Callable[[str, str], None],
) -> None:
    """Report (``structure.linearization``) a /Linearized first object whose /L is not the end of the first
    revision (``ends[0]``, or just after its end-of-line) or whose first-page xref, as poppler finds it, is
    not one of ``first_sections`` (the offsets of the first revision's sections); and any other /Linearized
    dictionary whose /L is the end of a later revision or the file's length."""
    later = set(ends[1:]) | ({len(data)} if len(ends) > 1 else set())
    first = _first_object(data, lexer)
    if first is not None:
        offset, number, value, pos = first
        if value is LexError:
            raw = bytes(data[pos : pos + SEARCH])
            if _NAME.search(raw) or b"#" in raw:
                add(
                    "structure.linearization",
                    f"the file's first object (object {number} at offset {offset}) cannot be read strictly"
                    " and may be a /Linearized dictionary",
                )
        elif isinstance(value, dict) and "/Linearized" in value:
            _check_first(data, lexer, ends, first_sections, (offset, number, value, pos), add)
    else:
        offset = -1
    # any other /Linearized dictionary: /L may not be a length the file has, or will have, after revision 1
    starts = [h[0] for h in headers]
    seen = {offset}
    for match in _NAME.finditer(data):
        index = bisect.bisect_right(starts, match.start()) - 1
        if index < 0 or starts[index] in seen:
            continue
        at, number, _ = headers[index]
        seen.add(at)
        header = OBJ_HEADER.match(data, at)
        try:
            other = lexer.read(header.end())[0] if header is not None else None
        except LexError:
            continue
        if isinstance(other, dict) and "/Linearized" in other and other.get("/L") in later:
            add(
                "structure.linearization",
                f"a /Linearized dictionary (object {number} at offset {at}) gives /L {other.get('/L')}, the"
                " length of a later revision or of the file",
            )


def _check_first(
    data: bytes,
    lexer: Lexer,
    ends: list[int],
    first_sections: set[int],
    first: tuple[int, int, dict[str, object], int],
    add: Callable[[str, str], None],
) -> None:
    offset, number, value, pos = first
    length, end = value.get("/L"), ends[0]
    eol = next((e for e in _EOLS if data[end : end + len(e)] == e), b"")
    if length not in (end, end + len(eol)):
        switch = length in ends[1:] or (length == len(data) and len(ends) > 1)
        note = " (the length of a later revision or of the file)" if switch else ""
        add(
            "structure.linearization",
            f"the /Linearized dictionary (object {number} at offset {offset}) gives /L {length}{note}, but"
            f" the first revision ends at {end}",
        )
    # poppler's first-page xref: after the first 'endobj' in the first 1024 bytes, and spaces
    head = bytes(data[:SEARCH])
    found = head.find(b"endobj")
    own = lexer.keyword_at(pos, b"endobj")
    if found < 0 or own is None or found + 6 != own:
        add(
            "structure.linearization",
            f"the /Linearized dictionary (object {number} at offset {offset}) does not end with the first"
            f" 'endobj' within the first {SEARCH} bytes, after which a reader looks for the first-page xref",
        )
        return
    first_page = own
    while first_page < len(head) and head[first_page] in _SPACE:
        first_page += 1
    if first_page not in first_sections:
        add(
            "structure.linearization",
            f"the first-page xref after the /Linearized dictionary (offset {first_page}) is not one of"
            " the first revision's sections",
        )
