"""Verify every signature of a PDF contract: :func:`verify_pdf`.

The document is read once with pyHanko; signature fields are enumerated by sealkit itself (one
``try`` per field), so one malformed signature — a /Contents that is not CMS, an unknown SubFilter, a
broken /ByteRange — becomes a verdict for that signature and never hides the others. A file pyHanko cannot
parse becomes a document-level FORMAT_FAILURE. What each signature is checked for is in
:mod:`sealkit.pdf.verify_signature`; the rules and the JSON shape are in ``docs/pdf-verification.md``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeAlias

from asn1crypto import x509 as asn1_x509

from sealkit.certs import CertSource, load_certificates
from sealkit.errors import InvalidInput, PdfPasswordRequired
from sealkit.pdf.report import SignatureVerdict, VerificationReport, overall
from sealkit.pdf.verify_signature import DocumentContext, SealChecker, verify_signature

#: A trust anchor: a certificate object, DER/PEM bytes, or the path of a PEM/DER file.
TrustAnchor: TypeAlias = CertSource
_MAX_FIELDS = 10_000


def _read_source(source: str | os.PathLike[str] | bytes) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), "<bytes>"
    path = Path(source)
    try:
        return path.read_bytes(), path.name
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist: check the PDF's path") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory: give the PDF file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def verify_pdf(
    source: str | os.PathLike[str] | bytes,
    *,
    trust: Iterable[TrustAnchor] = (),
    password: str | bytes | None = None,
    validation_time: dt.datetime | None = None,
    seal_checker: SealChecker | None = None,
    online: bool = False,
    name: str | None = None,
) -> VerificationReport:
    """Verify every signature of the PDF ``source`` (a path or the file's bytes; ``name`` names bytes in the
    report).

    ``trust`` are the trust anchors (certificates, or PEM/DER files); ``password`` opens an encrypted PDF;
    ``validation_time`` is the moment of validation: certificates are checked at the time of a
    signature's timestamp when it is intact and its TSA trusted, else at ``validation_time`` (default: the
    signing time — an untrusted timestamp's, else the time the signer claims); timestamps and revocation
    are judged at ``validation_time`` (default: now). ``seal_checker(signed_data, signing_time)`` may return
    a dict (with ``"ok"``) that fills each signature's ``seal`` slot; it gets the trusted time too.
    ``online`` lets revocation checking fetch OCSP responses and CRLs; offline (the default) only the
    validation data embedded in the PDF is used and nothing goes over the network.

    Returns a :class:`VerificationReport`; ``report.passed`` is True only for TOTAL-PASSED. Raises only for
    bad input (unreadable file or anchors, missing or wrong password), never for a bad signature.
    """
    data, source_name = _read_source(source)
    name = name or source_name
    anchors = load_certificates(trust, what="trust anchor")
    file_info: dict[str, Any] = {
        "name": name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "revisions": None,
        "unsigned_fields": [],
        "reasons": [],
    }
    try:
        reader = _open(data, password)
    except PdfPasswordRequired:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure of a hostile file is a FORMAT verdict
        file_info["reasons"].append("format.unreadable-pdf")
        file_info["error"] = f"pyHanko cannot read the PDF: {' '.join(str(exc).split())[:200]}"
        return _report([], file_info)
    if validation_time is not None:
        from sealkit.timefmt import aware

        validation_time = aware(validation_time)  # a time without a zone is Beijing time
    return asyncio.run(
        _verify_document(
            data,
            reader,
            file_info,
            anchors=anchors,
            validation_time=validation_time,
            seal_checker=seal_checker,
            online=online,
        )
    )


def _open(data: bytes, password: str | bytes | None) -> Any:
    from pyhanko.pdf_utils.crypt import AuthStatus
    from pyhanko.pdf_utils.reader import PdfFileReader

    # pyHanko logs every oddity of hostile files as a warning: the report says what matters.
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    if reader.encrypted and reader.decrypt(password or "").status == AuthStatus.FAILED:
        if not password:  # an empty user password (permissions only) opens without one
            raise PdfPasswordRequired(
                "the PDF is encrypted: set SEALKIT_PDF_PASSWORD (or give --password to be asked)"
            )
        raise PdfPasswordRequired("the PDF password is wrong: check SEALKIT_PDF_PASSWORD")
    _ = reader.root  # parse the catalog now, so that a broken one is a FORMAT verdict
    return reader


async def _verify_document(
    data: bytes,
    reader: Any,
    file_info: dict[str, Any],
    *,
    anchors: list[asn1_x509.Certificate],
    validation_time: dt.datetime | None,
    seal_checker: SealChecker | None,
    online: bool,
) -> VerificationReport:
    from sealkit.pdf.verify_structure import revision_layout

    try:
        layout = revision_layout(data, reader)
        fields = list(_signature_fields(reader))
    except Exception as exc:  # noqa: BLE001
        file_info["reasons"].append("format.unreadable-pdf")
        file_info["error"] = f"cannot read the form of the PDF: {' '.join(str(exc).split())[:200]}"
        return _report([], file_info)
    file_info["revisions"] = len(layout.ends)
    extra = layout.unaccounted(data)
    file_info["unaccounted_bytes"] = len(extra)
    ctx = DocumentContext(data, reader, layout, anchors, validation_time, seal_checker, online)
    verdicts = []
    for fq_name, field, field_ref in fields:
        if "/V" not in field:
            file_info["unsigned_fields"].append(fq_name)
            continue
        try:
            verdicts.append(await verify_signature(ctx, fq_name, field, field_ref))
        except Exception as exc:  # noqa: BLE001 - one field's surprise never hides the others
            verdict = SignatureVerdict(field=fq_name)
            verdict.check(
                "format",
                False,
                f"unreadable signature ({type(exc).__name__}: {exc})"[:200],
                "format.unreadable-signature",
            )
            verdict.conclude()
            verdicts.append(verdict)
    if not verdicts:
        file_info["reasons"].append("document.no-signatures")
    if extra and not verdicts:
        file_info["reasons"].append("modification.unaccounted-bytes")
    return _report(verdicts, file_info)


def _report(verdicts: list[SignatureVerdict], file_info: dict[str, Any]) -> VerificationReport:
    indication, sub = overall(verdicts, file_info["reasons"])
    return VerificationReport(indication=indication, sub_indication=sub, signatures=verdicts, file=file_info)


def _signature_fields(reader: Any) -> Iterator[tuple[str, Any, Any]]:
    """(fully qualified name, field dictionary, field reference) of every signature field (/FT inherited)."""
    from pyhanko.pdf_utils import generic

    try:
        top = reader.root["/AcroForm"]["/Fields"]
    except KeyError:
        return
    stack: list[tuple[str, Any, str | None]] = [("", ref, None) for ref in reversed(list(top))]
    seen: set[Any] = set()
    count = 0
    while stack and count < _MAX_FIELDS:
        count += 1
        prefix, ref, inherited_type = stack.pop()
        key = ref.reference if isinstance(ref, generic.IndirectObject) else id(ref)
        if key in seen:  # a cycle in the field tree
            continue
        seen.add(key)
        field = ref.get_object()
        if not isinstance(field, generic.DictionaryObject):
            continue
        partial = field.get("/T")
        name = prefix + str(partial) if partial is not None else prefix.rstrip(".")
        field_type = field.get("/FT", inherited_type)
        # field["/Kids"], not .get(): in an encrypted PDF .get() returns an undecrypted proxy
        kids = [k for k in (field["/Kids"] if "/Kids" in field else []) if "/T" in k.get_object()]  # noqa: SIM401
        if kids:
            stack.extend((name + ".", kid, field_type) for kid in reversed(kids))
        elif field_type == "/Sig":
            yield name or "(unnamed)", field, ref
