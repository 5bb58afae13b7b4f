"""Test-only key handles for the envelope tests: software keys of the test PKIs (sealkit.dev.pki) behind
PrivateKeyHandle, counting decryptions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import pem, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sealkit import sm2
from sealkit.errors import DamagedEnvelope
from sealkit.ukey import KeyKind, PrivateKeyHandle, SignOptions


class SoftKey(PrivateKeyHandle):
    """A cryptography RSA key or a sealkit.sm2 key, as the envelope code sees a UKey."""

    def __init__(self, key: Any, cert: x509.Certificate | None, label: str = "test-key") -> None:
        self._key = key
        self._cert = cert
        self.label = label
        self.kind = KeyKind.SM2 if isinstance(key, sm2.SM2PrivateKey) else KeyKind.RSA
        self.decrypt_calls = 0

    def public_key_info(self) -> asn1_keys.PublicKeyInfo:
        if self.kind is KeyKind.SM2:
            return self._key.public_key().public_key_info()
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return asn1_keys.PublicKeyInfo.load(der)

    def certificate(self) -> x509.Certificate | None:
        return self._cert

    def sign(self, data: bytes, options: SignOptions | None = None) -> bytes:
        if self.kind is KeyKind.SM2:
            return self._key.sign(data)
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def decrypt(
        self,
        ciphertext: bytes,
        *,
        rsa_padding: str = "oaep",
        oaep_hash: str = "sha256",
        mgf_hash: str | None = None,
    ) -> bytes:
        self.decrypt_calls += 1
        if self.kind is KeyKind.SM2:
            return self._key.decrypt(ciphertext)
        digests = {
            "sha1": hashes.SHA1,
            "sha256": hashes.SHA256,
            "sha384": hashes.SHA384,
            "sha512": hashes.SHA512,
        }
        algorithm = digests[oaep_hash]()
        pad = (
            padding.OAEP(padding.MGF1(digests[mgf_hash or oaep_hash]()), algorithm, None)
            if rsa_padding == "oaep"
            else padding.PKCS1v15()
        )
        try:
            return self._key.decrypt(ciphertext, pad)
        except ValueError:
            raise DamagedEnvelope("RSA decryption failed") from None


def read_cert(path: Path) -> x509.Certificate:
    _, _, der = pem.unarmor(path.read_bytes())
    return x509.Certificate.load(der)


def soft_handle(identity: Any, *, with_cert: bool = True) -> SoftKey:
    """A SoftKey over a test PKI identity's key file (RSA or SM2), with its certificate unless told not."""
    data = identity.key_path.read_bytes()
    key = (
        sm2.load_pem_private_key(data)
        if identity.kind == "sm2"
        else serialization.load_pem_private_key(data, None)
    )
    assert isinstance(key, rsa.RSAPrivateKey | sm2.SM2PrivateKey)
    return SoftKey(key, read_cert(identity.cert_path) if with_cert else None, identity.name)
