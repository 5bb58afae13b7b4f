"""Long-term validation: embed validation data (PAdES B-LT) and archive timestamps (B-LTA), then refresh them.

- :func:`add_validation_info` validates every signature's certificates (and their timestamps' TSA
  certificates) now, online, and writes what it used — certificates, OCSP responses, CRLs — into the
  document security store (DSS) in an incremental update; with a ``timestamper`` it then adds a document
  timestamp over everything (B-LTA).
- :func:`ltv_update` is the periodic job for archived contracts: validate the last document timestamp, add
  its validation data, and cover the file with a fresh document timestamp before the old TSA certificate
  expires or its algorithms weaken.

Outputs are written all-or-nothing: when a TSA, OCSP responder or CRL server fails, nothing is written.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import async_add_validation_info
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    CRLFetchError,
    InsufficientRevinfoError,
    OCSPFetchError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)

from sealkit.atomic import atomic_output
from sealkit.errors import CertificateError, InvalidInput, PdfError, ServiceError, VerificationFailed
from sealkit.pdf import _pyhanko_speedups
from sealkit.trust.timestamps import make_timestamper
from sealkit.validation.context import TrustAnchor, build_validation_context, embedded_evidence

_pyhanko_speedups.install()  # the catalog this update rewrites keeps its names' bytes and PDF reals


@dataclass
class LtvResult:
    """What an LTV operation wrote."""

    output_path: Path
    signatures: int  # signatures whose validation data was embedded
    document_timestamp: bool  # a document timestamp was added
    ocsps: int  # OCSP responses now in the DSS
    crls: int  # CRLs now in the DSS
    certs: int  # certificates now in the DSS

    def to_json(self) -> dict[str, object]:
        return {
            "output": str(self.output_path),
            "signatures": self.signatures,
            "document_timestamp": self.document_timestamp,
            "dss": {"certs": self.certs, "ocsps": self.ocsps, "crls": self.crls},
        }


def ltv_context(trust_anchors: Sequence[TrustAnchor], *, fetch_timeout: float = 10.0) -> ValidationContext:
    """The context LTV collection needs: online, and failing hard when declared revocation data is missing."""
    return build_validation_context(
        trust_anchors, online=True, revocation_mode="hard-fail", fetch_timeout=fetch_timeout
    )


def add_validation_info(
    pdf_in: str | os.PathLike[str],
    pdf_out: str | os.PathLike[str],
    *,
    validation_context: ValidationContext,
    timestamper: TimeStamper | None = None,
) -> LtvResult:
    """Embed validation data for every signature of ``pdf_in`` (B-LT); with ``timestamper`` also B-LTA.

    ``validation_context`` should allow fetching (see :func:`ltv_context`); its HTTP session is closed
    at the end.
    """
    data = _read(pdf_in)
    buffer = io.BytesIO(data)

    async def steps() -> int:
        count = await _embed_all(buffer, validation_context)
        if timestamper is not None:
            await _document_timestamp(buffer, validation_context, timestamper)
        return count

    count = _run(steps(), pdf_in, validation_context)
    return _write(buffer, pdf_in, pdf_out, signatures=count, timestamped=timestamper is not None)


def ltv_update(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    tsa_url: str,
    *,
    trust_anchors: Sequence[TrustAnchor],
    timestamper: TimeStamper | None = None,
) -> LtvResult:
    """Refresh the archive timestamp of ``path`` into ``out``; makes the file B-LTA first if it is not yet."""
    data = _read(path)
    stamper = timestamper or make_timestamper(tsa_url)
    reader = _reader(io.BytesIO(data), path)
    if not reader.embedded_timestamp_signatures:
        return add_validation_info(
            path, out, validation_context=ltv_context(trust_anchors), timestamper=stamper
        )
    context = ltv_context(trust_anchors)
    buffer = io.BytesIO()

    async def refresh() -> None:
        await PdfTimeStamper(stamper).async_update_archival_timestamp_chain(
            reader, context, in_place=False, output=buffer
        )

    _run(refresh(), path, context)
    return _write(buffer, path, out, signatures=0, timestamped=True)


# --- steps ---


async def _embed_all(buffer: io.BytesIO, context: ValidationContext) -> int:
    reader = _reader(buffer, "input")
    names = [sig.field_name for sig in reader.embedded_regular_signatures]
    if not names:
        raise InvalidInput("the PDF has no signature to add validation data for")
    for name in names:
        # Each update appends a revision: re-read so that the next signature sees the current file.
        reader = PdfFileReader(buffer, strict=False)
        signature = next(s for s in reader.embedded_regular_signatures if s.field_name == name)
        await async_add_validation_info(signature, context, in_place=True, force_write=True)
    return len(names)


async def _document_timestamp(
    buffer: io.BytesIO, context: ValidationContext, timestamper: TimeStamper
) -> None:
    reader = PdfFileReader(buffer, strict=False)
    signatures = reader.embedded_signatures
    md_algorithm = signatures[-1].md_algorithm if signatures else "sha256"
    writer = IncrementalPdfFileWriter(buffer, strict=False)
    await PdfTimeStamper(timestamper).async_timestamp_pdf(writer, md_algorithm, context, in_place=True)


# --- plumbing ---


def _run(coro: Coroutine[Any, Any, Any], source: object, *contexts: ValidationContext) -> int:
    """Run ``coro``; map pyHanko's failures to sealkit's one-line errors."""

    async def scoped() -> Any:
        try:
            return await coro
        finally:
            for context in contexts:
                await context.aclose()  # type: ignore[no-untyped-call]

    try:
        result = asyncio.run(scoped())
    except (OCSPFetchError, CRLFetchError) as exc:
        raise ServiceError(f"cannot fetch revocation data: {_line(exc)}") from None
    except RevokedError as exc:
        raise CertificateError(f"{source}: {_line(exc)}") from None
    except PathBuildingError as exc:
        raise VerificationFailed(f"{source}: no trusted chain: {_line(exc)}") from None
    except InsufficientRevinfoError as exc:
        # LTV collection is online: missing revocation data means the OCSP/CRL services did not deliver.
        raise ServiceError(f"no revocation data could be fetched: {_line(exc)}") from None
    except PathValidationError as exc:
        raise VerificationFailed(f"{source}: {_line(exc)}") from None
    except (SignatureValidationError, SigningError) as exc:
        raise VerificationFailed(f"{source}: {_line(exc)}") from None
    except PdfReadError as exc:
        raise PdfError(f"{source}: cannot read the PDF: {_line(exc)}") from None
    return int(result or 0)


def _read(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def _reader(stream: io.BytesIO, source: object) -> PdfFileReader:
    try:
        return PdfFileReader(stream, strict=False)
    except PdfReadError as exc:
        raise PdfError(f"{source}: not a readable PDF: {_line(exc)}") from None


def _write(
    buffer: io.BytesIO,
    pdf_in: str | os.PathLike[str],
    pdf_out: str | os.PathLike[str],
    *,
    signatures: int,
    timestamped: bool,
) -> LtvResult:
    data = buffer.getvalue()
    with atomic_output(pdf_out, protect=(pdf_in,)) as handle:
        handle.write(data)
    evidence = embedded_evidence(PdfFileReader(io.BytesIO(data), strict=False))
    return LtvResult(
        Path(pdf_out), signatures, timestamped, len(evidence.ocsps), len(evidence.crls), len(evidence.certs)
    )


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
