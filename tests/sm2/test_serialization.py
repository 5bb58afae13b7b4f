"""Key encodings: PKCS#8 (plain and PBES2), SEC 1, SPKI — against our own writer and the openssl CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealkit import sm2
from sealkit.errors import DecodingError, InvalidKey, PinIncorrect, PinRequired
from sealkit.sm2 import curve

from .conftest import needs_openssl_cli, openssl

FAST = 1000  # PBKDF2 iterations in tests


def test_pem_round_trip(backend: str) -> None:
    key = sm2.generate_private_key(backend=backend)
    pem = key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    again = sm2.load_pem_private_key(pem, backend=backend)
    assert again.private_value == key.private_value
    assert sm2.load_der_private_key(key.to_der()).private_value == key.private_value
    pub = sm2.load_pem_public_key(key.public_key().to_pem(), backend=backend)
    assert pub == key.public_key()
    assert sm2.load_der_public_key(key.public_key().to_der()) == key.public_key()


def test_encrypted_round_trip() -> None:
    key = sm2.generate_private_key()
    pem = key.to_pem(b"s3cret", iterations=FAST)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert sm2.load_pem_private_key(pem, b"s3cret").private_value == key.private_value
    with pytest.raises(PinRequired):
        sm2.load_pem_private_key(pem)
    with pytest.raises(PinIncorrect):
        sm2.load_pem_private_key(pem, b"wrong")
    with pytest.raises(InvalidKey):
        sm2.load_pem_private_key(key.to_pem(), b"unexpected")


def test_sec1_round_trip() -> None:
    key = sm2.generate_private_key()
    der = key.to_sec1_der()
    assert sm2.load_der_private_key(der).private_value == key.private_value


def test_public_numbers() -> None:
    key = sm2.generate_private_key()
    nums = key.public_key().public_numbers()
    assert (nums.x, nums.y) == (key.public_key().x, key.public_key().y)
    assert sm2.SM2PublicKey.from_point(nums.x, nums.y) == key.public_key()
    comp = key.public_key().encoded_point(compressed=True)
    assert sm2.SM2PublicKey.from_encoded_point(comp) == key.public_key()
    assert "private" not in repr(key).lower().replace("sm2privatekey", "")
    assert f"{key.private_value:x}" not in repr(key)


def test_spki_point_off_curve() -> None:
    pub = sm2.generate_private_key().public_key()
    der = bytearray(pub.to_der())
    der[-1] ^= 1  # last byte of y
    with pytest.raises(InvalidKey):
        sm2.load_der_public_key(bytes(der))
    with pytest.raises(InvalidKey):
        sm2.SM2PublicKey.from_point(pub.x, pub.y + 1)
    with pytest.raises(InvalidKey):
        sm2.SM2PublicKey.from_point(pub.x, pub.y + curve.P)


def test_private_value_range() -> None:
    for d in (0, curve.N - 1, curve.N, -1):
        with pytest.raises(InvalidKey):
            sm2.derive_private_key(d)
    sm2.derive_private_key(1)
    sm2.derive_private_key(curve.N - 2)


def test_mismatched_embedded_public_key() -> None:
    a, b = sm2.generate_private_key(), sm2.generate_private_key()
    from sealkit.sm2 import serialization

    der = serialization.encode_pkcs8(a.private_value, (b.public_key().x, b.public_key().y))
    with pytest.raises(InvalidKey):
        sm2.load_der_private_key(der)


def test_garbage() -> None:
    for bad in (b"", b"\x30\x00", b"not a key", b"\x30\x03\x02\x01\x00\x00"):
        with pytest.raises((DecodingError, InvalidKey)):
            sm2.load_der_private_key(bad)
        with pytest.raises((DecodingError, InvalidKey)):
            sm2.load_der_public_key(bad)
    with pytest.raises(DecodingError):
        sm2.load_pem_private_key(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


def test_other_curve_refused() -> None:
    from cryptography.hazmat.primitives import serialization as cs
    from cryptography.hazmat.primitives.asymmetric import ec

    k = ec.generate_private_key(ec.SECP256R1())
    der = k.private_bytes(cs.Encoding.DER, cs.PrivateFormat.PKCS8, cs.NoEncryption())
    with pytest.raises(InvalidKey):
        sm2.load_der_private_key(der)
    spki = k.public_key().public_bytes(cs.Encoding.DER, cs.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(InvalidKey):
        sm2.load_der_public_key(spki)


# --- openssl CLI ----------


@needs_openssl_cli
def test_openssl_genpkey_loads(tmp_path: Path, backend: str) -> None:
    pem = openssl("genpkey", "-algorithm", "SM2")
    key = sm2.load_pem_private_key(pem, backend=backend)
    sec1_der = openssl("pkey", "-outform", "DER", input=pem)  # OpenSSL writes SEC 1 for DER output
    assert sm2.load_der_private_key(sec1_der).private_value == key.private_value
    # byte-identical PKCS#8 to what OpenSSL writes
    assert key.to_pem() == pem
    pub_pem = openssl("pkey", "-pubout", input=pem)
    assert sm2.load_pem_public_key(pub_pem) == key.public_key()
    assert key.public_key().to_pem() == pub_pem


@needs_openssl_cli
def test_openssl_sec1_and_ec_parameters(tmp_path: Path) -> None:
    pem = openssl("ecparam", "-name", "SM2", "-genkey")
    assert b"SM2 PARAMETERS" in pem
    key = sm2.load_pem_private_key(pem)
    sec1 = openssl("ec", input=pem)
    assert b"SM2 PRIVATE KEY" in sec1
    assert sm2.load_pem_private_key(sec1).private_value == key.private_value
    text = openssl("ec", "-text", "-noout", input=pem).decode()
    assert f"{key.private_value:064x}"[-6:] in text.replace(":", "").replace("\n", "").replace(" ", "")


@needs_openssl_cli
def test_our_pem_reads_in_openssl(tmp_path: Path) -> None:
    key = sm2.generate_private_key()
    out = openssl("pkey", "-text", "-noout", input=key.to_pem()).decode()
    assert "SM2" in out
    pub_out = openssl("pkey", "-pubin", "-text", "-noout", input=key.public_key().to_pem()).decode()
    assert "SM2" in pub_out
    # SEC 1 too
    sec1 = openssl("ec", "-inform", "DER", "-outform", "DER", input=key.to_sec1_der())
    assert sm2.load_der_private_key(sec1).private_value == key.private_value


@needs_openssl_cli
def test_encrypted_pkcs8_from_openssl(tmp_path: Path) -> None:
    plain = openssl("genpkey", "-algorithm", "SM2")
    key = sm2.load_pem_private_key(plain)
    for cipher in ("aes-256-cbc", "aes-128-cbc", "sm4-cbc"):
        enc = openssl("pkcs8", "-topk8", "-v2", cipher, "-iter", "2048", "-passout", "pass:pw", input=plain)
        assert sm2.load_pem_private_key(enc, b"pw").private_value == key.private_value
        with pytest.raises(PinIncorrect):
            sm2.load_pem_private_key(enc, b"pw-wrong")


@needs_openssl_cli
def test_encrypted_pkcs8_to_openssl(tmp_path: Path) -> None:
    key = sm2.generate_private_key()
    enc = key.to_pem(b"pw", iterations=FAST)
    plain = openssl("pkey", "-passin", "pass:pw", input=enc)
    assert sm2.load_pem_private_key(plain).private_value == key.private_value
