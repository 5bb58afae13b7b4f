"""The verdict on one signature field of a PDF (used by :mod:`sealkit.pdf.verify`).

Every check is made and recorded even after one failed, so the report says everything that is wrong:
/ByteRange coverage (sealkit's own check), CMS format, integrity (messageDigest against the ByteRange
bytes), the signature value (SM2 included), the signature timestamp and the signer's revocation status
(:func:`sealkit.trust.async_evaluate_signature`), modifications after signing (the contract policy of
:mod:`sealkit.pdf.verify_policy`), bytes or objects no revision accounts for, the certificate chain to the
trust anchors, certificate validity at signing time, the seal image, and the optional seal checker.

The time a signature is judged at: the time of its signature timestamp when that is intact and its TSA
trusted (even when the caller fixed a ``validation_time``: a trusted timestamp proves the signature existed
then); otherwise the caller's ``validation_time``, else the signing time (an untrusted timestamp's time, or
the time the signer claims). Validation data embedded in the document (DSS, CMS revocation archive) is
used offline; the network only with ``online``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from sealkit.errors import SealkitError
from sealkit.pdf.report import SignatureVerdict
from sealkit.pdf.sm2_validation import SM2SignatureValidator, is_sm2_algorithm
from sealkit.pdf.verify_policy import CONTRACT_DIFF_POLICY, MODIFICATION_NAMES, describe_changes
from sealkit.pdf.verify_structure import RevisionLayout, check_byte_range, unregistered_objects

SealChecker = Callable[[cms.SignedData, dt.datetime | None], "dict[str, Any] | None"]

SIGNATURE_SUBFILTERS = {"/adbe.pkcs7.detached", "/ETSI.CAdES.detached"}
TIMESTAMP_SUBFILTERS = {"/ETSI.RFC3161"}
_DIGEST_NAMES = {
    "sha1": "SHA1",
    "sha224": "SHA224",
    "sha256": "SHA256",
    "sha384": "SHA384",
    "sha512": "SHA512",
}
_DIGEST_NAMES |= {"sha3_256": "SHA3-256", "sha3_384": "SHA3-384", "sha3_512": "SHA3-512", "sm3": "SM3"}


@dataclass
class DocumentContext:
    """What every signature of one document shares."""

    data: bytes
    reader: Any
    layout: RevisionLayout
    trust: list[asn1_x509.Certificate]
    validation_time: dt.datetime | None
    seal_checker: SealChecker | None
    online: bool = False


def algorithm_name(signer_info: cms.SignerInfo) -> str:
    """A short name of the signature algorithm: "SM2-with-SM3", "RSA-SHA256", "ECDSA-SHA256"…"""
    sig_algo = signer_info["signature_algorithm"]
    digest = signer_info["digest_algorithm"]["algorithm"].native
    digest_name = _DIGEST_NAMES.get(digest, str(digest).upper())
    if is_sm2_algorithm(sig_algo):
        return "SM2-with-SM3"
    name = sig_algo["algorithm"].native
    if name == "rsassa_pss":
        return f"RSASSA-PSS-{digest_name}"
    family = sig_algo.signature_algo if name != "rsassa_pkcs1v15" else "rsa"
    family = {"rsassa_pkcs1v15": "rsa"}.get(family, family)
    return f"{family.upper()}-{digest_name}"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def _validation_context(moment: dt.datetime | None, trust: list[asn1_x509.Certificate], evidence: Any) -> Any:
    """An offline context at ``moment`` with the document's own validation data (``Evidence``)."""
    options: dict[str, Any] = {}
    if moment is not None:
        options.update(moment=moment, retroactive_revinfo=True)
    return ValidationContext(
        trust_roots=list(trust),
        other_certs=list(evidence.certs),
        ocsps=list(evidence.ocsps),
        crls=list(evidence.crls),
        allow_fetching=False,
        revocation_mode="soft-fail",
        signature_validator=SM2SignatureValidator(),
        **options,
    )


def _evidence(ctx: DocumentContext, embedded: EmbeddedPdfSignature) -> Any:
    """The validation data the document carries for ``embedded`` (none if its DSS is unreadable)."""
    from sealkit import trust

    try:
        return trust.embedded_evidence(ctx.reader, embedded)
    except Exception:  # noqa: BLE001 - a broken DSS is no evidence; the DSS change itself is judged elsewhere
        return trust.Evidence()


def _object_offset(reader: Any, ref: generic.Reference) -> int | None:
    location = reader.xrefs[ref]
    return location if isinstance(location, int) else None


def _has_appearance(field: generic.DictionaryObject) -> tuple[bool, str]:
    widgets = [k.get_object() for k in field["/Kids"]] if "/Kids" in field else [field]
    for widget in widgets:
        rect = [float(x) for x in widget["/Rect"]] if "/Rect" in widget else []
        visible = len(rect) == 4 and abs(rect[2] - rect[0]) > 0 and abs(rect[3] - rect[1]) > 0
        if visible and "/AP" in widget and "/N" in widget["/AP"]:
            size = f"{abs(rect[2] - rect[0]) * 25.4 / 72:.1f}×{abs(rect[3] - rect[1]) * 25.4 / 72:.1f} mm"
            return True, f"visible widget with an appearance ({size})"
    return False, "invisible signature (no widget appearance)"


async def verify_signature(
    ctx: DocumentContext, name: str, field: generic.DictionaryObject, field_ref: Any
) -> SignatureVerdict:
    """Verify one filled signature field; never raises for a bad signature (only for bugs)."""
    verdict = SignatureVerdict(field=name)
    value = field.raw_get("/V")
    if not isinstance(value, generic.IndirectObject):
        verdict.check(
            "format", False, "the signature value is not an indirect object", "format.value-not-indirect"
        )
        verdict.conclude()
        return verdict
    sig_object = value.get_object()
    if not isinstance(sig_object, generic.DictionaryObject):
        verdict.check(
            "format", False, "the signature value is not a dictionary", "format.value-not-dictionary"
        )
        verdict.conclude()
        return verdict

    # 1. ByteRange, checked by sealkit on the raw bytes (before anything parses /Contents).
    well_formed, verdict.coverage = check_byte_range(
        verdict, ctx.data, sig_object, _object_offset(ctx.reader, value.reference), ctx.layout
    )
    if verdict.coverage == "partial":
        verdict.check(
            "coverage", False, "the signed bytes do not end at the end of a revision", "coverage.partial"
        )
    elif well_formed:
        verdict.check("coverage", True, verdict.coverage)

    # 2. Format: the SubFilter and a CMS SignedData in /Contents.
    sig_type = sig_object.get("/Type", "/Sig")
    subfilter = str(sig_object.get("/SubFilter", ""))
    allowed = TIMESTAMP_SUBFILTERS if sig_type == "/DocTimeStamp" else SIGNATURE_SUBFILTERS
    if sig_type not in ("/Sig", "/DocTimeStamp") or subfilter not in allowed:
        verdict.check(
            "format",
            False,
            f"unsupported {sig_type} with SubFilter {subfilter or 'none'}",
            "format.unsupported-subfilter",
        )
    try:
        embedded = EmbeddedPdfSignature(ctx.reader, field_ref, name)
    except Exception as exc:  # noqa: BLE001 - a non-CMS /Contents (e.g. a GB/T 38540 SES_Signature) is a verdict
        verdict.check(
            "format",
            False,
            f"/Contents is not a CMS SignedData ({type(exc).__name__})",
            "format.contents-not-cms",
        )
        _document_checks(ctx, verdict, None)
        verdict.conclude()
        return verdict
    if not verdict.reasons or all(not r.startswith("format.") for r in verdict.reasons):
        verdict.check("format", True, f"{subfilter} with a CMS SignedData")

    signed_data = embedded.signed_data
    signer_info = embedded.signer_info
    try:
        verdict.algorithm = algorithm_name(signer_info)
    except Exception:  # noqa: BLE001 - an unknown algorithm is reported by the signature check below
        verdict.algorithm = str(signer_info["signature_algorithm"]["algorithm"].dotted)
    if is_sm2_algorithm(signer_info["signature_algorithm"]) and signer_info["signed_attrs"] is core.VOID:
        verdict.check(
            "signature",
            False,
            "SM2 CMS signature without signed attributes",
            "crypto.sm2-without-signed-attributes",
        )

    # 3. The timestamp and revocation at the trusted time, then integrity, signature value, chain, validity.
    evidence = _evidence(ctx, embedded)
    evaluation = stamp = None
    if well_formed and sig_type == "/Sig":
        evaluation, stamp = await _trusted_time(ctx, verdict, embedded, evidence)
    signing_time = await _crypto_checks(
        ctx, verdict, embedded, well_formed, sig_type == "/DocTimeStamp", evidence, evaluation, stamp
    )

    # 4. Modifications after signing.
    _modification_checks(ctx, verdict, embedded, well_formed)
    _document_checks(ctx, verdict, embedded.signed_revision)

    # 5. Seal image, and the seal carried in the CMS.
    shown, detail = _has_appearance(field)
    verdict.check("seal-image", shown, detail)
    if ctx.seal_checker is not None and sig_type == "/Sig":
        _seal_check(ctx.seal_checker, verdict, signed_data, signing_time)
    verdict.conclude()
    return verdict


async def _trusted_time(
    ctx: DocumentContext, verdict: SignatureVerdict, embedded: EmbeddedPdfSignature, evidence: Any
) -> tuple[Any, Any]:
    """The signature timestamp and each certificate's revocation status, as report fields and checks.

    Returns the :class:`sealkit.trust.TimeEvaluation` (None without trust anchors: then only the
    timestamp's integrity is reported, since nothing can be trusted) and the :class:`TimestampInfo`.
    """
    from sealkit import trust

    try:
        if not ctx.trust:
            context = _validation_context(ctx.validation_time, [], evidence)
            stamp = await trust.timestamp_info(embedded, context)
            _timestamp_check(verdict, stamp)
            return None, stamp
        evaluation = await trust.async_evaluate_signature(
            embedded, ctx.trust, online=ctx.online, now=ctx.validation_time, skip_diff=True
        )
    except Exception as exc:  # noqa: BLE001 - hostile CMS structures: a verdict, never a crash
        text = exc.message if isinstance(exc, SealkitError) else f"{type(exc).__name__}: {exc}"
        verdict.check(
            "revocation", False, f"timestamp and revocation not evaluated ({text})"[:200], "evaluation.failed"
        )
        return None, None
    _timestamp_check(verdict, evaluation.timestamp)
    verdict.revocation = [entry.to_json() for entry in evaluation.revocation]
    stamp = evaluation.timestamp
    when = "the timestamp's time" if stamp is not None and stamp.trusted else "the validation time"
    for entry in evaluation.revocation:
        _revocation_check(verdict, entry, when, ctx.online)
    if evaluation.sub_indication == "REVOKED" and "revoked.certificate" not in verdict.reasons:
        verdict.check("revocation", False, evaluation.message, "revoked.certificate")
    return evaluation, evaluation.timestamp


def _timestamp_check(verdict: SignatureVerdict, stamp: Any) -> None:
    verdict.timestamp = stamp.to_json() if stamp is not None else None
    if stamp is None:
        verdict.check("timestamp", False, "none (B-B): the signing time is only the signer's claim")
        return
    when = f"{_iso(stamp.time)} by {stamp.tsa or 'an unnamed TSA'}"
    if not stamp.intact:
        verdict.check(
            "timestamp", False, f"{when}: the token is damaged or forged", "crypto.timestamp-invalid"
        )
    elif not stamp.trusted:
        verdict.check("timestamp", False, f"{when}: the TSA is not trusted, so the time is unproven")
    else:
        verdict.check("timestamp", True, f"{when} (RFC 3161 token intact, TSA trusted)")


def _revocation_check(verdict: SignatureVerdict, entry: Any, when: str, online: bool) -> None:
    evidence = f"{entry.source}, issued {_iso(entry.checked_at)}" if entry.checked_at else entry.source
    if entry.status == "good":
        verdict.check("revocation", True, f"{entry.subject}: good at {when} ({evidence})")
    elif entry.status == "revoked":
        why = f", {entry.reason}" if entry.reason else ""
        verdict.check(
            "revocation",
            False,
            f"{entry.subject}: revoked {_iso(entry.revoked_at)}{why}, before {when} ({evidence})",
            "revoked.certificate",
        )
    else:
        where = "in the PDF or online" if online else "in the PDF (online checking fetches it)"
        verdict.check("revocation", False, f"{entry.subject}: unknown, no OCSP/CRL evidence {where}")


async def _crypto_checks(
    ctx: DocumentContext,
    verdict: SignatureVerdict,
    embedded: EmbeddedPdfSignature,
    well_formed: bool,
    is_timestamp: bool,
    evidence: Any,
    evaluation: Any,
    stamp: Any,
) -> dt.datetime | None:
    """Integrity, signature value, chain and validity; returns the signing time used."""
    if not well_formed:
        verdict.check("integrity", False, "not checked: the /ByteRange is unusable")
        return None
    signing_time = embedded.self_reported_timestamp
    if stamp is not None and stamp.intact:
        signing_time = stamp.time
    if evaluation is not None and stamp is not None and stamp.intact and stamp.trusted:
        # A trusted timestamp proves the signature existed then: judge it then, whatever the caller's time.
        signing_time = moment = evaluation.validation_time
    else:
        moment = ctx.validation_time or signing_time
    verdict.signing_time = _iso(signing_time)
    context = _validation_context(moment, ctx.trust, evidence)
    try:
        if is_timestamp:
            result = await generic_cms.validate_tst_signed_data(
                embedded.signed_data, context, embedded.compute_digest
            )
            signing_time = result.get("timestamp", signing_time)
            verdict.signing_time = _iso(signing_time)
        else:
            result = await generic_cms.cms_basic_validation(
                embedded.signed_data,
                raw_digest=embedded.compute_digest(),
                validation_context=context,
                key_usage_settings=PdfSignatureStatus.default_usage_constraints(None),
            )
    except Exception as exc:  # noqa: BLE001 - pyHanko's structural errors are FORMAT verdicts
        verdict.check("signature", False, f"the CMS structure is invalid: {exc}", "format.cms-structure")
        return signing_time
    cert: asn1_x509.Certificate = result["signing_cert"]
    verdict.signer = cert.subject.human_friendly
    verdict.intact = bool(result["intact"])
    verdict.check(
        "integrity",
        verdict.intact,
        "messageDigest matches the signed bytes"
        if verdict.intact
        else "messageDigest does not match the signed bytes",
        "integrity.digest-mismatch",
    )
    valid = bool(result["valid"])
    if is_timestamp:
        trusted = bool(result.get("trust_problem_indic") is None and result.get("validation_path"))
        verdict.timestamp = {
            "time": _iso(signing_time),
            "tsa": verdict.signer,
            "intact": verdict.intact and valid,
            "trusted": verdict.intact and valid and trusted,
        }
        state = "intact, TSA trusted" if verdict.timestamp["trusted"] else "not intact or TSA not trusted"
        verdict.check(
            "timestamp",
            bool(verdict.timestamp["trusted"]),
            f"document timestamp {_iso(signing_time)} by {verdict.signer} ({state})",
        )
    if verdict.intact:
        verdict.check(
            "signature",
            valid,
            f"{verdict.algorithm} signature verifies"
            if valid
            else f"{verdict.algorithm} signature does not verify",
            "crypto.signature-invalid",
        )
    _validity_check(verdict, cert, signing_time)
    problem = result.get("trust_problem_indic")
    verdict.trusted = bool(
        valid and verdict.intact and problem is None and result.get("validation_path") is not None
    )
    if valid and verdict.intact:
        if verdict.trusted:
            verdict.check("chain", True, "the certificate chains to a trust anchor")
        else:
            label = getattr(problem, "name", str(problem))
            reason = "revoked.certificate" if label == "REVOKED" else "trust.no-chain"
            verdict.check("chain", False, f"no trusted certificate chain ({label})", reason)
    return signing_time


def _validity_check(
    verdict: SignatureVerdict, cert: asn1_x509.Certificate, signing_time: dt.datetime | None
) -> None:
    moment = signing_time or dt.datetime.now(dt.UTC)
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    when = "signing time" if signing_time else "now (no signing time)"
    if moment < not_before:
        verdict.check(
            "validity",
            False,
            f"certificate not yet valid at {when} (from {not_before:%Y-%m-%d})",
            "not-yet-valid.at-signing-time",
        )
    elif moment > not_after:
        verdict.check(
            "validity",
            False,
            f"certificate expired at {when} (until {not_after:%Y-%m-%d})",
            "expired.at-signing-time",
        )
    else:
        verdict.check("validity", True, f"certificate valid at {when}")


def _modification_checks(
    ctx: DocumentContext, verdict: SignatureVerdict, embedded: EmbeddedPdfSignature, well_formed: bool
) -> None:
    if not well_formed:
        verdict.check("modification", False, "not checked: the /ByteRange is unusable")
        return
    try:
        embedded.compute_integrity_info(diff_policy=CONTRACT_DIFF_POLICY)
    except Exception as exc:  # noqa: BLE001 - an unreadable later revision is itself a failure
        verdict.check(
            "modification", False, f"later revisions unreadable: {exc}", "modification.unreadable-update"
        )
        return
    if embedded.coverage is not None and embedded.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        verdict.check(
            "coverage", False, f"pyHanko sees coverage {embedded.coverage.name}", "coverage.partial"
        )
    result = embedded.diff_result
    docmdp = embedded.docmdp_level
    if isinstance(result, DiffResult) and (docmdp is None or result.modification_level.value <= docmdp.value):
        verdict.modification = MODIFICATION_NAMES[result.modification_level]
        detail = {
            "none": "no change after signing",
            "lta-updates": "only validation data and timestamps added",
        }
        verdict.check("modification", True, detail.get(verdict.modification, "only later signatures added"))
        return
    verdict.modification = _kind_of_change(embedded)
    changes = describe_changes(ctx.reader, embedded.signed_revision)
    why = str(result) if result is not None else ""
    what = "; ".join(changes) or why.split("\n")[0][:200] or "document changed after signing"
    reason = (
        "modification.docmdp-violation" if isinstance(result, DiffResult) else "modification.after-signing"
    )
    verdict.check("modification", False, f"changed after signing: {what}", reason)


def _kind_of_change(embedded: EmbeddedPdfSignature) -> str:
    """How pyHanko's lenient default policy would classify the change (for the report only)."""
    try:
        lenient = DEFAULT_DIFF_POLICY.review_file(embedded.reader, embedded.signed_revision)
    except Exception:  # noqa: BLE001
        return "other"
    if isinstance(lenient, DiffResult) and lenient.modification_level > ModificationLevel.LTA_UPDATES:
        return MODIFICATION_NAMES[lenient.modification_level]
    return "other"


def _document_checks(ctx: DocumentContext, verdict: SignatureVerdict, signed_revision: int | None) -> None:
    """Bytes after the last revision, and objects after this signature's revision that no xref registers."""
    extra = ctx.layout.unaccounted(ctx.data)
    if extra:
        verdict.check(
            "unaccounted-bytes",
            False,
            f"{len(extra)} bytes after the last %%EOF are not part of any revision",
            "modification.unaccounted-bytes",
        )
    if signed_revision is not None and signed_revision < len(ctx.layout.ends):
        hidden = unregistered_objects(ctx.data, ctx.reader, ctx.layout.ends[signed_revision])
        if hidden:
            verdict.check(
                "hidden-objects",
                False,
                f"objects defined after signing but in no xref: {', '.join(hidden[:6])}",
                "modification.unregistered-objects",
            )


def _seal_check(
    checker: SealChecker, verdict: SignatureVerdict, signed_data: cms.SignedData, when: dt.datetime | None
) -> None:
    try:
        verdict.seal = checker(signed_data, when)
    except Exception as exc:  # noqa: BLE001 - the seal checker is a plug-in: its failure is a verdict
        verdict.seal = {"ok": False, "error": " ".join(str(exc).split())[:200]}
    if verdict.seal is None:
        return
    ok = bool(verdict.seal.get("ok", False))
    verdict.check(
        "seal", ok, str(verdict.seal.get("detail", "") or verdict.seal.get("error", "")), "seal.invalid"
    )
