"""The one pyHanko ``Signer`` for every sealkit key: RSA, ECDSA P-256 and SM2-with-SM3, wherever it lives.

:class:`HandleSigner` wraps a :class:`sealkit.ukey.PrivateKeyHandle`. The handle hashes and signs the DER of
the signed attributes; this class tells pyHanko which mechanism and digest that is (SM2 forces SM3 and the
mechanism OID 1.2.156.10197.1.501, see ``shared/notes/sm2-on-pyhanko.md``) and adds caller-supplied signed
attributes (e.g. a GB/T 38540 SESeal) so that they travel inside the signed bytes. :func:`check_certificate`
refuses a certificate that is expired, not yet valid or not the key's before anything is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Generator, Iterable, Sequence
from typing import Any

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.attributes import CMSAttributeProvider
from pyhanko.sign.signers import PdfSigner, Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from sealkit.errors import CertificateError, InvalidInput, UnsupportedAlgorithm
from sealkit.timefmt import format_time
from sealkit.ukey.base import DEFAULT_SM2_UID, KeyKind, PrivateKeyHandle, SignOptions
from sealkit.validation.certificates import key_matches_certificate, validity_at, validity_period

SM2_WITH_SM3 = "1.2.156.10197.1.501"


def digest_for(kind: KeyKind) -> str:
    """The message digest sealkit uses with a key kind: ``sm3`` for SM2, ``sha256`` otherwise."""
    return "sm3" if kind is KeyKind.SM2 else "sha256"


def algorithm_name(kind: KeyKind) -> str:
    """A short name of the signature algorithm, as reports show it."""
    return {KeyKind.SM2: "sm2-sm3", KeyKind.RSA: "rsa-sha256", KeyKind.P256: "ecdsa-p256-sha256"}[kind]


class _FixedAttribute(CMSAttributeProvider):
    """A signed attribute whose value is known in advance."""

    def __init__(self, attribute: cms.CMSAttribute) -> None:
        self.attribute = attribute
        self.attribute_type = attribute["type"].dotted

    async def get_attribute(self, dry_run: bool = False) -> cms.CMSAttribute:
        return self.attribute


class HandleSigner(Signer):
    """A pyHanko signer whose private key is a :class:`PrivateKeyHandle` (UKey, key file...)."""

    def __init__(
        self,
        key: PrivateKeyHandle,
        cert: asn1_x509.Certificate,
        chain: Sequence[asn1_x509.Certificate] = (),
        *,
        extra_signed_attributes: Iterable[cms.CMSAttribute] = (),
        sm2_uid: bytes = DEFAULT_SM2_UID,
    ) -> None:
        mechanism = None
        if key.kind is KeyKind.SM2:
            _require_sm2_oids()
            mechanism = algos.SignedDigestAlgorithm({"algorithm": SM2_WITH_SM3})
        # The signing certificate goes into the CMS once, on its own: pyHanko adds it to the registered
        # ones without de-duplicating (asn1crypto values compare by identity).
        others: dict[bytes, asn1_x509.Certificate] = {}
        for extra in chain:
            if extra.dump() != cert.dump():
                others.setdefault(extra.dump(), extra)
        registry = SimpleCertificateStore.from_certs(list(others.values()))
        super().__init__(signature_mechanism=mechanism, signing_cert=cert, cert_registry=registry)
        self.key = key
        self.sm2_uid = sm2_uid
        self.extra_signed_attributes = tuple(extra_signed_attributes)
        for attribute in self.extra_signed_attributes:
            if not isinstance(attribute, cms.CMSAttribute):
                raise InvalidInput("extra_signed_attributes must be asn1crypto cms.CMSAttribute values")

    @property
    def digest_algorithm(self) -> str:
        return digest_for(self.key.kind)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != self.digest_algorithm:
            raise UnsupportedAlgorithm(
                f"{self.key.kind} keys sign with {self.digest_algorithm}, not {digest_algorithm}"
            )
        if dry_run:
            # Placeholder of the largest size this key can produce (DER ECDSA/SM2 or the RSA block).
            cert = self.signing_cert
            assert cert is not None
            size = cert.public_key.byte_size if self.key.kind is KeyKind.RSA else 72
            return bytes(size)
        options = SignOptions(digest=digest_algorithm, sm2_uid=self.sm2_uid)
        return self.key.sign(data, options)

    def _signed_attr_providers(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        yield from super()._signed_attr_providers(*args, **kwargs)
        for attribute in self.extra_signed_attributes:
            yield _FixedAttribute(attribute)


class SealkitPdfSigner(PdfSigner):
    """pyHanko's ``PdfSigner``, leaving the widgets' appearances to sealkit.

    sealkit draws every appearance itself (with ``NoOpStampStyle``), so pyHanko's appearance step has
    nothing to do, but it insists on the field having exactly one widget, which a field with a reserved
    cross-page seal (one more widget per page) does not have. The step is dropped from the request that
    pyHanko's signing session sends to its CMS embedder; nothing else changes.
    """

    def init_signing_session(self, pdf_out, existing_fields_only=False):  # type: ignore[no-untyped-def]
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.cms_writer = _without_appearance_setup(session.cms_writer)
        return session


def _without_appearance_setup(cms_writer: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """Relay pyHanko's CMS-embedding coroutine, with ``appearance_setup=None`` in its ``SigObjSetup``."""

    def relay() -> Generator[Any, Any, Any]:
        setup = yield
        received = yield cms_writer.send(dataclasses.replace(setup, appearance_setup=None))
        while True:
            try:
                produced = cms_writer.send(received)
            except StopIteration as stop:
                return stop.value
            received = yield produced

    coroutine = relay()
    next(coroutine)  # the session's first send() is the SigObjSetup
    return coroutine


def _require_sm2_oids() -> None:
    try:
        import sealkit.sm2  # noqa: F401  (registers the SM2/SM3 OIDs with asn1crypto)
    except ImportError as exc:  # pragma: no cover - sealkit.sm2 is part of sealkit
        raise UnsupportedAlgorithm("SM2 signing needs sealkit.sm2") from exc


def check_certificate(
    cert: asn1_x509.Certificate, key: PrivateKeyHandle, *, at: dt.datetime | None = None
) -> None:
    """Refuse ``cert`` when expired or not yet valid at ``at`` (now), or when it is not ``key``'s."""
    at = at or dt.datetime.now(dt.UTC)
    not_before, not_after = validity_period(cert)
    subject = cert.subject.human_friendly
    state = validity_at(cert, at)
    if state == "not-yet-valid":
        raise CertificateError(f"certificate of {subject} is not valid before {format_time(not_before)}")
    if state == "expired":
        raise CertificateError(f"certificate of {subject} expired on {format_time(not_after)}")
    if not key_matches_certificate(cert, key):
        raise CertificateError(
            f"certificate of {subject} does not match the key {key.label!r}: give the key's own certificate "
            "(request one with 'sealkit keys csr' or 'sealkit token csr', then import the CA's answer)"
        )
