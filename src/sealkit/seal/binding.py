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

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509

from sealkit.errors import DecodingError, SealDisabled, SealError, SealExpired, SealRevoked
from sealkit.seal.parse import parse_seal
from sealkit.seal.revlist import RevocationList
from sealkit.seal.revocation import Revocation
from sealkit.seal.verify import cert_in_list, verify_seal, verify_ses_signature

if TYPE_CHECKING:
    from sealkit.seal.lifecycle import SealRegistry

#: sealkit's CMS attribute "SESeal of this signature" (2.25 + a UUID generated once, fixed forever).
SEAL_ATTRIBUTE_OID = "2.25.109443087748674403689896080194582711289"
SEAL_ATTRIBUTE_NAME = "sealkit_seseal"


class SetOfSESealDer(core.SetOf):
    _child_spec = core.OctetString


def _register() -> None:
    """Teach asn1crypto the attribute, so signed attributes carrying it parse (idempotent)."""
    type_map = cms.CMSAttributeType._map
    assert type_map is not None
    type_map[SEAL_ATTRIBUTE_OID] = SEAL_ATTRIBUTE_NAME
    if cms.CMSAttributeType._reverse_map is not None:
        cms.CMSAttributeType._reverse_map[SEAL_ATTRIBUTE_NAME] = SEAL_ATTRIBUTE_OID
    cms.CMSAttribute._oid_specs[SEAL_ATTRIBUTE_NAME] = SetOfSESealDer


_register()


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
) -> SealForSigning:
    """The seal ``seal_id`` if ``signer_cert`` may use it at ``at`` (default now); raises
    :class:`SealRevoked`, :class:`SealDisabled`, :class:`SealExpired` or :class:`SealError` otherwise."""
    at = at or dt.datetime.now(dt.UTC)
    record = registry.get(seal_id)
    if record.status == "revoked":
        revocation = record.revocation
        why = f" on {revocation.revoked_at.isoformat()} ({revocation.reason})" if revocation else ""
        raise SealRevoked(f"seal {seal_id} was revoked{why}")
    if record.status == "disabled":
        raise SealDisabled(f"seal {seal_id} is disabled")
    if at < record.valid_start:
        raise SealExpired(f"seal {seal_id} is not valid before {record.valid_start.isoformat()}")
    if at > record.valid_end:
        raise SealExpired(f"seal {seal_id} expired on {record.valid_end.isoformat()}")
    if not cert_in_list(parse_seal(record.seal_der), signer_cert.dump()):
        raise SealError(f"the signer {signer_cert.subject.human_friendly} is not a holder of seal {seal_id}")
    return SealForSigning(record.es_id, record.image, record.width_mm, record.height_mm, record.seal_der)


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
    registry_lookup = getattr(
        revocations, "revocation", None
    )  # a SealRegistry (not imported: no database here)
    if callable(registry_lookup):
        return registry_lookup  # type: ignore[no-any-return]
    if isinstance(revocations, Mapping):
        return revocations.get
    if callable(revocations):
        return revocations
    by_id = {r.es_id: r for r in revocations}  # type: ignore[union-attr]
    return by_id.get


def _signer_certificate(
    signed_data: cms.SignedData, signer_info: cms.SignerInfo
) -> asn1_x509.Certificate | None:
    sid = signer_info["sid"]
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            if (
                cert.issuer == sid.chosen["issuer"]
                and cert.serial_number == sid.chosen["serial_number"].native
            ):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    return None


def check_seal_in_signature(
    signed_data: cms.SignedData,
    signing_time: dt.datetime,
    *,
    trust: Sequence[asn1_x509.Certificate] = (),
    revocations: RevocationSource | None = None,
    time_source: str = "claimed",
) -> dict[str, Any] | None:
    """The verifier's ``seal_checker``: None when the signature carries no seal, else a report whose ``ok``
    says whether the seal was usable by this signer at ``signing_time``. ``time_source`` is "timestamp" when
    ``signing_time`` comes from a verified timestamp, "claimed" (weaker evidence) when from the signer."""
    signer_info = signed_data["signer_infos"][0]
    attrs = signer_info["signed_attrs"]
    values = [a["values"] for a in attrs if a["type"].dotted == SEAL_ATTRIBUTE_OID] if attrs else []
    if not values:
        return None
    if signing_time.tzinfo is None:
        signing_time = signing_time.replace(tzinfo=dt.UTC)
    report: dict[str, Any] = {"time_source": time_source, "signing_time": signing_time.isoformat()}
    report["evidence"] = (
        "timestamp" if time_source == "timestamp" else "claimed by the signer (weaker evidence)"
    )
    try:
        seal_der = bytes(values[0][0].native)
        result = verify_seal(seal_der, trust=trust, at_time=signing_time)
    except (ValueError, TypeError, IndexError, DecodingError) as exc:
        return {**report, "ok": False, "failed_step": "format", "reason": f"seal attribute unreadable: {exc}"}
    report.update(result.to_dict())
    if result.seal is not None:
        report["es_id"] = result.seal.es_id
    if not result.ok:
        report["reason"] = result.reason
        return report
    seal = result.seal
    assert seal is not None
    signer = _signer_certificate(signed_data, signer_info)
    if signer is None or not cert_in_list(seal, signer.dump()):
        return {
            **report,
            "ok": False,
            "failed_step": "signer-in-certlist",
            "reason": "signer is not a holder",
        }
    revocation = _lookup(revocations)(seal.es_id)
    if revocation is not None:
        report["revocation"] = revocation.to_dict()
        report["revoked_after_signing"] = signing_time < revocation.revoked_at
        if signing_time >= revocation.revoked_at:
            report.update(
                ok=False,
                failed_step="revocation",
                reason=f"seal revoked before signing ({revocation.reason})",
            )
            return report
    report["ok"] = True
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
    trust: Sequence[asn1_x509.Certificate] = (),
) -> dict[str, Any]:
    """Report on a PDF /Contents that is a GB/T 38540 SES_Signature (seal, signer, verdict) instead of
    failing the document; ``data`` is the signed byte range if known (else the document hash is not
    checked)."""
    try:
        der = _der_prefix(bytes(contents))
    except DecodingError as exc:
        return {
            "format": "GB/T 38540 SES_Signature",
            "ok": False,
            "failed_step": "format",
            "reason": exc.message,
        }
    result = verify_ses_signature(der, data, trust=trust)
    report = {"format": "GB/T 38540 SES_Signature", **result.to_dict()}
    if not result.ok:
        report["reason"] = result.reason
    return report


SealChecker = Callable[[cms.SignedData, dt.datetime | None], dict[str, Any] | None]


def revocation_lookup(
    registry: SealRegistry | None, revocation_lists: Sequence[RevocationList] = ()
) -> Callable[[str], Revocation | None]:
    """es_id -> its revocation, from ``registry`` and imported, already verified ``revocation_lists`` (the
    registry wins where both know a seal)."""
    imported = {entry.es_id: entry for rev_list in revocation_lists for entry in rev_list.entries}

    def lookup(es_id: str) -> Revocation | None:
        found = registry.revocation(es_id) if registry is not None else None
        return found or imported.get(es_id)

    return lookup


def make_seal_checker(
    trust: Sequence[asn1_x509.Certificate] = (),
    *,
    registry: SealRegistry | None = None,
    revocation_lists: Sequence[RevocationList] = (),
) -> SealChecker:
    """The ``seal_checker`` for :func:`sealkit.pdf.verify_pdf`: checks the SESeal a signature carries against
    ``trust`` (the seal authorities' anchors), with revocations from ``registry`` and imported, already
    verified ``revocation_lists`` (the registry wins where both know a seal). The time source is reported as
    "timestamp" when the signing time given is the signature timestamp's, else "claimed"."""
    lookup = revocation_lookup(registry, revocation_lists)
    sources = ["registry"] if registry is not None else []
    sources += [rev_list.source for rev_list in revocation_lists]

    def checker(signed_data: cms.SignedData, signing_time: dt.datetime | None) -> dict[str, Any] | None:
        when = signing_time or dt.datetime.now(dt.UTC)
        source = "timestamp" if _timestamp_time(signed_data) == when else "claimed"
        report = check_seal_in_signature(
            signed_data, when, trust=trust, revocations=lookup, time_source=source
        )
        if report is not None:
            report["revocation_sources"] = sources or ["none: revocation status unknown"]
            report["detail"] = _summary(report)
        return report

    return checker


def _summary(report: dict[str, Any]) -> str:
    """One line for the verification report's seal check."""
    seal = report.get("seal") or {}
    name = f"seal {seal.get('es_id', '?')} {seal.get('name', '')}".rstrip()
    if not report.get("ok"):
        return f"{name}: {report.get('reason') or report.get('failed_step') or 'invalid'}"
    text = f"{name} usable at signing time ({report['time_source']} time)"
    revocation = report.get("revocation")
    if revocation:
        text += f"; revoked later, {revocation['revoked_at']} ({revocation['reason']})"
    return text


def _timestamp_time(signed_data: cms.SignedData) -> dt.datetime | None:
    """genTime of the signature timestamp token in the first signer's unsigned attributes, if any."""
    attrs = signed_data["signer_infos"][0]["unsigned_attrs"]
    if not attrs:
        return None
    for attr in attrs:
        if attr["type"].native == "signature_time_stamp_token":
            try:
                content = attr["values"][0]["content"]
                tst_info = content["encap_content_info"]["content"].parsed
                gen_time: dt.datetime = tst_info["gen_time"].native
                return gen_time
            except (KeyError, ValueError, TypeError, AttributeError):
                return None
    return None
