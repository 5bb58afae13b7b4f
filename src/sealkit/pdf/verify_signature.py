"""The verdict on one signature field of a PDF (used by :mod:`sealkit.pdf.verify`).

Every check is made and recorded even after one failed, so the report says everything that is wrong:
/ByteRange coverage (sealkit's own check), CMS format, integrity (messageDigest against the ByteRange
bytes), the signature value (SM2 included), the signature timestamp, the signer's path and revocation
status — one evaluation by :mod:`sealkit.validation`, recorded by :mod:`sealkit.pdf.verify_crypto` —
modifications after signing (the contract policy of :mod:`sealkit.pdf.verify_policy`), bytes or objects no
revision accounts for, the seal image against the seal the signature carries
(:mod:`sealkit.pdf.verify_imprint`), what prints differently from what the screen shows
(:mod:`sealkit.pdf.print_view`), the optional seal checker, and whether the signature carries the seal its
field (or the ``require_seal`` policy) requires (:mod:`sealkit.pdf.field_requirements`).

Time (ETSI EN 319 102-1): a signature is judged at its earliest *proven* time — its own trusted timestamp,
or a trusted document timestamp added after it — and otherwise at the validation time (the caller's
``validation_time``, default now). The time the signer claims proves nothing. Validation data embedded in
the document (DSS, CMS revocation archive) is used offline; the network only with ``online``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from sealkit.pdf.field_requirements import seal_requirement_checks
from sealkit.pdf.modifications import dangling_references, freed_but_defined
from sealkit.pdf.print_view import print_view_checks
from sealkit.pdf.report import SignatureVerdict
from sealkit.pdf.rule_context import LaterSignature
from sealkit.pdf.verify_crypto import document_timestamp_checks, signature_checks
from sealkit.pdf.verify_imprint import imprint_checks
from sealkit.pdf.verify_policy import contents_checks
from sealkit.pdf.verify_structure import (
    MAX_REREAD_OBJECTS,
    RevisionLayout,
    check_byte_range,
    update_syntax_problems,
)
from sealkit.pdf.xref_audit import XrefAudit
from sealkit.sm2 import oids
from sealkit.validation.context import Evidence, embedded_evidence
from sealkit.validation.time import TimestampInfo

SealChecker = Callable[[cms.SignedData, dt.datetime | None], "dict[str, Any] | None"]

#: At most this many xref-audit or syntax findings are listed per signature (all fail it).
_MAX_FINDINGS_SHOWN = 8
SIGNATURE_SUBFILTERS = {"/adbe.pkcs7.detached", "/ETSI.CAdES.detached"}
TIMESTAMP_SUBFILTERS = {"/ETSI.RFC3161"}
GM_DATA = oids.GM_DATA


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
    #: The lexical audit of the whole file's cross-reference layer (:mod:`sealkit.pdf.xref_audit`).
    audit: XrefAudit | None = None
    #: Every signature must carry an electronic seal (:mod:`sealkit.pdf.field_requirements`).
    require_seal: bool = False
    #: Trusted document timestamps seen so far: (the revision each covers, the timestamp).
    document_timestamps: list[tuple[int, TimestampInfo]] = dc_field(default_factory=list)
    #: (signed revision, verdict, the later signatures its modification review accepted), for
    #: :func:`sealkit.pdf.verify._judge_later_signatures`.
    later_signatures: list[tuple[int, SignatureVerdict, list[LaterSignature]]] = dc_field(
        default_factory=list
    )
    #: update_syntax_problems of the revisions up to a signed one (what the signers signed), by revision.
    signed_syntax: dict[int, list[tuple[str, str]]] = dc_field(default_factory=dict)

    #: References to freed-but-defined objects, by revision (:func:`modifications.dangling_references`).
    dangling: dict[int, list[str]] = dc_field(default_factory=dict)
    freed: list[set[int]] | None = None
    #: Print/view findings by revision (:func:`sealkit.pdf.print_view.print_view_checks`).
    print_view: dict[int, list[Any]] = dc_field(default_factory=dict)

    def dangling_in(self, revision: int) -> list[str]:
        """References in ``revision`` to an object it frees although the file defines it (memoised)."""
        if revision not in self.dangling:
            if self.freed is None:
                self.freed = freed_but_defined(self.reader)
            ambiguous = self.freed[revision] if revision < len(self.freed) else set()
            self.dangling[revision] = dangling_references(self.reader, revision, ambiguous)
        return self.dangling[revision]

    def syntax_up_to(self, revision: int) -> list[tuple[str, str]] | None:
        """Ambiguous syntax in the revisions 0..``revision`` (None: too many objects to read them again)."""
        xrefs = self.reader.xrefs
        size = sum(len(xrefs.get_xref_data(r).standard_xrefs) for r in range(revision + 1))
        if size > MAX_REREAD_OBJECTS:
            return None
        for r in range(revision + 1):
            if r not in self.signed_syntax:
                self.signed_syntax[r] = update_syntax_problems(self.reader, r)
        return [p for r in range(revision + 1) for p in self.signed_syntax[r]]

    def timestamps_covering(self, revision: int) -> list[TimestampInfo]:
        """Document timestamps added after ``revision`` (they prove that revision existed)."""
        return [stamp for covered, stamp in self.document_timestamps if covered > revision]


def _known_content_type(verdict: SignatureVerdict, embedded: EmbeddedPdfSignature) -> bool:
    """Accept the eContentTypes a PDF signature may carry: id-data, GM/T 0010 data (what Chinese tools such as
    BouncyCastle's SM2 profile write; the same meaning), and TSTInfo for document timestamps."""
    content_type = embedded.signed_data["encap_content_info"]["content_type"]
    if content_type.dotted == GM_DATA:
        embedded.external_md_algorithm = embedded.md_algorithm
    if hasattr(embedded, "external_md_algorithm"):
        return True
    verdict.check(
        "format",
        False,
        f"the CMS signs content of type {content_type.dotted}, not data (RFC 5652 / GM/T 0010)",
        "format.unexpected-content-type",
    )
    return False


def _evidence(ctx: DocumentContext, embedded: EmbeddedPdfSignature) -> Evidence:
    """The validation data the document carries for ``embedded`` (none if its DSS is unreadable)."""
    try:
        return embedded_evidence(ctx.reader, embedded)
    except Exception:  # noqa: BLE001 - a broken DSS is no evidence; the DSS change itself is judged elsewhere
        return Evidence()


def _object_offset(reader: Any, ref: generic.Reference) -> int | None:
    location = reader.xrefs[ref]
    return location if isinstance(location, int) else None


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
    if not _known_content_type(verdict, embedded):
        _document_checks(ctx, verdict, embedded.signed_revision)
        verdict.conclude()
        return verdict
    contents_checks(verdict, sig_object, embedded, subfilter)
    if not verdict.reasons or all(not r.startswith("format.") for r in verdict.reasons):
        verdict.check("format", True, f"{subfilter} with a CMS SignedData")

    # 3. Time, integrity, signature value, chain and revocation: one evaluation (sealkit.validation).
    evidence = _evidence(ctx, embedded)
    now = ctx.validation_time or dt.datetime.now(dt.UTC)
    proven: dt.datetime | None = None
    if not well_formed:
        verdict.check("integrity", False, "not checked: the /ByteRange is unusable")
    elif sig_type == "/DocTimeStamp":
        stamp = await document_timestamp_checks(
            verdict, embedded, trust=list(ctx.trust), now=now, evidence=evidence
        )
        if stamp is not None and stamp.proves and embedded.signed_revision is not None:
            ctx.document_timestamps.append((embedded.signed_revision, stamp))
    else:
        revision = embedded.signed_revision
        covering = ctx.timestamps_covering(revision) if revision is not None else []
        evaluation = await signature_checks(
            verdict,
            embedded,
            trust=list(ctx.trust),
            now=now,
            evidence=evidence,
            online=ctx.online,
            document_timestamps=covering,
        )
        proven = evaluation.poe.time if evaluation.poe else None

    # 4. Modifications after signing.
    _modification_checks(ctx, verdict, embedded, well_formed)
    _document_checks(ctx, verdict, embedded.signed_revision)

    # 5. Seal image (what a person sees, against the seal carried in the CMS), and the seal itself.
    imprint_checks(verdict, ctx.reader, embedded, field, field_ref)
    revision = embedded.signed_revision
    print_view_checks(verdict, ctx.print_view, ctx.reader, ctx.data, ctx.layout.ends, revision)
    if ctx.seal_checker is not None and sig_type == "/Sig" and well_formed:
        _seal_check(ctx.seal_checker, verdict, embedded.signed_data, proven)
    seal_requirement_checks(
        verdict,
        ctx.reader,
        embedded,
        name,
        require_seal=ctx.require_seal,
        seal_checked=verdict.seal is not None,
        document_timestamp=sig_type == "/DocTimeStamp",
    )
    verdict.conclude()
    return verdict


def _modification_checks(
    ctx: DocumentContext, verdict: SignatureVerdict, embedded: EmbeddedPdfSignature, well_formed: bool
) -> None:
    """The contract's modification rules (:mod:`sealkit.pdf.verify_policy`) for what follows the signature."""
    from sealkit.pdf import verify_policy
    from sealkit.pdf.overlap import CoverFinder

    if not well_formed:
        verdict.check("modification", False, "not checked: the /ByteRange is unusable")
        return
    try:
        embedded.compute_integrity_info(skip_diff=True)
    except Exception:  # noqa: BLE001 - an unreadable later revision is itself a failure
        logging.getLogger(__name__).debug("later revision unreadable", exc_info=True)
        verdict.check(
            "modification",
            False,
            "a later revision cannot be read (see --verbose)",
            "modification.unreadable-update",
        )
        return
    if embedded.coverage is not None and embedded.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        verdict.check(
            "coverage", False, f"pyHanko sees coverage {embedded.coverage.name}", "coverage.partial"
        )
    verify_policy.own_widget_checks(verdict, embedded.sig_field)
    signed = embedded.signed_revision
    review = verify_policy.review_after(
        ctx.reader,
        signed,
        certification=verify_policy.certification_level(ctx.reader, signed),
        covers=CoverFinder(ctx.data, ctx.layout.ends),
    )
    verify_policy.record(verdict, review)
    ctx.later_signatures.append((signed, verdict, review.signatures))


def _document_checks(ctx: DocumentContext, verdict: SignatureVerdict, signed_revision: int | None) -> None:
    """Bytes after the last revision, the xref audit of the whole file, and the signed revisions' syntax:
    anything that viewers may read differently fails every signature, in the signed revisions too."""
    extra = ctx.layout.unaccounted(ctx.data)
    if extra:
        verdict.check(
            "unaccounted-bytes",
            False,
            f"{len(extra)} bytes after the last %%EOF are not part of any revision",
            "modification.unaccounted-bytes",
        )
    if ctx.audit is not None:
        for finding in ctx.audit.findings[:_MAX_FINDINGS_SHOWN]:
            verdict.check("xref-audit", False, finding.detail, finding.reason)
        if not ctx.audit.findings:
            verdict.check("xref-audit", True, "every revision's cross-reference data reads one way only")
    if signed_revision is not None and signed_revision < len(ctx.layout.ends):
        _signed_syntax_checks(ctx, verdict, signed_revision)
    _dangling_checks(ctx, verdict, signed_revision)


def _dangling_checks(ctx: DocumentContext, verdict: SignatureVerdict, signed_revision: int | None) -> None:
    """What the signer saw and what viewers show now must not depend on a freed object that the file still
    defines (pyHanko and qpdf read null, poppler and PDFium the old definition):
    ``structure.dangling-reference``."""
    last = ctx.reader.xrefs.total_revisions - 1
    revisions = sorted({last} | ({signed_revision} if signed_revision is not None else set()))
    try:
        details = [d for r in revisions for d in ctx.dangling_in(r)]
    except Exception:  # noqa: BLE001 - unreadable revisions are judged by the signature's own checks
        logging.getLogger(__name__).debug("dangling-reference walk failed", exc_info=True)
        return
    for detail in details[:_MAX_FINDINGS_SHOWN]:
        verdict.check("dangling-reference", False, detail, "structure.dangling-reference")


def _signed_syntax_checks(ctx: DocumentContext, verdict: SignatureVerdict, signed_revision: int) -> None:
    """The signed revisions themselves read one way only (no key twice in a dictionary): else viewers
    show the signer and the reader different content, and a later update can switch between the readings.
    A failure (``structure.duplicate-key``): the signature cannot say what was signed."""
    try:
        problems = ctx.syntax_up_to(signed_revision)
    except Exception:  # noqa: BLE001 - unreadable signed revisions are judged by the signature's own checks
        logging.getLogger(__name__).debug("signed revisions unreadable", exc_info=True)
        return
    for reason, detail in (problems or [])[:_MAX_FINDINGS_SHOWN]:
        verdict.check(
            "ambiguous-syntax",
            False,
            f"the signed content reads differently in some viewers: {detail}",
            reason,
        )


def _seal_check(
    checker: SealChecker, verdict: SignatureVerdict, signed_data: cms.SignedData, proven: dt.datetime | None
) -> None:
    """Run the seal checker at the proven time (None: no proof, judged now). A seal revoked or expired at
    the validation time without proof of an earlier use is INDETERMINATE (…_NO_POE), not a failure."""
    try:
        verdict.seal = checker(signed_data, proven)
    except Exception:  # noqa: BLE001 - the seal checker is a plug-in: its failure is a verdict
        logging.getLogger(__name__).debug("seal checker failed", exc_info=True)
        verdict.seal = {"ok": False, "error": "the seal could not be checked (see --verbose)"}
    if verdict.seal is None:
        return
    ok = bool(verdict.seal.get("ok", False))
    detail = str(verdict.seal.get("detail", "") or verdict.seal.get("error", ""))
    verdict.check("seal", ok, detail, _seal_reason(verdict.seal))


#: The seal checker's ETSI sub-indications, as verdict reason codes (its indication follows from them).
_SEAL_REASONS = {
    "REVOKED_NO_POE": "revoked-no-poe.seal",
    "OUT_OF_BOUNDS_NO_POE": "out-of-bounds-no-poe.seal",
    "NO_CERTIFICATE_CHAIN_FOUND": "trust.seal-maker",
    "TRY_LATER": "try-later.seal",  # the seal's revocation status is unknown
    "REVOKED": "revoked.seal",
    "EXPIRED": "expired.seal",
}


def _seal_reason(report: dict[str, Any]) -> str:
    return _SEAL_REASONS.get(str(report.get("sub_indication") or ""), "seal.invalid")
