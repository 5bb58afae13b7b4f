"""Software keys: :class:`SoftwareKey` over a ``cryptography`` RSA/P-256 key or a :mod:`sealkit.sm2` key,
and :func:`load_key_file` for PEM/DER PKCS#8 (plain or encrypted), SEC1 and PKCS#12 files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from sealkit.certs import PEM_LABELS, load_certificates, parse_certificates
from sealkit.errors import (
    CertificateError,
    DamagedEnvelope,
    DecodingError,
    InvalidKey,
    KeyNotFound,
    MechanismNotSupported,
    PinIncorrect,
)
from sealkit.errors import (
    UnsupportedAlgorithm as SealkitUnsupported,
)
from sealkit.ukey import _sm2
from sealkit.ukey.base import KeyKind, PrivateKeyHandle, SignOptions
from sealkit.ukey.pins import ChainedPinSource

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    """The ``cryptography`` hash for ``sha256``/``sha384``/``sha512``."""
    try:
        return _HASHES[name.lower()]()
    except KeyError:
        raise SealkitUnsupported(
            f"digest {name!r} is not supported here (use sha256, sha384 or sha512)"
        ) from None


def oaep_hash_algorithm(name: str) -> hashes.HashAlgorithm:
    """A hash for reading RSA-OAEP: the signing digests, and SHA-1 (OpenSSL's OAEP default; not weak here)."""
    return hashes.SHA1() if name.lower() == "sha1" else hash_algorithm(name)  # noqa: S303


class SoftwareKey(PrivateKeyHandle):
    """A private key held in this process (from a file or the key store)."""

    def __init__(
        self,
        key: Any,
        *,
        label: str,
        certificate: asn1_x509.Certificate | None = None,
        chain: Sequence[asn1_x509.Certificate] = (),
    ) -> None:
        self._key = key
        self.label = label
        if isinstance(key, rsa.RSAPrivateKey):
            self.kind = KeyKind.RSA
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            if not isinstance(key.curve, ec.SECP256R1):
                raise InvalidKey(f"EC curve {key.curve.name} is not supported (use P-256 or SM2)")
            self.kind = KeyKind.P256
        elif _sm2.is_sm2_key(key):
            self.kind = KeyKind.SM2
        else:
            raise InvalidKey(f"unsupported key type {type(key).__name__}")
        self._spki = self._compute_spki()
        self._cert = certificate
        self._chain = list(chain)
        if certificate is not None:
            check_certificate_matches(certificate, self._spki, label)

    def _compute_spki(self) -> asn1_keys.PublicKeyInfo:
        if self.kind is KeyKind.SM2:
            return _sm2.public_key_info(self._key)
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return asn1_keys.PublicKeyInfo.load(der)

    def public_key_info(self) -> asn1_keys.PublicKeyInfo:
        return self._spki

    def certificate(self) -> asn1_x509.Certificate | None:
        return self._cert

    def chain(self) -> list[asn1_x509.Certificate]:
        return list(self._chain)

    def sign(self, data: bytes, options: SignOptions | None = None) -> bytes:
        options = options or SignOptions()
        if self.kind is KeyKind.SM2:
            return _sm2.sign(self._key, data, options.sm2_uid)
        algorithm = hash_algorithm(options.digest)
        if self.kind is KeyKind.P256:
            return bytes(self._key.sign(data, ec.ECDSA(algorithm)))
        return bytes(self._key.sign(data, rsa_padding(options.rsa_padding, algorithm), algorithm))

    def decrypt(
        self,
        ciphertext: bytes,
        *,
        rsa_padding: str = "oaep",
        oaep_hash: str = "sha256",
        mgf_hash: str | None = None,
    ) -> bytes:
        if self.kind is KeyKind.SM2:
            return _sm2.decrypt(self._key, ciphertext)
        if self.kind is not KeyKind.RSA:
            raise MechanismNotSupported(f"key {self.label!r} ({self.kind}) cannot decrypt")
        pad: padding.AsymmetricPadding
        if rsa_padding == "oaep":
            algorithm = oaep_hash_algorithm(oaep_hash)
            mgf = oaep_hash_algorithm(mgf_hash or oaep_hash)
            pad = padding.OAEP(mgf=padding.MGF1(mgf), algorithm=algorithm, label=None)
        elif rsa_padding == "pkcs1v15":
            pad = padding.PKCS1v15()
        else:
            raise SealkitUnsupported(f"RSA padding {rsa_padding!r} is not supported (use oaep or pkcs1v15)")
        try:
            return bytes(self._key.decrypt(ciphertext, pad))
        except ValueError:
            raise DamagedEnvelope("RSA decryption failed") from None


def rsa_padding(name: str, algorithm: hashes.HashAlgorithm) -> padding.AsymmetricPadding:
    """PKCS#1 v1.5 or PSS (MGF1 with the same hash, salt as long as the digest)."""
    if name == "pkcs1v15":
        return padding.PKCS1v15()
    if name == "pss":
        return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
    raise SealkitUnsupported(f"RSA padding {name!r} is not supported (use pkcs1v15 or pss)")


def check_certificate_matches(cert: asn1_x509.Certificate, spki: asn1_keys.PublicKeyInfo, label: str) -> None:
    """:class:`CertificateError` unless ``cert`` certifies the public key ``spki``."""
    if cert.public_key.dump() != spki.dump():
        raise CertificateError(
            f"the certificate {cert.subject.human_friendly!r} does not match key {label!r}: import the CA's "
            "answer to a request made from this key"
        )


# --- loading --------------------------------------------------------------------------------------------


def load_key_file(
    path: str | Path,
    *,
    pins: ChainedPinSource,
    cert: str | Path | None = None,
    chain: Sequence[str | Path] = (),
) -> SoftwareKey:
    """Load a key file; the password (if the file is encrypted) comes from ``pins``."""
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyNotFound(f"cannot read key file {path}: {exc.strerror}") from None
    certificate = load_certificates(cert)[0] if cert else None
    extra = [c for p in chain for c in load_certificates(p)]
    if path.suffix.lower() in (".p12", ".pfx"):
        return _load_pkcs12(data, path, pins, certificate, extra)
    data, bundled = split_pem_bundle(data, path.name)
    key = load_private_key(data, path.name, pins)
    handle = SoftwareKey(key, label=path.name, certificate=certificate, chain=extra)
    if bundled:
        spki = handle.public_key_info().dump()
        leaves = [c for c in bundled if c.public_key.dump() == spki]
        if certificate is None and not leaves:
            raise CertificateError(
                f"no certificate in {path.name} matches its key: add the key's certificate to the bundle "
                "or give it with --cert"
            )
        others = [c for c in bundled if c not in leaves]
        handle = SoftwareKey(
            key, label=path.name, certificate=certificate or leaves[0], chain=[*others, *extra]
        )
    return handle


def split_pem_bundle(data: bytes, label: str) -> tuple[bytes, list[asn1_x509.Certificate]]:
    """A PEM bundle (private key + certificate + chain, any order) as (the key's PEM, the certificates).

    Data that is not PEM, or holds no certificate, comes back unchanged with no certificates.
    """
    if not asn1_pem.detect(data) or b"CERTIFICATE-----" not in data:
        return data, []

    keys: list[bytes] = []
    certs: list[asn1_x509.Certificate] = []
    try:
        for kind, headers, der in asn1_pem.unarmor(data, multiple=True):
            if kind in PEM_LABELS:
                certs.extend(parse_certificates(der, label))
            elif kind.endswith("PRIVATE KEY"):
                keys.append(asn1_pem.armor(kind, der, headers=headers or None))
    except ValueError:
        raise DecodingError(f"{label} is not a valid PEM file: check its BEGIN/END lines") from None
    if len(keys) != 1:
        raise DecodingError(f"{label} holds {len(keys)} private keys: a key file or bundle holds exactly one")
    return keys[0], certs


def load_private_key(data: bytes, label: str, pins: ChainedPinSource) -> Any:
    """A private key object from PEM/DER PKCS#8 (maybe encrypted) or SEC1 bytes."""
    is_pem = asn1_pem.detect(data)
    encrypted = _is_encrypted(data, is_pem)
    password = pins.require(f"password for key file {label!r}").encode() if encrypted else None
    loader = serialization.load_pem_private_key if is_pem else serialization.load_der_private_key
    try:
        return loader(data, password)
    except UnsupportedAlgorithm:
        return _sm2.load_private_key(data, password, label)
    except TypeError:
        raise DecodingError(f"{label}: unexpected encryption state of the key") from None
    except ValueError:
        if encrypted:
            raise PinIncorrect(f"wrong password for key file {label!r}") from None
        raise DecodingError(f"{label} is not a private key (PEM/DER PKCS#8, SEC1 or PKCS#12)") from None


def _is_encrypted(data: bytes, is_pem: bool) -> bool:
    if is_pem:
        return b"ENCRYPTED PRIVATE KEY" in data or b"Proc-Type: 4,ENCRYPTED" in data
    try:
        info = asn1_keys.EncryptedPrivateKeyInfo.load(data)
        info["encryption_algorithm"]["algorithm"].native  # noqa: B018
        return len(info.contents) + 4 >= len(data) and info["encrypted_data"].native is not None
    except (ValueError, TypeError, KeyError):
        return False


def _load_pkcs12(
    data: bytes,
    path: Path,
    pins: ChainedPinSource,
    certificate: asn1_x509.Certificate | None,
    extra: list[asn1_x509.Certificate],
) -> SoftwareKey:
    from cryptography.hazmat.primitives.serialization import pkcs12  # only for .p12 files (pulls in x509)

    try:
        loaded = pkcs12.load_key_and_certificates(data, None)
    except ValueError:
        password = pins.require(f"password for {path.name!r}").encode()
        try:
            loaded = pkcs12.load_key_and_certificates(data, password)
        except ValueError:
            raise PinIncorrect(f"wrong password for {path.name!r} (or it is not a PKCS#12 file)") from None
    except UnsupportedAlgorithm:
        raise SealkitUnsupported(
            f"{path.name}: SM2 keys in PKCS#12 files are not supported; use PKCS#8"
        ) from None
    key, leaf, others = loaded
    if key is None:
        raise KeyNotFound(f"{path.name} holds no private key")

    def to_asn1(c: Any) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))

    if certificate is None and leaf is not None:
        certificate = to_asn1(leaf)
    chain = [to_asn1(c) for c in others] + extra
    return SoftwareKey(key, label=path.name, certificate=certificate, chain=chain)
