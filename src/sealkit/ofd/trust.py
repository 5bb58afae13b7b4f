"""Certificate paths and timestamps for OFD verification, through sealkit's one validation core.

:func:`check_chain` validates a certificate (the signer's, or the seal maker's) to its own trust anchors with
:func:`sealkit.validation.validate_certificate` (at a proven time, or now with the ETSI no-proof rules), and
:func:`chain_reason` turns a failed path into a report reason. :func:`check_timestamp` validates the RFC 3161
token a GB/T 38540 signature carries over its signature value through the core's
:func:`~sealkit.validation.time.token_info`: imprint, token signature, TSA path and the token's time against
the TSA certificate's validity — only an intact token from a trusted TSA whose time holds proves a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Sequence

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import ValidationContext

from sealkit.errors import SealkitError
from sealkit.validation import (
    PathValidation,
    Purpose,
    SM2SignatureValidator,
    build_validation_context,
    validate_certificate,
)
from sealkit.validation.time import TimestampInfo, token_info


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
) -> tuple[TimestampInfo | None, str]:
    """The RFC 3161 token ``token_der`` over ``signature_value`` validated with the TSA anchors ``anchors`` at
    the validation time ``at`` (default now) by :func:`sealkit.validation.time.token_info` — the checks the
    PDF path applies, the token's time within its TSA certificate's validity included — and a sentence on
    it. None when the token cannot be read."""
    try:
        token = cms.ContentInfo.load(bytes(token_der))
        signed_data = token["content"]
        imprint = signed_data["encap_content_info"]["content"].parsed["message_imprint"]
        expected = _digest(imprint["hash_algorithm"]["algorithm"].native, signature_value)
    except Exception as exc:  # noqa: BLE001 - a hostile token is a verdict, never a crash
        return None, f"the timestamp token is unreadable ({_line(exc)})"
    if imprint["hashed_message"].native != expected:
        return None, "the timestamp is over other data (imprint mismatch)"

    async def run() -> TimestampInfo:
        context = (
            build_validation_context(list(anchors), online=online, moment=at)
            if anchors
            else ValidationContext(
                trust_roots=[], allow_fetching=False, signature_validator=SM2SignatureValidator()
            )
        )
        try:
            return await token_info(signed_data, context, lambda _a: expected, at or dt.datetime.now(dt.UTC))
        finally:
            await context.aclose()

    try:
        stamp = asyncio.run(run())
    except Exception as exc:  # noqa: BLE001
        return None, f"the timestamp token does not verify ({_line(exc)})"
    if not stamp.intact:
        return stamp, "the timestamp token's signature does not verify"
    if not stamp.trusted:
        return stamp, "the TSA is not trusted, so the time is unproven"
    if stamp.problem:
        return stamp, f"proves nothing: {stamp.problem}"
    return stamp, "RFC 3161 token intact, TSA trusted"
