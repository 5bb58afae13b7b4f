"""Test-only key handles and certificates for the envelope tests (software keys behind PrivateKeyHandle)."""

from __future__ import annotations

import datetime as dt
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

    def decrypt(self, ciphertext: bytes, *, rsa_padding: str = "oaep", oaep_hash: str = "sha256") -> bytes:
        self.decrypt_calls += 1
        if self.kind is KeyKind.SM2:
            return self._key.decrypt(ciphertext)
        algorithm = {"sha1": hashes.SHA1, "sha256": hashes.SHA256}[oaep_hash]()
        pad = (
            padding.OAEP(padding.MGF1(algorithm), algorithm, None)
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


def rsa_handle(identity: Any, *, with_cert: bool = True) -> SoftKey:
    key = serialization.load_pem_private_key(identity.key_path.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return SoftKey(key, read_cert(identity.cert_path) if with_cert else None, identity.name)


# --- SM2 certificates, made here until the test PKI issues SM2 ---


def _name(cn: str) -> x509.Name:
    return x509.Name.build({"country_name": "CN", "organization_name": "sealkit 测试", "common_name": cn})


def sm2_certificate(
    cn: str, key: sm2.SM2PrivateKey, issuer_cn: str, issuer_key: sm2.SM2PrivateKey, serial: int
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": {"algorithm": "sm2_sm3"},
            "issuer": _name(issuer_cn),
            "validity": {
                "not_before": x509.Time({"utc_time": now - dt.timedelta(days=1)}),
                "not_after": x509.Time({"utc_time": now + dt.timedelta(days=30)}),
            },
            "subject": _name(cn),
            "subject_public_key_info": key.public_key().public_key_info(),
            "extensions": [
                {"extn_id": "key_identifier", "extn_value": key.public_key().public_key_info().sha1},
            ],
        }
    )
    signature = issuer_key.sign(tbs.dump())
    return x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": "sm2_sm3"},
            "signature_value": signature,
        }
    )


class Sm2Ca:
    """A self-signed SM2 root that issues end-entity certificates with SoftKey handles."""

    def __init__(self, name: str = "sealkit SM2 Test Root") -> None:
        self.name = name
        self.key = sm2.generate_private_key()
        self.cert = sm2_certificate(name, self.key, name, self.key, 1)
        self._serial = 100

    def issue(self, cn: str) -> tuple[SoftKey, x509.Certificate]:
        self._serial += 1
        key = sm2.generate_private_key()
        cert = sm2_certificate(cn, key, self.name, self.key, self._serial)
        return SoftKey(key, cert, cn), cert
