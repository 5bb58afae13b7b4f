"""The byte-level checks of a signed PDF that sealkit makes itself, without trusting pyHanko's.

- :func:`revision_layout`: where each revision of the incremental-update chain ends (its ``%%EOF``), and
  what bytes follow the last one;
- :func:`check_byte_range`: a signature's /ByteRange is exactly two ranges starting at 0, the gap is exactly
  the ``<…>`` hex string of *this* signature dictionary's /Contents, nothing overlaps or leaves the file, and
  the signed bytes end at the end of a revision;
- :func:`unregistered_objects`: object definitions (``N G obj``) written after a given offset that no
  cross-reference section registers — the trick behind incremental-saving and shadow attacks that feed
  different objects to viewers that rebuild the xref table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sealkit.pdf.report import SignatureVerdict

#: What may follow the last ``%%EOF`` without counting as content: PDF whitespace and NULs.
TOLERATED_TRAILER = b" \t\r\n\x00\x0c"
_EOF = b"%%EOF"
_OBJ_HEADER = re.compile(rb"(?<![0-9])(\d{1,10})[ \t\r\n\x00\x0c]+(\d{1,5})[ \t\r\n\x00\x0c]+obj(?![A-Za-z])")
_HEX = re.compile(rb"[0-9A-Fa-f]*")


@dataclass
class RevisionLayout:
    """Where the revisions of a file end, and what comes after the last one."""

    ends: list[int]  # offset just past each revision's %%EOF (oldest first)
    size: int

    @property
    def trailing(self) -> int:
        """How many bytes follow the last revision's %%EOF."""
        return self.size - self.ends[-1] if self.ends else self.size

    def unaccounted(self, data: bytes) -> bytes:
        """Bytes after the last revision other than whitespace and NULs (what no revision accounts for)."""
        if not self.ends:
            return data
        return data[self.ends[-1] :].strip(TOLERATED_TRAILER)

    def revision_ending_at(self, offset: int, data: bytes) -> int | None:
        """The revision whose %%EOF (plus an optional end-of-line) ends exactly at ``offset``, or None."""
        for index, end in enumerate(self.ends):
            if offset == end or (offset > end and offset - end <= 2 and not data[end:offset].strip(b"\r\n")):
                return index
        return None


def revision_layout(data: bytes, reader: Any) -> RevisionLayout:
    """The end of every revision in the reader's xref chain: the first %%EOF after its xref data."""
    xrefs = reader.xrefs
    ends = []
    for revision in range(xrefs.total_revisions):
        start = xrefs.get_xref_container_info(revision).end_location
        found = data.find(_EOF, start)
        if found < 0:
            ends.append(len(data))
            continue
        ends.append(found + len(_EOF))
    return RevisionLayout(ends=ends, size=len(data))


def _as_int_list(value: Any) -> list[int] | None:
    """A /ByteRange as a list of plain non-negative integers, or None if it is anything else."""
    from pyhanko.pdf_utils import generic

    if not isinstance(value, generic.ArrayObject):
        return None
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or isinstance(item, generic.FloatObject):
            return None
        if item < 0:
            return None
        out.append(int(item))
    return out


def check_byte_range(
    verdict: SignatureVerdict,
    data: bytes,
    sig_object: Any,
    sig_offset: int | None,
    layout: RevisionLayout,
) -> tuple[bool, str]:
    """Check the /ByteRange of one signature dictionary; record checks; return (well-formed, coverage).

    ``sig_offset`` is the file offset of the signature dictionary's object (None if it lives in an object
    stream, where a /Contents gap cannot be). Coverage is ``entire-file``, ``entire-revision``, ``partial``
    (a sound range that does not end at a revision boundary) or ``unclear`` (anything malformed).
    """
    from pyhanko.pdf_utils import generic

    size = len(data)
    try:
        raw = sig_object.raw_get("/ByteRange")
    except KeyError:
        verdict.check("byte-range", False, "no /ByteRange", "coverage.byte-range-missing")
        return False, "unclear"
    ranges = _as_int_list(raw)
    if ranges is None or len(ranges) != 4:
        verdict.check(
            "byte-range",
            False,
            f"/ByteRange is not four integers: {str(raw)[:80]}",
            "coverage.byte-range-malformed",
        )
        return False, "unclear"
    start1, len1, start2, len2 = ranges
    problems: list[tuple[str, str]] = []
    if start1 != 0:
        problems.append(("coverage.byte-range-not-at-start", f"first range starts at {start1}, not 0"))
    if len1 <= 0 or len2 < 0:
        problems.append(("coverage.byte-range-malformed", "a range has no length"))
    if start2 <= start1 + len1:
        problems.append(("coverage.byte-range-overlap", "the ranges overlap or touch"))
    if start2 + len2 > size or start1 + len1 > size:
        problems.append(("coverage.byte-range-outside-file", f"ranges end beyond the file ({size} bytes)"))
    if not problems:
        gap_problem = _gap_problem(data, start1 + len1, start2, sig_object, sig_offset, generic)
        if gap_problem:
            problems.append(("coverage.gap-not-contents", gap_problem))
    if problems:
        for reason, detail in problems:
            verdict.check("byte-range", False, detail, reason)
        return False, "unclear"
    verdict.check("byte-range", True, f"[0 {len1} {start2} {len2}]: the gap is exactly this /Contents")

    end = start2 + len2
    if end == size:
        return True, "entire-file"
    if layout.revision_ending_at(end, data) is not None:
        return True, "entire-revision"
    return True, "partial"


def _gap_problem(
    data: bytes, gap_start: int, gap_end: int, sig_object: Any, sig_offset: int | None, generic: Any
) -> str:
    """Why the bytes between the two ranges are not this dictionary's /Contents string (None if they are)."""
    gap = data[gap_start:gap_end]
    if len(gap) < 2 or gap[:1] != b"<" or gap[-1:] != b">":
        return "the gap is not a <…> hex string"
    body = gap[1:-1]
    if _HEX.fullmatch(body) is None or len(body) % 2:
        return "the gap is not a well-formed hex string"
    try:
        contents = sig_object.raw_get("/Contents", decrypt=generic.EncryptedObjAccess.RAW)
    except KeyError:
        return "the signature dictionary has no /Contents"
    if not isinstance(contents, generic.ByteStringObject | generic.TextStringObject):
        return "/Contents is not a string"
    if bytes.fromhex(body.decode("ascii")) != contents.original_bytes:
        return "the gap holds other bytes than this signature's /Contents"
    if sig_offset is None:
        return "the signature dictionary is in an object stream, so the gap cannot be its /Contents"
    prefix = data[sig_offset:gap_start]
    if b"endobj" in prefix or not _OBJ_HEADER.match(prefix.lstrip(TOLERATED_TRAILER)):
        return "the gap is not inside this signature dictionary's object"
    if not prefix.rstrip(TOLERATED_TRAILER).endswith(b"/Contents"):
        return "the gap does not follow this dictionary's /Contents key"
    return ""


def unregistered_objects(data: bytes, reader: Any, since: int) -> list[str]:
    """Objects defined at offsets ≥ ``since`` that no xref section of the chain points to (``"N G"``)."""
    xrefs = reader.xrefs
    registered: set[int] = set()
    for revision in range(xrefs.total_revisions):
        section = xrefs.get_xref_data(revision)
        registered.update(offset for _, offset in section.standard_xrefs.values())
        if section.hybrid is not None:
            registered.update(offset for _, offset in section.hybrid.xref_data.standard_xrefs.values())
    found = []
    for match in _OBJ_HEADER.finditer(data, since):
        # Some writers point the xref entry at the end-of-line just before the header.
        if not registered.intersection(range(match.start() - 2, match.start() + 1)):
            found.append(f"{int(match.group(1))} {int(match.group(2))}")
    return found
