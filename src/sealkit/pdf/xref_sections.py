"""Reading one cross-reference section strictly, for :mod:`sealkit.pdf.xref_audit`: an ``xref`` table and
its trailer, or a cross-reference stream (:class:`SectionReader`), and every ``N G obj`` header of a file
(:func:`find_headers`).

What readers could take two ways is reported through the audit's ``add(reason, detail)`` (an object listed
twice, an unknown entry type), never settled silently; what cannot be read strictly raises
:class:`~sealkit.pdf.pdf_lexer.LexError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sealkit.pdf.pdf_lexer import SEP, WHITESPACE, Lexer, LexError

#: ``N G obj``, with PDF whitespace or comments between the tokens (as every reader accepts it).
OBJ_HEADER = re.compile(rb"(?<![0-9])(\d{1,10})" + SEP + rb"+(\d{1,5})" + SEP + rb"+obj(?![A-Za-z0-9])")
_SUBSECTION = re.compile(rb"(\d{1,10})[ \t]+(\d{1,10})[ \t]*(?:\r\n|\r|\n)")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?: \r\n| \r| \n|\r\n|\r|\n)")
_WS = re.compile(rb"[\x00\t\n\x0c\r ]*")
_OBJ_WORD = re.compile(rb"obj")
_HEADER_BEFORE = re.compile(rb"(?<![0-9])(\d{1,10})" + SEP + rb"+(\d{1,5})" + SEP + rb"+\Z")
_WINDOW = 64
_HEADER_CHARS = re.compile(rb"[0-9\x00\t\n\x0c\r ]*")
_DIGITS_AND_SPACE = b"0123456789" + WHITESPACE
_COMMENT_WINDOW = 4096


@dataclass
class Section:
    """One xref section of the chain (a table, or an xref stream)."""

    offset: int
    kind: str  # "table" | "stream"
    end: int
    trailer: dict[str, Any]
    #: number -> (type, field 2, field 3): (1, offset, generation), (2, object stream, index), (0, …) free.
    entries: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    number: int | None = None  # an xref stream's own object number
    hybrid: Section | None = None  # the /XRefStm stream of a hybrid-reference table


class SectionReader:
    """Reads sections of ``data`` with ``lexer``; ``add(reason, detail)`` records a finding."""

    def __init__(self, data: bytes, lexer: Lexer, add: Callable[[str, str], None]) -> None:
        self.data = data
        self.lexer = lexer
        self.add = add

    def section(self, offset: int, pointer: str, only: str | None = None) -> Section | None:
        """The section at ``offset`` (``pointer`` says who points there; ``only="stream"``: an xref
        stream only); None, with a finding, if there is none that reads strictly."""
        data = self.data
        try:
            if (
                only != "stream"
                and data[offset : offset + 4] == b"xref"
                and (data[offset + 4 : offset + 5] in (b"\r", b"\n", b" ", b"\t"))
            ):
                return self._table(offset)
            header = OBJ_HEADER.match(data, offset)
            if header is not None:
                return self._stream_section(offset, header)
        except LexError as exc:
            self.add("structure.xref-syntax", f"the xref section at {offset} ({pointer}): {exc}")
            return None
        reason = "structure.startxref" if pointer == "the final startxref" else "structure.xref-syntax"
        what = "an xref stream object" if only == "stream" else "'xref' or an xref stream object"
        self.add(reason, f"{pointer} ({offset}) does not point exactly at {what}")
        return None

    def _table(self, offset: int) -> Section | None:
        data, size = self.data, len(self.data)
        section = Section(offset, "table", offset, {})
        pos = offset + 4
        while True:
            pos = _WS.match(data, pos).end()  # type: ignore[union-attr]
            if data[pos : pos + 7] == b"trailer":
                trailer, pos = self.lexer.read(pos + 7)
                if not isinstance(trailer, dict):
                    raise LexError("the trailer is not a dictionary")
                section.trailer, section.end = trailer, pos
                return section
            sub = _SUBSECTION.match(data, pos)
            if sub is None:
                raise LexError(f"no subsection header or trailer at offset {pos}")
            first, count = int(sub.group(1)), int(sub.group(2))
            pos = sub.end()
            if count * 19 > size - pos:
                raise LexError(f"the subsection at {sub.start()} claims {count} entries")
            entries, match = section.entries, _ENTRY.match
            for number in range(first, first + count):
                entry = match(data, pos)
                if entry is None:
                    raise LexError(f"the entry of object {number} at offset {pos} is malformed")
                pos = entry.end()
                where, generation, kind = entry.groups()
                value = (1 if kind == b"n" else 0, int(where), int(generation))
                if number in entries:
                    self._enter(section, number, value)  # reports the duplicate
                else:
                    entries[number] = value

    def _enter(self, section: Section, number: int, value: tuple[int, int, int]) -> None:
        if number in section.entries:
            self.add(
                "structure.duplicate-xref-entry",
                f"the xref section at {section.offset} lists object {number} twice"
                f" ({describe(section.entries[number])}, then {describe(value)})",
            )
            return  # the first entry is what poppler keeps; the finding fails the file anyway
        section.entries[number] = value

    def _stream_section(self, offset: int, header: re.Match[bytes]) -> Section:
        lexer = self.lexer
        stream_dict, pos = lexer.read(header.end())
        if not isinstance(stream_dict, dict) or stream_dict.get("/Type") != "/XRef":
            raise LexError("the object there is not an xref stream (/Type /XRef)")
        raw, end = self.stream_bytes(stream_dict, pos, f"xref stream {int(header.group(1))}")
        section = Section(offset, "stream", end, stream_dict, number=int(header.group(1)))
        decoded = decode(raw, stream_dict)
        widths = stream_dict.get("/W")
        size = stream_dict.get("/Size")
        if (
            not isinstance(widths, list)
            or len(widths) != 3
            or not all(isinstance(w, int) and 0 <= w <= 8 for w in widths)
            or not isinstance(size, int)
        ):
            raise LexError("/W is not three small integers or /Size is missing")
        index = stream_dict.get("/Index", [0, size])
        if (
            not isinstance(index, list)
            or len(index) % 2
            or not all(isinstance(i, int) and i >= 0 for i in index)
        ):
            raise LexError("/Index is not pairs of integers")
        w0, w1, w2 = widths
        row = w0 + w1 + w2
        rows = sum(index[1::2])
        if row == 0 or len(decoded) < rows * row:
            raise LexError(f"the stream holds {len(decoded)} bytes, not {rows} entries of {row} bytes")
        at = 0
        for start, count in zip(index[::2], index[1::2], strict=True):
            for number in range(start, start + count):
                kind = int.from_bytes(decoded[at : at + w0], "big") if w0 else 1
                second = int.from_bytes(decoded[at + w0 : at + w0 + w1], "big")
                third = int.from_bytes(decoded[at + w0 + w1 : at + row], "big")
                at += row
                if kind not in (0, 1, 2):
                    self.add(
                        "structure.xref-entry-type",
                        f"the xref stream at {offset} gives object {number} an entry of type {kind}",
                    )
                    continue
                self._enter(section, number, (kind, second, third))
        return section

    def stream_bytes(self, stream_dict: dict[str, Any], pos: int, what: str) -> tuple[bytes, int]:
        """The raw data of a stream whose dictionary ended at ``pos``, and the offset after ``endobj``."""
        start, end, after = self.stream_span(stream_dict, pos, what)
        return bytes(self.data[start:end]), after

    def stream_span(self, stream_dict: dict[str, Any], pos: int, what: str) -> tuple[int, int, int]:
        """Where the data of a stream whose dictionary ended at ``pos`` starts and ends (by its direct
        /Length, which must end at ``endstream``), and the offset after ``endobj``."""
        data, lexer = self.data, self.lexer
        after = lexer.keyword_at(pos, b"stream")
        if after is None:
            raise LexError(f"{what} has no stream keyword")
        if data[after : after + 2] == b"\r\n":
            after += 2
        elif data[after : after + 1] == b"\n":
            after += 1
        else:
            raise LexError(f"{what}: no end-of-line after 'stream'")
        length = stream_dict.get("/Length")
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise LexError(f"{what}: /Length is not a direct integer")
        end = lexer.keyword_at(after + length, b"endstream")
        if end is None:
            raise LexError(f"{what}: /Length does not end at 'endstream'")
        closed = lexer.keyword_at(end, b"endobj")
        return after, after + length, closed if closed is not None else end


def find_headers(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, number, generation) of every ``N G obj`` in ``data``, in file order: each ``obj`` found by
    a fast literal search, the numbers before it matched backwards in a small window, or in a larger one
    (:data:`_COMMENT_WINDOW`, beyond poppler's 256-byte lines when it rebuilds an xref) when a comment or a
    run of whitespace may reach further back."""
    found = []
    for match in _OBJ_WORD.finditer(data):
        at = match.start()
        if data[at - 3 : at] == b"end" or data[at + 3 : at + 4].isalnum():
            continue
        window = bytes(data[max(0, at - _WINDOW) : at])
        # the numbers are in the run of digits and whitespace that ends the window
        tail = len(window.rstrip(_DIGITS_AND_SPACE))
        header = _HEADER_BEFORE.search(window, tail) if tail and b"%" not in window else None
        if (header is None or header.start() == 0) and _may_reach_further(window):
            window = bytes(data[max(0, at - _COMMENT_WINDOW) : at])
            header = _HEADER_BEFORE.search(window)
        if header is not None:
            start = at - len(window) + header.start()
            found.append((start, int(header.group(1)), int(header.group(2))))
    return found


def _may_reach_further(window: bytes) -> bool:
    """Whether a header ending with ``window`` could start before it: the window is all digits and
    whitespace, holds a comment, or its last line (a comment, perhaps) starts before it."""
    text = window.rstrip(WHITESPACE)
    return b"%" in window or b"\n" not in text and b"\r" not in text or bool(_HEADER_CHARS.fullmatch(window))


def describe(value: tuple[int, int, int]) -> str:
    kind, second, third = value
    if kind == 0:
        return "free"
    if kind == 1:
        return f"at offset {second}"
    return f"in object stream {second} at index {third}"


def decode(raw: bytes, stream_dict: dict[str, Any]) -> bytes:
    """The data of a stream with no filter or /FlateDecode (with its predictor), through pyHanko's decoder."""
    filters = stream_dict.get("/Filter")
    params = stream_dict.get("/DecodeParms")
    if isinstance(filters, list) and len(filters) == 1:
        filters = filters[0]
        params = params[0] if isinstance(params, list) and params else params
    if filters is None:
        return raw
    if filters != "/FlateDecode":
        raise LexError(f"unsupported filter {filters}")
    from pyhanko.pdf_utils import filters as pyhanko_filters
    from pyhanko.pdf_utils import generic

    decode_params = generic.DictionaryObject()
    if isinstance(params, dict):
        for key, value in params.items():
            if isinstance(value, int) and not isinstance(value, bool):
                decode_params[generic.NameObject(key)] = generic.NumberObject(value)
    try:
        return bytes(pyhanko_filters.FlateDecode().decode(raw, decode_params))
    except Exception as exc:  # noqa: BLE001 - a corrupt stream is a finding, whatever zlib says
        raise LexError(f"the stream cannot be decoded ({type(exc).__name__})") from None
