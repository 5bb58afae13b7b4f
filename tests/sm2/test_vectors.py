"""The published GB/T 32918 / GM/T 0004 / GB/T 32907 vectors, in every backend and format."""

from __future__ import annotations

import pytest

from sealkit import sm2
from sealkit.errors import DamagedEnvelope, InvalidSignature
from sealkit.sm2 import symmetric
from sealkit.sm2.encryption import CiphertextFormat


def test_sm3_vectors(vectors: dict) -> None:
    for v in vectors["sm3"]:
        if "msg_ascii" in v:
            msg = v["msg_ascii"].encode()
        else:
            text, times = v["msg_ascii_repeat"]
            msg = text.encode() * times
        assert sm2.sm3(msg).hex() == v["digest"]
        h = sm2.sm3_hasher()
        for i in range(0, len(msg), 7):
            h.update(msg[i : i + 7])
        assert h.finalize().hex() == v["digest"]


def test_sm4_ecb_vector(vectors: dict) -> None:
    v = next(v for v in vectors["sm4"] if v["mode"] == "ecb")
    key, pt = bytes.fromhex(v["key"]), bytes.fromhex(v["plaintext"])
    assert symmetric.sm4_ecb_encrypt(key, pt).hex() == v["ciphertext"]
    assert symmetric.sm4_ecb_decrypt(key, bytes.fromhex(v["ciphertext"])) == pt


def test_sm4_ecb_million_times(vectors: dict) -> None:
    v = next(v for v in vectors["sm4"] if v["mode"] == "ecb-1000000-times")
    ctx = symmetric.sm4_ecb_context(bytes.fromhex(v["key"]))
    block = bytes.fromhex(v["plaintext"])
    update = ctx.update
    for _ in range(1_000_000):
        block = update(block)
    assert block.hex() == v["ciphertext"]


def _sign_vector(vectors: dict) -> dict:
    return vectors["sm2_sign"][0]


def test_sign_vector_public_key(vectors: dict, backend: str) -> None:
    v = _sign_vector(vectors)
    key = sm2.derive_private_key(int(v["d"], 16), backend=backend)
    pub = key.public_key()
    assert (pub.x, pub.y) == (int(v["public_x"], 16), int(v["public_y"], 16))


def test_sign_vector_reproduced_with_k(vectors: dict, backend: str) -> None:
    v = _sign_vector(vectors)
    key = sm2.derive_private_key(int(v["d"], 16), backend=backend)
    e = key.public_key().digest(v["msg_ascii"].encode(), v["uid_ascii"].encode())
    sig = key._sign_digest_with_k(e, int(v["k"], 16))
    assert sm2.decode_signature(sig) == (int(v["r"], 16), int(v["s"], 16))


def test_sign_vector_verifies(vectors: dict, backend: str) -> None:
    v = _sign_vector(vectors)
    pub = sm2.SM2PublicKey.from_point(int(v["public_x"], 16), int(v["public_y"], 16), backend=backend)
    sig = sm2.encode_signature(int(v["r"], 16), int(v["s"], 16))
    pub.verify(sig, v["msg_ascii"].encode(), v["uid_ascii"].encode())
    pub.verify(sig, v["msg_ascii"].encode())  # the vector's uid is the default one
    with pytest.raises(InvalidSignature):
        pub.verify(sig, b"message digesT")


def _enc_parts(v: dict) -> tuple[bytes, bytes, bytes, bytes]:
    return tuple(bytes.fromhex(v[k]) for k in ("c1_x", "c1_y", "c3", "c2"))  # type: ignore[return-value]


def _encode(v: dict, fmt: CiphertextFormat) -> bytes:
    x, y, c3, c2 = _enc_parts(v)
    return sm2.SM2Ciphertext((int.from_bytes(x, "big"), int.from_bytes(y, "big")), c3, c2).encode(fmt)


def test_encryption_vector_layouts(vectors: dict) -> None:
    v = vectors["sm2_encrypt"][0]
    x, y, c3, c2 = _enc_parts(v)
    assert x[0] == 0x04  # the trap: C1.x itself starts with 04
    assert _encode(v, CiphertextFormat.C1C3C2) == b"\x04" + x + y + c3 + c2
    assert _encode(v, CiphertextFormat.C1C3C2_NO_PREFIX) == x + y + c3 + c2
    assert _encode(v, CiphertextFormat.C1C2C3) == b"\x04" + x + y + c2 + c3
    assert _encode(v, CiphertextFormat.C1C2C3_NO_PREFIX) == x + y + c2 + c3


@pytest.mark.parametrize("fmt", list(CiphertextFormat))
def test_encryption_vector_decrypts(vectors: dict, backend: str, fmt: CiphertextFormat) -> None:
    v = vectors["sm2_encrypt"][0]
    key = sm2.derive_private_key(int(v["d"], 16), backend=backend)
    assert key.decrypt(_encode(v, fmt), fmt) == v["msg_ascii"].encode()


@pytest.mark.parametrize("fmt", list(CiphertextFormat))
def test_encryption_vector_reproduced_with_k(vectors: dict, backend: str, fmt: CiphertextFormat) -> None:
    v = vectors["sm2_encrypt"][0]
    pub = sm2.derive_private_key(int(v["d"], 16), backend=backend).public_key()
    assert pub._encrypt_with_k(v["msg_ascii"].encode(), int(v["k"], 16), fmt) == _encode(v, fmt)


def test_encryption_vector_wrong_format_fails(vectors: dict) -> None:
    """Reading the unprefixed layout as prefixed (or vice versa) must fail, never 'fix' a 04."""
    v = vectors["sm2_encrypt"][0]
    key = sm2.derive_private_key(int(v["d"], 16))
    raw = _encode(v, CiphertextFormat.C1C3C2_NO_PREFIX)
    with pytest.raises(DamagedEnvelope):
        key.decrypt(raw, CiphertextFormat.C1C3C2)
    with pytest.raises(DamagedEnvelope):
        key.decrypt(b"\x04" + raw, CiphertextFormat.C1C3C2_NO_PREFIX)
