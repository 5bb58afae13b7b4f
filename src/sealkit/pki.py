"""Small certificate authorities for tests, fixtures and the demo (SM2, RSA-2048, ECDSA P-256).

A :class:`TestPki` is a root CA in a directory; :meth:`TestPki.issue` makes end-entity certificates for the
roles sealkit needs (signing, encryption, seal maker, TSA, OCSP). Keys are written as unencrypted PKCS#8 PEM
(``key.pem``) next to ``cert.pem``: these are *test* identities, never production keys. RSA and P-256
certificates are built with ``cryptography``; SM2 certificates with :mod:`sealkit.sm2.x509`.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sealkit.atomic import write_atomic
from sealkit.errors import InvalidInput


class Role(enum.StrEnum):
    """What an end-entity certificate is for."""

    SIGN = "sign"  # digitalSignature + nonRepudiation (contract signing, seal holders)
    ENCRYPT = "encrypt"  # keyEncipherment (+ keyAgreement for EC): bid envelopes
    SEAL_MAKER = "seal-maker"  # the seal authority (制章者) that signs SESeal structures
    TSA = "tsa"  # RFC 3161 timestamping, critical EKU timeStamping
    OCSP = "ocsp"  # OCSP responder, EKU OCSPSigning


KINDS = ("sm2", "rsa", "p256")


@dataclass
class Identity:
    """A certificate and its key file (PEM)."""

    name: str
    kind: str
    cert_path: Path
    key_path: Path

    @property
    def certificate(self) -> asn1_x509.Certificate:
        data = self.cert_path.read_bytes()
        _, _, der = asn1_pem.unarmor(data)
        return asn1_x509.Certificate.load(der)

    @property
    def keyref(self) -> str:
        """A sealkit key reference for this identity's key file."""
        return f"file:{self.key_path}"


@dataclass
class TestPki:
    """A root CA of one key kind, kept in ``directory``."""

    directory: Path
    kind: str
    root: Identity

    def issue(
        self,
        name: str,
        role: Role | str = Role.SIGN,
        *,
        organization: str = "sealkit 测试单位",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        days: int = 730,
    ) -> Identity:
        """Issue an end-entity certificate ``name`` for ``role``; files go to ``directory/name/``."""
        role = Role(role)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        not_before = not_before or now - dt.timedelta(days=1)
        not_after = not_after or now + dt.timedelta(days=days)
        folder = self.directory / name
        folder.mkdir(parents=True, exist_ok=True)
        identity = Identity(name, self.kind, folder / "cert.pem", folder / "key.pem")
        _issue(
            self.kind,
            subject={"common_name": name, "organization": organization},
            role=role,
            identity=identity,
            issuer=self.root,
            not_before=not_before,
            not_after=not_after,
        )
        return identity


def make_test_pki(directory: str | Path, kind: str = "sm2", *, name: str | None = None) -> TestPki:
    """Create a root CA of ``kind`` (``sm2``, ``rsa`` or ``p256``) in ``directory`` (reused if present)."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown key kind {kind!r}: use one of {', '.join(KINDS)}")
    directory = Path(directory)
    root_dir = directory / "root"
    root = Identity(
        name or f"sealkit Test {kind.upper()} Root CA", kind, root_dir / "cert.pem", root_dir / "key.pem"
    )
    if not root.cert_path.exists():
        root_dir.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        _issue(
            kind,
            subject={"common_name": root.name, "organization": "sealkit Test PKI"},
            role=None,
            identity=root,
            issuer=None,
            not_before=now - dt.timedelta(days=2),
            not_after=now + dt.timedelta(days=3650),
        )
    return TestPki(directory, kind, root)


# --- building ---


def _issue(
    kind: str,
    *,
    subject: dict[str, str],
    role: Role | None,
    identity: Identity,
    issuer: Identity | None,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> None:
    if kind == "sm2":
        _issue_sm2(subject, role, identity, issuer, not_before, not_after)
        return
    key: Any = (
        rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    )
    name = _x509_name(subject)
    if issuer is None:
        issuer_name, issuer_key, issuer_public = name, key, key.public_key()
    else:
        issuer_cert = x509.load_pem_x509_certificate(issuer.cert_path.read_bytes())
        issuer_key = serialization.load_pem_private_key(issuer.key_path.read_bytes(), None)
        issuer_name, issuer_public = issuer_cert.subject, issuer_cert.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False)
    )
    for extension, critical in _extensions(role, kind):
        builder = builder.add_extension(extension, critical=critical)
    cert = builder.sign(issuer_key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomic(identity.key_path, key_pem, mode=0o600)
    write_atomic(identity.cert_path, cert.public_bytes(serialization.Encoding.PEM))


def _x509_name(subject: dict[str, str]) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if "organization" in subject:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject["organization"]))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, subject["common_name"]))
    return x509.Name(attributes)


def _extensions(role: Role | None, kind: str) -> list[tuple[x509.ExtensionType, bool]]:
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    extensions: list[tuple[x509.ExtensionType, bool]] = []
    if role is None:
        usage.update(key_cert_sign=True, crl_sign=True, digital_signature=True)
        extensions.append((x509.BasicConstraints(ca=True, path_length=None), True))
    else:
        extensions.append((x509.BasicConstraints(ca=False, path_length=None), True))
        if role is Role.ENCRYPT:
            usage.update(key_encipherment=kind == "rsa", key_agreement=kind != "rsa", data_encipherment=True)
        else:
            usage.update(digital_signature=True, content_commitment=role in (Role.SIGN, Role.SEAL_MAKER))
        eku = {Role.TSA: ExtendedKeyUsageOID.TIME_STAMPING, Role.OCSP: ExtendedKeyUsageOID.OCSP_SIGNING}.get(
            role
        )
        if eku is not None:
            extensions.append((x509.ExtendedKeyUsage([eku]), role is Role.TSA))
    extensions.append((x509.KeyUsage(**usage), True))
    return extensions


def _issue_sm2(
    subject: dict[str, str],
    role: Role | None,
    identity: Identity,
    issuer: Identity | None,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> None:
    raise NotImplementedError("SM2 test PKI: waiting for sealkit.sm2.x509")
