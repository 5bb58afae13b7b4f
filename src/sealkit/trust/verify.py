"""Was a signature valid *when it was made*? The trusted time of a signature and its revocation evidence.

:func:`evaluate_signature` takes a pyHanko :class:`EmbeddedPdfSignature` and

1. validates the signature's RFC 3161 timestamp token (``signature-time-stamp``) at the validation time;
2. validates the signature with the certificates judged *at the timestamp's time* when the timestamp is
   intact and trusted (otherwise at the validation time), so a certificate that expired or was revoked
   after a timestamped signature does not invalidate it, and one revoked before does;
3. reports, for each certificate of the signer's path, the revocation status at that time and where the
   evidence came from: ``embedded-ocsp``, ``embedded-crl`` (the document's DSS or the CMS revocation
   archive), ``online-ocsp``, ``online-crl`` (only with ``online=True``), or ``none``.

:meth:`TimeEvaluation.to_json` is exactly the per-signature addition to sealkit's verification report:
``{"timestamp": null | {"time", "tsa", "intact", "trusted"}, "revocation": [{"subject", "status", "source",
"checked_at", "revoked_at", "reason"}]}``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import crl, ocsp, x509
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, async_validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
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

from sealkit.validation.context import Evidence, TrustAnchor, build_validation_context, embedded_evidence


@dataclass
class TimestampInfo:
    """The signature's timestamp: its time, the TSA, and whether it is intact and trusted."""

    time: dt.datetime
    tsa: str
    intact: bool
    trusted: bool

    def to_json(self) -> dict[str, Any]:
        return {"time": _iso(self.time), "tsa": self.tsa, "intact": self.intact, "trusted": self.trusted}


@dataclass
class RevocationInfo:
    """One certificate's revocation status at the signing time, and the evidence it rests on."""

    subject: str
    status: str  # good | revoked | unknown
    source: str  # embedded-ocsp | embedded-crl | online-ocsp | online-crl | none
    checked_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "status": self.status,
            "source": self.source,
            "checked_at": _iso(self.checked_at),
            "revoked_at": _iso(self.revoked_at),
            "reason": self.reason,
        }


@dataclass
class TimeEvaluation:
    """The outcome for one signature: an ETSI-style indication, the timestamp and the revocation evidence."""

    indication: str  # TOTAL-PASSED | TOTAL-FAILED | INDETERMINATE
    sub_indication: str | None
    message: str
    validation_time: dt.datetime  # the time the signer's certificates were judged at
    timestamp: TimestampInfo | None
    revocation: list[RevocationInfo] = field(default_factory=list)
    status: PdfSignatureStatus | None = None  # pyHanko's status, for callers that want more

    @property
    def passed(self) -> bool:
        return self.indication == "TOTAL-PASSED"

    def to_json(self) -> dict[str, Any]:
        """The JSON additions of a verification report (per signature)."""
        return {
            "timestamp": self.timestamp.to_json() if self.timestamp else None,
            "revocation": [entry.to_json() for entry in self.revocation],
        }


def evaluate_signature(
    signature: EmbeddedPdfSignature,
    trust_anchors: Sequence[TrustAnchor],
    *,
    online: bool = False,
    now: dt.datetime | None = None,
    revocation_mode: str = "soft-fail",
    skip_diff: bool = False,
) -> TimeEvaluation:
    """Validate ``signature`` at its trusted time (see the module docstring); never raises for a bad file.

    ``now`` is the validation time (default: the current time); set it to evaluate a document as a verifier
    would later, e.g. after the signer's certificate expired.
    """
    return asyncio.run(
        async_evaluate_signature(
            signature,
            trust_anchors,
            online=online,
            now=now,
            revocation_mode=revocation_mode,
            skip_diff=skip_diff,
        )
    )


async def async_evaluate_signature(
    signature: EmbeddedPdfSignature,
    trust_anchors: Sequence[TrustAnchor],
    *,
    online: bool = False,
    now: dt.datetime | None = None,
    revocation_mode: str = "soft-fail",
    skip_diff: bool = False,
) -> TimeEvaluation:
    """:func:`evaluate_signature` for callers already inside an event loop."""
    evidence = embedded_evidence(signature.reader, signature)
    anchors, mode = trust_anchors, revocation_mode
    current = now or dt.datetime.now(dt.UTC)
    ts_context = build_validation_context(
        anchors, online=online, embedded=evidence, moment=now, revocation_mode=mode
    )
    try:
        timestamp = await timestamp_info(signature, ts_context)
    finally:
        await ts_context.aclose()
    at = timestamp.time if timestamp and timestamp.intact and timestamp.trusted else current
    context = build_validation_context(
        anchors, online=online, embedded=evidence, moment=at, revocation_mode=mode
    )
    try:
        status = await async_validate_pdf_signature(
            signature, signer_validation_context=context, skip_diff=skip_diff
        )
        revocation = await revocation_report(status.validation_path, anchors, evidence, context, at)
    except (SignatureValidationError, ValueError) as exc:
        return TimeEvaluation("TOTAL-FAILED", "FORMAT_FAILURE", _one_line(exc), at, timestamp)
    finally:
        await context.aclose()
    indication, sub, message = _verdict(status, timestamp)
    return TimeEvaluation(indication, sub, message, at, timestamp, revocation, status)


async def timestamp_info(signature: EmbeddedPdfSignature, context: ValidationContext) -> TimestampInfo | None:
    """The signature timestamp token's time, TSA and validity under ``context``; None without a token."""
    timing = await generic_cms.collect_timing_info(
        signature.signer_info, context, raw_digest=signature.compute_digest
    )
    tst = timing.get("timestamp_validity")
    if tst is None:
        return None
    return TimestampInfo(
        time=tst.timestamp,
        tsa=tst.signing_cert.subject.human_friendly if tst.signing_cert is not None else "",
        intact=bool(tst.intact and tst.valid),
        trusted=bool(tst.intact and tst.valid and tst.trusted),
    )


def _verdict(status: PdfSignatureStatus, timestamp: TimestampInfo | None) -> tuple[str, str | None, str]:
    if timestamp is not None and not timestamp.intact:
        return "TOTAL-FAILED", "SIG_CRYPTO_FAILURE", "the signature's timestamp token is damaged or forged"
    if not status.intact:
        return "TOTAL-FAILED", "HASH_FAILURE", "the signed bytes were changed"
    if not status.valid:
        return "TOTAL-FAILED", "SIG_CRYPTO_FAILURE", "the signature value does not verify"
    if status.revoked:
        return "TOTAL-FAILED", "REVOKED", "the signer's certificate was revoked before the signing time"
    if not status.trusted:
        sub = status.trust_problem_indic
        name = getattr(sub, "name", None) or "NO_CERTIFICATE_CHAIN_FOUND"
        return "INDETERMINATE", name, "the signer's certificate is not trusted at the signing time"
    if timestamp is not None and not timestamp.trusted:
        return "INDETERMINATE", "NO_POE", "the timestamp's TSA is not trusted: signing time unproven"
    return "TOTAL-PASSED", None, "valid"


# --- revocation evidence ---


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
        await embedded.aclose()


def _checked_certs(path: ValidationPath) -> list[x509.Certificate]:
    return [cert for cert in path.iter_certs(include_root=False) if isinstance(cert, x509.Certificate)]


async def _certificate_status(
    cert: x509.Certificate, path: ValidationPath, sources: list[tuple[str, ValidationContext, Evidence]]
) -> RevocationInfo:
    subject = cert.subject.human_friendly
    for origin, context, evidence in sources:
        for kind, check in (("ocsp", verify_ocsp_response), ("crl", verify_crl)):
            source = f"{origin}-{kind}"
            checked_at = _freshest(cert, evidence, kind)
            try:
                await check(cert, path, context)
            except RevokedError as exc:
                reason = exc.reason.native if exc.reason is not None else None
                return RevocationInfo(subject, "revoked", source, checked_at, exc.revocation_dt, reason)
            except (OCSPValidationError, CRLValidationError, ValidationError, PathError, ValueError, OSError):
                continue
            return RevocationInfo(subject, "good", source, _freshest(cert, evidence, kind) or checked_at)
    return RevocationInfo(subject, "unknown", "none")


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
        return certificate_list.issuer == cert.issuer
    except ValueError:
        return False


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
