"""sealkit's fast hex-string reader gives exactly what pyHanko's own reader gives, errors included."""

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyhanko.pdf_utils.misc import PdfStreamError

from sealkit.pdf import _pyhanko_speedups as speedups

ALPHABET = b"0123456789abcdefABCDEF \n\r\t\f\x00%gZ<"


def _read(reader, data: bytes):
    stream = io.BytesIO(data)
    try:
        value = reader(stream)
    except PdfStreamError:
        return "error", None
    return bytes(value.original_bytes if hasattr(value, "original_bytes") else value), stream.tell()


@given(st.binary(max_size=300).map(lambda b: bytes(ALPHABET[x % len(ALPHABET)] for x in b)), st.booleans())
def test_same_as_pyhanko(body, closed):
    data = b"<" + body.replace(b">", b"") + (b">trailing" if closed else b"")
    assert _read(speedups.read_hex_string_from_stream, data) == _read(speedups._ORIGINAL, data)


@pytest.mark.parametrize("size", [10, 70_000, 200_001])
def test_long_strings_across_blocks(size):
    digits = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    data = b"<" + digits + b"> rest"
    assert _read(speedups.read_hex_string_from_stream, data) == _read(speedups._ORIGINAL, data)
