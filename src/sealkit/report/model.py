"""The report as data: what a clerk reads, assembled from the verifier's result and the verified bytes.

:func:`build_document` takes the :class:`~sealkit.pdf.VerificationReport` that
:func:`sealkit.flows.verify_contract` returned and the bytes that were verified, and gives a
:class:`ReportDocument`: the verdict in words (:mod:`sealkit.report.words`), the file's SHA-256 and SM3,
the verification time in the display zone (Beijing time, ``+08:00``) and one :class:`SignatureSection` per
signature with the facts of :mod:`sealkit.report.facts` and the page thumbnails of
:mod:`sealkit.report.thumbs`. The HTML and PDF writers only lay this out; they decide nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from asn1crypto import x509 as asn1_x509

from sealkit.pdf.report import SignatureVerdict, VerificationReport
from sealkit.report import words
from sealkit.report.facts import SignatureFacts, read_facts, read_ofd_facts
from sealkit.report.thumbs import Thumbnail, render_thumbnails
from sealkit.report.words import Words
from sealkit.timefmt import format_time

_MAX_SEAL_PIXELS = 4_000_000  # a seal picture is a few hundred pixels wide; more is not a seal to show
#: Page thumbnails in one report at most (a hostile file may carry thousands of signatures).
MAX_THUMBNAILS = 24

TITLE = Words("电子签章验证报告", "Electronic Signature Verification Report")


@dataclass(frozen=True)
class CertificateLine:
    """One certificate of a signer's chain, as printed."""

    subject: str
    issuer: str
    not_before: str
    not_after: str
    serial: str


@dataclass(frozen=True)
class Verdict:
    """An indication with its words and its explanation."""

    indication: str
    sub_indication: str | None
    words: Words
    explanation: Words


@dataclass
class SignatureSection:
    """One signature as the report shows it."""

    field: str
    verdict: Verdict
    signer: str
    unit: str | None
    uscc: str | None
    algorithm: str | None
    seal_name: str | None
    seal_id: str | None
    seal_image: bytes | None  # PNG (or the seal's own JPEG) from the SESeal in the signature
    seal_detail: str | None
    signing_time: str | None
    time_proof: Words
    tsa: str | None
    certificates: list[CertificateLine]
    coverage: Words
    modification: Words
    changes: list[str]  # the allow-list's findings: what changed after signing, and where
    checks: list[tuple[str, Words, str]]  # (mark, check name, detail)
    reasons: list[str]
    failures: list[str]  # "integrity / 完整性: messageDigest does not match …": why it did not pass
    seal_places: list[str]  # "page 3, x 122–242 y 205–324 pt"
    thumbnails: list[Thumbnail] = dc_field(default_factory=list)
    thumbnails_left_out: int = 0


@dataclass
class ReportDocument:
    """The whole report."""

    file_name: str
    file_format: str  # "PDF" or "OFD"
    size: int
    sha256: str
    sm3: str
    verified_at: str
    verdict: Verdict
    signatures: list[SignatureSection]
    notes: list[Words]  # document-level findings
    unsigned_fields: list[str]
    generator: str
    report_signer: str | None = None  # who signs the report PDF (None: unsigned)
    title: Words = TITLE


def verdict_of(indication: str, sub_indication: str | None, *, document: bool = True) -> Verdict:
    return Verdict(
        indication,
        sub_indication,
        words.indication_words(indication),
        words.explanation(indication, sub_indication, document=document),
    )


def build_document(
    report: VerificationReport,
    data: bytes,
    *,
    verified_at: dt.datetime | None = None,
    anchors: list[asn1_x509.Certificate] | None = None,
    thumbnails: bool = True,
) -> ReportDocument:
    """The report of ``report`` on the file ``data`` (the very bytes that were verified).

    ``anchors`` complete the printed chains; ``thumbnails=False`` leaves the page pictures out.
    """
    from sealkit import __version__
    from sealkit.sm2 import sm3

    file_info = report.file
    is_ofd = file_info.get("format") == "ofd"
    facts = read_ofd_facts(data, anchors or []) if is_ofd else read_facts(data, anchors or [])
    sections = []
    budget = MAX_THUMBNAILS if thumbnails else 0
    for verdict in report.signatures:
        fact = facts.get(verdict.field, SignatureFacts())
        section = _section(verdict, fact)
        if fact.widgets:
            pictures, left_out = render_thumbnails(data, fact.widgets, limit=min(6, budget))
            budget -= len(pictures)
            section.thumbnails, section.thumbnails_left_out = pictures, left_out
        sections.append(section)
    notes = [words.DOCUMENT_REASONS.get(r, Words(r, r)) for r in file_info.get("reasons", [])]
    if file_info.get("error"):
        notes.append(Words(str(file_info["error"]), str(file_info["error"])))
    return ReportDocument(
        file_name=str(file_info.get("name") or "?"),
        file_format="OFD" if is_ofd else "PDF",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sm3=sm3(data).hex(),
        verified_at=format_time(verified_at or dt.datetime.now(dt.UTC)),
        verdict=verdict_of(report.indication, report.sub_indication),
        signatures=sections,
        notes=notes,
        unsigned_fields=[str(f) for f in file_info.get("unsigned_fields", [])],
        generator=f"sealkit {__version__}",
    )


def _section(verdict: SignatureVerdict, fact: SignatureFacts) -> SignatureSection:
    seal: dict[str, Any] = verdict.seal or {}
    signer_cert = fact.certificates[0] if fact.certificates else None
    subject = signer_cert.subject.human_friendly if signer_cert is not None else (verdict.signer or "?")
    unit = seal.get("unit") or _name_part(signer_cert, "organization_name")
    uscc = seal.get("unit_code") or _name_part(signer_cert, "organization_identifier")
    seal_info = seal.get("seal") or {}
    proof, tsa = _time_proof(verdict)
    when = verdict.proven_time or verdict.claimed_time
    checks = [(words.MARKS.get(c.level, "✗"), words.check_name(c.name), c.detail) for c in verdict.checks]
    changes = [c.detail for c in verdict.checks if c.name in words.MODIFICATION_CHECKS and c.detail]
    places = [
        f"{_page_words(page)}  x {r[0]:.0f}–{r[2]:.0f}, y {r[1]:.0f}–{r[3]:.0f} pt"
        for page, r in fact.widgets
    ]
    return SignatureSection(
        field=verdict.field,
        verdict=verdict_of(verdict.indication, verdict.sub_indication, document=False),
        signer=subject,
        unit=unit,
        uscc=uscc,
        algorithm=verdict.algorithm,
        seal_name=seal_info.get("name") or fact.seal_name,
        seal_id=seal_info.get("es_id") or fact.seal_id,
        seal_image=_displayable(fact.seal_picture, fact.seal_picture_type),
        seal_detail=seal.get("detail") or seal.get("message"),
        signing_time=_local(when),
        time_proof=proof,
        tsa=tsa,
        certificates=[_certificate_line(c) for c in fact.certificates],
        coverage=words.COVERAGE.get(verdict.coverage, Words(verdict.coverage, verdict.coverage)),
        modification=words.MODIFICATIONS.get(
            verdict.modification, Words(verdict.modification, verdict.modification)
        ),
        changes=changes,
        checks=checks,
        reasons=list(verdict.reasons),
        failures=[f"{name.zh} / {name.en}: {detail}" for mark, name, detail in checks if mark == "✗"],
        seal_places=places,
    )


def _page_words(index: int) -> str:
    return f"第 {index + 1} 页 / page {index + 1}"


def _time_proof(verdict: SignatureVerdict) -> tuple[Words, str | None]:
    stamp = verdict.timestamp or {}
    tsa = stamp.get("tsa")
    if verdict.proven_time:
        return words.TIME_PROVEN, str(tsa) if tsa else None
    if stamp:
        return words.TIMESTAMP_UNTRUSTED, str(tsa) if tsa else None
    if verdict.claimed_time:
        return words.TIME_CLAIMED, None
    return words.TIME_UNKNOWN, None


def _local(value: str | None) -> str | None:
    """An ISO time from the verdict, in the display zone with its offset (unparsable text as it is)."""
    if not value:
        return None
    try:
        return format_time(dt.datetime.fromisoformat(value.replace(" ", "T")))
    except ValueError:
        return value


def _name_part(cert: asn1_x509.Certificate | None, part: str) -> str | None:
    if cert is None:
        return None
    value = cert.subject.native.get(part)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def _certificate_line(cert: asn1_x509.Certificate) -> CertificateLine:
    validity = cert["tbs_certificate"]["validity"]
    return CertificateLine(
        subject=cert.subject.human_friendly,
        issuer=cert.issuer.human_friendly,
        not_before=format_time(validity["not_before"].native),
        not_after=format_time(validity["not_after"].native),
        serial=format(cert.serial_number, "X"),
    )


def _displayable(picture: bytes | None, kind: str | None) -> bytes | None:
    """The seal picture as PNG for the writers (PNG/JPEG/GIF/BMP read by Pillow; anything else: None)."""
    if not picture:
        return None
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(picture)) as image:
            if image.width * image.height > _MAX_SEAL_PIXELS:  # read lazily: refused before decoding
                return None
            image.thumbnail((600, 600))
            out = io.BytesIO()
            image.convert("RGBA").save(out, "PNG")
            return out.getvalue()
    except Exception:  # noqa: BLE001 - an OFD vector seal or a broken picture: the report says so
        return None
