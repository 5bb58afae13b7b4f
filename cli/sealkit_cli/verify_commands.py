"""``sealkit verify`` and ``sealkit file``: verify every signature of a PDF; file a verified contract.

Exit codes: 0 only for TOTAL-PASSED, 3 for TOTAL-FAILED, 4 for INDETERMINATE (the report is printed
first). The PDF password comes from ``SEALKIT_PDF_PASSWORD`` or a prompt (``--password``), never argv.
Revocation is checked offline, with the validation data the PDF carries, unless ``--online`` is given.
pyHanko is imported only when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sealkit_cli.common import (
    emit,
    get_config,
    json_option,
    pdf_password,
    pdf_password_option,
    seal_maker_trust_option,
)

from sealkit.errors import InvalidInput, VerificationFailed, VerificationIndeterminate

trust_option = click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Trust anchor certificate (PEM/DER); repeatable. Added to [trust] anchors of the config.",
)


online_option = click.option(
    "--online",
    is_flag=True,
    help="Also fetch OCSP responses and CRLs named in the certificates (default: only the PDF's own data). "
    "A certificate that names them needs a status, or the verdict is INDETERMINATE/TRY_LATER.",
)


seal_options = [
    seal_maker_trust_option,
    click.option(
        "--registry",
        "registry_url",
        help="Seal registry for seal revocations, opened read-only and checked against its signed audit "
        "chain (default: the configured one, when it exists).",
    ),
    click.option(
        "--revocations",
        "revocation_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Signed seal revocation list (from 'sealkit seal export-revocations'); repeatable.",
    ),
]


require_seal_option = click.option(
    "--require-seal",
    is_flag=True,
    default=None,
    help="Every signature must carry an electronic seal (document timestamps excepted), as a field prepared "
    "for a seal requires of its own (default: [verify] require_seal).",
)


def _with(options: list[Any]) -> Any:
    """A decorator applying click ``options`` in their listed order."""

    def apply(command: Any) -> Any:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


with_seal_options = _with(seal_options)


def _human(data: dict[str, Any]) -> None:
    file = data["file"]
    extent = f"OFD, {file['pages']} pages" if "pages" in file else f"{file.get('revisions') or '?'} revisions"
    click.echo(f"{file['name']}  ({file['size']} bytes, {extent})")
    if file.get("error"):
        click.echo(f"  ✗ {file['error']}")
    for sig in data["signatures"]:
        click.echo(f"\nSignature {sig['field']!r}: {sig['indication']}" + _sub(sig["sub_indication"]))
        click.echo(f"  signer: {sig['signer'] or '?'}")
        if sig.get("proven_time"):
            when = f"{sig['proven_time']} (proven by a timestamp)"
        elif sig.get("claimed_time"):
            when = f"{sig['claimed_time']} (claimed by the signer, not proven)"
        else:
            when = "?"
        click.echo(f"  algorithm: {sig['algorithm'] or '?'}   signing time: {when}")
        click.echo(f"  coverage: {sig['coverage']}   modification: {sig['modification']}")
        for check in sig["checks"]:
            mark = {"pass": "✓", "fail": "✗", "warning": "!"}.get(check.get("level", ""), "✗")
            click.echo(f"  {mark} {check['name']}: {check['detail']}")
        if sig["reasons"]:
            click.echo(f"  reasons: {', '.join(sig['reasons'])}")
    if file.get("unsigned_fields"):
        click.echo(f"\nUnsigned signature fields: {', '.join(file['unsigned_fields'])}")
    if file.get("reasons"):
        click.echo(f"Document: {'; '.join(DOCUMENT_REASONS.get(r, r) for r in file['reasons'])}")
    click.echo(f"\nOverall: {data['indication']}{_sub(data['sub_indication'])}")
    if data.get("report"):
        written = data["report"]
        how = f"signed by {written['signer']}" if written["signed"] else "not signed"
        click.echo(f"Report: {written['path']} ({how}; SHA-256 {written['sha256']})")


DOCUMENT_REASONS = {
    "document.no-signatures": "the PDF has no signatures (document.no-signatures)",
    "modification.unaccounted-bytes": (
        "bytes were added after the last revision (modification.unaccounted-bytes)"
    ),
}


def _sub(value: str | None) -> str:
    return f" / {value}" if value else ""


def _verify(
    source: str | bytes,
    trust: tuple[str, ...],
    online: bool,
    seal_maker_trust: tuple[str, ...],
    registry_url: str | None,
    revocation_files: tuple[str, ...],
    ask_password: bool,
    name: str | None = None,
    require_seal: bool | None = None,
) -> Any:
    """verify_contract (PDF or OFD, chosen by the content) with the anchors, the seal registry, the lists,
    the seal policy and the password the options give."""
    from sealkit.flows import verify_contract

    return verify_contract(
        source,
        config=get_config(),
        trust=trust,
        seal_maker_trust=seal_maker_trust,
        online=online,
        registry_url=registry_url,
        revocation_lists=revocation_files,
        password=pdf_password(ask_password),
        name=name,
        require_seal=require_seal,
    )


def _read(pdf: str) -> bytes:
    try:
        return Path(pdf).read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{pdf} does not exist: check the PDF's path") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {pdf}: {exc.strerror}") from None


def _raise_for(indication: str, sub: str | None, what: str) -> None:
    """Fail with the verification's exit code; the report itself was already printed."""
    if indication == "TOTAL-PASSED":
        return
    error_class = VerificationFailed if indication == "TOTAL-FAILED" else VerificationIndeterminate
    error = error_class(f"{what}: {indication}{_sub(sub)}")
    error.report_printed = True
    raise error


report_options = [
    click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False),
        help="Also write the verification report as a document: REPORT.pdf (signed by the verifier key) or "
        "REPORT.html (chosen by the suffix).",
    ),
    click.option(
        "--report-key",
        help="Key reference of the verifier key that signs the report PDF (default: [report] key).",
    ),
    click.option(
        "--report-cert",
        type=click.Path(dir_okay=False),
        help="The verifier's certificate (default: [report] cert, else the key's own).",
    ),
    click.option(
        "--unsigned-report",
        is_flag=True,
        help="Write the report PDF unsigned when no verifier key is configured "
        "(a copy to read, not evidence).",
    ),
]


with_report_options = _with(report_options)


def _write_report(
    report: Any, data: bytes, path: str, source: str, key: str | None, cert: str | None, unsigned: bool
) -> dict[str, Any]:
    from sealkit_cli.common import prompt_secret

    from sealkit.report import write_report
    from sealkit.ukey import CallbackPinSource

    written = write_report(
        report,
        data,
        path,
        protect=(source,),
        config=get_config(),
        key=key,
        cert=cert,
        unsigned=unsigned,
        pin_source=CallbackPinSource(prompt_secret),
    )
    return written.to_dict()


@click.command(name="verify")
@click.argument("pdf", type=click.Path(dir_okay=False))
@trust_option
@online_option
@with_seal_options
@require_seal_option
@pdf_password_option
@with_report_options
@json_option
def verify(
    pdf: str,
    trust: tuple[str, ...],
    online: bool,
    seal_maker_trust: tuple[str, ...],
    registry_url: str | None,
    revocation_files: tuple[str, ...],
    require_seal: bool | None,
    ask_password: bool,
    report_path: str | None,
    report_key: str | None,
    report_cert: str | None,
    unsigned_report: bool,
    as_json: bool,
) -> None:
    """Verify every signature of a PDF or OFD (and the seals they carry); exit 0 only if all pass.

    With --report, the result is also written as a document to print and file (whatever the verdict)."""
    source: str | bytes = pdf
    if report_path is not None:
        from sealkit.report import check_report

        check_report(
            report_path, config=get_config(), key=report_key, unsigned=unsigned_report, protect=(pdf,)
        )
        source = _read(pdf)  # the bytes verified are the bytes the report describes
    elif report_key or report_cert or unsigned_report:
        raise InvalidInput("--report-key, --report-cert and --unsigned-report go with --report FILE")
    name = Path(pdf).name if report_path is not None else None
    report = _verify(
        source,
        trust,
        online,
        seal_maker_trust,
        registry_url,
        revocation_files,
        ask_password,
        name,
        require_seal,
    )
    data = report.to_dict()
    if report_path is not None:
        assert isinstance(source, bytes)
        data["report"] = _write_report(
            report, source, report_path, pdf, report_key, report_cert, unsigned_report
        )
    emit(data, as_json, lambda: _human(data))
    if not report.signatures and report.indication == "INDETERMINATE":
        error = VerificationIndeterminate(
            f"{Path(pdf).name} has no signatures: nothing to verify (sign it first)"
        )
        error.report_printed = True
        raise error
    _raise_for(report.indication, report.sub_indication, f"{Path(pdf).name} does not verify")


@click.command(name="file")
@click.argument("pdf", type=click.Path(dir_okay=False))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), help="Where to write NAME.filing.json.")
@trust_option
@online_option
@with_seal_options
@click.option(
    "--allow-unsealed",
    is_flag=True,
    help="File a contract whose signatures carry no electronic seal (by default every signature must carry "
    "one: a contract is filed sealed, 盖章).",
)
@pdf_password_option
@json_option
def file_(
    pdf: str,
    output_dir: str | None,
    trust: tuple[str, ...],
    online: bool,
    seal_maker_trust: tuple[str, ...],
    registry_url: str | None,
    revocation_files: tuple[str, ...],
    allow_unsealed: bool,
    ask_password: bool,
    as_json: bool,
) -> None:
    """Verify a contract (PDF or OFD), then write its filing record (refused unless TOTAL-PASSED and, unless
    --allow-unsealed, every signature carries an electronic seal)."""
    from sealkit.pdf import write_filing_record

    data = _read(pdf)  # the bytes verified are the bytes filed
    report = _verify(
        data,
        trust,
        online,
        seal_maker_trust,
        registry_url,
        revocation_files,
        ask_password,
        Path(pdf).name,
        require_seal=not allow_unsealed,
    )
    if not report.passed:
        report_data = report.to_dict()
        emit(report_data, as_json, lambda: _human(report_data))
        _raise_for(report.indication, report.sub_indication, f"{Path(pdf).name} is not filed")
    path, record = write_filing_record(pdf, data, report, output_dir=output_dir)
    emit({"filing_record": str(path), **record}, as_json, f"filed: {path} ({record['indication']})")
