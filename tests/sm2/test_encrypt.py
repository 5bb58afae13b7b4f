"""SM2 encryption: round trips in every format, tampering, bad C1, and the shared-point helpers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit import sm2
from sealkit.errors import DamagedEnvelope, InvalidInput
from sealkit.sm2 import curve
from sealkit.sm2.encryption import CiphertextFormat

MSG = "开标前不得解密 — sealed bid".encode()
FORMATS = list(CiphertextFormat)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(backend: str, other_backend: str, fmt: CiphertextFormat) -> None:
    key = sm2.generate_private_key(backend=backend)
    other = sm2.derive_private_key(key.private_value, backend=other_backend)
    ct = key.public_key().encrypt(MSG, fmt)
    assert other.decrypt(ct, fmt) == MSG
    assert len(ct) >= 64 + 32 + len(MSG)


def test_der_layout(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    ct = sm2.decode_ciphertext(key.public_key().encrypt(MSG))
    assert len(ct.c3) == 32 and len(ct.c2) == len(MSG)
    assert curve.is_on_curve(*ct.c1)


def test_randomised(backend: str) -> None:
    pub = sm2.generate_private_key(backend=backend).public_key()
    assert pub.encrypt(MSG) != pub.encrypt(MSG)


def test_empty_plaintext_refused(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    with pytest.raises(InvalidInput):
        key.public_key().encrypt(b"")
    ct = sm2.decode_ciphertext(key.public_key().encrypt(b"x"))
    empty = sm2.SM2Ciphertext(ct.c1, ct.c3, b"").encode()
    with pytest.raises(DamagedEnvelope):
        key.decrypt(empty)


def test_long_message(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    data = bytes(range(256)) * 300
    assert key.decrypt(key.public_key().encrypt(data)) == data


@pytest.mark.parametrize("fmt", FORMATS)
def test_tampering(backend: str, fmt: CiphertextFormat) -> None:
    key = sm2.generate_private_key(backend=backend)
    ct = key.public_key().encrypt(MSG, fmt)
    for i in range(len(ct)):
        bad = bytearray(ct)
        bad[i] ^= 0x01
        with pytest.raises(DamagedEnvelope) as info:
            key.decrypt(bytes(bad), fmt)
        assert str(info.value) == "SM2 decryption failed"
    for cut in (1, 31, 32, len(ct) - 1):
        with pytest.raises(DamagedEnvelope):
            key.decrypt(ct[:-cut] if fmt is not CiphertextFormat.DER else ct[:cut], fmt)
    with pytest.raises(DamagedEnvelope):
        key.decrypt(b"", fmt)


def test_trailing_data_in_der(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    ct = key.public_key().encrypt(MSG)
    with pytest.raises(DamagedEnvelope):
        key.decrypt(ct + b"\x00")


def test_wrong_key(backend: str) -> None:
    ct = sm2.generate_private_key(backend=backend).public_key().encrypt(MSG)
    with pytest.raises(DamagedEnvelope):
        sm2.generate_private_key(backend=backend).decrypt(ct)


@pytest.mark.parametrize("fmt", FORMATS)
def test_c1_off_curve(backend: str, fmt: CiphertextFormat) -> None:
    key = sm2.generate_private_key(backend=backend)
    ct = sm2.decode_ciphertext(key.public_key().encrypt(MSG))
    x, y = ct.c1
    for point in ((x, (y + 1) % curve.P), (0, 0), (x, y + curve.P)):
        forged = sm2.SM2Ciphertext.__new__(sm2.SM2Ciphertext)
        object.__setattr__(forged, "c1", point)
        object.__setattr__(forged, "c3", ct.c3)
        object.__setattr__(forged, "c2", ct.c2)
        if fmt is not CiphertextFormat.DER and point[1] >= curve.P:
            continue  # cannot be written in 32 bytes
        with pytest.raises(DamagedEnvelope):
            key.decrypt(forged.encode(fmt), fmt)


def test_c1_negative_in_der(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    ct = sm2.decode_ciphertext(key.public_key().encrypt(MSG))
    forged = sm2.SM2Ciphertext.__new__(sm2.SM2Ciphertext)
    object.__setattr__(forged, "c1", (ct.c1[0] - curve.P, ct.c1[1]))
    object.__setattr__(forged, "c3", ct.c3)
    object.__setattr__(forged, "c2", ct.c2)
    with pytest.raises(DamagedEnvelope):
        key.decrypt(forged.encode())


def test_non_der_ciphertext(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    ct = key.public_key().encrypt(b"hi")
    assert ct[1] < 0x80
    assert key.decrypt(ct) == b"hi"
    long_form = b"\x30\x81" + bytes([ct[1]]) + ct[2:]
    with pytest.raises(DamagedEnvelope):
        key.decrypt(long_form)


def test_decrypt_with_shared_point(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    ct = key.public_key().encrypt(MSG)
    seen = []

    def shared(c1: bytes) -> bytes:
        seen.append(c1)
        x2, y2 = key.exchange(curve.decode_point(c1))
        return b"\x04" + x2.to_bytes(32, "big") + y2.to_bytes(32, "big")

    assert sm2.decrypt_with_shared_point(ct, shared) == MSG
    assert len(seen[0]) == 65 and seen[0][0] == 4
    with pytest.raises(DamagedEnvelope):
        sm2.decrypt_with_shared_point(ct, lambda c1: b"\x00" * 64)
    with pytest.raises(DamagedEnvelope):
        sm2.decrypt_with_shared_point(ct, lambda c1: b"\x00" * 10)


@pytest.mark.parametrize("fmt", FORMATS)
def test_decrypt_with_shared_x(backend: str, fmt: CiphertextFormat) -> None:
    """The SoftHSM path: the token gives only x2 = (d·C1).x; both y signs must work."""
    for _ in range(8):  # enough ciphertexts to hit both parities of y2 with overwhelming probability
        key = sm2.generate_private_key(backend=backend)
        ct = key.public_key().encrypt(MSG, fmt)
        x2_fn = lambda c1: key.exchange(curve.decode_point(c1))[0].to_bytes(32, "big")  # noqa: E731
        assert sm2.decrypt_with_shared_x(ct, x2_fn, fmt) == MSG
    with pytest.raises(DamagedEnvelope):
        sm2.decrypt_with_shared_x(ct, lambda c1: (5).to_bytes(32, "big"), fmt)
    with pytest.raises(DamagedEnvelope):
        sm2.decrypt_with_shared_x(ct, lambda c1: b"\x01", fmt)


def test_kdf_known_length() -> None:
    assert len(sm2.kdf(b"z", 0)) == 0
    assert len(sm2.kdf(b"z", 33)) == 33
    assert sm2.kdf(b"z", 64)[:32] == sm2.sm3(b"z" + b"\x00\x00\x00\x01")


@settings(max_examples=25, deadline=None)
@given(data=st.binary(min_size=1, max_size=500), fmt=st.sampled_from(FORMATS))
def test_property_round_trip(data: bytes, fmt: CiphertextFormat) -> None:
    backends = sm2.available_backends()
    key = sm2.derive_private_key(0xBEEF + len(data), backend=backends[0])
    ct = key.public_key().encrypt(data, fmt)
    for b in backends:
        assert sm2.derive_private_key(key.private_value, backend=b).decrypt(ct, fmt) == data
