"""Sign a PDF with a visible seal: PAdES (or adbe.pkcs7) through pyHanko, any sealkit key, one revision.

:func:`sign_pdf` checks the certificate against the key first, then makes a single incremental update that
holds everything the signer adds: the signature field (new, or a prepared one filled), its appearance (the
seal at true size), extra seals (keyword ``occurrence="all"``) and the strips of a cross-page seal —
appearance-only stamp annotations, or the widgets a prepared field reserved for them — and the signature
over all of it. The input is read through one open file (never copied into memory) and pyHanko writes the
signed file straight into :func:`sealkit.atomic.atomic_output`'s temporary file: never over the input,
nothing left behind on failure.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypeAlias

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509

from sealkit.atomic import atomic_output
from sealkit.certs import CertSource, load_certificate, load_certificates
from sealkit.errors import CertificateError, InvalidInput, PdfError
from sealkit.pdf.appearance import SealAppearance
from sealkit.pdf.placement import Placement
from sealkit.ukey.base import PrivateKeyHandle

SubFilter = Literal["ETSI.CAdES.detached", "adbe.pkcs7.detached"]
CertLike: TypeAlias = CertSource


@dataclass(frozen=True)
class StampedBox:
    """Where a seal (or a strip of a cross-page seal) was drawn: page from 1, box in visible mm."""

    page: int
    rect_mm: tuple[float, float, float, float]
    kind: Literal["field", "seal", "strip"]


@dataclass(frozen=True)
class SignResult:
    """What :func:`sign_pdf` did."""

    field: str
    output_path: Path
    sha256: str
    algorithm: str
    signer_subject: str
    subfilter: str
    certified: bool
    stamps: list[StampedBox] = dataclasses.field(default_factory=list)
    #: Things the signer should know (e.g. a seal drawn over another seal); the signature is made.
    warnings: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "output": str(self.output_path),
            "sha256": self.sha256,
            "algorithm": self.algorithm,
            "signer": self.signer_subject,
            "subfilter": self.subfilter,
            "certified": self.certified,
            "stamps": [{"page": s.page, "rect_mm": list(s.rect_mm), "kind": s.kind} for s in self.stamps],
            "warnings": list(self.warnings),
        }


def _open_input(path: str | os.PathLike[str]) -> BinaryIO:
    """The input PDF as an open binary file: pyHanko and the keyword search read from it as they need."""
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller's with-block
    except OSError as exc:
        raise InvalidInput(f"cannot read the PDF {path}: {exc.strerror}") from exc


def _sha256_of(handle: BinaryIO) -> str:
    handle.seek(0)
    # typeshed's BinaryIO lacks readinto; every stream here is a buffered file or a BytesIO
    return hashlib.file_digest(handle, "sha256").hexdigest()  # type: ignore[arg-type]


def sign_pdf(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    key: PrivateKeyHandle,
    *,
    cert: CertLike | None = None,
    chain: Sequence[CertLike] = (),
    field: str | None = None,
    appearance: SealAppearance | None = None,
    placement: Placement | None = None,
    reason: str | None = None,
    location: str | None = None,
    password: str | None = None,
    subfilter: SubFilter = "ETSI.CAdES.detached",
    certify: bool = False,
    extra_signed_attributes: Iterable[cms.CMSAttribute] = (),
    timestamper: Any = None,
) -> SignResult:
    """Sign ``input_path`` into ``output_path`` with ``key``; see docs/pdf-signing.md.

    ``field`` names a prepared field to fill (or the name of the field to create); ``appearance`` and
    ``placement`` make the seal visible; ``certify`` makes a certification signature (DocMDP P=2: later
    signatures still allowed). The PDF password, if any, is ``password``. A prepared field that requires
    an electronic seal (or a unit's seal) is refused unless ``extra_signed_attributes`` carry it
    (:class:`~sealkit.errors.FieldRequirementError`, nothing written).
    """
    from sealkit.pdf.signer import HandleSigner, algorithm_name, check_certificate

    if subfilter not in ("ETSI.CAdES.detached", "adbe.pkcs7.detached"):
        raise InvalidInput(f"unknown subfilter {subfilter!r}: use ETSI.CAdES.detached or adbe.pkcs7.detached")
    certificate = load_certificate(cert) if cert is not None else key.certificate()
    if certificate is None:
        raise CertificateError(
            f"key {key.label!r} has no certificate: give it with --cert, use a PEM bundle holding key and "
            "certificate, or attach it with 'sealkit keys import-cert'"
        )
    check_certificate(certificate, key)
    chain_certs = [c for item in chain for c in _chain_item(item)] if chain else list(key.chain())
    signer = HandleSigner(key, certificate, chain_certs, extra_signed_attributes=extra_signed_attributes)

    from sealkit.pdf.document import open_for_update
    from sealkit.pdf.field_requirements import check_signing_requirement
    from sealkit.pdf.print_view import refuse_differing_input
    from sealkit.pdf.sign_input import file_view, unambiguous_input
    from sealkit.pdf.stamping import prepare_signature_field

    output = Path(output_path)
    # One parse: the writer opened on the input file serves fields, order, placement, stamps and the
    # signature; pyHanko writes the signed file straight into the temporary output file.
    warnings: list[str] = []
    # An input whose xref layer reads in more than one way is rewritten cleanly first (unsigned) or refused.
    with _open_input(input_path) as original, unambiguous_input(original, warnings) as source:
        writer = open_for_update(source, password)
        with file_view(source) as data:  # before the field is added: its writer changes the reader's objects
            refuse_differing_input(writer.prev, data, Path(input_path).name)
        writer, field_name, stamps = prepare_signature_field(
            source,
            writer=writer,
            field=field,
            appearance=appearance,
            placement=placement,
            password=password,
            warnings=warnings,
        )
        check_signing_requirement(writer.root, field_name, signer.extra_signed_attributes)
        for warning in warnings:
            logging.getLogger("sealkit.pdf").warning("%s", warning)
        with atomic_output(output, protect=(input_path,)) as handle:
            _pyhanko_sign(  # type: ignore[no-untyped-call]
                writer,
                signer,
                handle,
                field_name=field_name,
                reason=reason,
                location=location,
                subfilter=subfilter,
                certify=certify,
                timestamper=timestamper,
            )
            sha256 = _sha256_of(handle)
    return SignResult(
        field=field_name,
        output_path=output,
        sha256=sha256,
        algorithm=algorithm_name(key.kind),
        signer_subject=certificate.subject.human_friendly,
        subfilter=subfilter,
        certified=certify,
        stamps=stamps,
        warnings=warnings,
    )


def _chain_item(item: CertLike) -> list[asn1_x509.Certificate]:
    return load_certificates(item, what="certificate chain")


def _pyhanko_sign(writer, signer, buffer, *, field_name, reason, location, subfilter, certify, timestamper):  # type: ignore[no-untyped-def]
    from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError
    from pyhanko.sign import fields as sig_fields
    from pyhanko.sign import signers
    from pyhanko.sign.general import SigningError
    from pyhanko.stamp import NoOpStampStyle

    from sealkit.pdf.signer import SealkitPdfSigner

    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=signer.digest_algorithm,
        reason=reason,
        location=location,
        name=signer.signing_cert.subject.native.get("common_name"),
        subfilter=sig_fields.SigSeedSubFilter("/" + subfilter),
        certify=certify,
        docmdp_permissions=sig_fields.MDPPerm.FILL_FORMS,
    )
    pdf_signer = SealkitPdfSigner(meta, signer, timestamper=timestamper, stamp_style=NoOpStampStyle())
    try:
        pdf_signer.sign_pdf(writer, output=buffer)
    except SigningError as exc:
        raise PdfError(f"signing failed: {exc}") from exc
    except PyHankoPdfError as exc:
        raise PdfError(f"cannot sign this PDF: {exc}") from exc
