"""Certificate paths and timestamps for OFD verification, through sealkit's one validation core.

:func:`check_chain` validates a certificate (the signer's, or the seal maker's) to its own trust anchors at a
moment, with revocation checked where evidence exists: :func:`sealkit.validation.validate_certificate` when
that package is present, otherwise pyhanko-certvalidator with sealkit's SM2-aware validation context (the
same engine). :func:`check_timestamp` validates the RFC 3161 token a GB/T 38540 signature carries over its
signature value: imprint, token signature and TSA path — only an intact token from a trusted TSA proves a
time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509

#: What each role's certificate must allow (keyUsage names; extKeyUsage for the TSA).
USAGES = {
    "DOCUMENT_SIGNING": {"digital_signature"},
    "SEAL_MAKING": {"digital_signature"},
    "TIMESTAMPING": {"digital_signature"},
}


@dataclass
class ChainCheck:
    """The outcome of a path validation: ``status`` is ok, no-chain, revoked, expired or not-yet-valid."""

    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class TimestampCheck:
    """A signature timestamp: its time and TSA, whether it is intact (imprint and signature) and trusted."""

    time: dt.datetime | None
    tsa: str
    intact: bool
    trusted: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        when = self.time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if self.time else None
        return {"time": when, "tsa": self.tsa, "intact": self.intact, "trusted": self.trusted}


def _status_of(sub_indication: str | None) -> str:
    name = (sub_indication or "").upper()
    if "REVOKED" in name:
        return "revoked"
    if "NOT_YET" in name:
        return "not-yet-valid"
    if "EXPIRED" in name or "OUT_OF_BOUNDS" in name:
        return "expired"
    return "no-chain"


def check_chain(
    cert: asn1_x509.Certificate,
    anchors: Sequence[asn1_x509.Certificate],
    *,
    purpose: str,
    at: dt.datetime | None,
    intermediates: Sequence[asn1_x509.Certificate] = (),
    online: bool = False,
) -> ChainCheck:
    """Validate ``cert`` to ``anchors`` for ``purpose`` (a :class:`sealkit.validation.Purpose` name) at
    ``at`` (None: now)."""
    if not anchors:
        return ChainCheck("no-chain", "no trust anchors given")
    try:
        from sealkit import validation  # type: ignore[attr-defined]

        validate = validation.validate_certificate
    except (ImportError, AttributeError):
        return _certvalidator_chain(cert, anchors, purpose, at, intermediates, online)
    result = validate(
        cert,
        list(anchors),
        purpose=getattr(validation.Purpose, purpose),
        intermediates=tuple(intermediates),
        at=at,
        online=online,
    )
    if result.ok:
        return ChainCheck("ok", result.message or "the certificate chains to a trust anchor")
    return ChainCheck(_status_of(result.sub_indication), result.message)


def _context(
    anchors: Sequence[asn1_x509.Certificate], at: dt.datetime | None, others: Any, online: bool
) -> Any:
    try:
        from sealkit.trust import Evidence, build_validation_context
    except ImportError:  # pragma: no cover - after the move to sealkit.validation
        from sealkit.validation import Evidence, build_validation_context  # type: ignore[attr-defined,no-redef]
    return build_validation_context(
        list(anchors), online=online, embedded=Evidence(certs=list(others)), moment=at
    )


def _certvalidator_chain(
    cert: asn1_x509.Certificate,
    anchors: Sequence[asn1_x509.Certificate],
    purpose: str,
    at: dt.datetime | None,
    intermediates: Sequence[asn1_x509.Certificate],
    online: bool,
) -> ChainCheck:
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator import errors as cv_errors

    async def run() -> ChainCheck:
        context = _context(anchors, at, intermediates, online)
        try:
            validator = CertificateValidator(cert, list(intermediates), validation_context=context)
            await validator.async_validate_usage(USAGES[purpose])
        except cv_errors.RevokedError as exc:
            return ChainCheck("revoked", _line(exc))
        except cv_errors.ExpiredError as exc:
            return ChainCheck("expired", _line(exc))
        except cv_errors.NotYetValidError as exc:
            return ChainCheck("not-yet-valid", _line(exc))
        except (cv_errors.PathBuildingError, cv_errors.PathValidationError, cv_errors.ValidationError) as exc:
            return ChainCheck("no-chain", _line(exc))
        except (ValueError, TypeError, KeyError) as exc:
            return ChainCheck("no-chain", f"unreadable certificate path ({_line(exc)})")
        finally:
            await context.aclose()
        return ChainCheck("ok", "the certificate chains to a trust anchor")

    return asyncio.run(run())


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _digest(algorithm: str, data: bytes) -> bytes:
    if algorithm == "sm3":
        from sealkit import sm2

        return bytes(sm2.sm3(data))
    return hashlib.new(algorithm, data).digest()


def check_timestamp(
    token_der: bytes,
    signature_value: bytes,
    anchors: Sequence[asn1_x509.Certificate],
    *,
    online: bool = False,
) -> TimestampCheck:
    """Validate the RFC 3161 token ``token_der`` over ``signature_value`` with the TSA anchors ``anchors``."""
    from pyhanko.sign.validation import generic_cms

    try:
        token = cms.ContentInfo.load(bytes(token_der))
        signed_data = token["content"]
        tst_info = signed_data["encap_content_info"]["content"].parsed
        gen_time: dt.datetime = tst_info["gen_time"].native
        imprint = tst_info["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        expected = _digest(algorithm, signature_value)
    except Exception as exc:  # noqa: BLE001 - a hostile token is a verdict, never a crash
        return TimestampCheck(None, "", False, False, f"the timestamp token is unreadable ({_line(exc)})")
    if imprint["hashed_message"].native != expected:
        return TimestampCheck(
            gen_time, "", False, False, "the timestamp is over other data (imprint mismatch)"
        )

    async def run() -> dict[str, Any]:
        context = _context(anchors, None, [], online) if anchors else None
        try:
            return dict(await generic_cms.validate_tst_signed_data(signed_data, context, lambda _a: expected))
        finally:
            if context is not None:
                await context.aclose()

    try:
        result = asyncio.run(run())
    except Exception as exc:  # noqa: BLE001
        return TimestampCheck(
            gen_time, "", False, False, f"the timestamp token does not verify ({_line(exc)})"
        )
    signer = result.get("signing_cert")
    tsa = signer.subject.human_friendly if signer is not None else ""
    intact = bool(result.get("intact") and result.get("valid"))
    trusted = intact and bool(anchors) and result.get("trust_problem_indic") is None
    if not intact:
        message = "the timestamp token's signature does not verify"
    elif not trusted:
        message = "the TSA is not trusted, so the time is unproven"
    else:
        message = "RFC 3161 token intact, TSA trusted"
    return TimestampCheck(gen_time, tsa, intact, trusted, message)
