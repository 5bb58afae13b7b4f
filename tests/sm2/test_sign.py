"""SM2 signatures: round trips, cross-backend agreement, strict DER, and the negative cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit import sm2
from sealkit.errors import InvalidSignature
from sealkit.sm2 import curve
from sealkit.sm2.signature import DEFAULT_UID

MSG = "政府采购投标文件".encode()


@pytest.fixture(scope="module")
def keys_by_backend() -> dict[str, sm2.SM2PrivateKey]:
    d = sm2.generate_private_key().private_value
    return {b: sm2.derive_private_key(d, backend=b) for b in sm2.available_backends()}


def test_round_trip(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    assert key.backend_name == backend
    sig = key.sign(MSG)
    key.public_key().verify(sig, MSG)
    key.public_key().verify(sig, MSG, uid=DEFAULT_UID)


def test_custom_uid(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    sig = key.sign(MSG, uid=b"ALICE123@YAHOO.COM")
    key.public_key().verify(sig, MSG, uid=b"ALICE123@YAHOO.COM")
    with pytest.raises(InvalidSignature):
        key.public_key().verify(sig, MSG)
    sig_empty = key.sign(MSG, uid=b"")
    key.public_key().verify(sig_empty, MSG, uid=b"")


def test_cross_backend(
    keys_by_backend: dict[str, sm2.SM2PrivateKey], backend: str, other_backend: str
) -> None:
    sig = keys_by_backend[backend].sign(MSG)
    keys_by_backend[other_backend].public_key().verify(sig, MSG)


def test_backends_agree_on_public_key(keys_by_backend: dict[str, sm2.SM2PrivateKey]) -> None:
    points = {(k.public_key().x, k.public_key().y) for k in keys_by_backend.values()}
    assert len(points) == 1


def test_sign_digest_matches_sign(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    pub = key.public_key()
    e = sm2.sm3(sm2.compute_z(pub) + MSG)
    assert e == pub.digest(MSG)
    sig = key.sign_digest(e)
    pub.verify(sig, MSG)
    pub.verify_digest(key.sign(MSG), e)


def test_nonces_never_repeat(backend: str) -> None:
    key = sm2.derive_private_key(0x1234567, backend=backend)
    rs = {sm2.decode_signature(key.sign(b"same message"))[0] for _ in range(1000)}
    assert len(rs) == 1000


def test_wrong_key(backend: str) -> None:
    sig = sm2.generate_private_key(backend=backend).sign(MSG)
    with pytest.raises(InvalidSignature):
        sm2.generate_private_key(backend=backend).public_key().verify(sig, MSG)


def test_flipped_bits(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    pub = key.public_key()
    sig = key.sign(MSG)
    for i in range(len(sig)):
        for bit in (0, 7):
            bad = bytearray(sig)
            bad[i] ^= 1 << bit
            with pytest.raises(InvalidSignature):
                pub.verify(bytes(bad), MSG)
    bad_msg = bytearray(MSG)
    bad_msg[3] ^= 1
    with pytest.raises(InvalidSignature):
        pub.verify(sig, bytes(bad_msg))


def _raw_der(r_body: bytes, s_body: bytes, extra: bytes = b"") -> bytes:
    body = b"\x02" + bytes([len(r_body)]) + r_body + b"\x02" + bytes([len(s_body)]) + s_body
    return b"\x30" + bytes([len(body)]) + body + extra


@pytest.fixture
def signed(backend: str) -> tuple[sm2.SM2PublicKey, int, int]:
    key = sm2.generate_private_key(backend=backend)
    r, s = sm2.decode_signature(key.sign(MSG))
    return key.public_key(), r, s


def _body(v: int) -> bytes:
    return sm2.encode_signature(v, 1)[4 : 4 + sm2.encode_signature(v, 1)[3]]


def test_strict_der(signed: tuple[sm2.SM2PublicKey, int, int]) -> None:
    pub, r, s = signed
    good = sm2.encode_signature(r, s)
    pub.verify(good, MSG)
    rb, sb = _body(r), _body(s)
    cases = {
        "trailing byte": good + b"\x00",
        "trailing via length": _raw_der(rb, sb, b"\x05\x00"),
        "non-minimal r": _raw_der(b"\x00" + rb, sb),
        "negative s": _raw_der(rb, bytes([sb[0] | 0x80]) + sb[1:] if sb[0] != 0 else sb[1:]),
        "long-form length": b"\x30\x81" + bytes([len(good) - 2]) + good[2:],
        "wrong outer tag": b"\x31" + good[1:],
        "wrong int tag": good[:2] + b"\x03" + good[3:],
        "truncated": good[:-1],
        "empty": b"",
        "raw r||s": r.to_bytes(32, "big") + s.to_bytes(32, "big"),
        "three integers": _raw_der(rb, sb)[:1]
        + bytes([_raw_der(rb, sb)[1] + 3])
        + _raw_der(rb, sb)[2:]
        + b"\x02\x01\x01",
    }
    for name, bad in cases.items():
        with pytest.raises(InvalidSignature):
            pub.verify(bad, MSG)
        assert name


@pytest.mark.parametrize(
    "r, s",
    [(0, 1), (1, 0), (curve.N, 1), (1, curve.N), (curve.N + 5, 7), (0, 0)],
    ids=["r=0", "s=0", "r=n", "s=n", "r>n", "both 0"],
)
def test_out_of_range(backend: str, r: int, s: int) -> None:
    pub = sm2.generate_private_key(backend=backend).public_key()
    body = b"\x02" + bytes([len(_int(r))]) + _int(r) + b"\x02" + bytes([len(_int(s))]) + _int(s)
    with pytest.raises(InvalidSignature):
        pub.verify(b"\x30" + bytes([len(body)]) + body, MSG)


def _int(v: int) -> bytes:
    b = v.to_bytes(v.bit_length() // 8 + 1, "big")
    return b[1:] if len(b) > 1 and b[0] == 0 and not b[1] & 0x80 else b


def test_r_plus_s_equal_n_rejected(backend: str) -> None:
    pub = sm2.generate_private_key(backend=backend).public_key()
    with pytest.raises(InvalidSignature):
        pub.verify(sm2.encode_signature(5, curve.N - 5), MSG)


def test_digest_length_checked(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    with pytest.raises(InvalidSignature):
        key.public_key().verify_digest(key.sign(MSG), b"\x00" * 31)
    with pytest.raises(Exception):  # noqa: B017
        key.sign_digest(b"\x00" * 33)


def test_encode_signature_range() -> None:
    with pytest.raises(ValueError):
        sm2.encode_signature(0, 1)
    assert sm2.decode_signature(sm2.encode_signature(1, curve.N - 1)) == (1, curve.N - 1)
    # high bit set -> a leading 00 byte
    v = 1 << 255
    assert sm2.encode_signature(v, 1)[3] == 33


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=300), uid=st.binary(max_size=40))
def test_property_round_trip(data: bytes, uid: bytes) -> None:
    for b in sm2.available_backends():
        key = sm2.derive_private_key(0xC0FFEE + len(data), backend=b)
        sig = key.sign(data, uid)
        for other in sm2.available_backends():
            sm2.derive_private_key(key.private_value, backend=other).public_key().verify(sig, data, uid)
