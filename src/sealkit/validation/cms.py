"""One validation of one CMS signature: integrity (messageDigest), the signature value (SM2 included), the
signer's path at the right time and the cryptographic constraints — each done once, with the outcome in
ETSI EN 319 102-1 terms.

pyHanko's ``cms_basic_validation`` does the integrity, signature and path work (with the SM2-aware validator
of every sealkit context); this module adds what it leaves to the caller: SM2 without signed attributes (the
SM2 digest needs Z over the whole message), weak digests, the CMS variants Chinese tools write (GM/T 0010
content types, SignedData v3), and the time rule — with a proven time (``at``) an expiry or revocation
before it is TOTAL-FAILED, without one the path is judged now and an expiry or revocation is
INDETERMINATE/…_NO_POE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from sealkit.timefmt import format_time
from sealkit.validation.algorithms import is_sm2_algorithm, is_weak_digest, signature_algorithm_name
from sealkit.validation.certificates import describe, validity_at
from sealkit.validation.context import Evidence, TrustAnchor, build_validation_context
from sealkit.validation.paths import Purpose, purpose_problem, revocation_unknown

#: What a signing certificate of a document must allow (one of them suffices).
DOCUMENT_SIGNING_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"})


@dataclass
class CmsValidation:
    """The outcome of :func:`async_validate_cms`; ``failures`` are ``(reason, detail)`` pairs."""

    signer: asn1_x509.Certificate | None = None
    algorithm: str = ""
    digest: str = ""
    intact: bool | None = None  # None: not checked
    valid: bool | None = None
    trusted: bool = False
    path: list[asn1_x509.Certificate] = field(default_factory=list)
    judged_at: dt.datetime | None = None
    proven: bool = False
    chain_detail: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def fail(self, reason: str, detail: str) -> None:
        self.failures.append((reason, detail))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _signer_info(signed_data: cms.SignedData) -> cms.SignerInfo:
    infos = signed_data["signer_infos"]
    if len(infos) != 1:
        raise ValueError(f"{len(infos)} SignerInfos where one is expected")
    info: cms.SignerInfo = infos[0]
    return info


async def async_validate_cms(
    signed_data: cms.SignedData,
    raw_digest: bytes,
    *,
    trust: Sequence[TrustAnchor],
    at: dt.datetime | None,
    now: dt.datetime | None = None,
    evidence: Evidence | None = None,
    online: bool = False,
    context: ValidationContext | None = None,
) -> CmsValidation:
    """Validate a detached CMS signature over content whose digest is ``raw_digest``, once.

    ``at`` is a proven time (trusted timestamp) or None (no proof: judged at ``now``, default the current
    time). ``context`` may be given ready-made (its trust, time and evidence are then used).
    """
    result = CmsValidation()
    moment = at or now or dt.datetime.now(dt.UTC)
    result.judged_at, result.proven = moment, at is not None
    try:
        info = _signer_info(signed_data)
    except (ValueError, KeyError) as exc:
        result.fail("format.cms-structure", f"the CMS structure is invalid: {_one_line(exc)}")
        return result
    result.digest = str(info["digest_algorithm"]["algorithm"].native)
    try:
        result.algorithm = signature_algorithm_name(info["signature_algorithm"], result.digest)
    except (ValueError, KeyError):
        result.algorithm = str(info["signature_algorithm"]["algorithm"].dotted)
    if is_sm2_algorithm(info["signature_algorithm"]) and info["signed_attrs"] is core.VOID:
        result.fail(
            "format.sm2-without-signed-attributes",
            "SM2 CMS signature without signed attributes: SM2 signs the whole message, so a signature over "
            "a bare digest cannot be checked",
        )
        return result
    if is_weak_digest(result.digest) or is_weak_digest(str(info["digest_algorithm"]["algorithm"].dotted)):
        result.fail(
            "crypto-constraints.weak-digest",
            f"the signature uses {result.digest.upper()}, a digest too weak to prove integrity",
        )
        return result
    anchors = list(trust)
    own_context = context is None
    if context is None:
        context = build_validation_context(
            anchors, embedded=evidence, moment=moment, online=online, allow_no_anchors=True
        )
    try:
        status = await generic_cms.cms_basic_validation(
            signed_data,
            raw_digest=raw_digest,
            validation_context=context,
            key_usage_settings=DOCUMENT_SIGNING_USAGE,
        )
    except Exception as exc:  # noqa: BLE001 - pyHanko's structural errors on hostile CMS are FORMAT verdicts
        result.fail("format.cms-structure", f"the CMS structure is invalid: {_one_line(exc)}")
        return result
    finally:
        if own_context:
            await context.aclose()  # type: ignore[no-untyped-call]
    cert: asn1_x509.Certificate = status["signing_cert"]
    result.signer = cert
    result.intact = bool(status["intact"])
    result.valid = bool(status["valid"])
    if not result.intact:
        result.fail("integrity.digest-mismatch", "messageDigest does not match the signed bytes")
        return result
    if not result.valid:
        problem = status.get("trust_problem_indic")
        if getattr(problem, "name", "") in (
            "CRYPTO_CONSTRAINTS_FAILURE",
            "CRYPTO_CONSTRAINTS_FAILURE_NO_POE",
        ):
            result.fail("crypto-constraints.algorithm", f"{result.algorithm} is not an accepted algorithm")
        else:
            result.fail("crypto.signature-invalid", f"{result.algorithm} signature does not verify")
        return result
    _judge_path(result, cert, status, anchors, moment, at is not None)
    return result


def _judge_path(
    result: CmsValidation,
    cert: asn1_x509.Certificate,
    status: dict[str, Any],
    anchors: list[Any],
    moment: dt.datetime,
    proven: bool,
) -> None:
    subject = describe(cert)
    path = status.get("validation_path")
    result.extra["validation_path"] = path
    if path is not None:
        result.path = [c for c in path.iter_certs(include_root=True) if isinstance(c, asn1_x509.Certificate)]
    when = (
        f"the proven time {_short(moment)}"
        if proven
        else f"the validation time {_short(moment)} (no proof of an earlier time)"
    )
    state = validity_at(cert, moment)
    if state == "not-yet-valid":
        result.fail("not-yet-valid.certificate", f"{subject}: certificate not yet valid at {when}")
        return
    problem = status.get("trust_problem_indic")
    name = getattr(problem, "name", None) if problem is not None else None
    result.extra["trust_problem"] = name
    horizon = status.get("error_time_horizon")
    if name is None and path is not None:
        problem = purpose_problem(cert, Purpose.DOCUMENT_SIGNING)
        if problem:
            result.fail("chain-constraints.extended-key-usage", f"{subject}: {problem}")
            return
        result.trusted = True
        anchor = describe(result.path[0]) if result.path else "a trust anchor"
        result.chain_detail = f"{subject} chains to {anchor}, valid at {when}"
        return
    if not anchors:
        result.fail("trust.no-anchors", "no trust anchors were given, so the signer cannot be trusted")
        return
    if name in ("REVOKED_NO_POE", "REVOKED_CA_NO_POE"):
        revoked = f"revoked {_short(horizon)}" if horizon else "revoked"
        if proven:
            result.fail("revoked.certificate", f"{subject}: {revoked}, before {when}")
        else:
            result.fail(
                "revoked-no-poe.certificate",
                f"{subject}: {revoked}; nothing proves the signature was made before",
            )
    elif name == "OUT_OF_BOUNDS_NO_POE" or state == "expired":
        expired = f"expired {_short(horizon)}" if horizon else "expired"
        if proven:
            result.fail("expired.certificate", f"{subject}: {expired}, before {when}")
        else:
            result.fail(
                "out-of-bounds-no-poe.certificate",
                f"{subject}: {expired}; no timestamp proves the signature was made while it was valid",
            )
    elif name == "CHAIN_CONSTRAINTS_FAILURE":
        result.fail("chain-constraints.key-usage", f"{subject}: the certificate may not sign documents")
    elif name in ("CRYPTO_CONSTRAINTS_FAILURE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"):
        result.fail(
            "crypto-constraints.chain", f"{subject}: a certificate of the chain uses a banned algorithm"
        )
    elif name == "TRY_LATER":
        result.fail("try-later.revocation", f"{subject}: {revocation_unknown()}")
    else:
        result.fail("trust.no-chain", f"no trusted certificate chain for {subject} ({name or 'no path'})")


def _short(moment: dt.datetime | None) -> str:
    if moment is None:
        return "?"
    return format_time(moment)
