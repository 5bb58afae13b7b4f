"""Reading the OFD signature parts (GB/T 33190 §18): the signature list and each Signature.xml.

:func:`list_signatures` reads ``Signatures.xml`` (``MaxSignId`` and ``<ofd:Signature ID Type BaseLoc>``);
:func:`parse_signature_xml` reads a ``Signature.xml`` into a :class:`SignatureXml` — the References (absolute
path -> expected digest), the StampAnnots, the Seal and SignedValue locations. Locations are resolved to
absolute package paths (relative ones against the folder of the part that names them). Anything malformed is
a one-line :class:`~sealkit.errors.OfdError`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from lxml import etree

from sealkit.errors import OfdError
from sealkit.ofd.model import Box, numbers
from sealkit.ofd.package import resolve
from sealkit.ofd.xmlparse import child, children, local, parse_xml, required, text

SM2_WITH_SM3 = "1.2.156.10197.1.501"
#: CheckMethod values meaning SM3 (the name, and the OID seen in some files).
SM3_METHODS = ("SM3", "1.2.156.10197.1.401")
MAX_REFERENCES = 50_000


@dataclass(frozen=True)
class SignatureRecord:
    """One entry of Signatures.xml."""

    id: str
    type: str
    base_loc: str  # absolute path of its Signature.xml


@dataclass(frozen=True)
class StampAnnotInfo:
    id: str
    page_ref: str
    boundary: Box
    clip: Box | None


@dataclass
class SignatureXml:
    """A parsed Signature.xml."""

    path: str
    method: str | None
    date_time: str | None
    check_method: str
    references: dict[str, bytes]
    signed_value_path: str
    seal_path: str | None
    stamps: list[StampAnnotInfo] = field(default_factory=list)
    provider: dict[str, str] = field(default_factory=dict)


def list_signatures(root: etree._Element, path: str) -> list[SignatureRecord]:
    """The entries of the signature list ``root`` (read from ``path``)."""
    if local(root) != "Signatures":
        raise OfdError(f"{path} is not a signature list")
    records, ids = [], set()
    for element in children(root, "Signature"):
        sig_id, base = element.get("ID", "").strip(), element.get("BaseLoc", "")
        if not sig_id or not base:
            raise OfdError(f"{path}: a signature entry has no ID or BaseLoc")
        if sig_id in ids:
            raise OfdError(f"{path}: signature ID {sig_id} appears twice")
        ids.add(sig_id)
        records.append(SignatureRecord(sig_id, element.get("Type", "Seal"), resolve(path, base)))
    return records


def _box(value: str | None, what: str) -> Box:
    x, y, w, h = numbers(value, what, 4)
    if w <= 0 or h <= 0:
        raise OfdError(f"{what} has no area: {value!r}")
    return x, y, w, h


def parse_signature_xml(data: bytes, path: str) -> SignatureXml:
    """Read the Signature.xml ``data`` found at ``path``."""
    root = parse_xml(data, path)
    if local(root) != "Signature":
        raise OfdError(f"{path} is not a Signature part")
    info = required(root, "SignedInfo", path)
    refs = required(info, "References", f"{path} SignedInfo")
    check_method = (refs.get("CheckMethod") or "").strip()
    references: dict[str, bytes] = {}
    for count, ref in enumerate(children(refs, "Reference"), start=1):
        if count > MAX_REFERENCES:
            raise OfdError(f"{path}: more than {MAX_REFERENCES} References")
        location = ref.get("FileRef")
        if not location:
            raise OfdError(f"{path}: a Reference has no FileRef")
        target = resolve(path, location)
        if target in references:
            raise OfdError(f"{path}: {target} is referenced twice")
        value = text(ref, "CheckValue") or ""
        try:
            references[target] = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise OfdError(f"{path}: the CheckValue of {target} is not base64") from None
    stamps = []
    for element in children(info, "StampAnnot"):
        what = f"{path} StampAnnot {element.get('ID', '?')}"
        clip = element.get("Clip")
        stamps.append(
            StampAnnotInfo(
                element.get("ID", ""),
                element.get("PageRef", ""),
                _box(element.get("Boundary"), f"{what} Boundary"),
                _box(clip, f"{what} Clip") if clip else None,
            )
        )
    seal = child(info, "Seal")
    seal_loc = text(seal, "BaseLoc") if seal is not None else None
    signed_value = text(root, "SignedValue")
    if not signed_value:
        raise OfdError(f"{path} names no SignedValue")
    provider = child(info, "Provider")
    return SignatureXml(
        path=path,
        method=text(info, "SignatureMethod"),
        date_time=text(info, "SignatureDateTime"),
        check_method=check_method,
        references=references,
        signed_value_path=resolve(path, signed_value),
        seal_path=resolve(path, seal_loc) if seal_loc else None,
        stamps=stamps,
        provider=dict(provider.attrib) if provider is not None else {},
    )
