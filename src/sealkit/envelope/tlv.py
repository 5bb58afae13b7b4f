"""A small incremental BER/DER reader and DER header writer, for envelopes too big to hold in memory.

:class:`TLVReader` reads one tag-length header at a time from a byte source (a file, or the stream of
decrypted plaintext), so the big OCTET STRING in the middle of an envelope is never loaded: the caller
streams it. It accepts definite and indefinite lengths and constructed OCTET STRINGs, as OpenSSL writes
them. Small elements (recipient infos, algorithm identifiers, signer infos) are read whole and handed to
asn1crypto. Every short read or malformed header raises :class:`~sealkit.errors.DamagedEnvelope`.

Nothing here recurses and everything is bounded, so any input gives a one-line error rather than a
``RecursionError`` or a memory spike: nesting deeper than :data:`MAX_DEPTH` (checked inside small elements
too, before asn1crypto sees them), a small element over its byte limit, a length that runs past its parent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sealkit.errors import DamagedEnvelope

#: Largest "small" element read into memory (recipient infos, certificates, signer infos…).
MAX_SMALL = 4 << 20
#: Deepest nesting accepted anywhere (certificates need about 12 levels; BER content 2 or 3).
MAX_DEPTH = 48
#: Most elements (headers) in one small element, or in one element skipped unread.
MAX_ELEMENTS = 1 << 18
#: Bytes read at a time when an element is skipped.
_SKIP_CHUNK = 1 << 20

UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3
INTEGER, OCTET_STRING, OID, SEQUENCE, SET = 2, 4, 6, 16, 17


class ByteSource(Protocol):
    """What a :class:`TLVReader` reads from."""

    def read(self, n: int, /) -> bytes: ...


@dataclass(frozen=True)
class Header:
    """One tag-length header: ``length`` is ``None`` for the indefinite form."""

    cls: int
    constructed: bool
    number: int
    length: int | None
    raw: bytes
    offset: int

    @property
    def is_eoc(self) -> bool:
        return self.cls == UNIVERSAL and self.number == 0 and not self.constructed

    def is_(self, cls: int, number: int) -> bool:
        return self.cls == cls and self.number == number

    @property
    def end(self) -> int | None:
        """Offset just after the element (definite length only)."""
        return None if self.length is None else self.offset + len(self.raw) + self.length


class TLVReader:
    """Read BER headers and small elements from ``source``, counting the bytes read (``pos``)."""

    def __init__(self, source: ByteSource, *, start: int = 0, what: str = "envelope") -> None:
        self._source = source
        self.pos = start
        self.what = what

    def read_exact(self, n: int) -> bytes:
        data = self._source.read(n)
        if len(data) != n:
            raise DamagedEnvelope(f"the {self.what} is truncated (it ends at byte {self.pos + len(data)})")
        self.pos += n
        return data

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` from the source (bulk data: no copy); short only at the end of the source."""
        n = self._source.readinto(buffer)  # type: ignore[attr-defined]
        self.pos += n
        return int(n)

    def at_eof(self) -> bool:
        """True when the source has no more bytes (consumes nothing otherwise: needs a peekable source)."""
        peek = getattr(self._source, "peek_eof", None)
        return bool(peek()) if peek else False

    def header(self) -> Header:
        offset = self.pos
        first = self.read_exact(1)[0]
        raw = bytearray([first])
        number = first & 0x1F
        if number == 0x1F:
            number = 0
            while True:
                byte = self.read_exact(1)[0]
                raw.append(byte)
                number = (number << 7) | (byte & 0x7F)
                if not byte & 0x80:
                    break
                if len(raw) > 6:
                    raise DamagedEnvelope(f"the {self.what} has a malformed tag at byte {offset}")
        byte = self.read_exact(1)[0]
        raw.append(byte)
        length: int | None
        if byte < 0x80:
            length = byte
        elif byte == 0x80:
            if not first & 0x20:
                raise DamagedEnvelope(f"the {self.what} has an indefinite primitive element at byte {offset}")
            length = None
        else:
            count = byte & 0x7F
            if count > 8:
                raise DamagedEnvelope(f"the {self.what} has a malformed length at byte {offset}")
            octets = self.read_exact(count)
            raw += octets
            length = int.from_bytes(octets, "big")
        return Header(first >> 6, bool(first & 0x20), number, length, bytes(raw), offset)

    def expect(self, cls: int, number: int, what: str) -> Header:
        """The next header, which must be ``[cls number]``; else :class:`DamagedEnvelope` naming ``what``."""
        head = self.header()
        if not head.is_(cls, number):
            raise DamagedEnvelope(f"the {self.what} is malformed: expected {what} at byte {head.offset}")
        return head

    def body(self, head: Header, limit: int = MAX_SMALL) -> bytes:
        """The contents of a definite-length element (at most ``limit`` bytes)."""
        if head.length is None:
            raise DamagedEnvelope(
                f"the {self.what} has an unexpected indefinite length at byte {head.offset}"
            )
        if head.length > limit:
            raise DamagedEnvelope(f"the {self.what} has an oversized element at byte {head.offset}")
        return self.read_exact(head.length)

    def element(self, head: Header, limit: int = MAX_SMALL) -> bytes:
        """The whole encoding (header included) of the element ``head`` starts, nested BER included, at
        most ``limit`` bytes and :data:`MAX_DEPTH` levels deep."""
        parts = [head.raw]
        self._walk(head, parts.append, limit)
        return b"".join(parts)

    def skip(self, head: Header) -> None:
        """Consume the element ``head`` starts, whatever its size, holding at most one chunk of it."""
        self._walk(head, None, None)

    def _walk(self, head: Header, keep: Callable[[bytes], object] | None, limit: int | None) -> None:
        """Read the rest of ``head``'s element (iteratively), handing each piece to ``keep``."""
        size = 0

        def take(data: bytes, at: int) -> None:
            nonlocal size
            size += len(data)
            if limit is not None and size > limit:
                raise DamagedEnvelope(f"the {self.what} has an oversized element at byte {at}")
            if keep is not None:
                keep(data)

        if head.length is not None:
            if keep is None:
                self._discard(head.length)
                return
            if head.length > (limit if limit is not None else MAX_SMALL):
                raise DamagedEnvelope(f"the {self.what} has an oversized element at byte {head.offset}")
            data = self.read_exact(head.length)
            if head.constructed:
                check_nesting(data, self.what, head.offset + len(head.raw), depth=1)
            take(data, head.offset)
            return
        depth = 1  # open indefinite-length levels, ``head`` included
        count = 0
        while depth:
            count += 1
            if count > MAX_ELEMENTS:
                raise DamagedEnvelope(
                    f"the {self.what} has too many elements in the element at byte {head.offset}"
                )
            child = self.header()
            if child.is_eoc:
                if child.length != 0:
                    raise DamagedEnvelope(
                        f"the {self.what} has a malformed end-of-contents at {child.offset}"
                    )
                take(child.raw, head.offset)
                depth -= 1
                continue
            take(child.raw, head.offset)
            if child.length is None:
                depth += 1
                if depth > MAX_DEPTH:
                    raise DamagedEnvelope(f"the {self.what} is nested too deeply at byte {child.offset}")
                continue
            if keep is None:
                self._discard(child.length)
                continue
            if limit is not None and size + child.length > limit:
                raise DamagedEnvelope(f"the {self.what} has an oversized element at byte {head.offset}")
            data = self.read_exact(child.length)
            if child.constructed:
                check_nesting(data, self.what, child.offset + len(child.raw), depth=depth + 1)
            take(data, head.offset)

    def _discard(self, n: int) -> None:
        while n:
            step = min(n, _SKIP_CHUNK)
            self.read_exact(step)
            n -= step

    def end_of(self, head: Header) -> None:
        """Consume the end-of-contents of an indefinite element (no-op for definite ones)."""
        if head.length is None:
            eoc = self.header()
            if not eoc.is_eoc or eoc.length != 0:
                raise DamagedEnvelope(
                    f"the {self.what} is malformed: expected end-of-contents at {eoc.offset}"
                )

    def more_in(self, head: Header) -> Header | None:
        """The next child header inside ``head``, or ``None`` at its end (EOC consumed for indefinite)."""
        if head.length is not None:
            end = head.end
            assert end is not None
            if self.pos == end:
                return None
            if self.pos > end:
                raise DamagedEnvelope(f"the {self.what} is malformed: element overruns at byte {head.offset}")
            return self.header()
        child = self.header()
        if child.is_eoc:
            if child.length != 0:
                raise DamagedEnvelope(f"the {self.what} has a malformed end-of-contents at {child.offset}")
            return None
        return child

    def octet_segments(self, head: Header) -> Iterator[int]:
        """Walk an OCTET STRING (primitive or constructed, nested at most :data:`MAX_DEPTH` levels) and yield
        the length of each primitive piece when the reader stands at its first byte. The consumer must read
        exactly that many bytes (through the same source) before asking for the next piece."""
        if not head.constructed:
            if head.length is None:
                raise DamagedEnvelope(f"the {self.what} is malformed at byte {head.offset}")
            yield head.length
            return
        stack = [head]
        while stack:
            child = self.more_in(stack[-1])
            if child is None:
                stack.pop()
                continue
            if child.cls != UNIVERSAL or child.number != OCTET_STRING:
                raise DamagedEnvelope(f"the {self.what} has a malformed OCTET STRING at byte {child.offset}")
            if child.constructed:
                stack.append(child)
                if len(stack) > MAX_DEPTH:
                    raise DamagedEnvelope(f"the {self.what} is nested too deeply at byte {child.offset}")
                continue
            assert child.length is not None
            yield child.length


def check_nesting(data: bytes, what: str, offset: int = 0, *, depth: int = 0) -> None:
    """:class:`DamagedEnvelope` unless ``data`` (the contents of an element ``depth`` levels deep, found at
    byte ``offset``) is a well-formed run of BER elements, nested at most :data:`MAX_DEPTH` levels deep and
    at most :data:`MAX_ELEMENTS` of them. One pass over the bytes, no recursion, no objects."""
    n = len(data)
    i = count = 0
    ends: list[int] = []  # end offsets of the open constructed elements; -1 for indefinite ones

    def damaged(problem: str) -> DamagedEnvelope:
        return DamagedEnvelope(f"the {what} {problem} at byte {offset + i}")

    while True:
        while ends and ends[-1] == i:
            ends.pop()
        if i == n and not ends:
            return
        if i >= n:
            raise damaged("is truncated")
        count += 1
        if count > MAX_ELEMENTS:
            raise damaged("has too many elements")
        first = data[i]
        i += 1
        if first & 0x1F == 0x1F:
            for _ in range(5):
                if i >= n:
                    raise damaged("is truncated")
                i += 1
                if not data[i - 1] & 0x80:
                    break
            else:
                raise damaged("has a malformed tag")
        if i >= n:
            raise damaged("is truncated")
        byte = data[i]
        i += 1
        length: int | None = byte
        if byte == 0x80:
            length = None
        elif byte > 0x80:
            size = byte & 0x7F
            if size > 8 or i + size > n:
                raise damaged("has a malformed length")
            length = int.from_bytes(data[i : i + size], "big")
            i += size
        limit = ends[-1] if ends and ends[-1] >= 0 else n
        if first == 0:
            if length != 0 or not ends or ends[-1] != -1:
                raise damaged("has a misplaced end-of-contents")
            ends.pop()
            continue
        if length is None:
            if not first & 0x20:
                raise damaged("has an indefinite primitive element")
            ends.append(-1)
        elif i + length > limit:
            raise damaged("is malformed: an element overruns its parent")
        elif first & 0x20:
            ends.append(i + length)
        else:
            i += length
            continue
        if depth + len(ends) > MAX_DEPTH:
            raise damaged("is nested too deeply")


#: What asn1crypto raises on malformed input (RecursionError only as a last resort: depth is checked first).
PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError)


def parse_der(spec: Any, data: bytes, problem: str) -> Any:
    """``spec.load(data)``, parsed through now (``.native``); :class:`DamagedEnvelope` saying ``problem``."""
    try:
        value = spec.load(data)
        value.native  # noqa: B018 - parse everything now, not later
        return value
    except PARSE_ERRORS:
        raise DamagedEnvelope(problem) from None


def der_header(tag: int, length: int) -> bytes:
    """DER identifier (single byte ``tag``) and definite length."""
    if length < 0x80:
        return bytes([tag, length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets


def der_wrap(tag: int, *parts: bytes) -> bytes:
    """DER of a constructed element with the given (already encoded) children."""
    body = b"".join(parts)
    return der_header(tag, len(body)) + body
