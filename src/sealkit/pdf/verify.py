"""Verify every signature of a PDF contract: :func:`verify_pdf`.

The document is read once with pyHanko; signature fields are enumerated by sealkit itself (one
``try`` per field), so one malformed signature — a /Contents that is not CMS, an unknown SubFilter, a
broken /ByteRange — becomes a verdict for that signature and never hides the others. A file pyHanko cannot
parse becomes a document-level FORMAT_FAILURE. What each signature is checked for is in
:mod:`sealkit.pdf.verify_signature`; the rules and the JSON shape are in ``docs/pdf-verification.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import io
import logging
import mmap
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias, cast

from asn1crypto import x509 as asn1_x509

from sealkit.certs import CertSource, load_certificates
from sealkit.errors import InvalidInput, PdfPasswordRequired
from sealkit.pdf import _pyhanko_speedups
from sealkit.pdf.report import SignatureVerdict, VerificationReport
from sealkit.pdf.verify_signature import DocumentContext, SealChecker, verify_signature

_pyhanko_speedups.install()

#: A trust anchor: a certificate object, DER/PEM bytes, or the path of a PEM/DER file.
TrustAnchor: TypeAlias = CertSource
_MAX_FIELDS = 10_000


class TooManyFields(Exception):
    """The form has more fields than :data:`_MAX_FIELDS`: a verdict (FORMAT_FAILURE), never a silent stop."""


@contextlib.contextmanager
def _open_source(source: str | os.PathLike[str] | bytes) -> Iterator[tuple[bytes, BinaryIO, str]]:
    """The file's bytes for sealkit's byte-level checks, a stream for pyHanko, and the name.

    A file is not read into memory: pyHanko reads objects and the signed byte ranges from the open file,
    and sealkit's checks see it through a read-only memory map, whose pages count in the process's memory
    only where the checks look (the cross-reference ends, the /Contents gaps, the bytes after the signed
    revision). Peak memory stays near pyHanko's own and does not grow with the images in the file.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        yield data, io.BytesIO(data), "<bytes>"
        return
    path = Path(source)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist: check the PDF's path") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory: give the PDF file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        try:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # an empty file, or one that cannot be mapped: read it
            yield handle.read(), handle, path.name
            return
        try:
            # An mmap has every bytes method the checks use (find, slices, len, regular expressions).
            yield cast(bytes, view), handle, path.name
        finally:
            with contextlib.suppress(BufferError):  # a live view keeps it open until collected
                view.close()


def _sha256(stream: BinaryIO) -> str:
    stream.seek(0)
    # typeshed's BinaryIO lacks readinto; every stream here is a buffered file or a BytesIO
    return hashlib.file_digest(stream, "sha256").hexdigest()  # type: ignore[arg-type]


def verify_pdf(
    source: str | os.PathLike[str] | bytes,
    *,
    trust: Iterable[TrustAnchor] = (),
    password: str | bytes | None = None,
    validation_time: dt.datetime | None = None,
    seal_checker: SealChecker | None = None,
    online: bool = False,
    name: str | None = None,
    require_seal: bool = False,
) -> VerificationReport:
    """Verify every signature of the PDF ``source`` (a path or the file's bytes; ``name`` names bytes in the
    report).

    ``trust`` are the trust anchors (certificates, or PEM/DER files); ``password`` opens an encrypted PDF;
    ``validation_time`` is the moment of validation (default now; without a zone, Beijing time): a
    signature is judged at its proven time — a trusted signature or document timestamp — else at
    ``validation_time``; the time a signer claims proves nothing. ``seal_checker(signed_data, proven_time)``
    may return a dict (with ``"ok"``) that fills each signature's ``seal`` slot; ``proven_time`` is None
    without proof.
    ``online`` lets revocation checking fetch OCSP responses and CRLs; offline (the default) only the
    validation data embedded in the PDF is used and nothing goes over the network.
    ``require_seal`` requires an electronic seal of every signature (document timestamps excepted), as a
    prepared field may require of its own (``FieldSpec(seal_required=True)``): a signature without one
    fails with ``sig-constraints.seal-required``.

    Returns a :class:`VerificationReport`; ``report.passed`` is True only for TOTAL-PASSED. Raises only for
    bad input (unreadable file or anchors, missing or wrong password), never for a bad signature.
    """
    anchors = load_certificates(trust, what="trust anchor")
    if validation_time is not None:
        from sealkit.timefmt import aware

        validation_time = aware(validation_time)  # a time without a zone is Beijing time
    with _open_source(source) as (data, stream, source_name):
        file_info: dict[str, Any] = {
            "name": name or source_name,
            "size": len(data),
            "sha256": _sha256(stream),
            "revisions": None,
            "unsigned_fields": [],
            "reasons": [],
        }
        return _verify_open(
            data,
            stream,
            file_info,
            anchors=anchors,
            password=password,
            validation_time=validation_time,
            seal_checker=seal_checker,
            online=online,
            require_seal=require_seal,
        )


def _verify_open(
    data: bytes,
    stream: BinaryIO,
    file_info: dict[str, Any],
    *,
    anchors: list[asn1_x509.Certificate],
    password: str | bytes | None,
    validation_time: dt.datetime | None,
    seal_checker: SealChecker | None,
    online: bool,
    require_seal: bool = False,
) -> VerificationReport:
    try:
        reader = _open(stream, password)
    except PdfPasswordRequired:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure of a hostile file is a FORMAT verdict
        file_info["reasons"].append("format.unreadable-pdf")
        logging.getLogger(__name__).debug("unreadable PDF", exc_info=True)
        file_info["error"] = f"the PDF cannot be read: {_pdf_problem(exc)}"
        return VerificationReport.from_verdicts([], file_info)
    return asyncio.run(
        _verify_document(
            data,
            reader,
            file_info,
            anchors=anchors,
            validation_time=validation_time,
            seal_checker=seal_checker,
            online=online,
            require_seal=require_seal,
        )
    )


def _open(stream: BinaryIO, password: str | bytes | None) -> Any:
    from pyhanko.pdf_utils.crypt import AuthStatus
    from pyhanko.pdf_utils.reader import PdfFileReader

    # pyHanko logs every oddity of hostile files as a warning: the report says what matters.
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    reader = PdfFileReader(stream, strict=False)
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
    require_seal: bool = False,
) -> VerificationReport:
    from sealkit.pdf.verify_structure import revision_layout
    from sealkit.pdf.xref_audit import audit_xref

    try:
        layout = revision_layout(data, reader)
        fields = list(_signature_fields(reader))
    except TooManyFields as exc:
        file_info["reasons"].append("format.too-many-fields")
        file_info["error"] = str(exc)
        return VerificationReport.from_verdicts([], file_info)
    except Exception as exc:  # noqa: BLE001
        file_info["reasons"].append("format.unreadable-pdf")
        logging.getLogger(__name__).debug("unreadable form", exc_info=True)
        file_info["error"] = f"the form of the PDF cannot be read: {_pdf_problem(exc)}"
        return VerificationReport.from_verdicts([], file_info)
    file_info["revisions"] = len(layout.ends)
    extra = layout.unaccounted(data)
    file_info["unaccounted_bytes"] = len(extra)
    audit = audit_xref(data, _object_stream_data(reader))
    file_info["xref_findings"] = [{"reason": f.reason, "detail": f.detail} for f in audit.findings]
    ctx = DocumentContext(
        data,
        reader,
        layout,
        anchors,
        validation_time,
        seal_checker,
        online,
        audit=audit,
        require_seal=require_seal,
    )
    signed = []
    for fq_name, field, field_ref in fields:
        if "/V" not in field:
            file_info["unsigned_fields"].append(fq_name)
        else:
            signed.append((fq_name, field, field_ref))
    # Document timestamps first: a trusted one proves that the signatures before it existed (POE).
    order = sorted(range(len(signed)), key=lambda i: not _is_document_timestamp(signed[i][1]))
    results: dict[int, SignatureVerdict] = {}
    for index in order:
        fq_name, field, field_ref = signed[index]
        try:
            results[index] = await verify_signature(ctx, fq_name, field, field_ref)
        except Exception:  # noqa: BLE001 - one field's surprise never hides the others
            logging.getLogger(__name__).debug("unexpected error verifying %s", fq_name, exc_info=True)
            verdict = SignatureVerdict(field=fq_name)
            verdict.check(
                "format",
                False,
                "the signature could not be read (see --verbose)",
                "format.unreadable-signature",
            )
            verdict.conclude()
            results[index] = verdict
    verdicts = [results[i] for i in range(len(signed))]
    _judge_later_signatures(ctx, signed, results)
    if not verdicts:
        file_info["reasons"].append("document.no-signatures")
    if extra and not verdicts:
        file_info["reasons"].append("modification.unaccounted-bytes")
    return VerificationReport.from_verdicts(verdicts, file_info)


def _judge_later_signatures(
    ctx: DocumentContext, signed: list[tuple[str, Any, Any]], results: dict[int, SignatureVerdict]
) -> None:
    """A later signature that the modification rules accepted (rules A to C) must be one that was verified
    here and did not fail: else the earlier signature fails (``modification.unverified-signature``), since
    the later "signature" may be a bogus value under a seal painted over the contract. Judged from the last
    signed revision back, so that each later verdict is final before an earlier one depends on it."""
    from pyhanko.pdf_utils import generic

    by_value: dict[tuple[int, int], SignatureVerdict] = {}
    for index, (_, field, _) in enumerate(signed):
        value = field.raw_get("/V")
        if isinstance(value, generic.IndirectObject) and index in results:
            by_value[(value.idnum, value.generation)] = results[index]
    for _, verdict, laters in sorted(ctx.later_signatures, key=lambda item: -item[0]):
        changed = False
        for later in laters:
            target = by_value.get(later.value) if later.value is not None else None
            if target is None or target.indication == "TOTAL-FAILED":
                why = "was not verified" if target is None else "failed verification"
                changed |= not verdict.check(
                    "later-signature",
                    False,
                    f"the later signature in field {later.field!r} {why} ({later.where()})",
                    "modification.unverified-signature",
                )
            elif not target.passed:
                verdict.check(
                    "later-signature",
                    False,
                    f"the later signature in field {later.field!r} is {target.indication} ({later.where()})",
                )
        if changed:
            verdict.conclude()


def _object_stream_data(reader: Any) -> Any:
    """For the xref audit of an encrypted file: an object stream's data as pyHanko decrypts it."""
    from pyhanko.pdf_utils import generic

    def read(number: int, generation: int) -> bytes | None:
        try:
            stream = reader.get_object(generic.Reference(number, generation, reader))
            return bytes(stream.data) if isinstance(stream, generic.StreamObject) else None
        except Exception:  # noqa: BLE001 - unreadable: the audit skips what it cannot decode
            return None

    return read


def _pdf_problem(exc: BaseException) -> str:
    """What is wrong with a PDF, in words: pyHanko's own message for a PDF syntax error, else a general one
    (never an internal exception's text)."""
    from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError

    if isinstance(exc, PyHankoPdfError):
        return " ".join(str(exc).split())[:160] or "broken PDF syntax"
    return "its structure is broken (--verbose or SEALKIT_DEBUG=1 shows details)"


def _is_document_timestamp(field: Any) -> bool:
    try:
        return bool(field["/V"].get("/Type") == "/DocTimeStamp")
    except Exception:  # noqa: BLE001 - a broken value is judged when the field is verified
        return False


def _signature_fields(reader: Any) -> Iterator[tuple[str, Any, Any]]:
    """(fully qualified name, field dictionary, field reference) of every signature field (/FT inherited)."""
    from pyhanko.pdf_utils import generic

    try:
        top = reader.root["/AcroForm"]["/Fields"]
    except KeyError:
        return
    stack: list[tuple[str, Any, str | None]] = [("", ref, None) for ref in reversed(list(top))]
    seen: set[Any] = set()
    while stack:
        prefix, ref, inherited_type = stack.pop()
        key = ref.reference if isinstance(ref, generic.IndirectObject) else id(ref)
        if key in seen:  # a cycle in the field tree, or a field listed twice
            continue
        if len(seen) >= _MAX_FIELDS:
            raise TooManyFields(
                f"the form has more than {_MAX_FIELDS} fields: too many to verify (split the document)"
            )
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
        if field_type == "/Sig" and (not kids or "/V" in field):  # a value under sub-fields is verified too
            yield name or "(unnamed)", field, ref
