"""``sealkit verify`` and ``sealkit file``: verify every signature of a PDF; file a verified contract.

Exit codes: 0 only for TOTAL-PASSED, 3 for TOTAL-FAILED, 4 for INDETERMINATE (the report is printed
first). The PDF password comes from ``SEALKIT_PDF_PASSWORD`` or a prompt (``--password``), never argv.
pyHanko is imported only when a command runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from sealkit_cli.common import emit, get_config, json_option, prompt_secret

from sealkit.errors import VerificationFailed, VerificationIndeterminate

PASSWORD_ENV = "SEALKIT_PDF_PASSWORD"  # noqa: S105 - the name of a variable, not a secret

trust_option = click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Trust anchor certificate (PEM/DER); repeatable. Added to [trust] anchors of the config.",
)


def _password(ask: bool) -> str | None:
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    return prompt_secret("PDF password") if ask else None


def _anchors(trust: tuple[str, ...]) -> list[Path]:
    return [Path(t) for t in trust] + list(get_config().trust_anchors)


def _human(data: dict[str, Any]) -> None:
    file = data["file"]
    click.echo(f"{file['name']}  ({file['size']} bytes, {file.get('revisions') or '?'} revisions)")
    if file.get("error"):
        click.echo(f"  ✗ {file['error']}")
    for sig in data["signatures"]:
        click.echo(f"\nSignature {sig['field']!r}: {sig['indication']}" + _sub(sig["sub_indication"]))
        click.echo(f"  signer: {sig['signer'] or '?'}")
        click.echo(f"  algorithm: {sig['algorithm'] or '?'}   signing time: {sig['signing_time'] or '?'}")
        click.echo(f"  coverage: {sig['coverage']}   modification: {sig['modification']}")
        for check in sig["checks"]:
            click.echo(f"  {'✓' if check['ok'] else '✗'} {check['name']}: {check['detail']}")
        if sig["reasons"]:
            click.echo(f"  reasons: {', '.join(sig['reasons'])}")
    if file.get("unsigned_fields"):
        click.echo(f"\nUnsigned signature fields: {', '.join(file['unsigned_fields'])}")
    if file.get("reasons"):
        click.echo(f"Document: {', '.join(file['reasons'])}")
    click.echo(f"\nOverall: {data['indication']}{_sub(data['sub_indication'])}")


def _sub(value: str | None) -> str:
    return f" / {value}" if value else ""


def _raise_for(indication: str, sub: str | None, what: str) -> None:
    if indication == "TOTAL-FAILED":
        raise VerificationFailed(f"{what}: TOTAL-FAILED{_sub(sub)}")
    if indication != "TOTAL-PASSED":
        raise VerificationIndeterminate(f"{what}: {indication}{_sub(sub)}")


@click.command(name="verify")
@click.argument("pdf", type=click.Path(dir_okay=False))
@trust_option
@click.option(
    "--password", "ask_password", is_flag=True, help=f"Ask for the PDF password (or set {PASSWORD_ENV})."
)
@json_option
def verify(pdf: str, trust: tuple[str, ...], ask_password: bool, as_json: bool) -> None:
    """Verify every signature of PDF; exit 0 only if all pass (TOTAL-PASSED)."""
    from sealkit.pdf import verify_pdf

    report = verify_pdf(pdf, trust=_anchors(trust), password=_password(ask_password))
    data = report.to_dict()
    emit(data, as_json, lambda: _human(data))
    _raise_for(report.indication, report.sub_indication, f"{Path(pdf).name} does not verify")


@click.command(name="file")
@click.argument("pdf", type=click.Path(dir_okay=False))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), help="Where to write NAME.filing.json.")
@trust_option
@click.option(
    "--password", "ask_password", is_flag=True, help=f"Ask for the PDF password (or set {PASSWORD_ENV})."
)
@json_option
def file_(
    pdf: str, output_dir: str | None, trust: tuple[str, ...], ask_password: bool, as_json: bool
) -> None:
    """Verify a contract, then write its filing record (refused unless TOTAL-PASSED)."""
    from sealkit.pdf import file_contract, verify_pdf

    anchors, password = _anchors(trust), _password(ask_password)
    report = verify_pdf(pdf, trust=anchors, password=password)
    if not report.passed:
        data = report.to_dict()
        emit(data, as_json, lambda: _human(data))
        _raise_for(report.indication, report.sub_indication, f"{Path(pdf).name} is not filed")
    path, record, _ = file_contract(pdf, output_dir=output_dir, trust=anchors, password=password)
    emit({"filing_record": str(path), **record}, as_json, f"filed: {path} ({record['indication']})")
