"""The cryptographic and time checks of one PDF signature, as report checks: the signature timestamp, the
signature value and integrity, the signer's path at the proven time, the revocation evidence — all from one
evaluation by :mod:`sealkit.validation` — and, for a document timestamp (/DocTimeStamp), its token.

Time (ETSI EN 319 102-1): the signer is judged at the earliest *proven* time — its own trusted timestamp, or
a trusted document timestamp added after it — and otherwise at the validation time (now). The time the signer
claims (CMS signingTime, /M) is shown, labelled as a claim, and never used to judge anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from sealkit.pdf.report import SignatureVerdict
from sealkit.validation import build_validation_context
from sealkit.validation.context import Evidence, TrustAnchor
from sealkit.validation.revocation import RevocationInfo
from sealkit.validation.signature import SignatureEvaluation, async_evaluate_cms_signature
from sealkit.validation.time import TimestampInfo, iso, time_problem


async def signature_checks(
    verdict: SignatureVerdict,
    embedded: EmbeddedPdfSignature,
    *,
    trust: list[TrustAnchor],
    now: dt.datetime,
    evidence: Evidence,
    online: bool,
    document_timestamps: Iterable[TimestampInfo] = (),
) -> SignatureEvaluation:
    """Record timestamp, integrity, signature, chain and revocation checks; returns the evaluation."""
    evaluation = await async_evaluate_cms_signature(
        embedded.signed_data,
        embedded.signer_info,
        embedded.compute_digest,
        trust=trust,
        now=now,
        evidence=evidence,
        online=online,
        document_timestamps=document_timestamps,
    )
    result = evaluation.cms
    if result.algorithm:
        verdict.algorithm = result.algorithm
    claimed = embedded.self_reported_timestamp
    verdict.signing_time = iso(evaluation.poe.time if evaluation.poe else claimed)
    verdict.claimed_time = iso(claimed)
    verdict.proven_time = iso(evaluation.poe.time) if evaluation.poe else None
    _timestamp_check(verdict, evaluation.timestamp, evaluation.poe)
    if result.signer is not None:
        verdict.signer = str(result.signer.subject.human_friendly)
    verdict.intact = bool(result.intact)
    for reason, detail in evaluation.failures:
        verdict.check(_check_name(reason), False, detail, reason)
    if result.intact:
        verdict.check("integrity", True, "messageDigest matches the signed bytes")
    if result.valid:
        verdict.check("signature", True, f"{result.algorithm} signature verifies")
    verdict.trusted = result.trusted
    if result.trusted:
        verdict.check("chain", True, result.chain_detail)
    verdict.revocation = [entry.to_dict() for entry in evaluation.revocation]
    poe = evaluation.poe
    when = (
        "the validation time"
        if poe is None
        else f"the {'' if poe.kind == 'signature' else 'document '}timestamp's time"
    )
    for entry in evaluation.revocation:
        _revocation_check(verdict, entry, when, online)
    return evaluation


_CHECK_NAMES = {
    "integrity": "integrity",
    "crypto": "signature",
    "format": "format",
    "crypto-constraints": "signature",
    "revoked": "revocation",
    "revoked-no-poe": "revocation",
    "expired": "validity",
    "out-of-bounds-no-poe": "validity",
    "not-yet-valid": "validity",
}


def _check_name(reason: str) -> str:
    if reason == "crypto.timestamp-invalid":
        return "timestamp"
    return _CHECK_NAMES.get(reason.split(".", 1)[0], "chain")


def _timestamp_check(
    verdict: SignatureVerdict, stamp: TimestampInfo | None, poe: TimestampInfo | None
) -> None:
    verdict.timestamp = stamp.to_dict() if stamp is not None else None
    if stamp is None:
        if poe is not None:
            verdict.check(
                "timestamp",
                True,
                f"no signature timestamp; a document timestamp proves it existed {iso(poe.time)}",
            )
        else:
            verdict.check(
                "timestamp",
                False,
                "none (B-B): the signing time is only the signer's claim; judged at the validation time",
            )
        return
    when = f"{iso(stamp.time)} by {stamp.tsa or 'an unnamed TSA'}"
    if not stamp.intact:
        return  # recorded as a failure (crypto.timestamp-invalid) by the evaluation
    if not stamp.trusted:
        why = stamp.tsa_problem or "the TSA is not trusted"
        verdict.check("timestamp", False, f"{when}: {why}, so the time is unproven")
    elif stamp.problem:
        verdict.check("timestamp", False, f"{when}: proves nothing — {stamp.problem}")
    else:
        verdict.check("timestamp", True, f"{when} (RFC 3161 token intact, TSA trusted)")


def _revocation_check(verdict: SignatureVerdict, entry: RevocationInfo, when: str, online: bool) -> None:
    evidence = f"{entry.source}, issued {iso(entry.checked_at)}" if entry.checked_at else entry.source
    if entry.status == "good":
        verdict.check("revocation", True, f"{entry.subject}: good at {when} ({evidence})")
    elif entry.status == "revoked":
        return  # the path validation already failed with the proven-time rule (revoked / revoked-no-poe)
    else:
        where = "in the PDF or online" if online else "in the PDF (online checking fetches it)"
        needed = "; required, as its certificate names an OCSP responder or CRL" if entry.declared else ""
        verdict.check("revocation", False, f"{entry.subject}: unknown, no OCSP/CRL evidence {where}{needed}")


async def document_timestamp_checks(
    verdict: SignatureVerdict,
    embedded: EmbeddedPdfSignature,
    *,
    trust: list[TrustAnchor],
    now: dt.datetime,
    evidence: Evidence,
) -> TimestampInfo | None:
    """Check a /DocTimeStamp's token; returns it as a :class:`TimestampInfo` (kind "document")."""
    context = build_validation_context(trust, embedded=evidence, moment=now, allow_no_anchors=True)
    try:
        result: dict[str, Any] = await generic_cms.validate_tst_signed_data(
            embedded.signed_data, context, embedded.compute_digest
        )
    except Exception as exc:  # noqa: BLE001 - pyHanko's structural errors are FORMAT verdicts
        text = " ".join(str(exc).split())[:200]
        verdict.check("signature", False, f"the timestamp token is invalid: {text}", "format.cms-structure")
        return None
    finally:
        await context.aclose()
    cert = result.get("signing_cert")
    tsa = str(cert.subject.human_friendly) if cert is not None else ""
    verdict.signer = tsa
    verdict.intact = bool(result.get("intact"))
    valid = bool(result.get("valid"))
    trusted = bool(result.get("trust_problem_indic") is None and result.get("validation_path") is not None)
    moment: dt.datetime | None = result.get("timestamp")
    verdict.signing_time = verdict.proven_time = iso(moment)
    problem = time_problem(moment, cert, now) if moment is not None else "the token carries no time"
    stamp = TimestampInfo(
        moment or now,
        tsa,
        verdict.intact and valid,
        verdict.intact and valid and trusted,
        "document",
        problem,
    )
    verdict.timestamp = stamp.to_dict()
    verdict.check(
        "integrity",
        verdict.intact,
        "the token's messageImprint matches the signed bytes"
        if verdict.intact
        else "the token does not match the signed bytes",
        "integrity.digest-mismatch",
    )
    if verdict.intact:
        verdict.check("signature", valid, "timestamp token signature verifies", "crypto.signature-invalid")
    verdict.trusted = stamp.trusted
    if verdict.intact and valid:
        if trusted and stamp.problem:
            verdict.check("timestamp", False, f"document timestamp by {tsa} proves nothing: {stamp.problem}")
        elif trusted:
            verdict.check("timestamp", True, f"document timestamp {iso(moment)} by {tsa} (TSA trusted)")
        elif not trust:
            verdict.check(
                "chain",
                False,
                "no trust anchors were given, so the TSA cannot be trusted",
                "trust.no-anchors",
            )
        else:
            verdict.check("chain", False, f"the TSA {tsa} is not trusted", "trust.no-chain")
    return stamp
