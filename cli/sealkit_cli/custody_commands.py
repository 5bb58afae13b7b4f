"""``sealkit seal`` custody commands: grants of a seal's use (用印授权), the use register (用印登记) and the
expiry notice — thin wrappers over :mod:`sealkit.seal.grants`, :mod:`sealkit.seal.uses` and
:meth:`sealkit.seal.SealRegistry.list_seals`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path
from typing import Any

import click
from sealkit_cli.common import emit, json_option
from sealkit_cli.seal_commands import (
    _describe,
    _one_cert,
    _parse_period,
    admin_options,
    get_config,
    open_registry,
    registry_options,
)

from sealkit import timefmt
from sealkit.errors import InvalidInput
from sealkit.exit_codes import SEALS_EXPIRING
from sealkit.seal import GRANT_PURPOSES as PURPOSES
from sealkit.seal import USE_CSV_FIELDS as CSV_FIELDS
from sealkit.seal import Grant, GrantRequest


def _holder(value: str) -> Any:
    """``--to``: a certificate file, or a key reference whose certificate is taken (a token or key store)."""
    if Path(value).is_file():
        return _one_cert(value)
    if ":" not in value:
        raise InvalidInput(
            f"--to {value!r}: give a certificate file or a key reference (pkcs11:…, keystore:…)"
        )
    from sealkit.ukey import open_key

    with open_key(value, config=get_config()) as key:
        cert = key.certificate()
    if cert is None:
        raise InvalidInput(
            f"the key {value} has no certificate: give the holder's certificate file with --to"
        )
    return cert


def _time(value: str | None, what: str) -> dt.date | dt.datetime | None:
    """A date (its whole day) or a time; without a zone in Beijing time (the display zone)."""
    if value is None:
        return None
    text = value.strip()
    if len(text) == 10:
        return timefmt.parse_date(text, what=what)
    return timefmt.parse_time(text, what=what)


def _grant_line(grant: Grant) -> str:
    limit = f", {grant.used}/{grant.max_uses} uses" if grant.max_uses else f", {grant.used} uses"
    purposes = ",".join(grant.purposes) or "any purpose"
    return (
        f"{grant.grant_id}  {grant.status:<9}  seal {grant.es_id}  to {grant.holder_subject}  "
        f"{timefmt.format_time(grant.valid_from)} .. {timefmt.format_time(grant.valid_until)}  "
        f"{purposes}{limit}  (by {grant.granted_by})"
    )


@click.command()
@click.argument("seal_id")
@click.option("--to", "holder", required=True, help="The holder: certificate file, or key reference.")
@click.option("--until", required=True, help="Last day (YYYY-MM-DD) or time of the grant; Beijing time.")
@click.option("--from", "valid_from", help="First day or time (default: now).")
@click.option("--purpose", "purposes", multiple=True, type=click.Choice(PURPOSES), help="Repeatable.")
@click.option("--max-uses", type=click.IntRange(min=1), help="At most this many uses.")
@admin_options
@registry_options
def grant(
    seal_id: str,
    holder: str,
    until: str,
    valid_from: str | None,
    purposes: tuple[str, ...],
    max_uses: int | None,
    registry_url: str | None,
    actor: str | None,
    as_json: bool,
    **admin: Any,
) -> None:
    """Grant the use of seal SEAL_ID to one of its holders (用印授权), until a date, for purposes (default:
    any) and at most --max-uses times; prints the grant's ID."""
    end = _time(until, "--until")
    assert end is not None
    request = GrantRequest(_holder(holder), end, _time(valid_from, "--from"), purposes, max_uses)
    with open_registry(registry_url, actor, **admin) as registry:
        made = registry.grant(seal_id, request)
    emit(made.to_dict(), as_json, made.grant_id)


@click.command()
@click.argument("seal_id")
@registry_options
def grants(seal_id: str, registry_url: str | None, actor: str | None, as_json: bool) -> None:
    """List the grants of seal SEAL_ID."""
    with open_registry(registry_url, actor, read_only=True) as registry:
        registry.get(seal_id)
        found = registry.grants(seal_id)
    emit(
        {"seal": seal_id, "grants": [g.to_dict() for g in found]},
        as_json,
        "\n".join(_grant_line(g) for g in found) or f"no grants of seal {seal_id}",
    )


def _grant_change(action: str, help_text: str) -> click.Command:
    @click.command(name=action, help=help_text)
    @click.argument("grant_id")
    @click.option("--note", help="Free text for the record.")
    @admin_options
    @registry_options
    def command(
        grant_id: str,
        note: str | None,
        registry_url: str | None,
        actor: str | None,
        as_json: bool,
        **admin: Any,
    ) -> None:
        with open_registry(registry_url, actor, **admin) as registry:
            change = {
                "suspend-grant": registry.suspend_grant,
                "resume-grant": registry.resume_grant,
                "withdraw": registry.withdraw_grant,
            }[action]
            changed = change(grant_id, note)
        emit(changed.to_dict(), as_json, _grant_line(changed))

    return command


@click.command()
@click.argument("seal_id")
@click.option("--since", help="Only uses from this date or time (Beijing time unless a zone is given).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV for spreadsheets (UTF-8 with BOM).")
@registry_options
def uses(
    seal_id: str, since: str | None, as_csv: bool, registry_url: str | None, actor: str | None, as_json: bool
) -> None:
    """The use register (用印登记) of seal SEAL_ID: every use, its document's SM3 and SHA-256, where it went,
    the signer, the grant and the purpose."""
    if as_csv and as_json:
        raise InvalidInput("give --json or --csv, not both")
    start = timefmt.parse_time(since, what="--since") if since else None
    with open_registry(registry_url, actor, read_only=True) as registry:
        registry.get(seal_id)
        entries = registry.uses(seal_id, since=start)
    if as_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_FIELDS)
        writer.writerows(u.csv_row() for u in entries)
        sys.stdout.write("\ufeff" + buffer.getvalue())
        return

    def line(use: Any) -> str:
        data = use.to_dict()
        where = f"{data['document']} field {data['field']} page {data['page']}" if data["document"] else ""
        return (
            f"{data['use_id']}  {data['status']:<8}  {data['time']}  {data['purpose']:<8}  "
            f"grant {data['grant'] or '-'}  {data['signer']}  {where}  sha256 {data['sha256'] or '-'}"
        )

    emit(
        {"seal": seal_id, "uses": [u.to_dict() for u in entries]},
        as_json,
        "\n".join(line(u) for u in entries) or f"no uses of seal {seal_id}",
    )


@click.command()
@click.option("--within", default="30d", show_default=True, help="The window: days (30d) or weeks (4w).")
@click.option("--unit", help="Only this unit's seals (USCC).")
@click.option("--registry", "registry_url", help="Registry URL (sqlite:///… or postgresql://…).")
@json_option
def expiring(within: str, unit: str | None, registry_url: str | None, as_json: bool) -> None:
    """Active seals that expire within the window (revoked and disabled ones excluded): exit code 14 when
    there are any, 0 when none, so that a cron job or a monitoring check can alert."""
    period = _parse_period(within, "--within")
    with open_registry(registry_url, read_only=True) as registry:
        due = registry.list_seals(unit=unit, expiring_within=period)
    data = {"within_days": period.days if period else None, "seals": [r.to_dict() for r in due]}
    emit(data, as_json, "\n".join(_describe(r) for r in due) or f"no active seal expires within {within}")
    if due:
        sys.exit(SEALS_EXPIRING)


CUSTODY_COMMANDS = [
    grant,
    grants,
    _grant_change("suspend-grant", "Suspend a grant: uses are refused until it is resumed."),
    _grant_change("resume-grant", "Resume a suspended grant."),
    _grant_change("withdraw", "Withdraw a grant for good."),
    uses,
    expiring,
]
