"""Verify every seal signature of an OFD document: :func:`verify_ofd`, with the PDF report's shape.

Each entry of Signatures.xml becomes a :class:`~sealkit.pdf.report.SignatureVerdict` (``field`` is the
signature's ID), every check recorded even after one failed:

1. format — Signature.xml, SignedValue.dat (a GB/T 38540 SES_Signature), SM2-with-SM3 only;
2. the signer's signature over TBS_Sign (standard step 1), the signer in the seal's certList and a member of
   the seal's unit (2, :func:`sealkit.seal.verify.signer_unit_problem`, as for PDF), the seal
   maker's signature (3) and path to the *seal* trust anchors (4), the seal's validity window and revocation
   (5), the signer's path to the *signer* trust anchors (6), dataHash = SM3(Signature.xml) (7);
3. the package — every Reference's file present with its SM3 digest; Seal.esl identical to the seal inside
   SignedValue.dat; coverage: a file that no Reference covers is accepted only if it is this signature's own
   Signature.xml / SignedValue.dat, Signatures.xml (left open by a non-final signature), or a file of another
   listed signature; anything else was added after signing (``modification.uncovered-file``);
4. StampAnnots on pages that exist.

Time: a timestamp token over the signature value, intact and from a trusted TSA, proves the time, and the
seal and certificates are judged then; without one they are judged at ``validation_time`` (default now): the
SES_Signature's timeInfo and SignatureDateTime are the signer's claim and only reported. Document-level:
signature folders that Signatures.xml does not list (a signature removed from the list) fail the document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509

from sealkit import sm2
from sealkit.certs import CertSource, load_certificate, load_certificates
from sealkit.errors import (
    DecodingError,
    InvalidInput,
    InvalidSignature,
    OfdError,
    OfdStructureError,
    SealkitError,
)
from sealkit.ofd.coverage import check_package, check_stamps, unlisted_signatures
from sealkit.ofd.model import OfdDocument, load_document
from sealkit.ofd.package import OfdPackage, read_package
from sealkit.ofd.signatures import (
    SM2_WITH_SM3,
    SM3_METHODS,
    SignatureRecord,
    SignatureXml,
    list_signatures,
    parse_signature_xml,
)
from sealkit.ofd.trust import chain_reason, check_chain, check_timestamp
from sealkit.ofd.xmlparse import parse_xml
from sealkit.pdf.report import SignatureVerdict, VerificationReport
from sealkit.seal.parse import ParsedSignature, parse_signature
from sealkit.seal.revocation import Revocation, RevocationUnknown
from sealkit.seal.units import seal_unit
from sealkit.seal.verify import cert_in_list, signer_matches_unit, signer_unit_problem
from sealkit.sm2.oids import SM2_SIGN
from sealkit.timefmt import format_time
from sealkit.validation import Purpose, verify_with_certificate
from sealkit.validation.time import TimestampInfo

#: Seal revocations: es_id -> the revocation, or None (a registry's ``revocation`` method fits).
RevocationLookup = Callable[[str], "Revocation | None"]


def _iso(moment: dt.datetime | None) -> str | None:
    return format_time(moment) if moment else None


@dataclass
class _Context:
    package: OfdPackage
    document: OfdDocument
    records: list[SignatureRecord]
    trust: list[asn1_x509.Certificate]
    seal_trust: list[asn1_x509.Certificate]
    revocations: RevocationLookup | None
    validation_time: dt.datetime | None
    online: bool


def verify_ofd(
    source: str | os.PathLike[str] | bytes,
    *,
    trust: Iterable[CertSource] = (),
    seal_trust: Iterable[CertSource] = (),
    revocations: RevocationLookup | None = None,
    validation_time: dt.datetime | None = None,
    online: bool = False,
    name: str | None = None,
) -> VerificationReport:
    """Verify every signature of the OFD ``source`` (a path or the file's bytes; ``name`` is reported).

    ``trust`` are the signers' (and TSAs') trust anchors, ``seal_trust`` the seal makers' (制章者) anchors —
    kept apart: a signing CA does not vouch for seal makers. ``revocations(es_id)`` gives a seal's revocation
    (e.g. ``SealRegistry.revocation``). ``validation_time`` is when to judge an untimestamped signature
    (default now). Raises only for bad input (unreadable file or anchors); a hostile package is a
    FORMAT_FAILURE report.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data, label = bytes(source), "<bytes>"
    else:
        path = Path(source)
        try:
            data, label = path.read_bytes(), path.name
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    return verify_ofd_bytes(
        data,
        name=name or label,
        trust=trust,
        seal_trust=seal_trust,
        revocations=revocations,
        validation_time=validation_time,
        online=online,
    )


def verify_ofd_bytes(
    data: bytes,
    *,
    name: str,
    trust: Iterable[CertSource] = (),
    seal_trust: Iterable[CertSource] = (),
    revocations: RevocationLookup | None = None,
    validation_time: dt.datetime | None = None,
    online: bool = False,
) -> VerificationReport:
    """:func:`verify_ofd` on the file's bytes (``name`` is reported)."""
    if validation_time is not None and validation_time.tzinfo is None:
        raise InvalidInput("validation_time needs a time zone")
    anchors = load_certificates(list(trust), what="trust anchor")
    seal_anchors = load_certificates(list(seal_trust), what="seal trust anchor")
    file_info: dict[str, Any] = {
        "name": name,
        "format": "ofd",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "revisions": None,
        "unsigned_fields": [],
        "reasons": [],
    }
    try:
        package = read_package(data)
        document = load_document(package)
        records = _records(package, document)
    except OfdError as exc:
        reason = exc.reason if isinstance(exc, OfdStructureError) else "format.unreadable-ofd"
        file_info["reasons"].append(reason)
        file_info["error"] = exc.message
        return VerificationReport.from_verdicts([], file_info)
    file_info["files"] = len(package.files)
    file_info["pages"] = len(document.pages)
    ctx = _Context(package, document, records, anchors, seal_anchors, revocations, validation_time, online)
    unlisted = unlisted_signatures(package, records)
    if unlisted:
        file_info["reasons"].append("modification.unlisted-signature")
        file_info["error"] = f"signature parts that Signatures.xml does not list: {', '.join(unlisted[:4])}"
    verdicts = []
    for record in records:
        try:
            verdicts.append(_verify_one(ctx, record))
        except Exception as exc:  # noqa: BLE001 - one signature's surprise never hides the others
            verdict = SignatureVerdict(field=record.id)
            verdict.check(
                "format", False, f"unreadable signature ({_line(exc)})", "format.unreadable-signature"
            )
            verdict.conclude()
            verdicts.append(verdict)
    if not verdicts:
        file_info["reasons"].append("document.no-signatures")
    return VerificationReport.from_verdicts(verdicts, file_info)


def _line(exc: BaseException) -> str:
    """A sealkit error's own words; never an internal exception's text (that goes to the debug log)."""
    if isinstance(exc, SealkitError):
        return " ".join(exc.message.split())[:200]
    logging.getLogger(__name__).debug("unexpected error", exc_info=exc)
    return "an unexpected structure (--verbose or SEALKIT_DEBUG=1 shows details)"


def signed_values(data: bytes) -> dict[str, dict[str, str | None]]:
    """Per signature ID of the OFD ``data``: the SHA-256 of its SignedValue.dat (what names this signature in
    the use register, as the signed revision's hash does for a PDF) and of its signer's certificate.
    Unreadable packages or signatures are left out."""
    found: dict[str, dict[str, str | None]] = {}
    try:
        package = read_package(data)
        records = _records(package, load_document(package))
    except (OfdError, DecodingError):
        return found
    for record in records:
        try:
            value = package.read(
                parse_signature_xml(package.read(record.base_loc), record.base_loc).signed_value_path
            )
            signer: str | None = hashlib.sha256(parse_signature(value).signer_cert).hexdigest()
        except (OfdError, DecodingError):
            continue
        found[record.id] = {
            "revision_sha256": hashlib.sha256(value).hexdigest(),
            "signer_cert_sha256": signer,
        }
    return found


def _records(package: OfdPackage, document: OfdDocument) -> list[SignatureRecord]:
    path = document.signatures_path
    if path is None:
        return []
    records = list_signatures(parse_xml(package.read(path), path), path)
    locations = [r.base_loc for r in records]
    if len(set(locations)) != len(locations):
        raise OfdError(f"{path} lists one Signature.xml for two signatures")
    return records


def _verify_one(ctx: _Context, record: SignatureRecord) -> SignatureVerdict:
    verdict = SignatureVerdict(field=record.id, algorithm="SM2-with-SM3")
    sig, ses = _format(ctx, record, verdict)
    if sig is None or ses is None:
        verdict.conclude()
        return verdict
    signer = _load(ses.signer_cert, "the signer certificate", verdict)
    maker = _load(ses.seal.maker_cert, "the seal maker certificate", verdict)
    verdict.signer = signer.subject.human_friendly if signer is not None else None
    verdict.claimed_time = _iso(ses.time_info)
    proven, stamp = _proven_time(ctx, verdict, ses)
    at = proven or ctx.validation_time or dt.datetime.now(dt.UTC)
    steps: list[dict[str, Any]] = []

    def step(name: str, ok: bool, detail: str, reason: str | None) -> None:
        steps.append({"name": name, "ok": ok, "detail": " ".join(detail.split()), "decisive": bool(reason)})
        verdict.check(name, ok, detail, reason)

    # GB/T 38540's order: 1 signer's signature, 2 certList, 3 maker's signature, 4 maker's path,
    # 5 seal validity and revocation, 6 signer's certificate, 7 document hash.
    if signer is not None:
        ok = _verifies(signer, ses.sign_alg, ses.signed_bytes, ses.signature)
        step(
            "signature",
            ok,
            "SM2-with-SM3 signature over TBS_Sign " + ("verifies" if ok else "does not verify"),
            "crypto.signature-invalid",
        )
        verdict.intact = ok
        holder = cert_in_list(ses.seal, ses.signer_cert)
        step(
            "signer-in-certlist",
            holder,
            "the signer is " + ("" if holder else "not ") + "a holder of the seal",
            "seal.not-holder",
        )
        unit_problem = signer_unit_problem(ses.seal, signer)
        step(
            "signer-unit",
            unit_problem is None,
            unit_problem.detail if unit_problem else _unit_detail(ses, signer),
            unit_problem.code if unit_problem else None,
        )
    if maker is not None:
        ok = _verifies(maker, ses.seal.sign_alg, ses.seal.signed_bytes, ses.seal.signed_value)
        step(
            "maker-signature",
            ok,
            "the seal maker's signature over the seal " + ("verifies" if ok else "does not verify"),
            "seal.maker-signature",
        )
        chain = check_chain(
            maker, ctx.seal_trust, purpose=Purpose.SEAL_MAKING, proven=proven, now=at, online=ctx.online
        )
        step("maker-certificate", chain.ok, chain.message, chain_reason(chain, "seal-maker"))
    _seal_validity(ctx, ses, at, proven is not None, step)
    if signer is not None:
        chain = check_chain(
            signer, ctx.trust, purpose=Purpose.DOCUMENT_SIGNING, proven=proven, now=at, online=ctx.online
        )
        verdict.trusted = chain.ok
        step("signer-certificate", chain.ok, chain.message, chain_reason(chain, "certificate"))
    signature_xml = ctx.package.read(record.base_loc)
    hashed = bytes(sm2.sm3(signature_xml)) == ses.data_hash
    step(
        "data-hash",
        hashed,
        "dataHash " + ("is" if hashed else "is not") + " the SM3 of Signature.xml",
        "integrity.data-hash",
    )
    verdict.intact = verdict.intact and hashed
    check_package(ctx.document, ctx.records, record, sig, ses.seal.der, verdict)
    if ses.property_info != record.base_loc:
        verdict.check(
            "property-info", False, f"propertyInfo names {ses.property_info!r}, not {record.base_loc}"
        )
    check_stamps(ctx.document, sig, verdict)
    verdict.seal = _seal_report(ses, steps, stamp, at, signer)
    verdict.conclude()
    return verdict


def _format(
    ctx: _Context, record: SignatureRecord, verdict: SignatureVerdict
) -> tuple[SignatureXml | None, ParsedSignature | None]:
    if record.type != "Seal":
        verdict.check(
            "format",
            False,
            f'type {record.type!r}: only seal signatures (Type="Seal") are supported',
            "format.unsupported-type",
        )
        return None, None
    try:
        sig = parse_signature_xml(ctx.package.read(record.base_loc), record.base_loc)
        ses = parse_signature(ctx.package.read(sig.signed_value_path))
    except (OfdError, DecodingError) as exc:
        verdict.check("format", False, exc.message, "format.unreadable-signature")
        return None, None
    if ses.version != 4 or ses.seal.version != 4:
        verdict.check(
            "format",
            False,
            "a GM/T 0031 v1 signature (only GB/T 38540 v4 is accepted in OFD)",
            "format.seal-version",
        )
        return None, None
    methods = {sig.method or SM2_WITH_SM3, ses.sign_alg}
    if not methods <= {SM2_WITH_SM3, SM2_SIGN}:
        verdict.check(
            "format",
            False,
            f"signature algorithm {', '.join(sorted(methods))}: OFD seals are SM2-with-SM3 only",
            "format.not-sm2",
        )
        return None, None
    if sig.check_method not in SM3_METHODS:
        verdict.check(
            "format",
            False,
            f"References CheckMethod {sig.check_method or 'missing'}: SM3 expected",
            "format.check-method",
        )
        return None, None
    verdict.check("format", True, f"Signature.xml and a GB/T 38540 v{ses.version} SES_Signature")
    return sig, ses


def _load(der: bytes, what: str, verdict: SignatureVerdict) -> asn1_x509.Certificate | None:
    try:
        return load_certificate(bytes(der), what=what)
    except SealkitError as exc:
        verdict.check("format", False, exc.message, "format.certificate")
        return None


def _verifies(cert: asn1_x509.Certificate, algorithm: str, data: bytes, signature: bytes) -> bool:
    try:
        verify_with_certificate(cert, algorithm, data, signature)
    except (InvalidSignature, SealkitError, ValueError):
        return False
    return True


def _proven_time(
    ctx: _Context, verdict: SignatureVerdict, ses: ParsedSignature
) -> tuple[dt.datetime | None, TimestampInfo | None]:
    """The proven time (a trusted timestamp's) if there is one, and the timestamp."""
    if ses.timestamp is None:
        verdict.check(
            "timestamp",
            False,
            "none: the signing time is only the signer's claim, judged at "
            f"{'the validation time' if ctx.validation_time else 'now'}",
        )
        return None, None
    stamp, message = check_timestamp(
        ses.timestamp, ses.signature, ctx.trust, at=ctx.validation_time, online=ctx.online
    )
    if stamp is None:
        verdict.timestamp = {"time": None, "tsa": "", "intact": False, "trusted": False, "problem": message}
        verdict.check("timestamp", False, message, "crypto.timestamp-invalid")
        return None, None
    verdict.timestamp = stamp.to_dict()
    when = f"{_iso(stamp.time)} by {stamp.tsa or 'an unnamed TSA'}"
    if not stamp.intact:
        verdict.check("timestamp", False, f"{when}: {message}", "crypto.timestamp-invalid")
        return None, stamp
    if not stamp.proves:
        verdict.check("timestamp", False, f"{when}: {message}")
        return None, stamp
    verdict.check("timestamp", True, f"{when} ({message})")
    verdict.signing_time = verdict.proven_time = _iso(stamp.time)
    return stamp.time, stamp


def _seal_validity(ctx: _Context, ses: ParsedSignature, at: dt.datetime, proven: bool, step: Any) -> None:
    """Step 5: the seal's window and revocation at ``at``. Expiry or revocation at an unproven time is
    INDETERMINATE (nothing proves the seal was used before), at a proven time it fails."""
    seal = ses.seal
    when = f"{_iso(at)} ({'proven by the timestamp' if proven else 'no proof of an earlier time'})"
    if at < seal.valid_start:
        step(
            "seal-validity",
            False,
            f"seal {seal.es_id} is not valid before {_iso(seal.valid_start)}: {when}",
            "not-yet-valid.seal",
        )
    elif at > seal.valid_end:
        step(
            "seal-validity",
            False,
            f"seal {seal.es_id} expired {_iso(seal.valid_end)}: {when}",
            "expired.seal" if proven else "evaluation.seal-expired-no-poe",
        )
    else:
        step("seal-validity", True, f"seal {seal.es_id} valid at {when}", None)
    if ctx.revocations is None:
        step("seal-revocation", False, "unknown: no seal registry or revocation list given", None)
        return
    try:
        revocation = ctx.revocations(seal.es_id)
    except RevocationUnknown as exc:  # the registry does not know the seal: it cannot say it is not revoked
        step("seal-revocation", False, f"unknown: {exc}", "try-later.seal")
        return
    if revocation is None:
        step("seal-revocation", True, f"seal {seal.es_id} is not revoked", None)
    elif revocation.revoked_at <= at:
        step(
            "seal-revocation",
            False,
            f"seal {seal.es_id} revoked {_iso(revocation.revoked_at)} ({revocation.reason}), before {when}",
            "revoked.seal" if proven else "evaluation.seal-revoked-no-poe",
        )
    else:
        step(
            "seal-revocation",
            True,
            f"seal {seal.es_id} revoked only later, {_iso(revocation.revoked_at)}",
            None,
        )


def _unit_detail(ses: ParsedSignature, signer: asn1_x509.Certificate) -> str:
    unit = seal_unit(ses.seal)
    if unit.source == "none":
        return "the seal names no unit (a personal seal)"
    named = unit.uscc or unit.name
    if signer_matches_unit(ses.seal, signer):
        return f"the signer belongs to the seal's unit {named}"
    return f"the signer was allowed by the seal's maker to use the seal of {named}"


def _seal_report(
    ses: ParsedSignature,
    steps: list[dict[str, Any]],
    stamp: TimestampInfo | None,
    at: dt.datetime,
    signer: asn1_x509.Certificate | None,
) -> dict[str, Any]:
    seal = ses.seal
    unit = seal_unit(seal)
    proven = stamp is not None and stamp.proves
    return {
        "ok": all(s["ok"] or not s["decisive"] for s in steps),
        "format": f"GB/T 38540 v{ses.version} SES_Signature",
        "es_id": seal.es_id,
        "name": seal.name,
        "version": seal.version,
        "valid_start": _iso(seal.valid_start),
        "valid_end": _iso(seal.valid_end),
        "time_source": "timestamp" if proven else "validation time (no trusted timestamp)",
        "judged_at": _iso(at),
        "claimed_time": _iso(ses.time_info),
        "unit": unit.name,
        "unit_code": unit.uscc,
        "signer_matches_unit": signer_matches_unit(seal, signer) if signer is not None else None,
        "steps": steps,
        "detail": f"seal {seal.es_id} {seal.name}",
    }
