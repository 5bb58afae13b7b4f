"""ETSI EN 319 102-1 indications and sub-indications, and how reason codes map to them.

A verdict collects *reasons* — ``"category.code"`` strings such as ``"integrity.digest-mismatch"`` or
``"revoked-no-poe.certificate"`` — and :func:`judge` turns them into an indication: the first failing category
in :data:`CATEGORY_VERDICT`'s order decides. PDF, OFD and envelope verdicts all use this one table.
"""

from __future__ import annotations

import enum


class Indication(enum.StrEnum):
    """The main status of a signature or a document (ETSI EN 319 102-1 §5.1.3)."""

    TOTAL_PASSED = "TOTAL-PASSED"
    TOTAL_FAILED = "TOTAL-FAILED"
    INDETERMINATE = "INDETERMINATE"


class SubIndication(enum.StrEnum):
    """Why a signature failed or is indeterminate."""

    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    REVOKED = "REVOKED"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    TRY_LATER = "TRY_LATER"


# Reason categories, in the order that decides the sub-indication (first failing category wins).
# category -> (indication, sub-indication)
CATEGORY_VERDICT: dict[str, tuple[Indication, SubIndication | None]] = {
    "format": (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE),
    # readers may disagree on the file's structure (sealkit.pdf.xref_audit): no reading can be trusted
    "structure": (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE),
    "integrity": (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE),
    "crypto": (Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE),
    "coverage": (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE),
    "modification": (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE),
    "revoked": (Indication.TOTAL_FAILED, SubIndication.REVOKED),
    "expired": (Indication.TOTAL_FAILED, SubIndication.EXPIRED),
    "not-yet-valid": (Indication.TOTAL_FAILED, SubIndication.NOT_YET_VALID),
    "seal": (Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE),
    # The signature's own properties against sealkit's constraints (the imprint shown is not the seal's
    # picture): a failure here, although EN 319 102-1 lists SIG_CONSTRAINTS_FAILURE under INDETERMINATE — a
    # contract whose visible seal is another's must never be filed.
    "sig-constraints": (Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE),
    # An electronic seal whose visible imprint could not be compared with its picture (an encoding or a
    # structure sealkit cannot decode): not proven either way, so never TOTAL-PASSED.
    "imprint-not-compared": (Indication.INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE),
    "crypto-constraints": (Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE),
    "revoked-no-poe": (Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE),
    "out-of-bounds-no-poe": (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE),
    "chain-constraints": (Indication.INDETERMINATE, SubIndication.CHAIN_CONSTRAINTS_FAILURE),
    "try-later": (Indication.INDETERMINATE, SubIndication.TRY_LATER),
    "evaluation": (Indication.INDETERMINATE, None),
    "trust": (Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND),
    "document": (Indication.INDETERMINATE, None),
}


def category(reason: str) -> str:
    """The category of a reason code: ``"coverage.gap-not-contents"`` → ``"coverage"``."""
    return reason.split(".", 1)[0]


def judge(reasons: list[str]) -> tuple[Indication, SubIndication | None]:
    """The indication and sub-indication that a list of reasons amounts to."""
    present = {category(r) for r in reasons}
    for name, verdict in CATEGORY_VERDICT.items():
        if name in present:
            return verdict
    if present:  # an unknown category is never a pass
        return Indication.INDETERMINATE, None
    return Indication.TOTAL_PASSED, None
