"""Certificate paths and timestamps for OFD verification, through sealkit's one validation core.

:func:`check_chain` validates a certificate (the signer's, or the seal maker's) to its own trust anchors with
:func:`sealkit.validation.validate_certificate` (at a proven time, or now with the ETSI no-proof rules), and
:func:`chain_reason` turns a failed path into a report reason. :func:`check_timestamp` validates the RFC 3161
token a GB/T 38540 signature carries over its signature value: imprint, token signature and TSA path — only
an intact token from a trusted TSA proves a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import ValidationContext

from sealkit.errors import SealkitError
from sealkit.timefmt import format_time
from sealkit.validation import (
    PathValidation,
    Purpose,
    SM2SignatureValidator,
    build_validation_context,
    validate_certificate,
)


@dataclass
class TimestampCheck:
    """A signature timestamp: its time and TSA, whether it is intact (imprint and signature) and trusted."""

    time: dt.datetime | None
    tsa: str
    intact: bool
    trusted: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        when = format_time(self.time) if self.time else None
        return {
            "time": when,
            "tsa": self.tsa,
            "intact": self.intact,
            "trusted": self.trusted,
            "kind": "signature",
        }


def check_chain(
    cert: asn1_x509.Certificate,
    anchors: Sequence[asn1_x509.Certificate],
    *,
    purpose: Purpose,
    proven: dt.datetime | None,
    now: dt.datetime | None,
    online: bool = False,
) -> PathValidation:
    """Validate ``cert`` to ``anchors`` for ``purpose`` at the ``proven`` time (a trusted timestamp's), or
    else at ``now`` (default: the current time) with the ETSI rules for an unproven time."""
    return validate_certificate(cert, list(anchors), purpose=purpose, at=proven, now=now, online=online)


def chain_reason(result: PathValidation, role: str) -> str | None:
    """The report reason of a failed path: ``revoked.*``, ``expired.*``, ``not-yet-valid.*``, ``trust.*``,
    ``try-later.*`` or ``evaluation.*`` (``role`` is "certificate" for the signer, "seal-maker" for the seal
    maker)."""
    if result.ok:
        return None
    sub = result.sub_indication or ""
    if result.indication == "TOTAL-FAILED":
        kind = {"REVOKED": "revoked", "EXPIRED": "expired", "NOT_YET_VALID": "not-yet-valid"}.get(sub)
        if kind:
            return f"{kind}.{role}"
    if sub == "NO_CERTIFICATE_CHAIN_FOUND":
        return "trust.no-chain" if role == "certificate" else f"trust.{role}"
    if sub == "TRY_LATER":  # a declared revocation status is missing: --online can settle it
        return f"try-later.{role}"
    return f"evaluation.{role}-{sub.lower().replace('_', '-') or 'indeterminate'}"


def _line(exc: BaseException) -> str:
    """A sealkit error's own words; never an internal exception's text (that goes to the debug log)."""
    if isinstance(exc, SealkitError):
        return " ".join(exc.message.split())[:200]
    logging.getLogger(__name__).debug("unexpected error in a timestamp token", exc_info=exc)
    return "malformed"


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
    at: dt.datetime | None = None,
    online: bool = False,
) -> TimestampCheck:
    """Validate the RFC 3161 token ``token_der`` over ``signature_value`` with the TSA anchors ``anchors``,
    at the validation time ``at`` (default now)."""
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
        context = (
            build_validation_context(list(anchors), online=online, moment=at)
            if anchors
            else ValidationContext(
                trust_roots=[], allow_fetching=False, signature_validator=SM2SignatureValidator()
            )
        )
        try:
            return dict(await generic_cms.validate_tst_signed_data(signed_data, context, lambda _a: expected))
        finally:
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
