"""The input of a signature, made unambiguous before sealkit signs it: :func:`unambiguous_input`.

Whatever sealkit signs, sealkit verifies. A PDF whose cross-reference layer reads in more than one way
(:mod:`sealkit.pdf.xref_audit`: an object listed twice, definitions no xref registers, a stray
/Linearized dictionary…) would be signed as one parser reads it and shown as another one does, and sealkit's
verifier rejects it. qpdf --check and poppler's pdfsig accept such files without a word, and editors save
them anew; so sealkit does what an editor does, but only where nothing can break: an input **without
signatures** is rewritten cleanly by pypdf (one reading; every object the document uses written once, no
hidden or unregistered definitions, no incremental history) before the first signature, and the signer is
told in the result's warnings. An input that already carries signatures cannot be rewritten without
breaking them, and an encrypted one not without its keys being handled twice: both are refused with one
line saying what to do.
"""

from __future__ import annotations

import contextlib
import io
import logging
import mmap
import tempfile
from collections.abc import Iterator
from typing import BinaryIO, cast

from sealkit.errors import PdfError
from sealkit.pdf.xref_audit import XrefAudit, audit_xref

#: Padding after the last %%EOF of an input ends up between revisions once sealkit appends its signature.
_HARMLESS_BEFORE_SIGNING = frozenset({"structure.after-eof"})


@contextlib.contextmanager
def file_view(source: BinaryIO) -> Iterator[bytes | mmap.mmap]:
    """The bytes of ``source``: a read-only memory map of its file (a large input is not read into memory),
    or its content when it has no file; ``source`` is left at its start."""
    source.seek(0)
    try:
        view: bytes | mmap.mmap = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        view = source.read()
    try:
        yield view
    finally:
        source.seek(0)
        if isinstance(view, mmap.mmap):
            with contextlib.suppress(BufferError):
                view.close()


def _audit(source: BinaryIO) -> tuple[XrefAudit, bool]:
    """The audit of ``source``, and whether it holds a signature (a /ByteRange anywhere)."""
    with file_view(source) as view:
        return audit_xref(cast(bytes, view)), view.find(b"/ByteRange") >= 0


@contextlib.contextmanager
def unambiguous_input(source: BinaryIO, warnings: list[str]) -> Iterator[BinaryIO]:
    """``source`` itself if its xref layer reads one way only; else a clean rewrite of it (a temporary
    file, removed on exit) with a warning added to ``warnings``; raises :class:`PdfError` for an ambiguous
    input that is signed or encrypted."""
    audit, signed = _audit(source)
    findings = [f.detail for f in audit.findings if f.reason not in _HARMLESS_BEFORE_SIGNING]
    findings += _repeated_keys(source)
    if not findings:
        yield source
        return
    first = findings[0]
    if signed:
        raise PdfError(
            f"the PDF is already signed and its cross-reference data reads differently in different viewers"
            f" ({first}): sealkit will not add a signature to it; ask the sender for a clean signed copy"
        )
    if audit.encrypted:
        raise PdfError(
            f"the encrypted PDF's cross-reference data reads differently in different viewers ({first}):"
            " save it anew with a PDF editor (or qpdf) and sign the new copy"
        )
    with tempfile.TemporaryFile() as clean:
        _rewrite(source, clean)
        again, _ = _audit(clean)
        if [f for f in again.findings if f.reason not in _HARMLESS_BEFORE_SIGNING] or _repeated_keys(clean):
            raise PdfError(
                f"the PDF's cross-reference data reads differently in different viewers ({first}) and a"
                " clean rewrite did not help: save it anew with a PDF editor and sign the new copy"
            )
        warnings.append(
            f"the input PDF's cross-reference data could be read in more than one way ({first}); sealkit"
            " signed a clean rewrite of it: check the signed copy"
        )
        yield clean


def _repeated_keys(source: BinaryIO) -> list[str]:
    """Dictionaries that repeat a key, in every revision (what the verifier's ``structure.duplicate-key``
    finds in signed revisions); not read above the verifier's own object limit."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from sealkit.pdf.verify_structure import MAX_REREAD_OBJECTS, update_syntax_problems

    source.seek(0)
    try:
        reader = PdfFileReader(source, strict=False)
        xrefs = reader.xrefs
        revisions = range(xrefs.total_revisions)
        if sum(len(xrefs.get_xref_data(r).standard_xrefs) for r in revisions) > MAX_REREAD_OBJECTS:
            return []
        return [detail for r in revisions for _, detail in update_syntax_problems(reader, r)]
    except Exception:  # noqa: BLE001 - an unreadable input is refused where it is opened for signing
        return []
    finally:
        source.seek(0)


def _rewrite(source: BinaryIO, target: BinaryIO) -> None:
    """Write the document of ``source`` anew into ``target`` (pypdf: one reading, every used object once)."""
    from pypdf import PdfReader, PdfWriter

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    source.seek(0)
    try:
        writer = PdfWriter(clone_from=PdfReader(source, strict=False))
        writer.write(target)
    except Exception as exc:  # noqa: BLE001 - pypdf's view of a hostile file: one line for the signer
        raise PdfError(
            "the PDF's cross-reference data reads differently in different viewers and it cannot be"
            f" rewritten ({type(exc).__name__}): save it anew with a PDF editor and sign the new copy"
        ) from exc
    target.seek(0)
