"""Verifying seals and seal signatures in the order GB/T 38540-2020 prescribes.

:func:`verify_ses_signature` runs the steps 1 signer's signature over TBS_Sign, 2 signer's certificate in the
seal's certList (and a member of the seal's unit), 3 maker's signature over the seal, 4 maker's certificate
against the *seal-maker* trust anchors (:func:`sealkit.validation.validate_certificate`, purpose seal
making), 5 the seal's validity window, 6 the signer's certificate, 7 the document hash.
:func:`verify_seal` runs the seal's own steps (3, 4, 5). Verification stops at the first failed step; the
result names it and its reason code (``seal.maker-untrusted`` …), and the steps after it are reported as not
run.

Time (ETSI EN 319 102-1): ``at_time`` is a *proven* time (a trusted timestamp's). Without one everything is
judged now, and a seal or maker certificate that has expired or been revoked by now gives a ``…-no-poe``
reason with an INDETERMINATE indication: nothing proves it was used before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509 as asn1_x509

from sealkit.errors import SealkitError
from sealkit.seal.crypto import check_path, load_certificate, signature_problem
from sealkit.seal.make import data_digest
from sealkit.seal.parse import ParsedSeal, ParsedSignature, parse_seal, parse_signature
from sealkit.seal.units import membership_problem, seal_unit
from sealkit.timefmt import format_time
from sealkit.validation import Purpose, TrustAnchor, validity_at

SEAL_STEPS = ("format", "maker-signature", "maker-certificate", "seal-validity")
SIGNATURE_STEPS = (
    "format",
    "signer-signature",
    "signer-in-certlist",
    "signer-unit",
    "maker-signature",
    "maker-certificate",
    "seal-validity",
    "signer-certificate",
    "document-hash",
)

#: Reason codes whose verdict is INDETERMINATE (no proof of time), with their ETSI sub-indication.
NO_POE = {
    "seal.revoked-no-poe": "REVOKED_NO_POE",
    "seal.expired-no-poe": "OUT_OF_BOUNDS_NO_POE",
    "seal.maker-revoked-no-poe": "REVOKED_NO_POE",
    "seal.maker-expired-no-poe": "OUT_OF_BOUNDS_NO_POE",
    "seal.signer-expired-no-poe": "OUT_OF_BOUNDS_NO_POE",
}
_PATH_CODES = {
    "REVOKED_NO_POE": "seal.maker-revoked-no-poe",
    "OUT_OF_BOUNDS_NO_POE": "seal.maker-expired-no-poe",
    "REVOKED": "seal.maker-revoked",
    "EXPIRED": "seal.maker-expired",
    "NOT_YET_VALID": "seal.maker-not-yet-valid",
}


def verdict_of(code: str) -> tuple[str, str | None]:
    """The ETSI indication and sub-indication of a seal reason code."""
    if code in NO_POE:
        return "INDETERMINATE", NO_POE[code]
    if code == "seal.maker-untrusted":
        return "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"
    if code == "seal.revocation-unknown":  # no source speaks for the seal (now): as missing revocation data
        return "INDETERMINATE", "TRY_LATER"
    return "TOTAL-FAILED", {"seal.revoked": "REVOKED", "seal.expired": "EXPIRED"}.get(
        code, "SIG_CRYPTO_FAILURE"
    )


@dataclass
class Problem:
    """A failed step: its reason code and a sentence for people."""

    code: str
    detail: str


@dataclass
class Step:
    """One verification step: ``ok`` is True, False, or None when the step did not run."""

    name: str
    ok: bool | None
    detail: str = ""
    code: str = ""


@dataclass
class SealVerification:
    """The outcome of :func:`verify_seal` or :func:`verify_ses_signature`."""

    steps: list[Step]
    seal: ParsedSeal | None = None
    signature: ParsedSignature | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def failed_step(self) -> str | None:
        return next((s.name for s in self.steps if s.ok is False), None)

    @property
    def reason(self) -> str:
        return next((f"{s.name}: {s.detail}" for s in self.steps if s.ok is False), "")

    @property
    def reason_code(self) -> str | None:
        """The failed step's reason code (``seal.maker-untrusted`` …), or None."""
        return next((s.code for s in self.steps if s.ok is False), None)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "ok": self.ok,
            "failed_step": self.failed_step,
            "steps": [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in self.steps],
        }
        if self.seal is not None:
            unit = seal_unit(self.seal)
            result["seal"] = {
                "es_id": self.seal.es_id,
                "name": self.seal.name,
                "version": self.seal.version,
                "valid_start": format_time(self.seal.valid_start),
                "valid_end": format_time(self.seal.valid_end),
            }
            result["unit"], result["unit_code"] = unit.name, unit.uscc
        if self.reason_code:
            result["reason"] = self.reason_code
            result["indication"], result["sub_indication"] = verdict_of(self.reason_code)
        result.update(self.extra)
        return result


class _Runner:
    """Runs named checks in order; after the first failure the rest are recorded as not run."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.steps: list[Step] = []

    @property
    def failed(self) -> bool:
        return any(s.ok is False for s in self.steps)

    def run(self, name: str, check: Callable[[], Problem | str | None]) -> None:
        if self.failed:
            return
        try:
            problem = check()
        except (SealkitError, ValueError, TypeError) as exc:
            problem = str(exc) or type(exc).__name__
        if isinstance(problem, str):
            problem = Problem(f"seal.{name}", problem)
        if problem is None:
            self.steps.append(Step(name, True, "ok"))
        else:
            self.steps.append(Step(name, False, problem.detail, problem.code))

    def finish(self) -> list[Step]:
        done = {s.name for s in self.steps}
        return self.steps + [Step(n, None, "not run") for n in self.names if n not in done]


def _maker_signature(seal: ParsedSeal) -> Problem | None:
    cert = load_certificate(seal.maker_cert, "the maker certificate")
    problem = signature_problem(cert, seal.sign_alg, seal.signed_bytes, seal.signed_value)
    if problem:
        return Problem("seal.maker-signature-invalid", f"the maker's signature over the seal {problem}")
    return None


def _maker_certificate(
    seal: ParsedSeal,
    trust: Sequence[TrustAnchor],
    proven: dt.datetime | None,
    intermediates: Sequence[asn1_x509.Certificate] = (),
) -> Problem | None:
    cert = load_certificate(seal.maker_cert, "the maker certificate")
    if not trust:
        return Problem("seal.maker-untrusted", "no seal-maker trust anchors were given")
    result = check_path(cert, trust, Purpose.SEAL_MAKING, at=proven, intermediates=intermediates)
    if result.ok:
        return None
    code = _PATH_CODES.get(result.sub_indication or "", "seal.maker-untrusted")
    return Problem(code, f"the seal maker is not trusted: {result.message}")


def _seal_validity(seal: ParsedSeal, proven: dt.datetime | None, now: dt.datetime) -> Problem | None:
    at = proven or now
    when = "the proven time" if proven else "now (no timestamp proves an earlier use)"
    if at < seal.valid_start:
        return Problem(
            "seal.not-yet-valid", f"the seal is not valid before {format_time(seal.valid_start)} ({when})"
        )
    if at > seal.valid_end:
        code = "seal.expired" if proven else "seal.expired-no-poe"
        return Problem(
            code, f"the seal expired on {format_time(seal.valid_end)}, before {when} {format_time(at)}"
        )
    return None


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """``moment`` with a zone (a time without a zone is Beijing time, :mod:`sealkit.timefmt`)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    from sealkit.timefmt import aware as zoned

    return zoned(moment)


def verify_seal(
    seseal: bytes | ParsedSeal,
    *,
    trust: Sequence[TrustAnchor] = (),
    at_time: dt.datetime | None = None,
    now: dt.datetime | None = None,
    intermediates: Sequence[asn1_x509.Certificate] = (),
) -> SealVerification:
    """Verify a seal on its own: format, maker's signature, maker's certificate against ``trust`` (the
    seal-maker anchors, with ``intermediates`` to build the path), validity. ``at_time`` is a proven time;
    None judges at ``now`` (default: now)."""
    proven = aware(at_time)
    current = aware(now) or dt.datetime.now(dt.UTC)
    runner = _Runner(SEAL_STEPS)
    holder: dict[str, ParsedSeal] = {}

    def fmt() -> None:
        holder["seal"] = seseal if isinstance(seseal, ParsedSeal) else parse_seal(seseal)

    runner.run("format", fmt)
    seal = holder.get("seal")
    if seal is not None:
        runner.run("maker-signature", lambda: _maker_signature(seal))
        runner.run("maker-certificate", lambda: _maker_certificate(seal, trust, proven, intermediates))
        runner.run("seal-validity", lambda: _seal_validity(seal, proven, current))
    return SealVerification(runner.finish(), seal=seal)


def cert_in_list(seal: ParsedSeal, cert_der: bytes) -> bool:
    """Whether ``cert_der`` is one of the seal's holder certificates (by value or by digest)."""
    if seal.cert_list_type == 1:
        return any(bytes(c) == bytes(cert_der) for c in seal.certs)
    for algorithm, value in seal.cert_digests:
        name = algorithm.lower().replace("-", "")
        if name == "sm3":
            from sealkit import sm2

            if bytes(sm2.sm3(cert_der)) == value:
                return True
        elif name in hashlib.algorithms_available and hashlib.new(name, cert_der).digest() == value:
            return True
    return False


def signer_matches_unit(seal: ParsedSeal, signer: asn1_x509.Certificate) -> bool | None:
    """Whether ``signer`` belongs to the seal's unit; None when the seal names no unit (a personal seal)."""
    unit = seal_unit(seal)
    return None if unit.source == "none" else membership_problem(signer, unit) is None


def signer_unit_problem(seal: ParsedSeal, signer: asn1_x509.Certificate) -> Problem | None:
    """None if ``signer`` belongs to the seal's unit, the seal's maker allowed this holder by an override, or
    the seal is personal and names no unit. A unit seal whose unit sealkit cannot tell fails closed
    (``seal.unit-unknown``) unless the signer's O is the seal's whole name."""
    unit = seal_unit(seal)
    if unit.source == "none" or hashlib.sha256(signer.dump()).hexdigest() in unit.allowed_holders:
        return None
    if unit.source == "unreadable":
        return Problem("seal.unit-unknown", "the seal's unit extension (sealkit's) does not decode")
    problem = membership_problem(signer, unit)
    if problem is None:
        return None
    if unit.source == "whole-name":
        return Problem(
            "seal.unit-unknown",
            f"the unit seal's name {seal.name!r} is neither <unit><purpose> with a purpose sealkit knows nor "
            f"the signer's organisation ({signer.subject.human_friendly}): its unit cannot be told, so "
            "the signer cannot be shown to belong to it",
        )
    return Problem("seal.signer-not-of-unit", problem)


def verify_ses_signature(
    ses_signature: bytes,
    data: bytes | None = None,
    *,
    trust: Sequence[TrustAnchor] = (),
    at_time: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> SealVerification:
    """Verify an SES_Signature in the standard's order; ``data`` is the signed document (step 7 is skipped
    with ``None``), ``trust`` the seal-maker anchors. ``at_time`` is a proven time; the signature's own
    timeInfo is only a claim, so without ``at_time`` everything is judged ``now``."""
    proven = aware(at_time)
    current = aware(now) or dt.datetime.now(dt.UTC)
    runner = _Runner(SIGNATURE_STEPS)
    holder: dict[str, Any] = {}

    def fmt() -> None:
        holder["sig"] = parse_signature(ses_signature)
        holder["signer"] = load_certificate(holder["sig"].signer_cert, "the signer certificate")

    runner.run("format", fmt)
    sig: ParsedSignature | None = holder.get("sig")
    if sig is None:
        return SealVerification(runner.finish())
    signer: asn1_x509.Certificate = holder["signer"]
    at = proven or current

    def signer_signature() -> Problem | None:
        problem = signature_problem(signer, sig.sign_alg, sig.signed_bytes, sig.signature)
        if problem:
            return Problem("seal.signer-signature-invalid", f"the signer's signature over TBS_Sign {problem}")
        return None

    def signer_validity() -> Problem | None:
        state = validity_at(signer, at)
        if state == "valid":
            return None
        code = (
            "seal.signer-expired-no-poe" if state == "expired" and not proven else "seal.signer-certificate"
        )
        return Problem(code, f"the signer certificate is {state.replace('-', ' ')} at {format_time(at)}")

    def document_hash() -> Problem | None:
        if data is None or data_digest(sig.sign_alg, data) == sig.data_hash:
            return None
        return Problem("seal.document-hash", "the document hash does not match dataHash")

    runner.run("signer-signature", signer_signature)
    runner.run(
        "signer-in-certlist",
        lambda: (
            None
            if cert_in_list(sig.seal, sig.signer_cert)
            else Problem("seal.not-holder", "the signer is not a holder of this seal")
        ),
    )
    runner.run("signer-unit", lambda: signer_unit_problem(sig.seal, signer))
    runner.run("maker-signature", lambda: _maker_signature(sig.seal))
    runner.run("maker-certificate", lambda: _maker_certificate(sig.seal, trust, proven))
    runner.run("seal-validity", lambda: _seal_validity(sig.seal, proven, current))
    runner.run("signer-certificate", signer_validity)
    runner.run("document-hash", document_hash)
    extra = {
        "signer": signer.subject.human_friendly,
        "time": format_time(at),
        "claimed_time": format_time(sig.time_info) if sig.time_info else None,
        "signer_matches_unit": signer_matches_unit(sig.seal, signer),
    }
    return SealVerification(runner.finish(), seal=sig.seal, signature=sig, extra=extra)


__all__ = [
    "NO_POE",
    "SEAL_STEPS",
    "SIGNATURE_STEPS",
    "SealVerification",
    "Step",
    "cert_in_list",
    "signer_matches_unit",
    "signer_unit_problem",
    "verdict_of",
    "verify_seal",
    "verify_ses_signature",
]
