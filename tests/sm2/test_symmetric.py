"""SM3 / HMAC-SM3 / SM4 helpers."""

from __future__ import annotations

import hmac as std_hmac
import os

import pytest

from sealkit import sm2
from sealkit.errors import DamagedEnvelope, InvalidInput
from sealkit.sm2 import symmetric

from .conftest import needs_openssl_cli, openssl

KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


def test_hmac_sm3_matches_generic_construction() -> None:
    # RFC 2104 over SM3 (block size 64), computed independently of cryptography's HMAC
    def ref(key: bytes, msg: bytes) -> bytes:
        if len(key) > 64:
            key = sm2.sm3(key)
        key = key.ljust(64, b"\x00")
        inner = sm2.sm3(bytes(b ^ 0x36 for b in key) + msg)
        return sm2.sm3(bytes(b ^ 0x5C for b in key) + inner)

    for key in (b"", b"k", b"x" * 64, b"y" * 100):
        assert sm2.hmac_sm3(key, b"data") == ref(key, b"data")
    assert std_hmac.compare_digest(sm2.hmac_sm3(b"k", b"m"), ref(b"k", b"m"))


@needs_openssl_cli
def test_hmac_sm3_vs_openssl() -> None:
    out = openssl("mac", "-digest", "SM3", "-macopt", "hexkey:" + KEY.hex(), "HMAC", input=b"abc")
    assert out.decode().strip().lower() == sm2.hmac_sm3(KEY, b"abc").hex()


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000])
def test_sm4_cbc_round_trip(size: int) -> None:
    iv = os.urandom(16)
    data = os.urandom(size)
    ct = symmetric.sm4_cbc_encrypt(KEY, iv, data)
    assert len(ct) == (size // 16 + 1) * 16
    assert symmetric.sm4_cbc_decrypt(KEY, iv, ct) == data


@needs_openssl_cli
def test_sm4_cbc_vs_openssl() -> None:
    iv = bytes(range(16))
    ours = symmetric.sm4_cbc_encrypt(KEY, iv, "hello world, 你好".encode())
    theirs = openssl("enc", "-sm4-cbc", "-K", KEY.hex(), "-iv", iv.hex(), input="hello world, 你好".encode())
    assert ours == theirs


def test_sm4_cbc_bad_padding() -> None:
    iv = bytes(16)
    ct = bytearray(symmetric.sm4_cbc_encrypt(KEY, iv, b"abc"))
    ct[-1] ^= 0xFF
    with pytest.raises(DamagedEnvelope):
        symmetric.sm4_cbc_decrypt(KEY, iv, bytes(ct))
    with pytest.raises(DamagedEnvelope):
        symmetric.sm4_cbc_decrypt(KEY, iv, b"short")


def test_sm4_ctr_and_gcm() -> None:
    nonce = os.urandom(16)
    data = os.urandom(100)
    assert symmetric.sm4_ctr(KEY, nonce, symmetric.sm4_ctr(KEY, nonce, data)) == data
    n12 = os.urandom(12)
    ct = symmetric.sm4_gcm_encrypt(KEY, n12, data, b"aad")
    assert symmetric.sm4_gcm_decrypt(KEY, n12, ct, b"aad") == data
    with pytest.raises(DamagedEnvelope):
        symmetric.sm4_gcm_decrypt(KEY, n12, ct, b"other aad")
    bad = bytearray(ct)
    bad[0] ^= 1
    with pytest.raises(DamagedEnvelope):
        symmetric.sm4_gcm_decrypt(KEY, n12, bytes(bad), b"aad")


def test_key_size_checked() -> None:
    with pytest.raises(InvalidInput):
        symmetric.sm4_cbc_encrypt(b"short", bytes(16), b"x")
    with pytest.raises(InvalidInput):
        symmetric.sm4_ecb_encrypt(KEY, b"not a block")
