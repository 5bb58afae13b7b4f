"""The verification report as a document a clerk can print, file and show a court.

:func:`build_document` turns the :class:`~sealkit.pdf.VerificationReport` of
:func:`sealkit.flows.verify_contract` and the verified bytes into a :class:`ReportDocument`;
:func:`render_html` and :func:`render_pdf` lay it out; :func:`make_report` makes the report file's bytes
and :func:`write_report` writes ``report.pdf`` (signed by the configured verifier key, timestamped when a
TSA is configured, verified before it appears) or ``report.html``. See ``docs/reports.md``.
"""

from __future__ import annotations

from sealkit.report.html import render_html
from sealkit.report.model import ReportDocument, SignatureSection, build_document
from sealkit.report.output import (
    ReportFile,
    WrittenReport,
    check_report,
    make_report,
    report_format,
    require_verifier_key,
    write_report,
)
from sealkit.report.pdf import render_pdf

__all__ = [
    "ReportDocument",
    "ReportFile",
    "SignatureSection",
    "WrittenReport",
    "build_document",
    "check_report",
    "make_report",
    "render_html",
    "render_pdf",
    "report_format",
    "require_verifier_key",
    "write_report",
]
