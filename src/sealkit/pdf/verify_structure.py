"""The byte-level checks of a signed PDF that sealkit makes itself, without trusting pyHanko's.

- :func:`revision_layout`: where each revision of the incremental-update chain ends (its ``%%EOF``), and
  what bytes follow the last one;
- :func:`check_byte_range`: a signature's /ByteRange is exactly two ranges starting at 0, the gap is exactly
  the ``<…>`` hex string of *this* signature dictionary's /Contents, nothing overlaps or leaves the file, and
  the signed bytes end at the end of a revision;
- :func:`update_syntax_problems`: dictionaries of an update that repeat a key.

The cross-reference layer itself (every revision, signed ones included) is audited by
:mod:`sealkit.pdf.xref_audit`.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sealkit.pdf.pdf_lexer import Lexer, Ref
from sealkit.pdf.report import SignatureVerdict
from sealkit.pdf.xref_audit import OBJ_HEADER as _OBJ_HEADER

#: What may follow the last ``%%EOF`` without counting as content: PDF whitespace and NULs.
TOLERATED_TRAILER = b" \t\r\n\x00\x0c"
_EOF = b"%%EOF"
_HEX = re.compile(rb"[0-9A-Fa-f]*")
#: Above this many objects, the signed revisions are not read a second time for repeated keys.
MAX_REREAD_OBJECTS = 20_000


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


class _StrictHandler:
    """The reader, read strictly, for objects the lexer cannot read (see :func:`update_syntax_problems`).

    pyHanko's parser, in the lenient mode a verifier of hostile files needs, keeps the *first* value of a key
    written twice in one dictionary (``/Contents 11 0 R /Contents 99 0 R``) and drops the other silently,
    while poppler and other viewers keep the *last*: what sealkit compares would not be what a person sees.
    Only a strict handler makes pyHanko's ``DictionaryObject.read_from_stream`` raise on the repeated key,
    so an object is read a second time through this proxy (strict, all else delegated to the reader); the
    reader itself stays lenient.
    """

    strict = True

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


#: update_syntax_problems by reader and revision: the verifier asks about a revision once as signed content
#: and once as a later update.
_MEMO: weakref.WeakKeyDictionary[Any, dict[int, list[tuple[str, str]]]] = weakref.WeakKeyDictionary()


def update_syntax_problems(reader: Any, revision: int) -> list[tuple[str, str]]:
    """(reason, detail) for what makes the objects written by the update ``revision`` ambiguous:
    ``structure.duplicate-key``, a dictionary of an object the update wrote (directly, or in one of its
    object streams) that holds a key twice (readers disagree on which value counts). Where xref entries
    point, and the trailers, are audited by :mod:`sealkit.pdf.xref_audit`. Remembered per reader.

    Each object is read by sealkit's strict lexer (:mod:`sealkit.pdf.pdf_lexer`, which records every key
    written twice), and by pyHanko's parser in strict mode only where the lexer cannot read it. Where both
    read an object they see the same dictionaries and keys: the same whitespace, delimiters, comments and
    string ends, names decoded alike (``#xx``; one name per byte sequence), and every token on which they
    group differently (``true1``, ``1 0 R`` across a comment) makes pyHanko fail; where pyHanko reads a
    reference the lexer does not (a generation of six digits, a vertical tab), the lexer fails and pyHanko
    reads it. So the lexer finds every repeated key pyHanko would, and also those after a token pyHanko
    gives up on.
    """
    memo = _MEMO.setdefault(reader, {})
    if revision not in memo:
        memo[revision] = _update_syntax_problems(reader, revision)
    return list(memo[revision])


def _update_syntax_problems(reader: Any, revision: int) -> list[tuple[str, str]]:
    from pyhanko.pdf_utils import generic, misc

    xrefs = reader.xrefs
    section = xrefs.get_xref_data(revision)
    handler = _StrictHandler(reader)
    stream = reader.stream
    problems: list[tuple[str, str]] = []
    sections = [section] + ([section.hybrid.xref_data] if section.hybrid is not None else [])
    entries = [(n, g, offset) for part in sections for n, (g, offset) in part.standard_xrefs.items()]

    def strict_read(where: str, read: Any) -> Any:
        try:
            return read()
        except misc.PdfStrictReadError as exc:
            problems.append(("structure.duplicate-key", f"{where}: {' '.join(str(exc).split())[:120]}"))
        except Exception:  # noqa: BLE001 - an unreadable object is judged where a rule reads it
            return None
        return None

    def check(where: str, data: Any, position: int, read: Any) -> tuple[Any, bool]:
        """The object at ``position`` of ``data`` (lexed, else read by pyHanko through ``read``), and
        whether it is a stream; a repeated key becomes a problem."""
        lexed = _lex(data, position)
        if lexed is None:
            obj = strict_read(where, read)
            return obj, isinstance(obj, generic.StreamObject)
        value, duplicate, is_stream = lexed
        if duplicate is not None:
            at, key = duplicate
            text = " ".join(f"a dictionary at offset {at} repeats the key {key}".split())[:120]
            problems.append(("structure.duplicate-key", f"{where}: {text}"))
        return value, is_stream

    with _file_bytes(stream) as data:
        for number, generation, offset in sorted(set(entries)):
            stream.seek(offset)
            head = stream.read(64)
            # some writers point the entry at the end-of-line before the header
            header = _OBJ_HEADER.match(head, len(head) - len(head.lstrip(TOLERATED_TRAILER)))
            if header is None or (int(header.group(1)), int(header.group(2))) != (number, generation):
                continue  # structure.xref-mismatch (sealkit.pdf.xref_audit)
            ref = generic.Reference(number, generation, handler)

            def read_at(position: int = offset + header.end(), ref: Any = ref) -> Any:
                stream.seek(position)
                generic.read_non_whitespace(stream, seek_back=True)
                return generic.read_object(stream, ref)

            obj, is_stream = check(f"object {number} {generation}", data, offset + header.end(), read_at)
            if is_stream and _may_be_object_stream(obj):
                _object_stream_problems(reader, handler, generic.Reference(number, generation, reader), check)
    return problems


def _may_be_object_stream(obj: Any) -> bool:
    """Whether a stream's dictionary (as pyHanko or the lexer reads it) says /Type /ObjStm, or may say it
    through a reference (which pyHanko resolves: :func:`_object_stream_problems` looks again)."""
    kind = obj.get("/Type") if isinstance(obj, dict) else None
    return kind == "/ObjStm" or isinstance(kind, Ref)


def _lex(data: Any, position: int) -> tuple[Any, tuple[int, str] | None, bool] | None:
    """The value at ``position`` read by the lexer, its first repeated key (offset, key) and whether it is
    a stream; None where the lexer cannot read it."""
    if data is None or not 0 <= position <= len(data):
        return None
    lexer = Lexer(data)
    try:
        value, end = lexer.read(position)
    except Exception:  # noqa: BLE001 - LexError, or a number too long to convert: pyHanko reads it
        return None
    after = lexer.skip(end)
    # pyHanko's test for stream data: the next token starts with the letters "stream"
    is_stream = isinstance(value, dict) and data[after : after + 6] == b"stream"
    return value, (lexer.duplicates[0] if lexer.duplicates else None), is_stream


@contextlib.contextmanager
def _file_bytes(stream: Any) -> Iterator[Any]:
    """The whole of pyHanko's input ``stream``: its bytes, or a read-only memory map of its file (None if
    neither is available; then pyHanko reads every object)."""
    if isinstance(stream, io.BytesIO):
        yield stream.getvalue()  # shares the buffer of a BytesIO made from bytes
        return
    try:
        view = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError):  # no file (io.UnsupportedOperation is an OSError)
        yield None
        return
    try:
        yield view
    finally:
        with contextlib.suppress(BufferError):
            view.close()


def _object_stream_problems(reader: Any, handler: Any, ref: Any, check: Any) -> None:
    """Read every object of the object stream ``ref`` (see :func:`update_syntax_problems`)."""
    from pyhanko.pdf_utils import generic

    try:
        container = ref.get_object()
        if container.get("/Type") != "/ObjStm":
            return
        data = container.data
        body = io.BytesIO(data)
        first, count = int(container["/First"]), int(container["/N"])
        numbers = body.read(max(first, 0)).split()[: 2 * count]
        pairs = [(int(numbers[i]), int(numbers[i + 1])) for i in range(0, len(numbers) - 1, 2)]
    except Exception:  # noqa: BLE001 - a broken object stream is judged where its objects are read
        return
    for number, offset in pairs:

        def read_one(number: int = number, offset: int = offset) -> Any:
            body.seek(first + offset)
            generic.read_non_whitespace(body, seek_back=True)
            return generic.read_object(body, generic.Reference(number, 0, handler))

        check(f"object {number} 0 (in object stream {ref.idnum})", data, first + offset, read_one)
