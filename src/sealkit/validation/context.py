"""Validation contexts (pyhanko-certvalidator): which trust anchors, which validation data, which time,
and whether to go online.

Rules (see docs/long-term-validation.md):

- **Offline by default.** Only validation data carried by the document is used: the DSS (certificates, OCSP
  responses, CRLs) and the certificates and Adobe revocation archive inside each CMS signature.
- **Online only when asked** (``online=True``): OCSP responders and CRL distribution points named in the
  certificates are queried as well. Fetched data is kept apart from embedded data so that reports can tell
  ``online-ocsp`` from ``embedded-ocsp``.
- **Revocation where it is declared** (``hard-fail``, pyhanko-certvalidator's ``CHECK_IF_DECLARED`` for end
  entities and CAs, the default): a certificate of the path that names an OCSP responder (AIA) or a CRL
  distribution point must have a revocation status — embedded, or fetched when online — or the path is
  INDETERMINATE/TRY_LATER (EN 319 102-1 §5.2.5). A certificate that names neither passes with its status
  reported as unknown. ``soft-fail`` (absent status is no failure) is for purposes that have no channel for
  evidence yet (:data:`sealkit.validation.paths.REVOCATION_POLICY`).
- **Point in time.** With ``moment`` set, certificates are judged at that time (the time of a trusted
  timestamp), and revocation data issued later is accepted as evidence about that time: a certificate
  revoked *after* the moment is still good at the moment, one revoked *before* it is not.

Every context checks SM2-with-SM3 signatures too (certificates, CRLs, OCSP responses, timestamp tokens).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

# pyHanko registers these OIDs with asn1crypto (CMS signature-policy, commitment-type and content-time-stamp
# attributes, ISO 32004 PDF MAC types, the qcStatements extension) in modules of its *signing* stack, whose
# import is deferred or absent when a process only verifies: imported here, signatures parse alike either way.
import pyhanko.pdf_utils.crypt._iso32004_asn1  # noqa: F401
import pyhanko.sign.ades.cades_asn1  # noqa: F401
import pyhanko.sign.ades.qualified_asn1  # noqa: F401
from asn1crypto import cms, crl, ocsp, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.api import OwnedFetcherBackend
from pyhanko_certvalidator.sig_validate import SignatureValidator

from sealkit.certs import load_certificates
from sealkit.errors import InvalidInput
from sealkit.validation.sm2_validator import SM2SignatureValidator

TrustAnchor: TypeAlias = str | os.PathLike[str] | bytes | x509.Certificate

#: Revocation policies, as pyhanko-certvalidator names them.
REVOCATION_MODES = ("soft-fail", "hard-fail", "require")
#: Every context's policy unless its caller says otherwise: revocation is checked where it is declared.
DEFAULT_REVOCATION_MODE = "hard-fail"

#: What a verifier can do when a certificate's revocation status is unknown or stale.
REVOCATION_ADVICE = (
    "verify online (--online) to fetch it, or embed revocation data in the PDF (sealkit ltv-update)"
)


@dataclass
class Evidence:
    """Validation data: certificates, OCSP responses and CRLs (from a document, or fetched)."""

    certs: list[x509.Certificate] = field(default_factory=list)
    ocsps: list[ocsp.OCSPResponse] = field(default_factory=list)
    crls: list[crl.CertificateList] = field(default_factory=list)

    def __add__(self, other: Evidence) -> Evidence:
        return Evidence(self.certs + other.certs, self.ocsps + other.ocsps, self.crls + other.crls)

    def __bool__(self) -> bool:
        return bool(self.ocsps or self.crls)


def embedded_evidence(reader: PdfFileReader, signature: EmbeddedPdfSignature | None = None) -> Evidence:
    """The validation data a PDF carries: its DSS, plus ``signature``'s certificates and revocation data."""
    evidence = Evidence()
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        dss = None
    if dss is not None:
        context = dss.as_validation_context({"trust_roots": []})
        evidence = Evidence(list(dss.load_certs()), list(context.ocsps), list(context.crls))
    if signature is not None:
        evidence = evidence + signature_evidence(signature.signed_data)
    return evidence


def signature_evidence(signed_data: cms.SignedData) -> Evidence:
    """Certificates and Adobe-archived revocation data (``adbe-revocationInfoArchival``) of a signature."""
    certs = [c.chosen for c in signed_data["certificates"] or () if isinstance(c.chosen, x509.Certificate)]
    ocsps: list[ocsp.OCSPResponse] = []
    crls: list[crl.CertificateList] = []
    for signer_info in signed_data["signer_infos"]:
        for attribute in signer_info["signed_attrs"] or ():
            if attribute["type"].native != "adobe_revocation_info_archival":
                continue
            for value in attribute["values"]:
                ocsps.extend(value["ocsp"] or ())
                crls.extend(value["crl"] or ())
    return Evidence(certs, ocsps, crls)


def load_trust_anchors(anchors: Iterable[TrustAnchor]) -> list[x509.Certificate]:
    """Trust anchors from PEM/DER files, bytes or certificate objects (at least one)."""
    result = load_certificates(anchors, what="trust anchor")
    if not result:
        raise InvalidInput("no trust anchors: configure [trust] anchors or pass --trust")
    return result


def signature_validator() -> SignatureValidator:
    """The SM2-aware validator every context uses (:class:`SM2SignatureValidator`)."""
    return SM2SignatureValidator()


def build_validation_context(
    trust_anchors: Sequence[TrustAnchor],
    *,
    online: bool = False,
    embedded: Evidence | None = None,
    moment: dt.datetime | None = None,
    revocation_mode: str = DEFAULT_REVOCATION_MODE,
    fetch_timeout: float = 10.0,
    allow_no_anchors: bool = False,
    **kwargs: Any,
) -> ValidationContext:
    """A pyhanko-certvalidator context for sealkit.

    ``embedded`` is the document's validation data (:func:`embedded_evidence`); ``online`` allows OCSP and
    CRL fetching; ``moment`` makes it a point-in-time validation (revocation data issued after ``moment``
    counts as evidence about it). ``revocation_mode`` is ``hard-fail`` (the default: a certificate that
    declares OCSP or CRL pointers needs a status), ``soft-fail`` or ``require`` (every one needs a status).
    ``allow_no_anchors`` builds a context that trusts nothing (to check integrity and signatures only).
    Extra keyword arguments go to ``ValidationContext``.
    """
    if revocation_mode not in REVOCATION_MODES:
        raise InvalidInput(f"revocation mode {revocation_mode!r}: use one of {', '.join(REVOCATION_MODES)}")
    evidence = embedded or Evidence()
    options: dict[str, Any] = {
        "trust_roots": (
            load_certificates(trust_anchors, what="trust anchor")
            if allow_no_anchors
            else load_trust_anchors(trust_anchors)
        ),
        "other_certs": evidence.certs,
        "ocsps": evidence.ocsps,
        "crls": evidence.crls,
        "revocation_mode": revocation_mode,
        "signature_validator": signature_validator(),
    }
    if moment is not None:
        if moment.tzinfo is None:
            raise InvalidInput("the validation moment needs a time zone")
        options.update(moment=moment, retroactive_revinfo=True)
    if online:
        # imported here: aiohttp builds SSL contexts at import time, which offline validation never uses
        from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

        backend = AIOHttpFetcherBackend(per_request_timeout=fetch_timeout)
        # Owned: the context closes its HTTP session when the operation ends (``ValidationContext.aclose``).
        options.update(allow_fetching=True, fetcher_backend=OwnedFetcherBackend(backend))
    options.update(kwargs)
    return ValidationContext(**options)
