"""pyHanko writes back what it read: names byte for byte, reals in PDF syntax (installed by
:mod:`sealkit.pdf._pyhanko_speedups`, so by every sealkit module that reads or updates a PDF).

Signing rewrites the objects it touches (the catalog, the page that gets a widget, with its direct
``/Resources``). pyHanko got two kinds of token wrong on the way back, found on real files (qpdf's
``weird-tokens.pdf``):

- **Names that are not UTF-8.** ``/F#e5`` (one byte, 0xE5) is read as the string ``"/Få"`` through a Latin-1
  fallback and written back UTF-8 encoded, as ``/F#C3#A5``: another name. When it names the page's font, the
  signed page no longer finds it and its text disappears, although the signer signed "the document". A name
  whose bytes are not UTF-8 is now read as a :class:`LatinName` (still a ``NameObject``: equal to, and hashed
  like, the string pyHanko always made) and written with its original bytes. Bytes below 0x10 are written as
  two hex digits (``#09``; pyHanko wrote ``#9``, which no reader accepts).
- **Small and large reals.** ``-0.000000001`` is a ``Decimal`` whose ``str`` is ``-1E-9``: pyHanko wrote
  that, which is not PDF syntax, so the signed file could not be read again (by sealkit's verifier, or by
  the next signer). A real is now written in fixed-point notation whenever pyHanko's form has an exponent
  (or cannot be formed); every other real is written exactly as before.

Both replace ``write_to_stream`` of pyHanko's ``NameObject`` and ``FloatObject`` classes, and pyHanko's
name decoder keeps its checks and errors (it is called first); only the bytes of the cases above change.
"""

from __future__ import annotations

import decimal
import re
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import is_regular_character

_ORIGINAL_DECODE = generic._decode_name
_ORIGINAL_WRITE_NAME = generic.NameObject.write_to_stream
_ORIGINAL_WRITE_REAL = generic.FloatObject.write_to_stream
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
#: Bytes written as themselves in a name; every other byte is written ``#XX``.
_LITERAL = frozenset(b for b in range(0x21, 0x7F) if is_regular_character(b) and b != 0x23)
_installed = False


class LatinName(generic.NameObject):
    """A name whose bytes are not UTF-8, read (as pyHanko reads it) one character per byte.

    It is another name than a UTF-8 one with the same text (``/F#e5`` is not ``/F#c3#a5``), so it compares
    unequal to it and hashes apart: a later update that swaps one for the other (and so unhooks a signed
    page's font) is a change to the modification rules, not an identical redefinition.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LatinName) or not isinstance(other, str):
            return str.__eq__(self, other)
        return False  # a UTF-8 name or a plain string: never the same bytes

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(("latin-1 name", str(self)))


def decode_name(name_bytes: bytes) -> Any:
    """pyHanko's decoder (same checks, same string), as a :class:`LatinName` when the bytes are not UTF-8."""
    name = _ORIGINAL_DECODE(name_bytes)
    raw = _ESCAPE.sub(lambda match: bytes((int(match.group(1), 16),)), name_bytes)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return LatinName(name)
    return name


def write_name(self: Any, stream: Any, handler: Any = None, container_ref: Any = None) -> None:
    """``NameObject.write_to_stream``: a :class:`LatinName` with its own bytes, others UTF-8; ``#XX``."""
    encoded = str(self).encode("latin-1" if isinstance(self, LatinName) else "utf-8")
    if not encoded.startswith(b"/"):
        _ORIGINAL_WRITE_NAME(self, stream, handler, container_ref)  # pyHanko's own error
        return
    stream.write(b"/" + b"".join(bytes((b,)) if b in _LITERAL else b"#%02X" % b for b in encoded[1:]))


def write_real(self: Any, stream: Any, handler: Any = None, container_ref: Any = None) -> None:
    """``FloatObject.write_to_stream``, in fixed-point notation where pyHanko's text has an exponent."""
    try:
        text = repr(self)
    except decimal.InvalidOperation:  # an integral value with more digits than the context's precision
        text = "E"
    if "E" not in text.upper():
        stream.write(text.encode("ascii"))
        return
    stream.write(format(decimal.Decimal(self), "f").encode("ascii"))


def install() -> None:
    """Patch pyHanko's name decoder and its name and real writers (idempotent)."""
    global _installed
    if not _installed:
        generic._decode_name = decode_name
        generic.NameObject.write_to_stream = write_name  # type: ignore[method-assign]
        generic.FloatObject.write_to_stream = write_real  # type: ignore[method-assign]
        _installed = True
