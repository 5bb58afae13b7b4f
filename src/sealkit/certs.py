"""Loading X.509 certificates, once for all of sealkit.

A certificate may be given as an asn1crypto or ``cryptography`` object, as PEM (one or more ``CERTIFICATE``
blocks) or DER bytes, or as the path of such a file. Every certificate is parsed completely when loaded, so
a damaged one fails here with a one-line :class:`~sealkit.errors.DecodingError` naming it, not halfway
through signing or validation.

Parsing is remembered by the exact bytes (:data:`_PARSED`): a batch verifier loads the same trust anchors
for every file (≈ 1 ms each), and the same bytes always parse to the same certificates. The parsed
objects are shared between callers; nothing in sealkit, pyHanko or pyhanko-certvalidator changes a
certificate object, they only read it (asn1crypto fills in its parsed children lazily, which is the reason
to share them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TypeAlias

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509

from sealkit.errors import DecodingError, InvalidInput

#: Anything sealkit accepts as a certificate.
CertSource: TypeAlias = asn1_x509.Certificate | crypto_x509.Certificate | bytes | str | os.PathLike[str]

PEM_LABELS = ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")
#: Certificates parsed from exact input bytes (bounded: cleared when full; failures are not kept).
_PARSED: dict[bytes, tuple[asn1_x509.Certificate, ...]] = {}
_MAX_PARSED = 64
_MAX_PARSED_INPUT = 1 << 20


def parse_certificates(data: bytes, label: str = "certificate data") -> list[asn1_x509.Certificate]:
    """Every certificate in PEM (one or more blocks) or DER ``data``; ``label`` names it in errors."""
    data = bytes(data)
    cached = _PARSED.get(data)
    if cached is not None:
        return list(cached)
    try:
        if pem.detect(data):
            ders = [der for kind, _, der in pem.unarmor(data, multiple=True) if kind in PEM_LABELS]
        else:
            ders = [data]
        certs = [asn1_x509.Certificate.load(der, strict=True) for der in ders]
        for cert in certs:
            cert.native  # noqa: B018 - parse everything now
    except Exception:  # noqa: BLE001 - asn1crypto raises many types for bad DER
        raise DecodingError(
            f"{label} is not an X.509 certificate (PEM or DER): give the certificate file (.pem, .crt, .cer)"
        ) from None
    if not certs:
        raise DecodingError(f"{label} holds no certificate")
    if len(data) <= _MAX_PARSED_INPUT:
        if len(_PARSED) >= _MAX_PARSED:
            _PARSED.clear()
        _PARSED[data] = tuple(certs)
    return certs


def load_certificates(
    sources: CertSource | Iterable[CertSource], *, what: str = "certificate"
) -> list[asn1_x509.Certificate]:
    """Every certificate from ``sources`` (one source or several; a PEM file may hold a chain)."""
    items: list[CertSource]
    if isinstance(sources, asn1_x509.Certificate | crypto_x509.Certificate | bytes | str | os.PathLike):
        items = [sources]
    else:
        items = list(sources)
    out: list[asn1_x509.Certificate] = []
    for source in items:
        if isinstance(source, asn1_x509.Certificate):
            out.append(source)
        elif isinstance(source, crypto_x509.Certificate):
            from cryptography.hazmat.primitives.serialization import Encoding

            out.append(asn1_x509.Certificate.load(source.public_bytes(Encoding.DER)))
        elif isinstance(source, bytes):
            out.extend(parse_certificates(source, f"the {what}"))
        else:
            path = Path(source).expanduser()
            try:
                data = path.read_bytes()
            except OSError as exc:
                hint = "give a file" if path.is_dir() else "check the path"
                raise InvalidInput(f"cannot read the {what} {path}: {exc.strerror}: {hint}") from None
            out.extend(parse_certificates(data, str(path)))
    return out


def load_certificate(source: CertSource, *, what: str = "certificate") -> asn1_x509.Certificate:
    """The (first) certificate of ``source``."""
    return load_certificates([source], what=what)[0]
