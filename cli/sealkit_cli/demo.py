"""``sealkit demo``: run the whole contract flow on software keys and SQLite, then say where everything is."""

from __future__ import annotations

from pathlib import Path

import click
from sealkit_cli.common import emit, json_option


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("sealkit-demo"),
    show_default=True,
    help="Where to put the demo's keys, registry, contract and bid.",
)
@json_option
def demo(directory: Path, as_json: bool) -> None:
    """Run the whole flow: test CAs, a contract seal issued into the registry, a contract prepared, signed
    by the supplier and sealed by the purchaser under a grant of the seal's use (each use registered),
    verified and filed, and a bid encrypted and opened."""
    from sealkit.dev.demo import run_demo

    log = (lambda _line: None) if as_json else (lambda line: click.echo(f"  {line}"))
    if not as_json:
        click.echo(f"sealkit demo → {directory.resolve()}")
    result = run_demo(directory, log=log)

    def human() -> None:
        click.echo("")
        for sig in result.signatures:
            seal = sig.get("seal") or {}
            seal_text = f", seal {seal['seal']['name']} ok" if seal.get("ok") and seal.get("seal") else ""
            click.echo(
                f"  ✓ {sig['field']}: {sig['indication']}{seal_text}"
                if sig["indication"] == "TOTAL-PASSED"
                else f"  ✗ {sig['field']}: {sig['indication']}"
            )
        click.echo(
            f"  verification: {result.indication}; OFD version: {result.ofd_indication}; "
            f"bid opened intact: {result.bid_roundtrip}"
        )
        grant = result.grant
        click.echo(
            f"\n  grant {grant['grant_id']} (用印授权): seal {grant['seal']} to {grant['holder']}, "
            f"{', '.join(grant['purposes'])}, until {grant['valid_until']}, "
            f"{grant['used']}/{grant['max_uses']} uses"
        )
        for use in result.register:
            click.echo(
                f"  register {use['use_id']} (用印登记): {use['time']} {use['document']} "
                f"field {use['field']} page {use['page']}, grant {use['grant']}, SM3 {use['sm3'][:16]}…"
            )
        click.echo("")
        width = max(len(name) for name in result.files)
        for name, path in result.files.items():
            click.echo(f"  {name:<{width}}  {path}")
        click.echo("")
        click.echo(
            f"  try: sealkit verify {result.files['signed']} --trust {result.files['sm2_root']} "
            f"--trust {result.files['rsa_root']} --seal-maker-trust {result.files['seal_authority_root']}"
        )

    emit(result.to_dict(), as_json, human)
    if (
        result.indication != "TOTAL-PASSED"
        or result.ofd_indication != "TOTAL-PASSED"
        or not result.bid_roundtrip
    ):
        raise SystemExit(1)
