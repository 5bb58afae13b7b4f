"""SM3, HMAC-SM3 and SM4, as thin helpers over ``cryptography`` (which has both algorithms natively).

SM4 modes:

* :func:`sm4_ecb_encrypt` / :func:`sm4_ecb_decrypt` — raw blocks, for test vectors and key wrapping only;
* :func:`sm4_cbc_encrypt` / :func:`sm4_cbc_decrypt` — PKCS#7 padding, caller-supplied 16-byte IV;
* :func:`sm4_ctr` — encryption and decryption are the same operation;
* :func:`sm4_gcm_encrypt` / :func:`sm4_gcm_decrypt` — AEAD, ``ciphertext || 16-byte tag``.

Decryption failures (bad padding, bad tag) raise :class:`~sealkit.errors.DamagedEnvelope` with no detail.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from sealkit.errors import DamagedEnvelope, InvalidInput

SM3_DIGEST_SIZE = 32
SM4_BLOCK_SIZE = 16
SM4_KEY_SIZE = 16
GCM_TAG_SIZE = 16


#: ``cryptography`` hash classes by asn1crypto digest name, for certificates and PBES2 (one table).
DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sm3": hashes.SM3,
}


def sm3(data: bytes) -> bytes:
    """SM3 digest (32 bytes) of ``data``."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def sm3_hasher() -> hashes.Hash:
    """A streaming SM3 object: ``h = sm3_hasher(); h.update(chunk) ...; h.finalize()``."""
    return hashes.Hash(hashes.SM3())


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC-SM3 (32 bytes) of ``data`` under ``key``."""
    h = hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize()


def _check_key(key: bytes) -> None:
    if len(key) != SM4_KEY_SIZE:
        raise InvalidInput("an SM4 key is 16 bytes")


def sm4_ecb_context(key: bytes, decrypt: bool = False) -> CipherContext:
    """An SM4-ECB cipher context (for vectors that iterate the block cipher)."""
    _check_key(key)
    cipher = Cipher(algorithms.SM4(key), modes.ECB())  # noqa: S305 - raw blocks are what callers ask for
    return cipher.decryptor() if decrypt else cipher.encryptor()


def sm4_ecb_encrypt(key: bytes, data: bytes) -> bytes:
    """SM4-ECB of whole blocks (no padding). For test vectors and raw block operations only."""
    if len(data) % SM4_BLOCK_SIZE:
        raise InvalidInput("SM4-ECB data must be a multiple of 16 bytes")
    ctx = sm4_ecb_context(key)
    return ctx.update(data) + ctx.finalize()


def sm4_ecb_decrypt(key: bytes, data: bytes) -> bytes:
    """Inverse of :func:`sm4_ecb_encrypt`."""
    if len(data) % SM4_BLOCK_SIZE:
        raise InvalidInput("SM4-ECB data must be a multiple of 16 bytes")
    ctx = sm4_ecb_context(key, decrypt=True)
    return ctx.update(data) + ctx.finalize()


def sm4_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """SM4-CBC with PKCS#7 padding."""
    _check_key(key)
    if len(iv) != SM4_BLOCK_SIZE:
        raise InvalidInput("an SM4-CBC IV is 16 bytes")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    return enc.update(padded) + enc.finalize()


def sm4_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """Inverse of :func:`sm4_cbc_encrypt`; bad length or padding raises :class:`DamagedEnvelope`."""
    _check_key(key)
    if len(iv) != SM4_BLOCK_SIZE:
        raise InvalidInput("an SM4-CBC IV is 16 bytes")
    if not ciphertext or len(ciphertext) % SM4_BLOCK_SIZE:
        raise DamagedEnvelope("SM4 decryption failed")
    dec = Cipher(algorithms.SM4(key), modes.CBC(iv)).decryptor()
    padded = dec.update(ciphertext) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise DamagedEnvelope("SM4 decryption failed") from None


def sm4_ctr(key: bytes, nonce: bytes, data: bytes) -> bytes:
    """SM4-CTR with a 16-byte initial counter block; the same call encrypts and decrypts."""
    _check_key(key)
    if len(nonce) != SM4_BLOCK_SIZE:
        raise InvalidInput("an SM4-CTR counter block is 16 bytes")
    ctx = Cipher(algorithms.SM4(key), modes.CTR(nonce)).encryptor()
    return ctx.update(data) + ctx.finalize()


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes = b"") -> bytes:
    """SM4-GCM; returns ``ciphertext || tag`` (16-byte tag). Use a 12-byte nonce, never twice per key."""
    _check_key(key)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    if associated_data:
        enc.authenticate_additional_data(associated_data)
    ct = enc.update(plaintext) + enc.finalize()
    return ct + enc.tag


def sm4_gcm_decrypt(key: bytes, nonce: bytes, data: bytes, associated_data: bytes = b"") -> bytes:
    """Inverse of :func:`sm4_gcm_encrypt`; a wrong tag raises :class:`DamagedEnvelope`."""
    _check_key(key)
    if len(data) < GCM_TAG_SIZE:
        raise DamagedEnvelope("SM4 decryption failed")
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-GCM_TAG_SIZE:])).decryptor()
    if associated_data:
        dec.authenticate_additional_data(associated_data)
    try:
        return dec.update(data[:-GCM_TAG_SIZE]) + dec.finalize()
    except InvalidTag:
        raise DamagedEnvelope("SM4 decryption failed") from None
