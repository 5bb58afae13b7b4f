"""Seals in PDF signatures: what signing needs from the registry, the CMS signed attribute that carries the
SESeal, the verifier's ``seal_checker`` hook, and reading a /Contents that is a GB/T 38540 SES_Signature.

The SESeal travels in the CMS signer's *signed* attributes under :data:`SEAL_ATTRIBUTE_OID` (an OID under the
X.667 UUID arc 2.25, no registration needed), as ``SET OF OCTET STRING`` holding the SESeal DER, so the
signer's signature covers the seal and verifiers that do not know the attribute still parse the CMS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509

from sealkit.errors import AuditChainBroken, DecodingError, SealDisabled, SealError, SealExpired, SealRevoked
from sealkit.seal.attribute import SEAL_ATTRIBUTE_OID, seal_values
from sealkit.seal.parse import ParsedSeal, parse_seal
from sealkit.seal.revlist import RevocationList
from sealkit.seal.revocation import Revocation, RevocationUnknown
from sealkit.seal.verify import (
    aware,
    cert_in_list,
    signer_matches_unit,
    signer_unit_problem,
    verdict_of,
    verify_seal,
    verify_ses_signature,
)
from sealkit.timefmt import format_time
from sealkit.validation import TrustAnchor, signer_certificate

if TYPE_CHECKING:
    from sealkit.seal.lifecycle import SealRegistry


@dataclass
class SealForSigning:
    """What a signer needs to apply a registry seal: the imprint, its size, and the SESeal."""

    es_id: str
    image_png: bytes
    width_mm: float
    height_mm: float
    seseal_der: bytes


def usable_seal(
    registry: SealRegistry,
    seal_id: str,
    signer_cert: asn1_x509.Certificate,
    at: dt.datetime | None = None,
    *,
    maker_trust: Sequence[TrustAnchor] | None = None,
) -> SealForSigning:
    """The seal ``seal_id`` if ``signer_cert`` may use it at ``at`` (default now). The seal's rows must be
    what its audit-chain entries (under a signed head, when the registry signs it) last recorded
    (:class:`AuditChainBroken` otherwise); with ``maker_trust`` (the seal-maker anchors) the seal itself
    must verify against them now. Raises :class:`SealRevoked`, :class:`SealDisabled`, :class:`SealExpired`
    or :class:`SealError` for a seal this signer may not use."""
    at = at or dt.datetime.now(dt.UTC)
    registry.check_seal(seal_id)
    record = registry.get(seal_id)
    if record.status == "revoked" or record.revocation is not None:
        revocation = record.revocation
        why = f" on {format_time(revocation.revoked_at)} ({revocation.reason})" if revocation else ""
        raise SealRevoked(f"seal {seal_id} was revoked{why}")
    if record.status == "disabled":
        raise SealDisabled(f"seal {seal_id} is disabled")
    if at < record.valid_start:
        raise SealExpired(f"seal {seal_id} is not valid before {format_time(record.valid_start)}")
    if at > record.valid_end:
        raise SealExpired(f"seal {seal_id} expired on {format_time(record.valid_end)}")
    check_seal_use(parse_seal(record.seal_der), signer_cert, maker_trust=maker_trust)
    return SealForSigning(record.es_id, record.image, record.width_mm, record.height_mm, record.seal_der)


def check_seal_use(
    seal: ParsedSeal, signer_cert: asn1_x509.Certificate, *, maker_trust: Sequence[TrustAnchor] | None = None
) -> None:
    """Refuse with :class:`SealError` a seal that ``signer_cert`` may not apply now: not one of its holders,
    not a member of the seal's unit, or — with ``maker_trust`` (the seal-maker anchors) — a seal that does
    not verify against them (:func:`verify_seal`: maker's signature and path, validity). The one check before
    signing with a seal, PDF (:func:`usable_seal`) or OFD (:func:`sealkit.ofd.sign_ofd`)."""
    if not cert_in_list(seal, signer_cert.dump()):
        who = signer_cert.subject.human_friendly
        raise SealError(f"the signer {who} is not a holder of seal {seal.es_id}")
    problem = signer_unit_problem(seal, signer_cert)
    if problem is not None:
        raise SealError(f"seal {seal.es_id}: {problem.detail}")
    if maker_trust is not None:
        checked = verify_seal(seal, trust=maker_trust)
        if not checked.ok:
            raise SealError(f"seal {seal.es_id}: {checked.reason} [{checked.reason_code}]")


def seal_signed_attribute(seseal_der: bytes) -> cms.CMSAttribute:
    """The CMS signed attribute carrying ``seseal_der``."""
    parse_seal(seseal_der)  # refuse to embed something that is not a seal
    # By dotted OID: a lookup by name would build asn1crypto's reverse map before pyHanko registers its names.
    return cms.CMSAttribute({"type": SEAL_ATTRIBUTE_OID, "values": [bytes(seseal_der)]})


#: Where revocations come from: the registry, a mapping or list of revocations, or a lookup function.
RevocationSource: TypeAlias = (
    "SealRegistry | Mapping[str, Revocation] | Sequence[Revocation] | Callable[[str], Revocation | None]"
)


def _lookup(revocations: RevocationSource | None) -> Callable[[str], Revocation | None]:
    if revocations is None:
        return lambda _es_id: None
    # A SealRegistry (not imported: no database here): its revocations only after the audit-chain check.
    registry_lookup = getattr(revocations, "checked_revocation", None)
    if callable(registry_lookup):
        return registry_lookup  # type: ignore[no-any-return]
    if isinstance(revocations, Mapping):
        return revocations.get
    if callable(revocations):
        return revocations
    by_id = {r.es_id: r for r in revocations}  # type: ignore[union-attr]
    return by_id.get


def check_seal_in_signature(
    signed_data: cms.SignedData,
    proven_time: dt.datetime | None,
    *,
    trust: Sequence[TrustAnchor] = (),
    revocations: RevocationSource | None = None,
    time_source: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any] | None:
    """The verifier's ``seal_checker``: None when the signature carries no seal, else a report whose ``ok``
    says whether the seal was usable by this signer.

    ``trust`` are the *seal-maker* anchors (never the signer anchors). ``proven_time`` is a proven time (a
    trusted timestamp's) or None: then the seal is judged ``now`` (default: the current time), and a seal
    revoked or expired by now fails with ``seal.revoked-no-poe`` / ``seal.expired-no-poe`` (INDETERMINATE)
    instead of ``seal.revoked`` / ``seal.expired``. ``time_source="claimed"`` marks ``proven_time`` as a
    mere claim (then it is not used). A failed report has ``reason`` (a code), ``indication``,
    ``sub_indication`` and a sentence in ``message``; every report has ``unit``, ``unit_code`` and
    ``signer_matches_unit``. A ``revocations`` lookup that raises :class:`RevocationUnknown` (the registry
    does not know the seal) fails with ``seal.revocation-unknown`` (INDETERMINATE / TRY_LATER)."""
    signer_info = signed_data["signer_infos"][0]
    values = seal_values(signed_data)
    if not values:
        return None
    proven = aware(proven_time) if time_source != "claimed" else None
    current = aware(now) or dt.datetime.now(dt.UTC)
    judged = proven or current
    report: dict[str, Any] = {
        "time_source": "timestamp" if proven else "none",
        "signing_time": format_time(judged),
        "evidence": "timestamp" if proven else "no proof of time: judged now",
        "unit": None,
        "unit_code": None,
        "signer_matches_unit": None,
    }
    try:
        seal_der = bytes(values[0][0].native)
        carried = [c.chosen for c in signed_data["certificates"] or [] if c.name == "certificate"]
        result = verify_seal(seal_der, trust=trust, at_time=proven, now=current, intermediates=carried)
    except (ValueError, TypeError, IndexError, DecodingError) as exc:
        return _fail(report, "format", "seal.format", f"seal attribute unreadable: {exc}")
    report.update(result.to_dict())
    seal = result.seal
    signer = signer_certificate(signed_data, signer_info)
    if seal is not None:
        report["es_id"] = seal.es_id
        if signer is not None:
            report["signer_matches_unit"] = signer_matches_unit(seal, signer)
    if not result.ok:
        report["message"] = result.reason
        return report
    assert seal is not None
    if signer is None or not cert_in_list(seal, signer.dump()):
        return _fail(
            report, "signer-in-certlist", "seal.not-holder", "the signer is not a holder of the seal"
        )
    unit_problem = signer_unit_problem(seal, signer)
    if unit_problem is not None:
        return _fail(report, "signer-unit", unit_problem.code, unit_problem.detail)
    try:
        revocation = _lookup(revocations)(seal.es_id)
    except AuditChainBroken as exc:
        return _fail(report, "revocation", "seal.registry-tampered", exc.message)
    except RevocationUnknown as exc:
        return _fail(report, "revocation", "seal.revocation-unknown", exc.message)
    if revocation is not None:
        report["revocation"] = revocation.to_dict()
        report["revoked_after_signing"] = judged < revocation.revoked_at
        if judged >= revocation.revoked_at:
            code = "seal.revoked" if proven else "seal.revoked-no-poe"
            when = "the proven time" if proven else "now, and no timestamp proves an earlier use"
            return _fail(
                report,
                "revocation",
                code,
                f"seal revoked {format_time(revocation.revoked_at)} ({revocation.reason}), before {when}",
            )
    report["ok"] = True
    return report


def _fail(report: dict[str, Any], step: str, code: str, message: str) -> dict[str, Any]:
    indication, sub = verdict_of(code)
    report.update(
        ok=False, failed_step=step, reason=code, message=message, indication=indication, sub_indication=sub
    )
    return report


def _der_prefix(data: bytes) -> bytes:
    """The DER value at the start of ``data`` without the zero padding of a PDF /Contents."""
    if len(data) < 2 or data[0] != 0x30:
        raise DecodingError("not a DER SEQUENCE")
    first = data[1]
    if first < 0x80:
        return data[: 2 + first]
    count = first & 0x7F
    if not 1 <= count <= 4 or len(data) < 2 + count:
        raise DecodingError("bad DER length")
    length = int.from_bytes(data[2 : 2 + count], "big")
    if len(data) < 2 + count + length:
        raise DecodingError("truncated DER value")
    return data[: 2 + count + length]


def parse_ses_signature(
    contents: bytes,
    data: bytes | None = None,
    *,
    trust: Sequence[TrustAnchor] = (),
    at_time: dt.datetime | None = None,
) -> dict[str, Any]:
    """Report on a PDF /Contents that is a GB/T 38540 SES_Signature (seal, signer, verdict) instead of
    failing the document; ``data`` is the signed byte range if known (else the document hash is not
    checked), ``trust`` the seal-maker anchors, ``at_time`` a proven time (None: judged now)."""
    try:
        der = _der_prefix(bytes(contents))
    except DecodingError as exc:
        return {
            "format": "GB/T 38540 SES_Signature",
            "ok": False,
            "failed_step": "format",
            "reason": "seal.format",
            "message": exc.message,
        }
    result = verify_ses_signature(der, data, trust=trust, at_time=at_time)
    report = {"format": "GB/T 38540 SES_Signature", **result.to_dict()}
    if not result.ok:
        report["message"] = result.reason
    return report


SealChecker = Callable[[cms.SignedData, dt.datetime | None], dict[str, Any] | None]


def revocation_lookup(
    registry: SealRegistry | None, revocation_lists: Sequence[RevocationList] = ()
) -> Callable[[str], Revocation | None]:
    """es_id -> its revocation, from ``registry`` (checked against its audit chain) and imported, already
    verified ``revocation_lists`` (the registry wins where both know a seal).

    A seal no source can speak for raises :class:`RevocationUnknown`: one the registry does not know (an
    old copy or another registry signed by the same key would otherwise hide a revocation) unless a list
    names it or a current list (nextUpdate not passed) is given, and one only lists past their nextUpdate
    could speak for."""
    imported = {entry.es_id: entry for rev_list in revocation_lists for entry in rev_list.entries}

    def lookup(es_id: str) -> Revocation | None:
        unknown = None
        if registry is not None:
            try:
                found = registry.checked_revocation(es_id)
            except RevocationUnknown as exc:
                unknown = exc
            else:
                return found or imported.get(es_id)  # the registry knows the seal
        if es_id in imported:
            return imported[es_id]
        if not revocation_lists or any(rev_list.current() for rev_list in revocation_lists):
            if unknown is not None and not revocation_lists:
                raise unknown
            return None
        due = ", ".join(format_time(r.next_update) for r in revocation_lists if r.next_update is not None)
        prefix = f"{unknown.message}; " if unknown is not None else ""
        raise RevocationUnknown(
            f"{prefix}the revocation lists given are out of date (the next was due {due}): the revocation "
            f"status of seal {es_id} is unknown (get the current list)"
        )

    return lookup


def revocation_evidence(
    registry: SealRegistry | None, revocation_lists: Sequence[RevocationList] = ()
) -> list[dict[str, Any]]:
    """How fresh each revocation source is: the registry's last change (its newest audit entry, under the
    signed head) and each list's issuedAt and nextUpdate, so a reader can judge a replayed old state."""
    evidence: list[dict[str, Any]] = []
    if registry is not None:
        as_of = registry.state_time()
        evidence.append({"source": "registry", "state_as_of": format_time(as_of) if as_of else None})
    evidence += [rev_list.evidence() for rev_list in revocation_lists]
    return evidence


def make_seal_checker(
    trust: Sequence[TrustAnchor] = (),
    *,
    registry: SealRegistry | None = None,
    revocation_lists: Sequence[RevocationList] = (),
) -> SealChecker:
    """The ``seal_checker`` for :func:`sealkit.pdf.verify_pdf`: checks the SESeal a signature carries against
    ``trust`` — the *seal-maker* anchors, never the signer anchors — with revocations from ``registry``
    (after its audit-chain check) and imported, already verified ``revocation_lists`` (the registry wins
    where both know a seal).

    The checker is called as ``checker(signed_data, proven_time)``: ``proven_time`` is a trusted timestamp's
    time, or None when nothing proves the time (the seal is then judged now; see
    :func:`check_seal_in_signature` for the ``…-no-poe`` reasons)."""
    lookup = revocation_lookup(registry, revocation_lists)
    sources = ["registry"] if registry is not None else []
    sources += [rev_list.source for rev_list in revocation_lists]

    def checker(signed_data: cms.SignedData, proven_time: dt.datetime | None) -> dict[str, Any] | None:
        report = check_seal_in_signature(signed_data, proven_time, trust=trust, revocations=lookup)
        if report is not None:
            report["revocation_sources"] = sources or ["none: revocation status unknown"]
            report["revocation_evidence"] = revocation_evidence(registry, revocation_lists)
            report["detail"] = _summary(report)
        return report

    return checker


def _summary(report: dict[str, Any]) -> str:
    """One line for the verification report's seal check."""
    seal = report.get("seal") or {}
    name = f"seal {seal.get('es_id', '?')} {seal.get('name', '')}".rstrip()
    unit = report.get("unit_code") or report.get("unit")
    if not report.get("ok"):
        return (
            f"{name}: {report.get('message') or report.get('reason') or 'invalid'} [{report.get('reason')}]"
        )
    when = "at the timestamp's time" if report["time_source"] == "timestamp" else "now (no timestamp)"
    text = f"{name} usable {when}"
    if unit:
        member = "belongs to it" if report.get("signer_matches_unit") else "allowed by the seal's maker"
        text += f"; unit {unit}, signer {member}"
    revocation = report.get("revocation")
    if revocation:
        text += f"; revoked later, {revocation['revoked_at']} ({revocation['reason']})"
    fresh = [_freshness(e) for e in report.get("revocation_evidence") or []]
    if fresh:
        text += "; revocation state: " + ", ".join(fresh)
    return text


def _freshness(evidence: dict[str, Any]) -> str:
    if evidence["source"] == "registry":
        return f"registry as of {evidence.get('state_as_of') or 'never changed'}"
    text = f"list issued {evidence['issued_at']}"
    if evidence.get("next_update"):
        text += f", next update {evidence['next_update']}" + ("" if evidence.get("current") else " (passed)")
    return text
