"""Filing (归档) a verified contract: a JSON record of what was verified, written beside it or to a folder.

:func:`file_contract` verifies the PDF with :func:`sealkit.pdf.verify_pdf` and refuses (raises, writes
nothing) unless the verdict is TOTAL-PASSED; then it writes ``NAME.filing.json`` atomically. The record
holds the file's name, size, SHA-256 and SM3, each signature's field, signer, signing time and verdict,
the overall verdict, the sealkit version and the time of filing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes

from sealkit.atomic import write_atomic
from sealkit.errors import InvalidInput, VerificationFailed, VerificationIndeterminate
from sealkit.pdf.report import Indication, VerificationReport
from sealkit.pdf.verify import TrustAnchor, verify_pdf
from sealkit.pdf.verify_signature import SealChecker
from sealkit.timefmt import format_time

FilingRecord = dict[str, Any]
SCHEMA = "sealkit.filing/1"


def _sm3(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def filing_record(
    data: bytes, name: str, report: VerificationReport, *, filed_at: dt.datetime | None = None
) -> FilingRecord:
    """The filing record of the file ``data`` (called ``name``) given its verification report."""
    from sealkit import __version__

    moment = (filed_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    return {
        "schema": SCHEMA,
        "file": {
            "name": name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "sm3": _sm3(data),
        },
        "signatures": [
            {
                "field": s.field,
                "signer": s.signer,
                "signing_time": s.signing_time,
                "algorithm": s.algorithm,
                "indication": s.indication,
                "sub_indication": s.sub_indication,
            }
            for s in report.signatures
        ],
        "indication": report.indication,
        "sealkit_version": __version__,
        "filed_at": format_time(moment),
    }


def file_contract(
    path: str | os.PathLike[str],
    *,
    output_dir: str | os.PathLike[str] | None = None,
    trust: Iterable[TrustAnchor] = (),
    password: str | bytes | None = None,
    seal_checker: SealChecker | None = None,
    online: bool = False,
) -> tuple[Path, FilingRecord, VerificationReport]:
    """Verify the contract at ``path`` and write its filing record; return (record path, record, report).

    Raises :class:`VerificationFailed` (TOTAL-FAILED) or :class:`VerificationIndeterminate` and writes
    nothing when the contract does not verify TOTAL-PASSED. The record goes to ``output_dir`` (default:
    beside the contract) as ``NAME.filing.json``. The bytes filed are the bytes verified (read once).
    ``online`` lets revocation checking fetch OCSP/CRL (see :func:`~sealkit.pdf.verify_pdf`).
    """
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc.strerror}") from None
    report = verify_pdf(data, trust=trust, password=password, seal_checker=seal_checker, online=online)
    destination, record = write_filing_record(source, data, report, output_dir=output_dir)
    return destination, record, report


def write_filing_record(
    source: str | os.PathLike[str],
    data: bytes,
    report: VerificationReport,
    *,
    output_dir: str | os.PathLike[str] | None = None,
) -> tuple[Path, FilingRecord]:
    """Write the filing record of ``data`` (the bytes of ``source`` that ``report`` verified).

    Refuses (:class:`VerificationFailed` / :class:`VerificationIndeterminate`, nothing written) unless the
    report is TOTAL-PASSED.
    """
    source = Path(source)
    if not report.passed:
        error = (
            VerificationFailed if report.indication == Indication.TOTAL_FAILED else VerificationIndeterminate
        )
        detail = f" ({report.sub_indication})" if report.sub_indication else ""
        raise error(f"{source.name} is not filed: verification is {report.indication}{detail}")
    folder = Path(output_dir) if output_dir is not None else source.parent
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder} is a file: give a directory for the filing record (-o DIR)")
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    record = filing_record(data, source.name, report)
    destination = folder / f"{source.stem}.filing.json"
    text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    try:
        write_atomic(destination, text.encode("utf-8"), protect=(source,))
    except BaseException:
        if created:
            folder.rmdir()
        raise
    return destination, record
