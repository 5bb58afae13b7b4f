"""A signature judged at its proven time, once: the one evaluation PDF verification, ``sealkit.trust`` and
OFD share.

1. The signature's own RFC 3161 token is validated at the validation time (``now``), TSA path included.
2. Proof of existence: the earliest trusted time among that token and any document timestamps the caller
   knows to cover the signature (:func:`sealkit.validation.time.proof_of_existence`).
3. The CMS signature is validated once (:func:`sealkit.validation.cms.async_validate_cms`) at the proven
   time, or — without proof — at ``now``.
4. The revocation evidence for the signer's path is reported (:mod:`sealkit.validation.revocation`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from asn1crypto import cms

from sealkit.validation.cms import CmsValidation, async_validate_cms
from sealkit.validation.context import (
    DEFAULT_REVOCATION_MODE,
    Evidence,
    TrustAnchor,
    build_validation_context,
)
from sealkit.validation.indications import Indication, SubIndication, judge
from sealkit.validation.paths import revocation_unknown
from sealkit.validation.revocation import RevocationInfo, missing_required_status, revocation_report
from sealkit.validation.time import TimestampInfo, proof_of_existence, timestamp_info


@dataclass
class SignatureEvaluation:
    """Timestamp, proof of existence, the CMS validation and the revocation evidence of one signature."""

    cms: CmsValidation
    timestamp: TimestampInfo | None
    poe: TimestampInfo | None
    validation_time: dt.datetime
    revocation: list[RevocationInfo] = field(default_factory=list)
    #: (reason, detail) for timestamp problems (a damaged or forged token).
    timestamp_failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def failures(self) -> list[tuple[str, str]]:
        return self.timestamp_failures + self.cms.failures

    @property
    def verdict(self) -> tuple[Indication, SubIndication | None]:
        return judge([reason for reason, _ in self.failures])


async def async_evaluate_cms_signature(
    signed_data: cms.SignedData,
    signer_info: cms.SignerInfo,
    compute_digest: Callable[[str], bytes],
    *,
    trust: Sequence[TrustAnchor],
    now: dt.datetime | None = None,
    evidence: Evidence | None = None,
    online: bool = False,
    document_timestamps: Iterable[TimestampInfo] = (),
    revocation_mode: str = DEFAULT_REVOCATION_MODE,
) -> SignatureEvaluation:
    """Evaluate one CMS signature whose content digest ``compute_digest(algorithm)`` gives."""
    current = now or dt.datetime.now(dt.UTC)
    anchors = list(trust)
    stamp: TimestampInfo | None = None
    timestamp_failures: list[tuple[str, str]] = []
    ts_context = build_validation_context(
        anchors,
        embedded=evidence,
        moment=current,
        online=online,
        allow_no_anchors=True,
        revocation_mode=revocation_mode,
    )
    try:
        stamp = await timestamp_info(signer_info, ts_context, compute_digest, current)
    except Exception as exc:  # noqa: BLE001 - a hostile token is a verdict
        text = " ".join(str(exc).split())[:160] or type(exc).__name__
        timestamp_failures.append(
            ("crypto.timestamp-invalid", f"the signature timestamp is unreadable ({text})")
        )
    finally:
        await ts_context.aclose()  # type: ignore[no-untyped-call]
    if stamp is not None and not stamp.intact:
        timestamp_failures.append(
            ("crypto.timestamp-invalid", "the signature timestamp is damaged or forged")
        )
    poe = proof_of_existence([stamp, *document_timestamps])
    at = poe.time if poe is not None else None
    digest_name = str(signer_info["digest_algorithm"]["algorithm"].native)
    try:
        raw_digest = compute_digest(digest_name)
    except Exception:  # noqa: BLE001 - an unknown digest algorithm is judged by the CMS validation
        raw_digest = b""
    context = build_validation_context(
        anchors,
        embedded=evidence,
        moment=at or current,
        online=online,
        allow_no_anchors=True,
        revocation_mode=revocation_mode,
    )
    try:
        result = await async_validate_cms(
            signed_data, raw_digest, trust=anchors, at=at, now=current, context=context
        )
        revocation: list[RevocationInfo] = []
        path = result.extra.get("validation_path")
        if anchors and path is not None:
            revocation = await revocation_report(
                path, anchors, evidence or Evidence(), context, at or current
            )
            _explain_chain_failure(result, revocation)
    finally:
        await context.aclose()  # type: ignore[no-untyped-call]
    return SignatureEvaluation(result, stamp, poe, at or current, revocation, timestamp_failures)


def _explain_chain_failure(result: CmsValidation, revocation: list[RevocationInfo]) -> None:
    """pyHanko reports a path that lacks a required revocation status (hard-fail) as a general chain failure;
    when the revocation report shows a certificate that names OCSP/CRL pointers without a status, that is
    the cause: INDETERMINATE/TRY_LATER, which more evidence (online, ltv-update) can settle."""
    if result.extra.get("trust_problem") != "CERTIFICATE_CHAIN_GENERAL_FAILURE":
        return
    missing = missing_required_status(revocation)
    if missing is None:
        return
    result.failures = [f for f in result.failures if f[0] != "trust.no-chain"]
    result.fail("try-later.revocation", f"{missing.subject}: {revocation_unknown()}")
