"""The verification report: ETSI EN 319 102-1 style indications per signature and for the document.

A :class:`VerificationReport` holds one :class:`SignatureVerdict` per signature field and the facts about
the file; ``to_dict()`` gives the JSON shape documented in ``docs/pdf-verification.md``. Verdicts are made
from *checks* (name, ok, detail) and *reasons* (``"category.code"`` strings such as
``"coverage.gap-not-contents"``); the indication follows from the reasons by :func:`judge`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from typing import Any

from sealkit.validation.indications import (
    CATEGORY_VERDICT,
    Indication,
    SubIndication,
    category,
    judge,
)

__all__ = [
    "CATEGORY_VERDICT",
    "Check",
    "Indication",
    "SignatureVerdict",
    "SubIndication",
    "VerificationReport",
    "category",
    "judge",
    "overall",
]


@dataclass
class Check:
    """One check of one signature, as the report shows it (✓/✗/! in the CLI).

    ``level`` is "pass", "fail" (the check decides the verdict) or "warning" (not ok, but informative only:
    no timestamp, revocation status unknown, an invisible signature…).
    """

    name: str
    ok: bool
    detail: str = ""
    level: str = "pass"


@dataclass
class SignatureVerdict:
    """What sealkit concluded about one signature field."""

    field: str
    signer: str | None = None
    algorithm: str | None = None
    intact: bool = False
    coverage: str = "unclear"  # entire-file | entire-revision | partial | unclear
    modification: str = "other"  # none | lta-updates | form-filling | annotations | other
    trusted: bool = False
    indication: str = Indication.INDETERMINATE.value
    sub_indication: str | None = None
    seal: dict[str, Any] | None = None
    #: The time the signature is judged at when proven (else None), and the time the signer claims.
    signing_time: str | None = None
    proven_time: str | None = None
    claimed_time: str | None = None
    #: The signature timestamp: None, or {"time", "tsa", "intact", "trusted"} (a /DocTimeStamp: itself).
    timestamp: dict[str, Any] | None = None
    #: Per certificate of the signer's path: {"subject", "status", "source", "checked_at", "revoked_at",
    #: "reason"} (see :class:`sealkit.trust.RevocationInfo`).
    revocation: list[dict[str, Any]] = dc_field(default_factory=list)
    reasons: list[str] = dc_field(default_factory=list)
    checks: list[Check] = dc_field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str = "", reason: str | None = None) -> bool:
        """Record a check; a failed one adds ``reason`` to the reasons (and fails the verdict), a failed one
        without a reason is a warning. Returns ``ok``."""
        level = "pass" if ok else ("fail" if reason else "warning")
        self.checks.append(Check(name, ok, " ".join(detail.split()), level))
        if not ok and reason and reason not in self.reasons:
            self.reasons.append(reason)
        return ok

    def conclude(self) -> None:
        """Set the indication and sub-indication from the reasons."""
        indication, sub = judge(self.reasons)
        self.indication = indication.value
        self.sub_indication = sub.value if sub else None

    @property
    def passed(self) -> bool:
        return self.indication == Indication.TOTAL_PASSED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class VerificationReport:
    """The verdict on a whole PDF: one entry per signature, plus the file's facts."""

    indication: str
    sub_indication: str | None
    signatures: list[SignatureVerdict]
    file: dict[str, Any]

    @classmethod
    def from_verdicts(cls, verdicts: list[SignatureVerdict], file: dict[str, Any]) -> VerificationReport:
        """The report for a document: its indication is the worst of ``verdicts`` and ``file["reasons"]``."""
        indication, sub = overall(verdicts, file["reasons"])
        return cls(indication=indication, sub_indication=sub, signatures=verdicts, file=file)

    @property
    def passed(self) -> bool:
        """True only for TOTAL-PASSED: at least one signature, and every signature passed."""
        return self.indication == Indication.TOTAL_PASSED

    def to_dict(self) -> dict[str, Any]:
        return {
            "indication": self.indication,
            "sub_indication": self.sub_indication,
            "signatures": [s.to_dict() for s in self.signatures],
            "file": dict(self.file),
        }


_CONSEQUENCE = "modification.unverified-signature"


def overall(signatures: list[SignatureVerdict], document_reasons: list[str]) -> tuple[str, str | None]:
    """The document's indication: the worst of its signatures and its own reasons.

    No signature at all is INDETERMINATE (reason ``document.no-signatures``): nothing was tampered with, but
    nothing is signed either. A signature that failed only because a later one failed
    (``modification.unverified-signature``) names the document's sub-indication last: the later signature's
    own failure is the cause.
    """
    ordered = sorted(signatures, key=lambda s: set(s.reasons) == {_CONSEQUENCE})
    verdicts = [judge(document_reasons)] + [judge(s.reasons) for s in ordered]
    for wanted in (Indication.TOTAL_FAILED, Indication.INDETERMINATE):
        for indication, sub in verdicts:
            if indication == wanted:
                return indication.value, sub.value if sub else None
    return Indication.TOTAL_PASSED.value, None
