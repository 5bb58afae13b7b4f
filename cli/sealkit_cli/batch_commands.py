"""``sealkit batch sign|verify|encrypt MANIFEST``: many documents over processes, resumable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sealkit_cli.common import emit, get_config, json_option

from sealkit.errors import SealkitError

jobs_option = click.option(
    "--jobs",
    "-j",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes to run in parallel.",
)


@click.group()
def batch() -> None:
    """Sign, verify or encrypt the documents of a manifest (CSV with a header, or JSON lines)."""


@batch.command(name="sign")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "keyref", help="Key reference (default: [sign] key).")
@jobs_option
@json_option
def sign(manifest: Path, keyref: str | None, jobs: int, as_json: bool) -> None:
    """Sign every row's input into its output (columns: input, output, field, seal, at_text, page, rect,
    invisible, reason, location, timestamp); rows done in an earlier run are skipped."""
    _run("sign", manifest, keyref, jobs, as_json)


@batch.command(name="verify")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@jobs_option
@json_option
def verify(manifest: Path, jobs: int, as_json: bool) -> None:
    """Verify every row's input and write its JSON report to the row's output (default IN.report.json)."""
    _run("verify", manifest, None, jobs, as_json)


@batch.command(name="encrypt")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--to",
    "to",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    metavar="CERT.pem",
    help="A recipient certificate for every row (besides a row's 'to').",
)
@click.option("--key", "keyref", help="Sign every bid first with this key (UKey or file).")
@jobs_option
@json_option
def encrypt(manifest: Path, to: tuple[str, ...], keyref: str | None, jobs: int, as_json: bool) -> None:
    """Encrypt every row's input into its output envelope (default IN.p7m; columns: input, output, to,
    cipher, sign_cert, profile, ski, rsa_padding, allow_unsigned); rows done in an earlier run are skipped."""
    _run("encrypt", manifest, keyref, jobs, as_json, to)


def _run(
    operation: Any, manifest: Path, keyref: str | None, jobs: int, as_json: bool, to: tuple[str, ...] = ()
) -> None:
    from sealkit.batch import read_manifest, run_batch

    items = read_manifest(manifest, operation)
    journal = manifest.with_name(manifest.name + ".journal.jsonl")
    outcomes = []
    stream = run_batch(
        operation, items, config=get_config(), key=keyref, jobs=jobs, journal=journal, recipients=to
    )
    if not as_json and sys.stderr.isatty():
        with click.progressbar(stream, length=len(items), label=operation, file=sys.stderr) as bar:
            outcomes = list(bar)
    else:
        outcomes = list(stream)
    outcomes.sort(key=lambda o: o.item.line)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    data = {
        "operation": operation,
        "manifest": str(manifest),
        **counts,
        "items": [o.to_dict() for o in outcomes],
    }

    def table() -> None:
        for o in outcomes:
            click.echo(f"{o.item.line:>5}  {o.status:<8} {o.item.output}  {o.detail}")
        click.echo(
            f"{operation}: {counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed"
        )

    emit(data, as_json, table)
    if counts["failed"]:
        error = SealkitError(f"{counts['failed']} of {len(items)} documents failed (see the lines above)")
        error.report_printed = True
        raise error
