"""A faster hex-string reader and name decoder for pyHanko's PDF parser (installed once, by
:mod:`sealkit.pdf`).

pyHanko reads a hex string one byte at a time through a generator (``read_non_whitespace`` per digit); a
signature's /Contents is tens of thousands of hex digits and is parsed several times per verification, which
made that loop the largest single cost of verifying a contract (≈ 40 %). This reader takes the string in
blocks and decodes it with ``binascii`` — same result, same errors: whitespace is skipped, any other
non-hex byte raises ``PdfStreamError``, an odd digit count is padded with 0. A string that contains a ``%``
(a comment, which pyHanko also skips) is handed to pyHanko's own reader, unchanged.

pyHanko also decodes every name (``/Type``, ``/Annots`` …) byte by byte into a ``BytesIO``, ≈ 10 % of a
verification. A name made only of regular printable ASCII characters without ``#`` escapes — nearly every
name — decodes to itself; :func:`decode_name` returns it directly and hands every other name (escapes,
bytes that must be escaped, which pyHanko rejects) to pyHanko's own decoder, through
:mod:`sealkit.pdf._pyhanko_fidelity` (which :func:`install` installs too: names and reals written back as
they were read). The bytes of a
name (and of an operator) are found by :func:`read_until_delimiter`, which reads a block and searches it
instead of calling ``read(1)`` per byte: same bytes, same position afterwards.
"""

from __future__ import annotations

import binascii
import os
import re
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_DELIMITERS, PDF_WHITESPACE, PdfStreamError, is_regular_character

from sealkit.pdf import _pyhanko_fidelity

_ORIGINAL = generic.read_hex_string_from_stream
_ORIGINAL_NAME = generic._decode_name
_ORIGINAL_UNTIL_DELIMITER = generic.read_until_delimiter
_DELIMITER = re.compile(b"[" + re.escape(PDF_WHITESPACE + PDF_DELIMITERS) + b"]")
_TOKEN_BLOCK = 256
#: Bytes that stand for themselves in a name: printable ASCII that is not a delimiter, whitespace or '#'.
_PLAIN_NAME = bytes(b for b in range(0x21, 0x7F) if is_regular_character(b) and b != 0x23)
_HEX = b"0123456789abcdefABCDEF"
_BLOCK = 1 << 16
_installed = False


def read_hex_string_from_stream(stream: Any) -> Any:
    start = stream.tell()
    stream.read(1)  # "<"
    chunks: list[bytes] = []
    while True:
        block = stream.read(_BLOCK)
        if not block:
            raise PdfStreamError("Stream ended prematurely")
        end = block.find(b">")
        if end < 0:
            chunks.append(block)
            continue
        chunks.append(block[:end])
        stream.seek(end + 1 - len(block), os.SEEK_CUR)
        break
    body = b"".join(chunks)
    if b"%" in body:
        stream.seek(start)
        return _ORIGINAL(stream)
    digits = body.translate(None, PDF_WHITESPACE)
    if digits.translate(None, _HEX):
        raise PdfStreamError("Unexpected token in hex string")
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


def decode_name(name_bytes: bytes) -> Any:
    """pyHanko's ``_decode_name`` (the bytes after ``/``), without its per-byte loop for plain names."""
    if name_bytes.translate(None, _PLAIN_NAME):
        return _pyhanko_fidelity.decode_name(name_bytes)
    return generic.NameObject("/" + name_bytes.decode("ascii"))


def read_until_delimiter(stream: Any) -> bytes:
    """pyHanko's ``read_until_delimiter``: the bytes up to the next whitespace or delimiter (left unread) or
    the end of the stream."""
    chunks: list[bytes] = []
    while True:
        block = stream.read(_TOKEN_BLOCK)
        if not block:
            return b"".join(chunks)
        found = _DELIMITER.search(block)
        if found is not None:
            chunks.append(block[: found.start()])
            stream.seek(found.start() - len(block), os.SEEK_CUR)
            return b"".join(chunks)
        chunks.append(block)


def install() -> None:
    """Use :func:`read_hex_string_from_stream`, :func:`decode_name` and :func:`read_until_delimiter` in
    pyHanko's object reader (idempotent)."""
    global _installed
    if not _installed:
        _pyhanko_fidelity.install()
        generic.read_hex_string_from_stream = read_hex_string_from_stream
        generic._decode_name = decode_name
        generic.read_until_delimiter = read_until_delimiter
        _installed = True
