"""Small certificate authorities for tests, fixtures and the demo (SM2, RSA-2048, ECDSA P-256).

A :class:`TestPki` is a root CA in a directory; :meth:`TestPki.issue` makes end-entity certificates for the
roles sealkit needs (signing, encryption, seal maker, TSA, OCSP). Keys are written as unencrypted PKCS#8 PEM
(``key.pem``) next to ``cert.pem``: these are *test* identities, never production keys. RSA and P-256
certificates are all built by :func:`sealkit.sm2.x509.build_certificate` (keys from ``cryptography`` or
:mod:`sealkit.sm2`).
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from sealkit import sm2
from sealkit.atomic import write_atomic
from sealkit.errors import InvalidInput
from sealkit.sm2 import x509 as sm2_x509


class Role(enum.StrEnum):
    """What an end-entity certificate is for."""

    SIGN = "sign"  # digitalSignature + nonRepudiation (contract signing, seal holders)
    ENCRYPT = "encrypt"  # keyEncipherment (+ keyAgreement for EC): bid envelopes
    SEAL_MAKER = "seal-maker"  # the seal authority (制章者) that signs SESeal structures
    TSA = "tsa"  # RFC 3161 timestamping, critical EKU timeStamping
    OCSP = "ocsp"  # OCSP responder, EKU OCSPSigning
    TLS_SERVER = "tls-server"  # EKU serverAuth, for localhost and 127.0.0.1 (sealkit serve in tests)
    TLS_CLIENT = "tls-client"  # EKU clientAuth (a service client's certificate)


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

    def certify(self, request_pem: bytes, role: Role | str = Role.SIGN, *, days: int = 730) -> bytes:
        """Answer a PKCS#10 request as this TEST CA: a PEM certificate for the request's key and subject.

        The request's self-signature is checked first (an SM2 request with the default SM2 ID).
        """
        role = Role(role)
        request = sm2_x509.load_csr(request_pem)
        sm2_x509.verify_csr_signature(request)
        info = request["certification_request_info"]
        spki = info["subject_pk_info"]
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        usage, eku = _usages(role, "rsa" if spki.algorithm == "rsa" else "ec")
        extra = []
        if eku is not None:
            extra.append({"extn_id": "extended_key_usage", "critical": role is Role.TSA, "extn_value": [eku]})
        cert = sm2_x509.build_certificate(
            info["subject"],
            spki,
            self.root.certificate,
            _load_key(self.kind, self.root.key_path.read_bytes()),
            serial=secrets.randbits(63) | 1 << 62,
            not_before=now - dt.timedelta(minutes=5),
            not_after=now + dt.timedelta(days=days),
            key_usage=usage,
            extra_extensions=extra,
        )
        return sm2_x509.to_pem(cert)


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
    key, key_pem = _generate_key(kind)
    if issuer is None:
        issuer_cert, issuer_key = None, key
    else:
        issuer_cert = issuer.certificate
        issuer_key = _load_key(kind, issuer.key_path.read_bytes())
    usage, eku = _usages(role, kind)
    extra = []
    if eku is not None:  # RFC 3161 wants the TSA's extKeyUsage critical; build it here for both roles
        extra.append({"extn_id": "extended_key_usage", "critical": role is Role.TSA, "extn_value": [eku]})
    if role is Role.TLS_SERVER:
        names = [
            asn1_x509.GeneralName(name=k, value=v)
            for k, v in (("dns_name", "localhost"), ("ip_address", "127.0.0.1"))
        ]
        extra.append({"extn_id": "subject_alt_name", "critical": False, "extn_value": names})
    cert = sm2_x509.build_certificate(
        {
            "country_name": "CN",
            "organization_name": subject["organization"],
            "common_name": subject["common_name"],
        },
        key.public_key(),
        issuer_cert,
        issuer_key,
        serial=secrets.randbits(63) | 1 << 62,
        not_before=not_before,
        not_after=not_after,
        is_ca=role is None,
        key_usage=usage,
        extra_extensions=extra,
    )
    write_atomic(identity.key_path, key_pem, mode=0o600)
    write_atomic(identity.cert_path, sm2_x509.to_pem(cert))


def _generate_key(kind: str) -> tuple[Any, bytes]:
    if kind == "sm2":
        sm2_key = sm2.generate_private_key()
        return sm2_key, sm2_key.to_pem()
    key: Any = (
        rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key, pem


def _load_key(kind: str, pem: bytes) -> Any:
    if kind == "sm2":
        return sm2.load_pem_private_key(pem)
    return serialization.load_pem_private_key(pem, None)


def _usages(role: Role | None, kind: str) -> tuple[set[str], str | None]:
    """keyUsage names (asn1crypto's) and the one extKeyUsage, if any, for a role."""
    if role is None:
        return {"key_cert_sign", "crl_sign", "digital_signature"}, None
    if role is Role.ENCRYPT:
        return (
            {"key_encipherment", "data_encipherment"}
            if kind == "rsa"
            else {"key_agreement", "data_encipherment", "key_encipherment"}
        ), None
    if role is Role.TSA:
        return {"digital_signature"}, "time_stamping"
    if role is Role.OCSP:
        return {"digital_signature"}, "ocsp_signing"
    if role is Role.TLS_SERVER:
        return {"digital_signature", "key_encipherment"}, "server_auth"
    if role is Role.TLS_CLIENT:
        return {"digital_signature"}, "client_auth"
    return {"digital_signature", "non_repudiation"}, None
