"""sealkit's fast hex-string reader gives exactly what pyHanko's own reader gives, errors included."""

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyhanko.pdf_utils.generic import NameObject
from pyhanko.pdf_utils.misc import PdfReadError, PdfStreamError

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


NAME_ALPHABET = bytes(range(0x21, 0x7F)) + b"#\x00\x80\xe4\xff 0aF"


def _name(decoder, data: bytes):
    try:
        value = decoder(data)
    except PdfReadError:
        return "error"
    assert isinstance(value, NameObject)
    return str(value)


@given(st.binary(max_size=40).map(lambda b: bytes(NAME_ALPHABET[x % len(NAME_ALPHABET)] for x in b)))
def test_names_decode_as_pyhanko_decodes_them(body):
    assert _name(speedups.decode_name, body) == _name(speedups._ORIGINAL_NAME, body)


@pytest.mark.parametrize(
    "body", [b"", b"Type", b"A#20B", b"caf#C3#A9", b"bad#2", b"bad#zz", b"sp ace", b"\xe4"]
)
def test_names_edge_cases(body):
    assert _name(speedups.decode_name, body) == _name(speedups._ORIGINAL_NAME, body)


TOKEN_ALPHABET = b"ab/#()<>[]{}% \n\r\t\f\x00\xff"


@given(st.binary(max_size=700).map(lambda b: bytes(TOKEN_ALPHABET[x % len(TOKEN_ALPHABET)] for x in b)))
def test_tokens_end_where_pyhanko_ends_them(body):
    ours, theirs = io.BytesIO(body), io.BytesIO(body)
    assert speedups.read_until_delimiter(ours) == speedups._ORIGINAL_UNTIL_DELIMITER(theirs)
    assert ours.tell() == theirs.tell()


def test_long_token_across_blocks():
    body = b"x" * 1000 + b"/y"
    ours, theirs = io.BytesIO(body), io.BytesIO(body)
    assert speedups.read_until_delimiter(ours) == speedups._ORIGINAL_UNTIL_DELIMITER(theirs)
    assert ours.tell() == theirs.tell() == 1000
