"""An independent, lexical audit of a PDF's cross-reference layer: :func:`audit_xref`.

Why it is hand-written instead of asking pyHanko: viewers read the xref layer differently (poppler keeps
the first of two entries for one object, pyHanko the last; poppler takes an object stream's member by
index, pyHanko by number; poppler obeys a /Linearized dictionary and rebuilds the xref by scanning the file
when a startxref or an entry does not suit it, which finds object definitions no xref registers). A
verifier that compares revisions as one parser reads them is blind to what another one shows. This module
therefore reads every revision itself, with a strict lexer (:mod:`sealkit.pdf.pdf_lexer`), and reports
every place where two honest readers could disagree — in the signed revisions too. Each finding fails every
signature (``structure.*`` → TOTAL-FAILED / FORMAT_FAILURE, ``docs/pdf-verification.md``), and
:func:`sealkit.pdf.sign_input.unambiguous_input` signs such a file only as a clean rewrite. Reading the
sections themselves is :mod:`sealkit.pdf.xref_sections`.

It is linear in the file: regular-expression scans over the bytes (a memory map for large files), Python
work only per xref entry, object header and section.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sealkit.pdf.pdf_lexer import WHITESPACE, Lexer, LexError, Ref
from sealkit.pdf.xref_linearization import check_linearization
from sealkit.pdf.xref_sections import OBJ_HEADER, Section, SectionReader, decode, describe, find_headers

# Scans start from a literal (which the regular-expression engine finds fast) and look around it.
_XREF_WORD = re.compile(rb"xref")
_TABLE_AFTER = re.compile(rb"xref[ \t]*(?:\r\n|\r|\n)[\x00\t\n\x0c\r ]*\d+[ \t]+\d+")
#: How far into an object its /Type /XRef is looked for, and the size of a stream whose data is skipped
#: when searching for stray xref tables.
_XREF_DICT_WINDOW = 1024
_LARGE = 1 << 16
_EOLS = (b"", b"\n", b"\r\n", b"\r")
_MAX_SECTIONS = 100_000
_MAX_PER_REASON = 20

#: The reasons a finding can give (each fails every signature: TOTAL-FAILED / FORMAT_FAILURE).
REASONS = {
    "structure.startxref": "the last startxref is not plain digits pointing at an xref section",
    "structure.xref-syntax": "an xref section cannot be read strictly",
    "structure.duplicate-xref-entry": "an object is listed twice in one revision's xref",
    "structure.xref-entry-type": "an xref stream entry of a type other than 0, 1 or 2",
    "structure.xref-mismatch": "an xref entry points at another object's definition",
    "structure.object-stream": "an object stream's header disagrees with the xref",
    "structure.unregistered-object": "an object definition that its revision's xref does not register",
    "structure.duplicate-object": "an object defined twice in one revision",
    "structure.unreached-xref": "an xref section that the startxref chain does not reach",
    "structure.linearization": "a /Linearized dictionary that disagrees with the file",
    "structure.after-eof": "bytes after the final %%EOF",
    "structure.duplicate-key": "a trailer or xref dictionary with a key written twice",
    "structure.dangling-reference": "a reference to an object that its revision frees but the file defines",
}


@dataclass(frozen=True)
class Finding:
    """One place where readers may disagree: ``reason`` (``structure.*``) and a detail naming revision,
    object and offset."""

    reason: str
    detail: str


@dataclass
class XrefAudit:
    """The findings, and where each revision of the chain ends (just after its %%EOF), oldest first."""

    findings: list[Finding]
    revision_ends: list[int]
    encrypted: bool = False

    @property
    def reasons(self) -> list[str]:
        return list(dict.fromkeys(f.reason for f in self.findings))

    def summary(self, limit: int = 4) -> str:
        shown = "; ".join(f.detail for f in self.findings[:limit])
        more = len(self.findings) - limit
        return shown + (f"; and {more} more" if more > 0 else "")


#: Decoded data of object stream (number, generation), for encrypted files (None: not available).
ObjectStreamData = Callable[[int, int], bytes | None]


def audit_xref(data: bytes, object_stream_data: ObjectStreamData | None = None) -> XrefAudit:
    """Audit the cross-reference layer of the PDF ``data`` (bytes or a read-only memory map).

    ``object_stream_data`` decodes an object stream where the audit cannot (an encrypted file); without it
    the headers of encrypted object streams are not checked.
    """
    auditor = _Auditor(data, object_stream_data)
    auditor.run()
    return XrefAudit(auditor.findings, auditor.ends, auditor.encrypted)


class _Auditor:
    def __init__(self, data: bytes, object_stream_data: ObjectStreamData | None) -> None:
        self.data = data
        self.lexer = Lexer(data)
        self.findings: list[Finding] = []
        self._counts: Counter[str] = Counter()
        self.sections: list[Section] = []
        self.revisions: list[list[Section]] = []  # oldest first
        self.ends: list[int] = []
        self.encrypted = False
        self._object_stream_data = object_stream_data
        self._object_streams: dict[tuple[int, int], list[int] | str] = {}
        self.reader = SectionReader(data, self.lexer, self.add)

    def add(self, reason: str, detail: str) -> None:
        self._counts[reason] += 1
        if self._counts[reason] <= _MAX_PER_REASON:
            self.findings.append(Finding(reason, detail))

    # -- the chain -------------------------------------------------------------------------------
    def run(self) -> None:
        start = self._final_startxref()
        if start is not None:
            self._walk(start)
        self._group_revisions()
        for revision, sections in enumerate(self.revisions):
            self._check_entries(revision, sections)
        if not self.revisions:
            return  # no chain to hold the objects against: the startxref finding says why
        headers = self._scan_headers()
        self._check_unreached(headers)
        first_sections = {s.offset for s in self._all_sections(0)}
        check_linearization(self.data, self.lexer, self.ends, first_sections, headers, self.add)
        self._check_object_streams()
        for offset, key in self.lexer.duplicates:
            self.add("structure.duplicate-key", f"the dictionary at offset {offset} repeats {key}")

    def _final_startxref(self) -> int | None:
        data = self.data
        eof = data.rfind(b"%%EOF")
        if eof < 0:
            self.add("structure.startxref", "the file has no %%EOF")
            return None
        tail = data[eof + 5 :]
        if tail not in _EOLS:
            self.add(
                "structure.after-eof",
                f"{len(tail)} bytes follow the final %%EOF (offset {eof}): only an end-of-line may",
            )
        keyword = data.rfind(b"startxref", 0, eof)
        if keyword < 0:
            self.add("structure.startxref", "the file has no startxref before its final %%EOF")
            return None
        token = bytes(data[keyword + 9 : eof]).strip(WHITESPACE)
        gap = bytes(data[keyword + 9 : eof])
        if not token.isdigit() or not token.isascii() or gap[:1] not in (b"\r", b"\n", b" "):
            self.add(
                "structure.startxref",
                f"the startxref at offset {keyword} is followed by {token[:20]!r}, not plain digits",
            )
            return None
        return int(token)

    def _walk(self, offset: int) -> None:
        seen: set[int] = set()
        pointer = "the final startxref"
        while offset is not None and len(self.sections) < _MAX_SECTIONS:
            if offset in seen:
                self.add("structure.xref-syntax", f"{pointer} points back at the section at {offset}")
                return
            seen.add(offset)
            section = self.reader.section(offset, pointer)
            if section is None:
                return
            self.sections.append(section)
            hybrid = section.trailer.get("/XRefStm")
            if section.kind == "table" and hybrid is not None:
                if not isinstance(hybrid, int) or isinstance(hybrid, bool):
                    self.add(
                        "structure.xref-syntax", f"the /XRefStm of the trailer at {offset} is not a number"
                    )
                else:
                    section.hybrid = self.reader.section(
                        hybrid, f"the /XRefStm of the trailer at {offset}", "stream"
                    )
            prev = section.trailer.get("/Prev")
            if prev is None:
                return
            if not isinstance(prev, int) or isinstance(prev, bool) or prev < 0:
                self.add("structure.xref-syntax", f"the /Prev of the section at {offset} is not an offset")
                return
            pointer = f"the /Prev of the section at {offset}"
            offset = prev

    # -- revisions ---------------------------------------------------------------------------------
    def _group_revisions(self) -> None:
        """Sections into revisions (oldest first): a hybrid table's stream and a linearized file's
        first-page section (whose /Prev points forward, at the main section) join the section they go with."""
        groups: list[list[Section]] = []
        for index, section in enumerate(self.sections):
            previous = self.sections[index - 1] if index else None
            if previous is not None and previous.offset < section.offset:
                if index != len(self.sections) - 1 or "/Prev" in section.trailer:
                    self.add(
                        "structure.xref-syntax",
                        f"the /Prev of the section at {previous.offset} points forward to {section.offset}"
                        " other than from a linearized file's first-page section",
                    )
                groups[-1].append(section)
                continue
            groups.append([section])
        self.revisions = groups[::-1]
        data = self.data
        last_end = -1
        for sections in self.revisions:
            parts = list(sections) + [s.hybrid for s in sections if s.hybrid is not None]
            start = max(s.end for s in parts)
            eof = data.find(b"%%EOF", start)
            end = eof + 5 if eof >= 0 else len(data)
            if min(s.offset for s in parts) < last_end:
                self.add(
                    "structure.xref-syntax",
                    f"revision {len(self.ends)}'s xref (offset {min(s.offset for s in parts)}) lies inside an"
                    " earlier revision",
                )
            self.ends.append(end)
            last_end = end
        if self.sections and "/Encrypt" in self.sections[0].trailer:
            self.encrypted = True

    def _check_entries(self, revision: int, sections: list[Section]) -> None:
        """Objects listed twice in one revision across its sections (a hybrid table and its stream only
        when both say the object is in use, at different places)."""
        seen: dict[int, tuple[int, int, int]] = {}
        for section in sections:
            for number, value in section.entries.items():
                if number in seen and number != 0:
                    self.add(
                        "structure.duplicate-xref-entry",
                        f"revision {revision} lists object {number} in two sections"
                        f" ({describe(seen[number])}, {describe(value)})",
                    )
                seen.setdefault(number, value)
            if section.hybrid is not None:
                for number, value in section.hybrid.entries.items():
                    old = seen.get(number)
                    if old is not None and old[0] != 0 and value[0] != 0 and old != value:
                        self.add(
                            "structure.duplicate-xref-entry",
                            f"revision {revision}: the table and its /XRefStm place object {number}"
                            f" differently ({describe(old)}, {describe(value)})",
                        )

    def _all_sections(self, revision: int) -> list[Section]:
        out = []
        for section in self.revisions[revision]:
            out.append(section)
            if section.hybrid is not None:
                out.append(section.hybrid)
        return out

    # -- object headers ----------------------------------------------------------------------------
    def _scan_headers(self) -> list[tuple[int, int, int]]:
        """Every ``N G obj`` in the file, checked against the xref of the revision it is written in."""
        data, ends = self.data, self.ends
        headers = find_headers(data)
        at_offset = {offset: (number, generation) for offset, number, generation in headers}
        registered: dict[int, set[int]] = {}  # header offset -> the revisions that register it
        for revision in range(len(self.revisions)):
            for section in self._all_sections(revision):
                if section.kind == "stream" and section.number is not None:
                    header = at_offset.get(section.offset)
                    if header is not None:
                        registered.setdefault(section.offset, set()).add(revision)
                for number, (kind, offset, generation) in section.entries.items():
                    if kind != 1:
                        continue
                    found = offset if at_offset.get(offset) else self._header_near(offset, at_offset)
                    if found is None or at_offset[found] != (number, generation):
                        what = "no object header"
                        if found is not None:
                            what = "'{} {} obj'".format(*at_offset[found])
                        self.add(
                            "structure.xref-mismatch",
                            f"revision {revision}: the entry of object {number} {generation} points at"
                            f" {what} (offset {offset})",
                        )
                        continue
                    registered.setdefault(found, set()).add(revision)
        seen: set[tuple[int, int]] = set()
        no_owner: set[int] = set()
        for offset, number, generation in headers:
            revision = bisect.bisect_right(ends, offset)
            owners = registered.get(offset, no_owner)
            twice = (revision, number) in seen
            seen.add((revision, number))
            if revision in owners and not twice:
                continue
            where = f"revision {revision}" if revision < len(ends) else "the bytes after the last revision"
            if revision not in owners:
                later = f" (only revision {min(owners)} points at it)" if owners else ""
                self.add(
                    "structure.unregistered-object",
                    f"object {number} {generation} at offset {offset}, in {where}, is not registered"
                    f" by that revision's xref{later}",
                )
            if twice:
                self.add(
                    "structure.duplicate-object",
                    f"object {number} is defined again in {where} (at offset {offset})",
                )
        return headers

    def _header_near(self, offset: int, at_offset: dict[int, tuple[int, int]]) -> int | None:
        """The header an entry at ``offset`` means: there, or after up to two bytes of end-of-line."""
        for skip in (0, 1, 2):
            if offset + skip in at_offset and not bytes(self.data[offset : offset + skip]).strip(b"\r\n"):
                return offset + skip
        return None

    def _check_unreached(self, headers: list[tuple[int, int, int]]) -> None:
        """xref tables and xref streams in the file that the chain does not reach. Tables are searched
        for outside the data of large streams (a table there is no table to any reader); an xref stream is
        an object, so each object's dictionary is looked at."""
        tables = {s.offset for s in self.sections if s.kind == "table"}
        streams = {s.offset for s in self.sections if s.kind == "stream"}
        streams |= {s.hybrid.offset for s in self.sections if s.hybrid is not None}
        data = self.data
        position = 0
        for start, end in [*self._large_stream_data(headers), (len(data), len(data))]:
            for match in _XREF_WORD.finditer(data, position, start):
                at = match.start()
                if at not in tables and data[at - 1 : at] in (b"\r", b"\n") and _TABLE_AFTER.match(data, at):
                    self.add("structure.unreached-xref", f"an xref table at offset {at} is not in the chain")
            position = max(position, end)
        for offset, number, _ in headers:
            head = bytes(data[offset : offset + _XREF_DICT_WINDOW])
            head = head[: head.find(b"stream")] if b"stream" in head else head
            # a name may be written with #xx escapes (/X#52ef): such a dictionary is read too
            if offset in streams or (b"/XRef" not in head and b"#" not in head):
                continue
            header = OBJ_HEADER.match(data, offset)
            try:
                value = self.lexer.read(header.end())[0] if header is not None else None
            except LexError:
                value = None
            if isinstance(value, dict) and value.get("/Type") == "/XRef":
                self.add(
                    "structure.unreached-xref",
                    f"an xref stream (object {number} at offset {offset}) is not in the chain",
                )

    def _large_stream_data(self, headers: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
        """(start, end) of the data of every stream of more than :data:`_LARGE` bytes whose direct /Length
        ends at ``endstream``, in file order."""
        spans = []
        for index, (offset, _, _) in enumerate(headers):
            following = headers[index + 1][0] if index + 1 < len(headers) else len(self.data)
            if following - offset < _LARGE:
                continue
            header = OBJ_HEADER.match(self.data, offset)
            try:
                if header is None:
                    continue
                value, pos = self.lexer.read(header.end())
                if isinstance(value, dict):
                    start, end, _ = self.reader.stream_span(value, pos, "a stream")
                    spans.append((start, end))
            except LexError:
                continue
        return spans

    # -- object streams ----------------------------------------------------------------------------
    def _check_object_streams(self) -> None:
        """Each type-2 entry: its object stream, as that revision finds it, names the object at that index."""
        effective: list[dict[int, tuple[int, int, int]]] = []
        for revision in range(len(self.revisions)):
            merged: dict[int, tuple[int, int, int]] = {}
            for section in self._all_sections(revision):
                for number, value in section.entries.items():
                    merged.setdefault(number, value)
            effective.append(merged)
        for revision, merged in enumerate(effective):
            for number, (kind, stream, index) in merged.items():
                if kind != 2:
                    continue
                location = self._locate(effective, revision, stream)
                if location is None or location[0] != 1:
                    self.add(
                        "structure.object-stream",
                        f"revision {revision}: object {number} is in object stream {stream}, which is not"
                        " an object in the file",
                    )
                    continue
                members = self._members(stream, location[2], location[1], effective, revision)
                if isinstance(members, str):
                    continue
                if index >= len(members) or members[index] != number:
                    named = members[index] if index < len(members) else "nothing"
                    self.add(
                        "structure.object-stream",
                        f"revision {revision}: object {number} is at index {index} of object stream"
                        f" {stream}, whose header names {named} there",
                    )

    @staticmethod
    def _locate(
        effective: list[dict[int, tuple[int, int, int]]], revision: int, number: int
    ) -> tuple[int, int, int] | None:
        for older in range(revision, -1, -1):
            if number in effective[older]:
                return effective[older][number]
        return None

    def _members(
        self,
        stream: int,
        generation: int,
        offset: int,
        effective: list[dict[int, tuple[int, int, int]]],
        revision: int,
    ) -> list[int] | str:
        """The object numbers an object stream's header lists, in order (a str: why it was not read)."""
        key = (offset, stream)
        if key in self._object_streams:
            return self._object_streams[key]
        result: list[int] | str = "unread"
        try:
            header = OBJ_HEADER.match(self.data, offset)
            skip = 0
            while header is None and skip < 2:
                skip += 1
                header = OBJ_HEADER.match(self.data, offset + skip)
            if header is None:
                raise LexError("no object header")
            stream_dict, pos = self.lexer.read(header.end())
            if not isinstance(stream_dict, dict):
                raise LexError("not a stream dictionary")
            length = stream_dict.get("/Length")
            if isinstance(length, Ref):
                stream_dict = {**stream_dict, "/Length": self._indirect_int(length, effective, revision)}
            count, first = stream_dict.get("/N"), stream_dict.get("/First")
            if not isinstance(count, int) or not isinstance(first, int) or count < 0 or first < 0:
                raise LexError("/N or /First is not a non-negative integer")
            if self.encrypted:
                reader = self._object_stream_data
                decoded = reader(stream, generation) if reader is not None else None
                if decoded is None:
                    self._object_streams[key] = "encrypted"
                    return "encrypted"
            else:
                raw, _ = self.reader.stream_bytes(stream_dict, pos, f"object stream {stream}")
                decoded = decode(raw, stream_dict)
            result = self._object_stream_header(stream, decoded, count, first)
        except LexError as exc:
            self.add("structure.object-stream", f"object stream {stream} (offset {offset}): {exc}")
        self._object_streams[key] = result
        return result

    def _object_stream_header(self, stream: int, decoded: bytes, count: int, first: int) -> list[int]:
        tokens = decoded[:first].split()
        if len(tokens) != 2 * count or not all(t.isdigit() for t in tokens):
            raise LexError(f"/N {count} and /First {first} do not frame {2 * count} integers")
        numbers = [int(t) for t in tokens[::2]]
        offsets = [int(t) for t in tokens[1::2]]
        if offsets != sorted(offsets) or (offsets and first + offsets[-1] > len(decoded)):
            raise LexError("the member offsets are not increasing inside the stream")
        for number, times in Counter(numbers).items():
            if times > 1:
                self.add(
                    "structure.object-stream",
                    f"object stream {stream} lists object {number} {times} times in its header",
                )
        return numbers

    def _indirect_int(self, ref: Ref, effective: list[dict[int, tuple[int, int, int]]], revision: int) -> int:
        location = self._locate(effective, revision, ref.number)
        if location is None or location[0] != 1:
            raise LexError(f"its /Length {ref.number} {ref.generation} R is not an object in the file")
        header = OBJ_HEADER.match(self.data, location[1])
        if header is None:
            raise LexError("its /Length object has no header")
        value, pos = self.lexer.read(header.end())
        if not isinstance(value, int) or isinstance(value, bool):
            raise LexError("its /Length object is not an integer")
        return value


__all__ = ["OBJ_HEADER", "REASONS", "Finding", "XrefAudit", "audit_xref", "find_headers"]
