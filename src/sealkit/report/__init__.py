"""The verification report as a document a clerk can print, file and show a court.

:func:`build_document` turns the :class:`~sealkit.pdf.VerificationReport` of
:func:`sealkit.flows.verify_contract` and the verified bytes into a :class:`ReportDocument`;
:func:`render_html` and :func:`render_pdf` lay it out; :func:`write_report` writes ``report.pdf`` (signed by
the configured verifier key, timestamped when a TSA is configured, verified before it appears) or
``report.html``. See ``docs/reports.md``.
"""

from __future__ import annotations

from sealkit.report.html import render_html
from sealkit.report.model import ReportDocument, SignatureSection, build_document
from sealkit.report.pdf import render_pdf

__all__ = ["ReportDocument", "SignatureSection", "build_document", "render_html", "render_pdf"]
