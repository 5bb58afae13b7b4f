"""Was a signature valid *when it was made*? :func:`evaluate_signature` for library users who hold a pyHanko
:class:`EmbeddedPdfSignature`.

It is the validation core's evaluation (:func:`sealkit.validation.signature.async_evaluate_cms_signature`)
with the document's own validation data: the signature timestamp validated now, the signer judged at the
timestamp's time when the timestamp is intact and trusted — otherwise now, since a claimed signing time
proves nothing — and the revocation evidence of the signer's path, with its source (``embedded-ocsp``,
``embedded-crl``, ``online-ocsp``, ``online-crl`` or ``none``).

:meth:`TimeEvaluation.to_json` is the per-signature addition to sealkit's verification report:
``{"timestamp": null | {"time", "tsa", "intact", "trusted", "kind"}, "revocation": [{"subject", "status",
"source", "checked_at", "revoked_at", "reason"}]}``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from sealkit.validation.context import DEFAULT_REVOCATION_MODE, TrustAnchor, embedded_evidence
from sealkit.validation.revocation import RevocationInfo, revocation_report
from sealkit.validation.signature import async_evaluate_cms_signature
from sealkit.validation.time import TimestampInfo, timestamp_info

__all__ = [
    "RevocationInfo",
    "TimeEvaluation",
    "TimestampInfo",
    "async_evaluate_signature",
    "evaluate_signature",
    "revocation_report",
    "timestamp_info",
]


@dataclass
class TimeEvaluation:
    """The outcome for one signature: an ETSI indication, the timestamp and the revocation evidence."""

    indication: str  # TOTAL-PASSED | TOTAL-FAILED | INDETERMINATE
    sub_indication: str | None
    message: str
    validation_time: dt.datetime  # the time the signer's certificates were judged at
    timestamp: TimestampInfo | None
    revocation: list[RevocationInfo] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.indication == "TOTAL-PASSED"

    def to_dict(self) -> dict[str, Any]:
        """The JSON additions of a verification report (per signature)."""
        return {
            "timestamp": self.timestamp.to_dict() if self.timestamp else None,
            "revocation": [entry.to_dict() for entry in self.revocation],
        }

    to_json = to_dict


def evaluate_signature(
    signature: EmbeddedPdfSignature,
    trust_anchors: Sequence[TrustAnchor],
    *,
    online: bool = False,
    now: dt.datetime | None = None,
    revocation_mode: str = DEFAULT_REVOCATION_MODE,
) -> TimeEvaluation:
    """Validate ``signature`` at its proven time (see the module docstring); never raises for a bad file.

    ``now`` is the validation time (default: the current time); set it to evaluate a document as a verifier
    would later, e.g. after the signer's certificate expired.
    """
    return asyncio.run(
        async_evaluate_signature(
            signature, trust_anchors, online=online, now=now, revocation_mode=revocation_mode
        )
    )


async def async_evaluate_signature(
    signature: EmbeddedPdfSignature,
    trust_anchors: Sequence[TrustAnchor],
    *,
    online: bool = False,
    now: dt.datetime | None = None,
    revocation_mode: str = DEFAULT_REVOCATION_MODE,
) -> TimeEvaluation:
    """:func:`evaluate_signature` for callers already inside an event loop."""
    evaluation = await async_evaluate_cms_signature(
        signature.signed_data,
        signature.signer_info,
        signature.compute_digest,
        trust=trust_anchors,
        now=now,
        evidence=embedded_evidence(signature.reader, signature),
        online=online,
        revocation_mode=revocation_mode,
    )
    indication, sub = evaluation.verdict
    failures = evaluation.failures
    message = failures[0][1] if failures else "valid"
    return TimeEvaluation(
        indication.value,
        sub.value if sub else None,
        message,
        evaluation.validation_time,
        evaluation.timestamp,
        evaluation.revocation,
    )
