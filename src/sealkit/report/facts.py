"""What the report shows about each signature that the verdict does not hold: read from the signed PDF.

For every signed field: the certificates the CMS carries (ordered from the signer up, as far as issuer and
subject names link, then the trust anchors), the GB/T 38540 seal the signature carries (its name, ID and
picture, parsed by :mod:`sealkit.seal.parse`) and where the field's widgets are (page and /Rect, cross-page
strips included). These are *facts for display*; the verdict on them is the verifier's. A hostile file
only loses facts: every field is read inside its own ``try`` and the worst outcome is an empty entry.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509

_MAX_PAGES = 5_000

Rect = tuple[float, float, float, float]


@dataclass
class SignatureFacts:
    """Facts about one signed field (all optional: a broken signature has few)."""

    certificates: list[asn1_x509.Certificate] = field(default_factory=list)  # signer first
    seal_name: str | None = None
    seal_id: str | None = None
    seal_picture: bytes | None = None
    seal_picture_type: str | None = None
    widgets: list[tuple[int, Rect]] = field(default_factory=list)  # (page index from 0, rect)


def read_facts(data: bytes, anchors: Sequence[asn1_x509.Certificate] = ()) -> dict[str, SignatureFacts]:
    """Facts about every signed field of the PDF ``data``, by fully qualified field name."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    facts: dict[str, SignatureFacts] = {}
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        pages = _annotation_pages(reader)
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception:  # noqa: BLE001 - an unreadable file has no facts; the verdict says why
        logging.getLogger(__name__).debug("no facts from this PDF", exc_info=True)
        return facts
    for name, value, field_ref in fields:
        entry = SignatureFacts()
        with contextlib.suppress(Exception):
            entry.widgets = _widgets(field_ref.get_object(), field_ref, pages)
        with contextlib.suppress(Exception):
            signed_data = cms.ContentInfo.load(bytes(value.get_object()["/Contents"]))["content"]
            entry.certificates = _chain(signed_data, list(anchors))
            _seal(signed_data, entry)
        facts[str(name)] = entry
    return facts


def read_ofd_facts(data: bytes, anchors: Sequence[asn1_x509.Certificate] = ()) -> dict[str, SignatureFacts]:
    """Facts about every seal signature of the OFD ``data``, by signature ID: the signer's certificate (and
    its issuers among ``anchors``) and the seal from the SES_Signature. OFD pages are not rendered."""
    from sealkit.ofd.model import load_document
    from sealkit.ofd.package import read_package
    from sealkit.ofd.signatures import list_signatures, parse_signature_xml
    from sealkit.ofd.xmlparse import parse_xml
    from sealkit.seal.parse import parse_signature

    facts: dict[str, SignatureFacts] = {}
    try:
        package = read_package(data)
        path = load_document(package).signatures_path
        records = list_signatures(parse_xml(package.read(path), path), path) if path else []
    except Exception:  # noqa: BLE001 - an unreadable package has no facts; the verdict says why
        logging.getLogger(__name__).debug("no facts from this OFD", exc_info=True)
        return facts
    for record in records:
        entry = facts.setdefault(record.id, SignatureFacts())
        with contextlib.suppress(Exception):
            xml = parse_signature_xml(package.read(record.base_loc), record.base_loc)
            ses = parse_signature(package.read(xml.signed_value_path))
            seal = ses.seal
            entry.seal_name, entry.seal_id = seal.name, seal.es_id
            entry.seal_picture, entry.seal_picture_type = seal.picture, seal.picture_type.lower()
            entry.certificates = _issuers(
                asn1_x509.Certificate.load(bytes(ses.signer_cert)), [], list(anchors)
            )
    return facts


def _annotation_pages(reader: Any) -> dict[tuple[int, int], int]:
    """Page index of every annotation reference, walking the page tree (cycles and depth bounded)."""
    from pyhanko.pdf_utils import generic

    where: dict[tuple[int, int], int] = {}
    stack: list[Any] = [reader.root.raw_get("/Pages")]
    seen: set[tuple[int, int]] = set()
    index = 0
    while stack and index < _MAX_PAGES:
        ref = stack.pop()
        if not isinstance(ref, generic.IndirectObject) or (ref.idnum, ref.generation) in seen:
            continue
        seen.add((ref.idnum, ref.generation))
        node: Any = ref.get_object()  # type: ignore[no-untyped-call]
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            stack.extend(reversed(list(node.raw_get("/Kids"))))
            continue
        annots = node.get("/Annots")
        for annot in annots or ():
            if isinstance(annot, generic.IndirectObject):
                where.setdefault((annot.idnum, annot.generation), index)
        index += 1
    return where


def _widgets(field_obj: Any, field_ref: Any, pages: dict[tuple[int, int], int]) -> list[tuple[int, Rect]]:
    kids = list(field_obj.raw_get("/Kids")) if "/Kids" in field_obj else [field_ref]
    found = []
    for kid in kids:
        page = pages.get((kid.idnum, kid.generation))
        rect = [float(v) for v in kid.get_object()["/Rect"]]
        if page is None or len(rect) != 4:
            continue
        x0, x1 = sorted((rect[0], rect[2]))
        y0, y1 = sorted((rect[1], rect[3]))
        if x1 - x0 > 0.5 and y1 - y0 > 0.5:  # an invisible signature's widget is zero-sized
            found.append((page, (x0, y0, x1, y1)))
    return found


def _chain(signed_data: cms.SignedData, anchors: list[asn1_x509.Certificate]) -> list[asn1_x509.Certificate]:
    """The signer's certificate, then its issuers as far as names link (carried ones, then anchors)."""
    from sealkit.validation import signer_certificate

    carried = [c.chosen for c in signed_data["certificates"] or [] if c.name == "certificate"]
    signer = signer_certificate(signed_data)
    if signer is None:
        return []
    return _issuers(signer, carried, anchors)


def _issuers(
    signer: asn1_x509.Certificate, carried: list[asn1_x509.Certificate], anchors: list[asn1_x509.Certificate]
) -> list[asn1_x509.Certificate]:
    chain = [signer]
    seen = {signer.dump()}
    pool = carried + anchors
    while len(chain) < 8 and chain[-1].self_signed == "no":  # asn1crypto says "yes", "maybe" or "no"
        parent = next((c for c in pool if c.subject == chain[-1].issuer and c.dump() not in seen), None)
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent.dump())
    return chain


def _seal(signed_data: cms.SignedData, entry: SignatureFacts) -> None:
    from sealkit.seal.attribute import carried_seal

    seal = carried_seal(signed_data)
    if seal is not None:
        entry.seal_name, entry.seal_id = seal.name, seal.es_id
        entry.seal_picture, entry.seal_picture_type = seal.picture, seal.picture_type.lower()
