"""RSAES-OAEP decoding (RFC 8017 §7.1.2 steps 3–4) of a block a token decrypted with raw RSA (CKM_RSA_X_509).

Tokens that refuse ``CKM_RSA_PKCS_OAEP`` with SHA-256 (SoftHSM 2.6 does OAEP with SHA-1 only, many UKeys
have no OAEP at all) can still open OAEP-wrapped content keys: the private-key operation stays on the token
and only the padding is removed here. Every way the block can be wrong gives the same
:class:`DamagedEnvelope`, after the same work (no early exit on secret-dependent data), so the decoder is no
padding oracle.
"""

from __future__ import annotations

import hashlib
import hmac

from sealkit.errors import DamagedEnvelope, UnsupportedAlgorithm

_HASHES = ("sha1", "sha256", "sha384", "sha512")


def _mgf1(seed: bytes, length: int, name: str) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.new(name, seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def oaep_decode(
    block: bytes, modulus_bytes: int, hash_name: str, label: bytes = b"", *, mgf_hash: str | None = None
) -> bytes:
    """The message in the OAEP-encoded ``block`` (raw RSA output) for a ``modulus_bytes``-byte key, with
    ``hash_name`` for the label hash and ``mgf_hash`` (default: the same) for MGF1."""
    mgf_hash = mgf_hash or hash_name
    for name in (hash_name, mgf_hash):
        if name not in _HASHES:
            raise UnsupportedAlgorithm(f"RSA-OAEP with {name} is not supported")
    h_len = hashlib.new(hash_name).digest_size
    k = modulus_bytes
    if len(block) > k or k < 2 * h_len + 2:
        raise DamagedEnvelope("RSA decryption failed")
    em = block.rjust(k, b"\x00")  # a token may drop leading zero bytes of the integer
    masked_seed, masked_db = em[1 : 1 + h_len], em[1 + h_len :]
    seed = _xor(masked_seed, _mgf1(masked_db, h_len, mgf_hash))
    db = _xor(masked_db, _mgf1(seed, k - h_len - 1, mgf_hash))
    good = hmac.compare_digest(db[:h_len], hashlib.new(hash_name, label).digest()) & (em[0] == 0)
    # DB = lHash || PS (zeros) || 0x01 || M: find the 0x01 without branching on the bytes.
    looking, index, invalid = 1, 0, 0
    for i, byte in enumerate(db[h_len:]):
        is_one = int(byte == 1)
        is_zero = int(byte == 0)
        index += i * (looking & is_one)
        invalid |= looking & (1 - is_one) & (1 - is_zero)
        looking &= 1 - is_one
    if not good or invalid or looking:
        raise DamagedEnvelope("RSA decryption failed")
    return db[h_len + index + 1 :]
