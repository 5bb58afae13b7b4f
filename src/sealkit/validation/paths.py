"""Certificate paths for every purpose — PDF signers, TSAs, seal makers, envelope signers, revocation-list
and registry signers — through pyhanko-certvalidator: path building over intermediates, signatures (SM2
included), basicConstraints, name chaining, validity at the validation time, revocation where evidence
exists, then the purpose's key usages.

Time (ETSI EN 319 102-1): ``at`` is a *proven* time (a trusted timestamp's); without one the path is judged
now, and an expiry or revocation found then gives INDETERMINATE with OUT_OF_BOUNDS_NO_POE or REVOKED_NO_POE —
nothing proves the certificate was used before. With a proven time before the event the path passes.

The result is a :class:`PathValidation` with the ETSI indication and sub-indication, never an exception for
a bad certificate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator import errors as cv_errors

from sealkit.errors import SealkitError
from sealkit.timefmt import format_time
from sealkit.validation.context import (
    REVOCATION_ADVICE,
    Evidence,
    TrustAnchor,
    build_validation_context,
)


class Purpose(enum.Enum):
    """What a certificate is validated for; each purpose names the key usages it needs."""

    DOCUMENT_SIGNING = "document-signing"
    TIMESTAMPING = "timestamping"
    SEAL_MAKING = "seal-making"
    ENVELOPE_SIGNING = "envelope-signing"
    REVOCATION_LIST_SIGNING = "revocation-list-signing"
    REGISTRY_SIGNING = "registry-signing"
    CLIENT_AUTHENTICATION = "client-authentication"  # TLS client certificates of the service's clients


_SIGNING_USAGES = frozenset({"digital_signature", "non_repudiation"})
_KEY_USAGES: dict[Purpose, KeyUsageConstraints] = {
    Purpose.DOCUMENT_SIGNING: KeyUsageConstraints(key_usage=_SIGNING_USAGES),
    Purpose.TIMESTAMPING: KeyUsageConstraints(key_usage=_SIGNING_USAGES, extd_key_usage={"time_stamping"}),
    Purpose.SEAL_MAKING: KeyUsageConstraints(key_usage=_SIGNING_USAGES),
    Purpose.ENVELOPE_SIGNING: KeyUsageConstraints(key_usage=_SIGNING_USAGES),
    Purpose.REVOCATION_LIST_SIGNING: KeyUsageConstraints(key_usage=_SIGNING_USAGES),
    Purpose.REGISTRY_SIGNING: KeyUsageConstraints(key_usage=_SIGNING_USAGES),
    # RFC 5280: no extKeyUsage means any purpose; with one, it must list clientAuth (as OpenSSL's sslclient)
    Purpose.CLIENT_AUTHENTICATION: KeyUsageConstraints(
        key_usage={"digital_signature", "key_agreement"},
        extd_key_usage={"client_auth"},
        explicit_extd_key_usage_required=False,
    ),
}


#: Revocation policy per purpose (pyhanko-certvalidator's modes; EN 319 102-1 §5.2.5). ``hard-fail``
#: (CHECK_IF_DECLARED for the end entity and its CAs): a certificate that names an OCSP responder or a CRL
#: distribution point and has no status — nothing embedded, nothing fetched, responder unreachable — gives
#: INDETERMINATE/TRY_LATER; without pointers it passes (status unknown). ``soft-fail``
#: (CHECK_IF_DECLARED_SOFT) checks evidence that is at hand and lets absent evidence pass: only where the
#: caller has no way yet to bring evidence (no embedded data, no --online), so a strict rule could never be
#: satisfied.
REVOCATION_POLICY: dict[Purpose, str] = {
    # a stolen signing key is the threat; the PDF's DSS (ltv-update) and --online bring the evidence
    Purpose.DOCUMENT_SIGNING: "hard-fail",
    # a TSA key that cannot be checked could date anything: its time proves nothing without a status
    Purpose.TIMESTAMPING: "hard-fail",
    # no channel for a maker's revocation data yet (not in the seal, not collected by ltv-update, no
    # --online for a PDF's seal checker); the seal's own revocation goes through the registry and lists
    Purpose.SEAL_MAKING: "soft-fail",
    # bids carry no revocation data and `bid decrypt` has no --online: strict would refuse every bid
    # whose bidder certificate names a CRL (all CA-issued ones)
    Purpose.ENVELOPE_SIGNING: "soft-fail",
    # a revocation list can only take trust away (it adds revocations): refusing one for want of its
    # signer's status would never make a verdict stricter
    Purpose.REVOCATION_LIST_SIGNING: "soft-fail",
    # the registry key is its own anchor: anchors are not revocation-checked
    Purpose.REGISTRY_SIGNING: "hard-fail",
    # the service checks TLS clients offline: strict would lock out every client whose CA names a CRL
    Purpose.CLIENT_AUTHENTICATION: "soft-fail",
}


#: Extended key usages that allow signing documents (RFC 5280 §4.2.1.12: with an extKeyUsage the key serves
#: only the purposes listed). Chinese CAs' signing certificates carry clientAuth and/or emailProtection.
#: Seal makers, bid signers, revocation-list and registry signers sign documents too: a timestamping, OCSP
#: or TLS server certificate of the same CA may not make seals or sign bids.
DOCUMENT_SIGNING_EKUS = frozenset(
    {
        "any_extended_key_usage",
        "client_auth",
        "email_protection",
        "1.3.6.1.5.5.7.3.36",  # id-kp-documentSigning (RFC 9336)
        "1.2.840.113583.1.1.5",  # Adobe Authentic Documents Trust
        "1.3.6.1.4.1.311.10.3.12",  # Microsoft document signing
    }
)
_DOCUMENT_SIGNING_PURPOSES = frozenset(
    {
        Purpose.DOCUMENT_SIGNING,
        Purpose.SEAL_MAKING,
        Purpose.ENVELOPE_SIGNING,
        Purpose.REVOCATION_LIST_SIGNING,
        Purpose.REGISTRY_SIGNING,
    }
)


@dataclass
class PathValidation:
    """The verdict on one certificate's path, in ETSI EN 319 102-1 terms."""

    ok: bool
    indication: str  # "TOTAL-PASSED", "INDETERMINATE" or "TOTAL-FAILED"
    sub_indication: str | None
    message: str
    path: list[asn1_x509.Certificate] = field(default_factory=list)
    #: When the certificate was revoked, or expired, if that is the problem.
    event_time: dt.datetime | None = None
    revocation_reason: str | None = None

    @property
    def anchor(self) -> asn1_x509.Certificate | None:
        return self.path[0] if self.path else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "indication": self.indication,
            "sub_indication": self.sub_indication,
            "message": self.message,
            "path": [str(c.subject.human_friendly) for c in self.path],
        }


def _iso(moment: dt.datetime) -> str:
    return format_time(moment)


def _failure(indication: str, sub: str, message: str, **extra: Any) -> PathValidation:
    return PathValidation(False, indication, sub, message, **extra)


async def async_validate_certificate(
    cert: asn1_x509.Certificate,
    trust: Sequence[TrustAnchor],
    *,
    purpose: Purpose,
    intermediates: Iterable[asn1_x509.Certificate] = (),
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    evidence: Evidence | None = None,
    online: bool = False,
    context: Any = None,
) -> PathValidation:
    """Validate ``cert`` for ``purpose`` against ``trust``.

    ``at`` is a proven time (a trusted timestamp's); ``None`` means no proof: the path is judged at ``now``
    (the current time unless given). ``evidence`` is validation data the document carries; ``online``
    lets OCSP/CRL be fetched. ``context`` reuses a ready pyhanko-certvalidator context (then ``trust``,
    ``at``, ``evidence`` and ``online`` are the context's).
    """
    subject = str(cert.subject.human_friendly)
    if context is None and not trust:
        return _failure(
            "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND", f"{subject}: no trust anchors were given"
        )
    proven = at is not None
    moment = at or now or dt.datetime.now(dt.UTC)
    if context is None:
        try:
            context = build_validation_context(
                trust,
                embedded=evidence,
                moment=moment,
                online=online,
                revocation_mode=REVOCATION_POLICY[purpose],
            )
        except SealkitError as exc:
            return _failure("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND", exc.message)
    validator = CertificateValidator(cert, list(intermediates), validation_context=context)
    try:
        path = await validator.async_validate_path()
    except cv_errors.PathBuildingError:
        return _failure(
            "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND", f"{subject}: no path to a trust anchor"
        )
    except cv_errors.RevokedError as exc:
        reason = exc.reason.human_friendly if exc.reason is not None else None
        when = f"revoked {_iso(exc.revocation_dt)}" + (f" ({reason})" if reason else "")
        if proven:
            return _failure(
                "TOTAL-FAILED",
                "REVOKED",
                f"{subject}: {when}, before the proven time {_iso(moment)}",
                event_time=exc.revocation_dt,
                revocation_reason=reason,
            )
        return _failure(
            "INDETERMINATE",
            "REVOKED_NO_POE",
            f"{subject}: {when}; nothing proves it was used before",
            event_time=exc.revocation_dt,
            revocation_reason=reason,
        )
    except cv_errors.ExpiredError as exc:
        if proven:
            return _failure(
                "TOTAL-FAILED",
                "EXPIRED",
                f"{subject}: expired {_iso(exc.expired_dt)}, before the proven time {_iso(moment)}",
                event_time=exc.expired_dt,
            )
        return _failure(
            "INDETERMINATE",
            "OUT_OF_BOUNDS_NO_POE",
            f"{subject}: expired {_iso(exc.expired_dt)}; no timestamp proves it was used before",
            event_time=exc.expired_dt,
        )
    except cv_errors.NotYetValidError as exc:
        return _failure(
            "TOTAL-FAILED",
            "NOT_YET_VALID",
            f"{subject}: not valid before {_iso(exc.valid_from)} (judged at {_iso(moment)})",
        )
    except cv_errors.DisallowedAlgorithmError as exc:
        return _failure("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE", f"{subject}: {_text(exc)}")
    except cv_errors.InsufficientRevinfoError as exc:
        return _failure("INDETERMINATE", "TRY_LATER", f"{subject}: {revocation_unknown(exc)}")
    except (cv_errors.PathValidationError, cv_errors.ValidationError) as exc:
        return _failure("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE", f"{subject}: {_text(exc)}")
    chain = list(path)
    problem = purpose_problem(cert, purpose)
    if problem:
        return _failure("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE", f"{subject}: {problem}", path=chain)
    anchor = str(chain[0].subject.human_friendly) if chain else "a trust anchor"
    return PathValidation(True, "TOTAL-PASSED", None, f"{subject} chains to {anchor}", path=chain)


def purpose_problem(cert: asn1_x509.Certificate, purpose: Purpose) -> str | None:
    """Why ``cert`` may not be used for ``purpose`` (None if it may). No keyUsage extension: any key usage."""
    constraints = _KEY_USAGES[purpose]
    try:
        if cert.key_usage_value is not None:
            constraints._validate_key_usage_extension(cert.key_usage_value, extra=set())  # type: ignore[no-untyped-call]
        constraints._validate_extd_key_usage_extension(  # type: ignore[no-untyped-call]
            cert.extended_key_usage_value, extra=set()
        )
    except cv_errors.InvalidCertificateError as exc:
        return f"not usable for {purpose.value}: {_text(exc)}"
    eku = cert.extended_key_usage_value
    if purpose in _DOCUMENT_SIGNING_PURPOSES and eku is not None:
        listed = {str(p.native) for p in eku} | {str(p.dotted) for p in eku}
        if not listed & DOCUMENT_SIGNING_EKUS:
            names = ", ".join(sorted(str(p.native) for p in eku))
            return f"not usable for {purpose.value}: its extended key usage allows only {names}"
    return None


def revocation_unknown(exc: cv_errors.InsufficientRevinfoError | None = None) -> str:
    """Why a path that needs a revocation status has none, and what to do (the TRY_LATER message)."""
    if isinstance(exc, cv_errors.StaleRevinfoError):
        what = "the revocation data at hand is too old to speak for the validation time"
    elif exc is not None:
        what = "a certificate of the path names an OCSP responder or CRL, but no revocation status was found"
    else:
        what = (
            "a certificate of the path names an OCSP responder or CRL, and its revocation data is missing "
            "or too old"
        )
    return f"revocation status unknown: {what}; {REVOCATION_ADVICE}"


def _text(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def validate_certificate(
    cert: asn1_x509.Certificate,
    trust: Sequence[TrustAnchor],
    *,
    purpose: Purpose,
    intermediates: Iterable[asn1_x509.Certificate] = (),
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    evidence: Evidence | None = None,
    online: bool = False,
) -> PathValidation:
    """:func:`async_validate_certificate` for synchronous callers (not from inside a running event loop)."""
    return asyncio.run(
        async_validate_certificate(
            cert,
            trust,
            purpose=purpose,
            intermediates=intermediates,
            at=at,
            now=now,
            evidence=evidence,
            online=online,
        )
    )
