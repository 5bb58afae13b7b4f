"""A strict PDF lexer for :mod:`sealkit.pdf.xref_audit`: objects read from raw bytes at an offset; and
:func:`content_operations`, the operators of a content stream for the imprint check (so verification does
not import pypdf, ~180 ms, for a tokeniser).

It reads only what the audit needs — the dictionaries of trailers, cross-reference streams, object streams
and the linearization dictionary, and the numbers of an object stream's header — and reports what viewers
read in different ways (a key written twice in one dictionary) instead of settling it. Values come back as
plain Python: ``dict`` (names as ``str`` with ``#xx`` escapes decoded), ``list``, ``int``, ``float``,
``bytes`` (strings), :class:`Ref` and :class:`Keyword`. Nesting is bounded, so a hostile file cannot
exhaust the stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WHITESPACE = b"\x00\t\n\x0c\r "
#: PDF whitespace or a comment: what may separate two tokens (ISO 32000-1 §7.2.2, §7.2.3).
SEP = rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*+)"
_SKIP = re.compile(SEP + rb"*")
_DELIMS = b"()<>[]{}/%"
_REGULAR = re.compile(rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]*")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)\Z")
_INT = re.compile(rb"\d+\Z")
_REF_TAIL = re.compile(SEP + rb"+(\d{1,5})" + SEP + rb"+R(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])")
_MAX_DEPTH = 64
_STRING_STOP = re.compile(rb"[()\\]")
_MAX_TOKENS = 200_000


def _name(raw: bytes) -> str:
    """A name (without its ``/``) as ``/`` and its bytes decoded (``#xx`` escapes), one character per byte."""
    raw = bytes(raw)
    if b"#" in raw:
        raw = _NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    return "/" + raw.decode("latin-1")


class LexError(ValueError):
    """The bytes are not the PDF object expected there."""


@dataclass(frozen=True)
class Ref:
    """An indirect reference ``N G R``."""

    number: int
    generation: int


@dataclass(frozen=True)
class Keyword:
    """A bare keyword (``true``, ``null``, ``stream`` …)."""

    word: bytes


class Lexer:
    """Reads objects from ``data``; ``duplicates`` collects ``(offset, key)`` of keys written twice."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.duplicates: list[tuple[int, str]] = []
        self._tokens = 0

    def skip(self, pos: int) -> int:
        """The position of the next token after whitespace and comments."""
        match = _SKIP.match(self.data, pos)
        return match.end() if match else pos

    def read(self, pos: int, depth: int = 0) -> tuple[object, int]:
        """The object starting at the next token from ``pos``, and the position after it."""
        self._tokens += 1
        if depth > _MAX_DEPTH or self._tokens > _MAX_TOKENS:
            raise LexError("objects nested too deeply or too large")
        data = self.data
        match = _SKIP.match(data, pos)
        pos = match.end() if match else pos
        first = data[pos : pos + 1]
        # the most frequent tokens first: names, then numbers and references, dictionaries and arrays
        if first == b"/":
            end = _REGULAR.match(data, pos + 1).end()  # type: ignore[union-attr]
            return _name(data[pos + 1 : end]), end
        if first == b"<":
            if data[pos + 1 : pos + 2] == b"<":
                return self._dictionary(pos + 2, depth)
            end = data.find(b">", pos)
            if end < 0:
                raise LexError("a hex string is not closed")
            digits = bytes(data[pos + 1 : end]).translate(None, WHITESPACE)
            try:
                return bytes.fromhex(digits.decode("ascii") + ("0" if len(digits) % 2 else "")), end + 1
            except ValueError:
                raise LexError("a hex string holds other characters") from None
        if first == b"[":
            items: list[object] = []
            pos += 1
            while True:
                match = _SKIP.match(data, pos)
                pos = match.end() if match else pos
                if data[pos : pos + 1] == b"]":
                    return items, pos + 1
                if pos >= len(data):
                    raise LexError("an array is not closed")
                item, pos = self.read(pos, depth + 1)
                items.append(item)
        if first == b"(":
            return self._string(pos + 1)
        if not first or first in b")>]{}":
            raise LexError(f"unexpected {bytes(first)!r} at offset {pos}")
        end = _REGULAR.match(data, pos).end()  # type: ignore[union-attr]
        word = bytes(data[pos:end])
        if _INT.match(word):
            ref = _REF_TAIL.match(data, end)
            if ref:
                return Ref(int(word), int(ref.group(1))), ref.end()
            return int(word), end
        if _NUMBER.match(word):
            return (float(word) if b"." in word else int(word)), end
        return Keyword(word), end

    def _dictionary(self, pos: int, depth: int) -> tuple[dict[str, object], int]:
        data = self.data
        out: dict[str, object] = {}
        while True:
            match = _SKIP.match(data, pos)
            pos = match.end() if match else pos
            head = data[pos : pos + 2]
            if head == b">>":
                return out, pos + 2
            if head[:1] != b"/":
                raise LexError(f"a dictionary key is not a name at offset {pos}")
            # the key, as read() reads a name (one token, one level deeper)
            self._tokens += 1
            if depth + 1 > _MAX_DEPTH or self._tokens > _MAX_TOKENS:
                raise LexError("objects nested too deeply or too large")
            key_at = pos
            pos = _REGULAR.match(data, pos + 1).end()  # type: ignore[union-attr]
            key = _name(data[key_at + 1 : pos])
            value, pos = self.read(pos, depth + 1)
            if key in out:
                self.duplicates.append((key_at, key))
            out[key] = value

    def _string(self, pos: int) -> tuple[bytes, int]:
        """A literal string from just after its ``(``: balanced parentheses, backslash escapes skipped."""
        data = self.data
        level, start = 1, pos
        while level:
            match = _STRING_STOP.search(data, pos)
            if match is None:
                raise LexError("a string is not closed")
            char = match.group()
            pos = match.end() + (1 if char == b"\\" else 0)
            if char == b"(":
                level += 1
            elif char == b")":
                level -= 1
        return bytes(data[start : pos - 1]), pos

    def keyword_at(self, pos: int, word: bytes) -> int | None:
        """The position after ``word`` if it is the next token from ``pos``, else None."""
        pos = self.skip(pos)
        end = pos + len(word)
        if self.data[pos:end] == word and (
            end >= len(self.data) or self.data[end] in WHITESPACE or self.data[end] in _DELIMS
        ):
            return end
        return None


#: The end of an inline image's data: whitespace, ``EI``, then whitespace or the end of the stream.
_INLINE_END = re.compile(rb"[\x00\t\n\x0c\r ]EI(?=[\x00\t\n\x0c\r ]|\Z)")
_OPERANDS = {b"true", b"false", b"null"}
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|(\r\n|\r|\n)|(.))", re.S)


def unescape(raw: bytes) -> bytes:
    """The bytes a literal string's body (as :meth:`Lexer.read` returns it) stands for."""

    def one(match: re.Match[bytes]) -> bytes:
        octal, newline, char = match.groups()
        if octal:
            return bytes([int(octal, 8) & 0xFF])
        if newline:
            return b""
        return _ESCAPES.get(char, char)

    return _ESCAPE.sub(one, raw)


def content_operations(data: bytes) -> list[tuple[list[object], bytes]]:
    """The ``(operands, operator)`` pairs of the content stream ``data``; an inline image is one pair
    ``([its dictionary], b"INLINE IMAGE")``. Literal strings come back unescaped. Raises :class:`LexError`
    for content that does not tokenise."""
    lexer = Lexer(data)
    operations: list[tuple[list[object], bytes]] = []
    operands: list[object] = []
    pos, size = 0, len(data)
    while True:
        pos = lexer.skip(pos)
        if pos >= size:
            return operations
        if data[pos : pos + 1] == b"(":
            raw, pos = lexer.read(pos)
            operands.append(unescape(raw))  # type: ignore[arg-type]
            continue
        value, pos = lexer.read(pos)
        if not isinstance(value, Keyword) or value.word in _OPERANDS:
            operands.append(value)
            continue
        if value.word == b"BI":
            settings: dict[str, object] = {}
            while (start := lexer.keyword_at(pos, b"ID")) is None:
                key, pos = lexer.read(pos)
                if not isinstance(key, str):
                    raise LexError("an inline image's dictionary key is not a name")
                settings[key], pos = lexer.read(pos)
            end = _INLINE_END.search(data, start + 1)
            if end is None:
                raise LexError("an inline image has no EI")
            operations.append(([settings], b"INLINE IMAGE"))
            operands, pos = [], end.end()
            continue
        operations.append((operands, value.word))
        operands = []
