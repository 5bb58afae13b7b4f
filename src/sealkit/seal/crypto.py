"""Signatures and certificate paths for seals: which algorithm a key signs with, and the two questions every
seal check asks of :mod:`sealkit.validation` — does this signature verify with this certificate, and does
this certificate chain to these anchors for this purpose (seal making, revocation lists, the registry)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hashlib
from collections.abc import Sequence

from asn1crypto import x509 as asn1_x509

from sealkit import certs
from sealkit.errors import InvalidSignature, UnsupportedAlgorithm
from sealkit.seal.asn1 import SM2_WITH_SM3
from sealkit.ukey.base import KeyKind, PrivateKeyHandle, SignOptions
from sealkit.validation import (
    PathValidation,
    Purpose,
    TrustAnchor,
    validate_certificate,
    verify_with_certificate,
)

SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"


def algorithm_for(handle: PrivateKeyHandle) -> tuple[str, SignOptions]:
    """The signature algorithm OID and sign options for ``handle``'s key kind."""
    if handle.kind is KeyKind.SM2:
        return SM2_WITH_SM3, SignOptions(digest="sm3")
    if handle.kind is KeyKind.RSA:
        return SHA256_WITH_RSA, SignOptions(digest="sha256")
    return ECDSA_WITH_SHA256, SignOptions(digest="sha256")


def sign_with(handle: PrivateKeyHandle, data: bytes) -> tuple[str, bytes]:
    """Sign ``data`` with ``handle``; returns (algorithm OID, signature)."""
    oid, options = algorithm_for(handle)
    return oid, handle.sign(data, options)


def signature_problem(
    cert: asn1_x509.Certificate, algorithm: str, data: bytes, signature: bytes
) -> str | None:
    """None if ``signature`` over ``data`` verifies with ``cert``'s key, else why not (one line)."""
    try:
        verify_with_certificate(cert, algorithm, bytes(data), bytes(signature))
    except InvalidSignature:
        return "does not verify"
    except UnsupportedAlgorithm as exc:
        return exc.message
    return None


def load_certificate(der: bytes, what: str) -> asn1_x509.Certificate:
    """Parse a DER certificate, naming ``what`` it is in the error."""
    return certs.load_certificate(bytes(der), what=what)


def cert_digest(cert_der: bytes) -> str:
    """The SHA-256 (hex) sealkit uses to name a certificate."""
    return hashlib.sha256(cert_der).hexdigest()


def check_path(
    cert: asn1_x509.Certificate,
    trust: Sequence[TrustAnchor],
    purpose: Purpose,
    *,
    at: dt.datetime | None = None,
    intermediates: Sequence[asn1_x509.Certificate] = (),
) -> PathValidation:
    """:func:`sealkit.validation.validate_certificate` for ``purpose``; ``at`` is a *proven* time (None:
    judged now). Usable from synchronous code inside a running event loop (the PDF verifier's seal checker):
    the validation then runs on a worker thread."""

    def run() -> PathValidation:
        return validate_certificate(cert, list(trust), purpose=purpose, intermediates=intermediates, at=at)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
