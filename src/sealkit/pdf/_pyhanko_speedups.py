"""A faster hex-string reader for pyHanko's PDF parser (installed once, by :mod:`sealkit.pdf`).

pyHanko reads a hex string one byte at a time through a generator (``read_non_whitespace`` per digit); a
signature's /Contents is tens of thousands of hex digits and is parsed several times per verification, which
made that loop the largest single cost of verifying a contract (≈ 40 %). This reader takes the string in
blocks and decodes it with ``binascii`` — same result, same errors: whitespace is skipped, any other
non-hex byte raises ``PdfStreamError``, an odd digit count is padded with 0. A string that contains a ``%``
(a comment, which pyHanko also skips) is handed to pyHanko's own reader, unchanged.
"""

from __future__ import annotations

import binascii
import os
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE, PdfStreamError

_ORIGINAL = generic.read_hex_string_from_stream
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


def install() -> None:
    """Use :func:`read_hex_string_from_stream` in pyHanko's object reader (idempotent)."""
    global _installed
    if not _installed:
        generic.read_hex_string_from_stream = read_hex_string_from_stream
        _installed = True
