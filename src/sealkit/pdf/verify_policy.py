"""What may change in a contract after it was signed: sealkit's own allow-list, revision by revision.

A contract is not a form. Each incremental update after a signed revision is compared with the revision
before it (:mod:`sealkit.pdf.modifications` compares values from the trailer down) and may only:

(a) sign a signature field that existed and was empty: the field gets ``/V`` (a signature dictionary
    written in the same update) and its widgets — the main widget and the cross-page strips that
    ``prepare_fields(cross_page=…)`` reserved as kids of the field — get an ``/AP`` appearance, which a
    viewer fits into the widget's unchanged rectangle; nothing else of the field or widget changes;
(b) add validation data (``/DSS`` with ``/VRI``) and document timestamps (a new ``/DocTimeStamp`` field
    that shows nothing: no appearance on a zero-area rectangle, or one that paints nothing);
(c) on a document that is not certified, add a signature field *signed in the same update* (a later
    signer without a prepared field); the report names its page and rectangle.

A field added by (b) or (c) must have the shape signing tools write (:mod:`sealkit.pdf.signature_shape`):
a widget with its own ``/FT`` other than ``/Sig``, entries of other field types (``/Ff``, ``/Opt`` …)
are ``new-field``; an ``/MK`` that viewers draw, print-only flags, appearance states or — for a timestamp —
anything that paints are ``visible-timestamp`` (or ``appearance`` for a later seal).

Everything else fails, named by what changed and where (object number, page, rectangle): an object
defined after signing that the signed revision already referred to (``modification.forward-reference``);
new fields of any kind and empty ones (``new-field``); annotations (``annotation-added`` …); actions
(``action-added``: ``/AA``, ``/A``, ``/OpenAction``, ``/Names /JavaScript``); ``/NeedAppearances``,
``/DR``, ``/DA`` (``need-appearances``, ``default-resources``, ``default-appearance``); a malformed
``/Rect`` of a new or filled widget (``malformed-rect``); pages, fields and the catalog
(``page-content``, ``field-changed``, ``catalog-changed`` …). Changes of ``/Info`` and of the XMP
metadata are warnings. A certification (DocMDP) signature makes it stricter: with P=1 only (b), with
P=2 or 3 no new signature fields (only document timestamps). Later seals are listed with the page and
rectangle they cover and a warning when signed text or annotations lie under them (:mod:`overlap`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from pyhanko.pdf_utils import generic

from sealkit.pdf.modifications import show_rect
from sealkit.pdf.revision_rules import review_revision
from sealkit.pdf.rule_context import Finding, LaterSignature
from sealkit.validation import signer_certificate


@dataclass
class ModificationReview:
    """The verdict on everything after one signed revision."""

    failures: list[Finding]
    warnings: list[tuple[str, str]]
    signatures: list[LaterSignature]
    level: str
    notes: list[tuple[str, str]] = dc_field(default_factory=list)
    kinds: set[str] = dc_field(
        default_factory=set
    )  # "signature", "timestamp", "dss", "metadata"  # none | lta-updates | form-filling | other

    @property
    def ok(self) -> bool:
        return not self.failures


#: Covered-content finder: (revision before the seal, page number from 1, rect) -> what lies under it.
CoverFinder = Callable[[int, int, tuple[float, float, float, float]], list[str]]


def review_after(
    reader: Any, signed_revision: int, *, certification: int | None = None, covers: CoverFinder | None = None
) -> ModificationReview:
    """Judge every update after ``signed_revision``; ``certification`` is the DocMDP P in force (or None).

    ``covers`` names what signed content lies under a later signature's visible widget (a warning each).
    """
    failures: list[Finding] = []
    warnings: list[tuple[str, str]] = []
    notes: list[tuple[str, str]] = []
    signatures: list[LaterSignature] = []
    kinds: set[str] = set()
    last = reader.xrefs.total_revisions - 1
    for revision in range(signed_revision + 1, last + 1):
        review = review_revision(reader, revision)
        failures += review.failures
        warnings += review.warnings
        notes += [note for note in review.notes if note not in notes]
        kinds |= review.kinds
        for later in review.signatures:
            signatures.append(later)
            failures += _certification_failures(later, certification)
            if later.kind == "timestamp" and later.boxes and certification != 1:
                failures.append(
                    Finding(
                        "modification.visible-timestamp",
                        f"document timestamp {later.field!r} shows an appearance ({later.where()}): "
                        "document timestamps are invisible",
                    )
                )
            for page, rect in later.boxes:
                under = covers(later.revision - 1, page, rect) if covers is not None and page else []
                if under:
                    warnings.append(
                        (
                            "seal-overlap",
                            f"the seal of {later.field!r} on page {page} {show_rect(rect)} covers signed "
                            f"content: {', '.join(under[:4])}",
                        )
                    )
    if failures:
        level = "other"
    elif kinds & {"signature"}:
        level = "form-filling"
    elif kinds:
        level = "lta-updates"
    else:
        level = "none"
    return ModificationReview(failures, warnings, signatures, level, notes, kinds)


def _certification_failures(later: LaterSignature, certification: int | None) -> list[Finding]:
    if certification is None or (later.kind == "timestamp" and not (certification == 1 and later.boxes)):
        return []  # document timestamps are validation data (rule B), unless they show something on P=1
    if certification == 1:
        return [
            Finding(
                "modification.docmdp-violation",
                f"the certification allows no changes (DocMDP P=1), but field {later.field!r} was signed "
                f"after it ({later.where()})",
            )
        ]
    if later.kind == "new":
        return [
            Finding(
                "modification.new-field",
                f"signature field {later.field!r} ({later.where()}) was added after the certification: a "
                "certified document takes signatures only in the fields it was certified with",
            )
        ]
    return []


def certification_level(reader: Any, revision: int) -> int | None:
    """The DocMDP permission P (1, 2 or 3) of the document's certification at ``revision``, or None."""
    try:
        root = reader.get_historical_resolver(revision).root
        sig = root["/Perms"]["/DocMDP"]
        for reference in sig.get("/Reference", []):
            reference = reference.get_object()
            if reference.get("/TransformMethod") == "/DocMDP":
                params = reference.get("/TransformParams", generic.DictionaryObject())
                value = int(params.get("/P", 2))
                return value if value in (1, 2, 3) else 1
        return 2
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


_MAX_REPORTED = 12


def record(verdict: Any, review: ModificationReview) -> None:
    """Put a review into a :class:`~sealkit.pdf.report.SignatureVerdict`: failures, later seals, warnings."""
    verdict.modification = review.level
    for finding in review.failures[:_MAX_REPORTED]:
        verdict.check("modification", False, f"changed after signing: {finding.detail}", finding.reason)
    if len(review.failures) > _MAX_REPORTED:
        verdict.check("modification", False, f"… and {len(review.failures) - _MAX_REPORTED} more changes")
    for later in review.signatures:
        what = "document timestamp" if later.kind == "timestamp" else f"signature {later.field!r}"
        how = "in its prepared field" if later.kind == "filled" else "in a new field"
        verdict.check("later-signature", True, f"{what} added later {how}: {later.where()}")
    for name, text in review.notes:
        verdict.check(name, True, text)
    for name, text in review.warnings:
        verdict.check(name, False, text)
    if not review.failures:
        names = {
            "signature": "later signatures",
            "timestamp": "document timestamps",
            "dss": "validation data",
        }
        parts = [text for kind, text in names.items() if kind in review.kinds]
        parts += ["document information or metadata (see above)"] if "metadata" in review.kinds else []
        detail = "only " + ", ".join(parts) + " after signing" if parts else "no change after signing"
        verdict.check("modification", True, detail)


def _der_length(data: bytes) -> int | None:
    """The length of the DER SEQUENCE at the start of ``data`` (header included), or None."""
    if len(data) < 2 or data[0] != 0x30:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        return None
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def contents_checks(verdict: Any, sig_object: Any, embedded: Any, subfilter: str) -> None:
    """Bytes after the CMS inside /Contents (only zero padding may follow it), and for PAdES
    (ETSI.CAdES.detached) the signingCertificateV2 attribute naming the signer's certificate."""
    try:
        contents = bytes(
            sig_object.raw_get("/Contents", decrypt=generic.EncryptedObjAccess.RAW).original_bytes
        )
    except (KeyError, AttributeError):
        return
    length = _der_length(contents)
    if length is not None and length <= len(contents):
        extra = contents[length:].rstrip(b"\x00")
        if extra:
            verdict.check(
                "contents",
                False,
                f"{len(extra)} bytes follow the CMS inside /Contents (from byte {length}); "
                "only zero padding may",
                "modification.contents-trailing-bytes",
            )
    if subfilter == "/ETSI.CAdES.detached" and sig_object.get("/Type", "/Sig") == "/Sig":
        _signing_certificate_v2(verdict, embedded)


def _signing_certificate_v2(verdict: Any, embedded: Any) -> None:
    from asn1crypto import core
    from cryptography.hazmat.primitives import hashes

    attrs = embedded.signer_info["signed_attrs"]
    values = (
        [a["values"] for a in attrs if a["type"].native == "signing_certificate_v2"]
        if attrs is not core.VOID
        else []
    )
    if not values:
        verdict.check(
            "format",
            False,
            "PAdES signature (ETSI.CAdES.detached) without the signingCertificateV2 attribute",
            "format.no-signing-certificate-v2",
        )
        return
    try:
        cert_id = values[0][0]["certs"][0]
        algorithm = cert_id["hash_algorithm"]["algorithm"].native
        digest = hashes.Hash(getattr(hashes, algorithm.upper().replace("SHA3_", "SHA3_"))())
        signer = signer_certificate(embedded.signed_data)
        if signer is not None:
            digest.update(signer.dump())
        matches = signer is not None and digest.finalize() == cert_id["cert_hash"].native
    except Exception:  # noqa: BLE001 - an unreadable attribute cannot name the certificate
        matches = False
    if not matches:
        verdict.check(
            "format",
            False,
            "the signingCertificateV2 attribute does not name the signer's certificate",
            "format.signing-certificate-mismatch",
        )


def own_widget_checks(verdict: Any, sig_field: Any) -> None:
    """The signature's own widgets need a /Rect of exactly four numbers: with five (or a string…) readers
    disagree on where, and whether, the seal shows, so it is a format failure, not "invisible"."""
    from sealkit.pdf.modifications import rect_of

    try:
        widgets = [sig_field]
        if "/Kids" in sig_field:
            widgets = [kid.get_object() for kid in sig_field["/Kids"]]
            widgets = [w for w in widgets if isinstance(w, generic.DictionaryObject) and "/T" not in w]
    except Exception:  # noqa: BLE001 - an unreadable /Kids: the field's own checks report the signature
        return
    for widget in widgets:
        if "/Rect" in widget and rect_of(widget["/Rect"]) is None:
            verdict.check(
                "format",
                False,
                f"the signature's widget has /Rect {str(widget['/Rect'])[:60]}, not four numbers",
                "format.malformed-rect",
            )
