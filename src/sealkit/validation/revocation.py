"""Revocation evidence for a validated path: per certificate, its status at the validation time and where the
evidence came from — ``embedded-ocsp``/``embedded-crl`` (the document's DSS or the CMS revocation archive),
``online-ocsp``/``online-crl`` (only when fetching is allowed), or ``none``. The path validation itself (which
already refused a revoked certificate) is :mod:`sealkit.validation.paths`/:mod:`.cms`; this is the report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import crl, ocsp, x509
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    CRLValidationError,
    OCSPValidationError,
    PathError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.revinfo.validate_crl import verify_crl
from pyhanko_certvalidator.revinfo.validate_ocsp import verify_ocsp_response
from pyhanko_certvalidator.util import get_declared_revinfo

from sealkit.validation.context import Evidence, TrustAnchor, build_validation_context
from sealkit.validation.time import iso as _iso


@dataclass
class RevocationInfo:
    """One certificate's revocation status at the signing time, and the evidence it rests on."""

    subject: str
    status: str  # good | revoked | unknown
    source: str  # embedded-ocsp | embedded-crl | online-ocsp | online-crl | none
    checked_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    reason: str | None = None
    #: The certificate names an OCSP responder (AIA) or a CRL distribution point: its status is required.
    declared: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "status": self.status,
            "source": self.source,
            "checked_at": _iso(self.checked_at),
            "revoked_at": _iso(self.revoked_at),
            "reason": self.reason,
        }

    to_json = to_dict


async def revocation_report(
    path: ValidationPath | None,
    anchors: Sequence[TrustAnchor],
    evidence: Evidence,
    context: ValidationContext,
    at: dt.datetime,
) -> list[RevocationInfo]:
    """Per certificate of ``path`` (trust anchor excluded): status at ``at`` and the evidence's source.

    Embedded evidence is tried alone first; only if it settles nothing is ``context`` (which may fetch) used,
    so whatever it then finds came from the network.
    """
    if path is None:
        return []
    embedded = build_validation_context(anchors, embedded=evidence, moment=at)
    sources = [("embedded", embedded, evidence)]
    if context.fetching_allowed:
        sources.append(("online", context, Evidence(ocsps=context.ocsps, crls=context.crls)))
    try:
        return [await _certificate_status(cert, path, sources) for cert in _checked_certs(path)]
    finally:
        await embedded.aclose()  # type: ignore[no-untyped-call]


def _checked_certs(path: ValidationPath) -> list[x509.Certificate]:
    return [cert for cert in path.iter_certs(include_root=False) if isinstance(cert, x509.Certificate)]


async def _certificate_status(
    cert: x509.Certificate, path: ValidationPath, sources: list[tuple[str, ValidationContext, Evidence]]
) -> RevocationInfo:
    subject = cert.subject.human_friendly
    declared = any(get_declared_revinfo(cert))
    for origin, context, evidence in sources:
        for kind, check in (("ocsp", verify_ocsp_response), ("crl", verify_crl)):
            source = f"{origin}-{kind}"
            checked_at = _freshest(cert, evidence, kind)
            try:
                await check(cert, path, context)
            except RevokedError as exc:
                reason = exc.reason.native if exc.reason is not None else None
                return RevocationInfo(
                    subject, "revoked", source, checked_at, exc.revocation_dt, reason, declared
                )
            except (OCSPValidationError, CRLValidationError, ValidationError, PathError, ValueError, OSError):
                continue
            checked = _freshest(cert, evidence, kind) or checked_at
            return RevocationInfo(subject, "good", source, checked, declared=declared)
    return RevocationInfo(subject, "unknown", "none", declared=declared)


def missing_required_status(entries: Sequence[RevocationInfo]) -> RevocationInfo | None:
    """The first certificate that declares OCSP/CRL pointers but whose status is unknown (None if none)."""
    return next((e for e in entries if e.status == "unknown" and e.declared), None)


def _freshest(cert: x509.Certificate, evidence: Evidence, kind: str) -> dt.datetime | None:
    """thisUpdate of the freshest OCSP response or CRL in ``evidence`` that speaks about ``cert``."""
    times: list[dt.datetime] = []
    if kind == "ocsp":
        for response in evidence.ocsps:
            times.extend(_ocsp_times(response, cert))
    else:
        for certificate_list in evidence.crls:
            if _crl_covers(certificate_list, cert):
                times.append(certificate_list["tbs_cert_list"]["this_update"].native)
    return max(times) if times else None


def _ocsp_times(response: ocsp.OCSPResponse, cert: x509.Certificate) -> list[dt.datetime]:
    try:
        basic = response.basic_ocsp_response
        single_responses = basic["tbs_response_data"]["responses"] if basic is not None else []
        return [
            single["this_update"].native
            for single in single_responses
            if single["cert_id"]["serial_number"].native == cert.serial_number
        ]
    except (ValueError, KeyError):
        return []


def _crl_covers(certificate_list: crl.CertificateList, cert: x509.Certificate) -> bool:
    try:
        return bool(certificate_list.issuer == cert.issuer)
    except ValueError:
        return False
