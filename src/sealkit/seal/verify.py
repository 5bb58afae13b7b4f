"""Verifying seals and seal signatures in the order GB/T 38540-2020 prescribes.

:func:`verify_ses_signature` runs the steps 1 signer's signature over TBS_Sign, 2 signer's certificate in the
seal's certList, 3 maker's signature over the seal, 4 maker's certificate against the trust anchors, 5 the
seal's validity window at the time of signing, 6 the signer's certificate at that time, 7 the document hash.
:func:`verify_seal` runs the seal's own steps (3, 4, 5). Verification stops at the first failed step; the
result names it, and the steps after it are reported as not run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509 as asn1_x509

from sealkit.errors import InvalidSignature, SealkitError
from sealkit.seal.crypto import check_trusted, load_certificate, verify_signature
from sealkit.seal.make import data_digest
from sealkit.seal.parse import ParsedSeal, ParsedSignature, parse_seal, parse_signature

SEAL_STEPS = ("format", "maker-signature", "maker-certificate", "seal-validity")
SIGNATURE_STEPS = (
    "format",
    "signer-signature",
    "signer-in-certlist",
    "maker-signature",
    "maker-certificate",
    "seal-validity",
    "signer-certificate",
    "document-hash",
)


@dataclass
class Step:
    """One verification step: ``ok`` is True, False, or None when the step did not run."""

    name: str
    ok: bool | None
    detail: str = ""


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

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "ok": self.ok,
            "failed_step": self.failed_step,
            "steps": [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in self.steps],
        }
        if self.seal is not None:
            result["seal"] = {
                "es_id": self.seal.es_id,
                "name": self.seal.name,
                "version": self.seal.version,
                "valid_start": self.seal.valid_start.isoformat(),
                "valid_end": self.seal.valid_end.isoformat(),
            }
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

    def run(self, name: str, check: Any) -> None:
        if self.failed:
            return
        try:
            problem = check()
        except (SealkitError, ValueError, TypeError) as exc:
            problem = str(exc) or type(exc).__name__
        self.steps.append(Step(name, problem is None, problem or "ok"))

    def finish(self) -> list[Step]:
        done = {s.name for s in self.steps}
        return self.steps + [Step(n, None, "not run") for n in self.names if n not in done]


def _maker_signature(seal: ParsedSeal) -> str | None:
    cert = load_certificate(seal.maker_cert, "the maker certificate")
    try:
        verify_signature(cert, seal.sign_alg, seal.signed_bytes, seal.signed_value)
    except InvalidSignature:
        return "the maker's signature over the seal does not verify"
    return None


def _maker_certificate(
    seal: ParsedSeal, trust: Sequence[asn1_x509.Certificate], at: dt.datetime
) -> str | None:
    return check_trusted(load_certificate(seal.maker_cert, "the maker certificate"), trust, at)


def _seal_validity(seal: ParsedSeal, at: dt.datetime) -> str | None:
    if at < seal.valid_start:
        return f"the seal is not yet valid at {at.isoformat()} (valid from {seal.valid_start.isoformat()})"
    if at > seal.valid_end:
        return f"the seal expired on {seal.valid_end.isoformat()}, before {at.isoformat()}"
    return None


def _aware(moment: dt.datetime | None) -> dt.datetime:
    from sealkit.timefmt import aware

    return aware(moment or dt.datetime.now(dt.UTC))  # a time without a zone is Beijing time


def verify_seal(
    seseal: bytes | ParsedSeal,
    *,
    trust: Sequence[asn1_x509.Certificate] = (),
    at_time: dt.datetime | None = None,
) -> SealVerification:
    """Verify a seal on its own: format, maker's signature, maker's certificate, validity at ``at_time``."""
    at = _aware(at_time)
    runner = _Runner(SEAL_STEPS)
    holder: dict[str, ParsedSeal] = {}

    def fmt() -> None:
        holder["seal"] = seseal if isinstance(seseal, ParsedSeal) else parse_seal(seseal)

    runner.run("format", fmt)
    seal = holder.get("seal")
    if seal is not None:
        runner.run("maker-signature", lambda: _maker_signature(seal))
        runner.run("maker-certificate", lambda: _maker_certificate(seal, trust, at))
        runner.run("seal-validity", lambda: _seal_validity(seal, at))
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


def verify_ses_signature(
    ses_signature: bytes,
    data: bytes | None = None,
    *,
    trust: Sequence[asn1_x509.Certificate] = (),
    at_time: dt.datetime | None = None,
) -> SealVerification:
    """Verify an SES_Signature in the standard's order; ``data`` is the signed document (step 7 is skipped
    with ``None``). The time of signing is ``at_time`` or else the signature's timeInfo."""
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
    at = _aware(at_time or sig.time_info)

    def signer_signature() -> str | None:
        try:
            verify_signature(signer, sig.sign_alg, sig.signed_bytes, sig.signature)
        except InvalidSignature:
            return "the signer's signature over TBS_Sign does not verify"
        return None

    def signer_validity() -> str | None:
        validity = signer["tbs_certificate"]["validity"]
        if not validity["not_before"].native <= at <= validity["not_after"].native:
            return f"the signer certificate is not valid at {at.isoformat()}"
        return None

    def document_hash() -> str | None:
        if data is None:
            return None
        if data_digest(sig.sign_alg, data) != sig.data_hash:
            return "the document hash does not match dataHash"
        return None

    runner.run("signer-signature", signer_signature)
    runner.run(
        "signer-in-certlist",
        lambda: (
            None if cert_in_list(sig.seal, sig.signer_cert) else "the signer is not a holder of this seal"
        ),
    )
    runner.run("maker-signature", lambda: _maker_signature(sig.seal))
    runner.run("maker-certificate", lambda: _maker_certificate(sig.seal, trust, at))
    runner.run("seal-validity", lambda: _seal_validity(sig.seal, at))
    runner.run("signer-certificate", signer_validity)
    runner.run("document-hash", document_hash)
    extra = {"signer": signer.subject.human_friendly, "time": at.isoformat()}
    return SealVerification(runner.finish(), seal=sig.seal, signature=sig, extra=extra)


__all__ = [
    "SEAL_STEPS",
    "SIGNATURE_STEPS",
    "SealVerification",
    "Step",
    "cert_in_list",
    "verify_seal",
    "verify_ses_signature",
]
