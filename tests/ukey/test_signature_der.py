"""r||s from a token to DER: the same bytes ``cryptography`` writes, for every shape of integer."""

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from sealkit.errors import MechanismNotSupported
from sealkit.ukey.pkcs11 import raw_to_der

HALVES = [
    bytes(32),  # zero
    b"\x00" * 31 + b"\x01",
    b"\x7f" + b"\xff" * 31,  # top bit clear
    b"\x80" + b"\x00" * 31,  # top bit set: a leading zero byte
    b"\x00\x80" + b"\x11" * 30,  # leading zero, then top bit set
    bytes(range(1, 33)),
]


@pytest.mark.parametrize("r", HALVES)
@pytest.mark.parametrize("s", HALVES[2:4])
def test_matches_cryptography(r, s):
    assert raw_to_der(r + s) == encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))


def test_long_form_length_for_p521_sizes():
    half = b"\xff" * 66
    assert raw_to_der(half + half) == encode_dss_signature(
        int.from_bytes(half, "big"), int.from_bytes(half, "big")
    )


@pytest.mark.parametrize("raw", [b"", b"\x01" * 63])
def test_not_two_halves(raw):
    with pytest.raises(MechanismNotSupported):
        raw_to_der(raw)
