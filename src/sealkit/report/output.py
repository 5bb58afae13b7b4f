"""Make the report file: HTML as is, PDF signed by the verifier key, checked, and written all-or-nothing.

A report PDF is evidence only if nobody can alter it unnoticed, so it is signed by the configured verifier
key (``[report] key``/``cert``/``chain``, or the caller's) through :func:`sealkit.flows.sign_contract`
(invisible signature, PAdES B-T with the configured TSA, B-B without one), then verified with
:func:`sealkit.pdf.verify_pdf` — one signature, intact, covering the whole file — before a byte reaches the
destination (:func:`sealkit.atomic.write_atomic`). Without a key a PDF report is refused with a message
saying how to configure one, unless ``unsigned=True`` is asked for explicitly (it then says on every page's
verdict table that it is not signed). HTML reports are never signed: they are for reading, not filing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealkit.atomic import check_destination, write_atomic
from sealkit.config import Config
from sealkit.errors import ConfigError, InvalidInput, InvalidSignature
from sealkit.pdf.report import VerificationReport

if TYPE_CHECKING:  # pragma: no cover
    from sealkit.ukey import PinSource, PrivateKeyHandle

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}
NO_KEY = (
    "a report PDF is signed by a verifier key: set [report] key and cert in the configuration "
    "(sealkit verify: or give --report-key/--report-cert, or --unsigned-report for a copy that is not "
    "evidence)"
)
#: Reason categories that mean the report's own signature is broken (trust is the reader's business).
_BROKEN = {"format", "integrity", "crypto", "coverage", "modification"}


@dataclass(frozen=True)
class ReportFile:
    """A report made by :func:`make_report`: its bytes and how it was signed."""

    data: bytes
    format: str  # "pdf" or "html"
    signed: bool
    signer: str | None = None
    level: str | None = None  # "B-B" or "B-T" for a signed PDF

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def media_type(self) -> str:
        return "application/pdf" if self.format == "pdf" else "text/html; charset=utf-8"


@dataclass(frozen=True)
class WrittenReport:
    """Where :func:`write_report` put the report; ``to_dict()`` is ``report`` in ``verify --json``."""

    path: Path
    sha256: str
    format: str
    signed: bool
    signer: str | None
    level: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "format": self.format,
            "signed": self.signed,
            "signer": self.signer,
            "level": self.level,
        }


def report_format(destination: str | os.PathLike[str]) -> str:
    """``"pdf"`` or ``"html"`` from the destination's suffix (anything else is :class:`InvalidInput`)."""
    suffix = Path(destination).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"the report is written as .pdf or .html, not {suffix or 'a file without suffix'!r}"
        )
    return FORMATS[suffix]


def check_report(
    destination: str | os.PathLike[str],
    *,
    config: Config | None = None,
    key: str | PrivateKeyHandle | None = None,
    unsigned: bool = False,
    protect: Sequence[str | os.PathLike[str]] = (),
) -> str:
    """Refuse a report that cannot be written, before any verification work: a bad suffix or destination,
    an input as destination, or a PDF without a verifier key (unless ``unsigned``). Returns the format."""
    fmt = report_format(destination)
    check_destination(destination, protect=tuple(protect))
    if fmt == "pdf" and not unsigned:
        require_verifier_key(config, key)
    if fmt == "html" and unsigned:
        raise InvalidInput("--unsigned-report is for PDF reports: an HTML report is never signed")
    return fmt


def require_verifier_key(config: Config | None, key: str | PrivateKeyHandle | None = None) -> None:
    """:class:`ConfigError` (saying how to configure one) unless a verifier key is given or configured."""
    if key is None and not (config if config is not None else Config()).report_key:
        raise ConfigError(NO_KEY)


def make_report(
    report: VerificationReport,
    data: bytes,
    fmt: str,
    *,
    config: Config | None = None,
    key: str | PrivateKeyHandle | None = None,
    cert: str | os.PathLike[str] | None = None,
    chain: Sequence[str | os.PathLike[str]] = (),
    pin_source: PinSource | None = None,
    unsigned: bool = False,
    verified_at: dt.datetime | None = None,
) -> ReportFile:
    """The report on ``data`` (the bytes ``report`` is about) as ``fmt`` (``"pdf"`` or ``"html"``).

    A PDF is signed with ``key`` (a key reference or an open handle; default ``[report] key``), ``cert``
    and ``chain`` (default ``[report] cert``/``chain``) and timestamped by ``[tsa] url`` when set.
    """
    from sealkit.report.html import render_html
    from sealkit.report.model import build_document
    from sealkit.report.pdf import render_pdf

    config = config if config is not None else Config()
    if fmt not in ("pdf", "html"):
        raise InvalidInput(f"unknown report format {fmt!r}: use pdf or html")
    keyref = key if key is not None else config.report_key
    if fmt == "pdf" and not unsigned and keyref is None:
        raise ConfigError(NO_KEY)  # before any work
    document = build_document(report, data, verified_at=verified_at, anchors=_anchors(config))
    if fmt == "html":
        return ReportFile(render_html(document), "html", signed=False)
    if unsigned or keyref is None:
        return ReportFile(render_pdf(document), "pdf", signed=False)
    cert = cert if cert is not None else config.report_cert
    chain = list(chain) or config.report_chain
    with contextlib.ExitStack() as stack:
        if isinstance(keyref, str):
            from sealkit.ukey import open_key

            keyref = stack.enter_context(open_key(keyref, config=config, pin_source=pin_source))
        signer = _subject(cert, keyref)
        document.report_signer = signer
        unsigned_pdf = render_pdf(document)
        signed, level = _sign(unsigned_pdf, keyref, config, cert, chain)
    _check_signed(signed)
    return ReportFile(signed, "pdf", signed=True, signer=signer, level=level)


def write_report(
    report: VerificationReport,
    data: bytes,
    destination: str | os.PathLike[str],
    *,
    protect: Sequence[str | os.PathLike[str]] = (),
    **options: Any,
) -> WrittenReport:
    """Write the report on ``data`` to ``destination`` (``.pdf`` or ``.html``) all-or-nothing; ``options``
    are those of :func:`make_report`. ``protect`` lists inputs the destination must not be."""
    fmt = check_report(
        destination,
        config=options.get("config"),
        key=options.get("key"),
        unsigned=bool(options.get("unsigned")),
        protect=protect,
    )
    made = make_report(report, data, fmt, **options)
    write_atomic(destination, made.data, protect=tuple(protect))
    return WrittenReport(Path(destination), made.sha256, fmt, made.signed, made.signer, made.level)


def _anchors(config: Config) -> list[Any]:
    from sealkit.certs import load_certificates

    try:
        return load_certificates(config.trust_anchors, what="trust anchor")
    except Exception:  # noqa: BLE001 - the anchors only complete the printed chains
        return []


def _subject(cert: str | os.PathLike[str] | None, key: PrivateKeyHandle) -> str:
    from sealkit.certs import load_certificate

    certificate = load_certificate(cert, what="report certificate") if cert is not None else key.certificate()
    if certificate is None:
        raise ConfigError("the report key has no certificate: set [report] cert or give --report-cert")
    return str(certificate.subject.human_friendly)


def _sign(
    pdf: bytes,
    key: PrivateKeyHandle,
    config: Config,
    cert: str | os.PathLike[str] | None,
    chain: Sequence[str | os.PathLike[str]],
) -> tuple[bytes, str]:
    """Sign through the contract flow, without the [sign] defaults (no contract seal on a report)."""
    from sealkit.flows import sign_contract

    env = {k: v for k, v in config.env.items() if k not in ("SEALKIT_KEY", "SEALKIT_SEAL")}
    raw = {k: v for k, v in config.raw.items() if k != "sign"}
    flow_config = Config(path=config.path, raw=raw, env=env)
    with tempfile.TemporaryDirectory(prefix="sealkit-report-") as scratch:
        source, target = Path(scratch) / "report.pdf", Path(scratch) / "report.signed.pdf"
        source.write_bytes(pdf)
        signed = sign_contract(
            source,
            target,
            key=key,
            config=flow_config,
            cert=cert,
            chain=chain,
            field_name="sealkit-verifier",
            invisible=True,
            reason="验证报告 / verification report",
            tsa="" if flow_config.tsa_url else None,
        )
        return target.read_bytes(), signed.level


def _check_signed(data: bytes) -> None:
    """The signed report must verify: exactly one signature, intact, over the whole file."""
    from sealkit.pdf import verify_pdf

    result = verify_pdf(data)
    broken = [r for s in result.signatures for r in s.reasons if r.split(".", 1)[0] in _BROKEN]
    whole = [s for s in result.signatures if s.coverage == "entire-file"]
    if len(result.signatures) != 1 or broken or len(whole) != 1:
        raise InvalidSignature(
            f"the signed report does not verify ({', '.join(broken) or 'coverage'}): not written"
        )
