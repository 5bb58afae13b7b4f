"""Sign an OFD document with a GB/T 38540 seal, the way ofdrw writes it: :func:`sign_ofd`.

One signature adds, under the first document's ``Signs/`` folder (e.g. ``/Doc_0/Signs/``):

- ``Signatures.xml`` (created, and named in OFD.xml's DocBody *before* anything is digested, so the changed
  OFD.xml is protected; or updated): one ``<ofd:Signature ID Type="Seal" BaseLoc>`` per signature and
  ``MaxSignId`` — signature and stamp-annotation IDs share the ``sNNN`` counter;
- ``Sign_N/Seal.esl`` (the SESeal), ``Sign_N/Signature.xml`` (``SignedInfo``: Provider, SignatureMethod
  SM2-with-SM3, SignatureDateTime in Beijing time, ``References CheckMethod="SM3"`` with the SM3 of every file
  of the package but this signature's own two, the StampAnnots, the Seal; then ``SignedValue``), and
  ``Sign_N/SignedValue.dat``: a v4 SES_Signature whose dataHash is SM3 of Signature.xml's exact bytes and
  whose propertyInfo is Signature.xml's path, optionally timestamped (an RFC 3161 token over the signature).

Modes: by default a signature leaves ``Signatures.xml`` out of its References, so later parties can add their
signatures without breaking it (ofdrw's "continue sign"); ``final=True`` protects Signatures.xml too (ofdrw's
"whole protected"), after which no signature can be added — :func:`sign_ofd` refuses to sign a document a
final signature has locked. Page contents are never changed: readers draw the seal's picture in each
StampAnnot's Boundary (mm from the page's top-left), clipped by ``Clip`` for the strips of a cross-page seal.

The output appears only when complete and its new signature verifies (digests, dataHash, signature).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any, Literal

from asn1crypto import x509 as asn1_x509

from sealkit import sm2
from sealkit.atomic import atomic_output
from sealkit.certs import CertSource, load_certificate, load_certificates
from sealkit.errors import CertificateError, InvalidInput, OfdError, SealError, SealExpired, TextNotFound
from sealkit.ofd.model import Box, OfdDocument, OfdPage, find_text, load_document, page_box
from sealkit.ofd.package import OfdPackage, read_package, to_member, write_package
from sealkit.ofd.signatures import SM2_WITH_SM3, list_signatures, parse_signature_xml
from sealkit.ofd.xmlparse import child, local, make, parse_xml, serialise, sub
from sealkit.pdf.placement import Placement
from sealkit.seal import asn1 as seal_asn1
from sealkit.seal.binding import check_seal_use
from sealkit.seal.make import make_ses_signature
from sealkit.seal.parse import parse_seal
from sealkit.timefmt import format_time
from sealkit.ukey.base import KeyKind, PrivateKeyHandle
from sealkit.validation import key_matches_certificate

BEIJING = dt.timezone(dt.timedelta(hours=8))
PROVIDER = {"ProviderName": "sealkit", "Company": "sealkit", "Version": "0.1.0"}


@dataclass(frozen=True)
class OfdStamp:
    """A StampAnnot written: page (from 1), its object ID, Boundary and Clip (mm, top-left origin)."""

    id: str
    page: int
    page_ref: str
    boundary_mm: Box
    clip_mm: Box | None
    kind: Literal["seal", "strip"]


@dataclass(frozen=True)
class OfdSignResult:
    """What :func:`sign_ofd` did."""

    output_path: Path | None
    signature_id: str
    signature_path: str
    sha256: str
    signer_subject: str
    seal_id: str
    final: bool
    timestamped: bool
    algorithm: str = "SM2-with-SM3"
    stamps: list[OfdStamp] = dc_field(default_factory=list)

    @property
    def field(self) -> str:
        """The signature's name in reports (its ID), as ``SignResult.field`` is for PDF."""
        return self.signature_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": "ofd",
            "field": self.signature_id,
            "output": str(self.output_path) if self.output_path else None,
            "signature": self.signature_path,
            "sha256": self.sha256,
            "algorithm": self.algorithm,
            "signer": self.signer_subject,
            "seal": self.seal_id,
            "final": self.final,
            "timestamped": self.timestamped,
            "stamps": [
                {
                    "id": s.id,
                    "page": s.page,
                    "page_ref": s.page_ref,
                    "boundary_mm": list(s.boundary_mm),
                    "clip_mm": list(s.clip_mm) if s.clip_mm else None,
                    "kind": s.kind,
                }
                for s in self.stamps
            ],
        }


def _read(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def require_sm2_key(key: PrivateKeyHandle) -> None:
    """Refuse a key that is not SM2, with the reason."""
    if key.kind is not KeyKind.SM2:
        raise OfdError(
            f"key {key.label!r} is {key.kind.value.upper()}: OFD seals (GB/T 38540) are signed with SM2 "
            "only — use an SM2 key and certificate"
        )


def check_signer(key: PrivateKeyHandle, cert: asn1_x509.Certificate) -> None:
    """Refuse what GB/T 38540 and OFD readers refuse: non-SM2 keys, a certificate of another key, a
    certificate that may not sign."""
    require_sm2_key(key)
    if not key_matches_certificate(cert, key):
        raise CertificateError(f"the signer certificate does not match the key {key.label!r}")
    usage = cert.key_usage_value
    if usage is not None and "digital_signature" not in usage.native:
        raise CertificateError(
            f"certificate {cert.subject.human_friendly} may not sign (no digitalSignature in keyUsage): "
            "an encryption certificate cannot seal"
        )


def _check_seal(
    seal_der: bytes,
    cert: asn1_x509.Certificate,
    now: dt.datetime,
    seal_trust: list[asn1_x509.Certificate] | None,
) -> Any:
    """The seal, if ``cert`` may apply it now: v4, valid now, then :func:`sealkit.seal.check_seal_use`
    (holder, the seal's unit, and with ``seal_trust`` the maker's path to the seal-maker anchors) — the
    check PDF signing makes."""
    seal = parse_seal(seal_der)
    if seal.version != seal_asn1.SEAL_VERSION_V4:
        raise SealError("OFD signatures are written as GB/T 38540 v4: the seal is a v1 (GM/T 0031) seal")
    if not seal.valid_start <= now <= seal.valid_end:
        raise SealExpired(
            f"seal {seal.es_id} is valid {format_time(seal.valid_start)} to {format_time(seal.valid_end)}, "
            "not now"
        )
    check_seal_use(seal, cert, maker_trust=seal_trust)
    return seal


def sign_ofd(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    key: PrivateKeyHandle,
    *,
    seal: bytes,
    cert: CertSource | None = None,
    placement: Placement | None = None,
    final: bool = False,
    timestamper: Any = None,
    seal_trust: Iterable[CertSource] | None = None,
) -> OfdSignResult:
    """Sign the OFD ``input_path`` into ``output_path`` with ``key`` and the SESeal ``seal`` (DER).

    ``placement`` puts the seal on the page (by page and rectangle, keyword, and/or a cross-page seal; see
    :class:`sealkit.pdf.Placement` — rectangles are mm from the page's lower-left, as for PDF); None signs
    without a visible stamp. ``final`` also protects Signatures.xml: no later signature can be added.
    ``timestamper`` (:func:`sealkit.trust.make_timestamper`) adds an RFC 3161 timestamp over the signature.
    ``seal_trust`` are the seal-maker anchors: given, a seal whose maker does not chain to them is refused
    before anything is written, as for a registry seal (:func:`sealkit.seal.check_seal_use`). The signer
    must hold the seal and belong to its unit; an input that ZIP readers could read two ways is refused.
    """
    data = _read(input_path)
    signed, result = sign_ofd_bytes(
        data,
        key,
        seal=seal,
        cert=cert,
        placement=placement,
        final=final,
        timestamper=timestamper,
        seal_trust=seal_trust,
    )
    output = Path(output_path)
    with atomic_output(output, protect=(input_path,)) as handle:
        handle.write(signed)
    return dataclasses.replace(result, output_path=output)


def sign_ofd_bytes(
    data: bytes,
    key: PrivateKeyHandle,
    *,
    seal: bytes,
    cert: CertSource | None = None,
    placement: Placement | None = None,
    final: bool = False,
    timestamper: Any = None,
    now: dt.datetime | None = None,
    seal_trust: Iterable[CertSource] | None = None,
) -> tuple[bytes, OfdSignResult]:
    """:func:`sign_ofd` on bytes: the signed package and what was done (``output_path`` None)."""
    certificate = load_certificate(cert) if cert is not None else key.certificate()
    if certificate is None:
        raise CertificateError(f"key {key.label!r} has no stored certificate: give one")
    check_signer(key, certificate)
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    makers = None if seal_trust is None else load_certificates(list(seal_trust), what="seal trust anchor")
    parsed_seal = _check_seal(seal, certificate, now, makers)
    package = read_package(data)
    document = load_document(package)
    out = package.copy()
    signs_dir, signatures_path, signatures_root = _signature_list(document, out)
    index = _next_sign_index(out, signs_dir)
    sign_dir = f"{signs_dir}/Sign_{index}"
    next_id = _SignIds(signatures_root)
    signature_id = next_id()
    stamps = _stamps(document, placement, parsed_seal.width_mm, parsed_seal.height_mm, next_id)
    attributes = {"ID": signature_id, "Type": "Seal", "BaseLoc": f"{sign_dir}/Signature.xml"}
    sub(signatures_root, "Signature", attributes)
    _set_max_id(signatures_root, next_id.current)
    out.files[to_member(signatures_path)] = serialise(signatures_root)
    out.files[to_member(f"{sign_dir}/Seal.esl")] = bytes(seal)
    signature_xml = _signature_xml(out, sign_dir, signatures_path, stamps, final, now)
    tbs_path = f"{sign_dir}/Signature.xml"
    ses = make_ses_signature(seal, key, certificate, signature_xml, property_info=tbs_path, time=now)
    if timestamper is not None:
        ses = _add_timestamp(ses, timestamper)
    out.files[to_member(tbs_path)] = signature_xml
    out.files[to_member(f"{sign_dir}/SignedValue.dat")] = ses
    signed = write_package(out.files)
    _self_check(signed, signature_id)
    return signed, OfdSignResult(
        output_path=None,
        signature_id=signature_id,
        signature_path=tbs_path,
        sha256=hashlib.sha256(signed).hexdigest(),
        signer_subject=certificate.subject.human_friendly,
        seal_id=parsed_seal.es_id,
        final=final,
        timestamped=timestamper is not None,
        stamps=stamps,
    )


def _signature_list(document: OfdDocument, out: OfdPackage) -> tuple[str, str, Any]:
    """The Signs folder, Signatures.xml's path and its (new or copied) root; OFD.xml updated if needed."""
    if document.signatures_path is not None:
        path = document.signatures_path
        root = copy.deepcopy(parse_xml(out.read(path), path))
        for record in list_signatures(root, path):
            sig = parse_signature_xml(out.read(record.base_loc), record.base_loc)
            if path in sig.references:
                raise OfdError(
                    f"the document is closed to more signatures: signature {record.id} protects {path} "
                    "(it was signed as final)"
                )
        return path.rpartition("/")[0], path, root
    signs_dir = document.document_path.rpartition("/")[0] + "/Signs"
    path = f"{signs_dir}/Signatures.xml"
    if any(name.startswith(to_member(signs_dir) + "/") for name in out.files):
        raise OfdError(f"the package has files under {signs_dir}/ but OFD.xml names no signature list")
    entry = copy.deepcopy(document.entry)
    body = next(c for c in entry.iterchildren() if local(c) == "DocBody")
    after = [c for c in body.iterchildren() if local(c) in ("DocInfo", "DocRoot", "Versions")]
    element = make("Signatures", text_value=path)
    if after:
        after[-1].addnext(element)
    else:
        body.insert(0, element)
    out.files["OFD.xml"] = serialise(entry)
    return signs_dir, path, make("Signatures")


def _next_sign_index(out: OfdPackage, signs_dir: str) -> int:
    prefix = to_member(signs_dir) + "/Sign_"
    used = {
        int(m.group(1))
        for name in out.files
        if name.startswith(prefix) and (m := re.match(r"(\d+)/", name[len(prefix) :]))
    }
    return max(used) + 1 if used else 0


class _SignIds:
    """The ``sNNN`` IDs that signatures and stamp annotations share, after the list's MaxSignId and IDs."""

    def __init__(self, root: Any) -> None:
        max_id = child(root, "MaxSignId")
        raw = [max_id.text if max_id is not None else None]
        raw += [e.get("ID") for e in root.iterchildren() if local(e) == "Signature"]
        numbers = [int(m.group(1)) for r in raw if (m := re.fullmatch(r"s?(\d+)", (r or "").strip()))]
        self.last = max([0, *numbers])

    def __call__(self) -> str:
        self.last += 1
        return self.current

    @property
    def current(self) -> str:
        return f"s{self.last:03d}"


def _set_max_id(root: Any, value: str) -> None:
    element = child(root, "MaxSignId")
    if element is None:
        element = make("MaxSignId")
        root.insert(0, element)
    element.text = value


def _stamps(
    document: OfdDocument, placement: Placement | None, width: float, height: float, next_id: _SignIds
) -> list[OfdStamp]:
    if placement is None:
        return []
    stamps: list[OfdStamp] = []

    def box_of(page: OfdPage) -> Box:
        return page_box(document, page)

    if placement.text is not None:
        hits = [
            hit
            for hit in find_text(document, placement.text)
            if placement.page is None or hit.page == placement.page
        ]
        if not hits:
            raise TextNotFound(f"the text {placement.text!r} is not in the document")
        chosen = {"first": hits[:1], "last": hits[-1:], "all": hits}[placement.occurrence]
        dx, dy = placement.offset_mm
        for hit in chosen:
            page = document.page(hit.page)
            cx, cy = hit.box[0] + hit.box[2] / 2 + dx, hit.box[1] + hit.box[3] / 2 - dy
            boundary = (cx - width / 2, cy - height / 2, float(width), float(height))
            stamps.append(OfdStamp(next_id(), page.number, page.id, _round(boundary), None, "seal"))
    elif placement.rect_mm is not None:
        page = document.page(placement.page or 1)
        _, _, _, page_h = box_of(page)
        x, y, w, h = placement.rect_mm
        cx, cy = x + w / 2, page_h - (y + h / 2)
        boundary = (cx - width / 2, cy - height / 2, float(width), float(height))
        stamps.append(OfdStamp(next_id(), page.number, page.id, _round(boundary), None, "seal"))
    if placement.cross_page:
        pages = (
            document.pages
            if placement.cross_page is True
            else [document.page(n) for n in placement.cross_page]  # type: ignore[union-attr]
        )
        if len(pages) < 2:
            raise InvalidInput("a cross-page seal needs a document of at least two pages")
        strip = width / len(pages)
        for i, page in enumerate(pages):
            _, _, page_w, page_h = box_of(page)
            at = placement.cross_page_at_mm
            y = page_h / 2 - height / 2 if at is None else page_h - at - height / 2
            boundary = (page_w - strip * (i + 1), y, float(width), float(height))
            clip = (strip * i, 0.0, strip, float(height))
            stamps.append(OfdStamp(next_id(), page.number, page.id, _round(boundary), _round(clip), "strip"))
    return stamps


def _round(box: Box) -> Box:
    x, y, w, h = (round(v, 3) for v in box)
    return x, y, w, h


def _fmt(box: Box) -> str:
    return " ".join(f"{v:g}" for v in box)


def _signature_xml(
    out: OfdPackage,
    sign_dir: str,
    signatures_path: str,
    stamps: list[OfdStamp],
    final: bool,
    now: dt.datetime,
) -> bytes:
    own = {to_member(f"{sign_dir}/Signature.xml"), to_member(f"{sign_dir}/SignedValue.dat")}
    if not final:
        own.add(to_member(signatures_path))
    root = make("Signature")
    info = sub(root, "SignedInfo")
    sub(info, "Provider", dict(PROVIDER))
    sub(info, "SignatureMethod", text_value=SM2_WITH_SM3)
    sub(info, "SignatureDateTime", text_value=f"{now.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}")
    references = sub(info, "References", {"CheckMethod": "SM3"})
    for name, content in out.files.items():
        if name in own:
            continue
        reference = sub(references, "Reference", {"FileRef": "/" + name})
        sub(reference, "CheckValue", text_value=base64.b64encode(bytes(sm2.sm3(content))).decode())
    for stamp in stamps:
        attrib = {"ID": stamp.id, "PageRef": stamp.page_ref, "Boundary": _fmt(stamp.boundary_mm)}
        if stamp.clip_mm is not None:
            attrib["Clip"] = _fmt(stamp.clip_mm)
        sub(info, "StampAnnot", attrib)
    sub(sub(info, "Seal"), "BaseLoc", text_value=f"{sign_dir}/Seal.esl")
    sub(root, "SignedValue", text_value=f"{sign_dir}/SignedValue.dat")
    return serialise(root)


def _add_timestamp(ses_der: bytes, timestamper: Any) -> bytes:
    """The SES_Signature with an RFC 3161 token over its signature value (SM3 imprint) in ``timeStamp``."""
    import asyncio

    value = seal_asn1.SES_Signature.load(ses_der)
    signature = bytes(value["signature"].native)
    token = asyncio.run(timestamper.async_timestamp(bytes(sm2.sm3(signature)), "sm3"))
    value["timeStamp"] = token.dump()
    return bytes(value.dump(force=True))


def _self_check(signed: bytes, signature_id: str) -> None:
    """The new signature must verify (digests, dataHash, signature) before the output appears."""
    from sealkit.ofd.verify import verify_ofd_bytes

    report = verify_ofd_bytes(signed, name="<signed>")
    verdict = next((s for s in report.signatures if s.field == signature_id), None)
    reasons = verdict.reasons if verdict else ["format.missing"]
    bad = [r for r in reasons if r.startswith(("format.", "integrity.", "crypto.", "modification.", "seal."))]
    if bad:
        raise OfdError(f"the signed document does not verify ({', '.join(bad)}): nothing was written")


__all__ = ["OfdSignResult", "OfdStamp", "check_signer", "require_sm2_key", "sign_ofd", "sign_ofd_bytes"]
