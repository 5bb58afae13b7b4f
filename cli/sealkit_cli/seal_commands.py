"""``sealkit seal``: electronic seals — issue, list, show, extend, disable/enable, revoke, merge, revocation
lists, the audit check, and rendering seal images."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sealkit_cli.common import emit, get_config, json_option, seal_maker_trust_option

from sealkit import timefmt
from sealkit.errors import AuditChainBroken, InvalidInput, RegistryCertificateMissing
from sealkit.seal import (
    IMAGE_KINDS,
    REASONS,
    STATUSES,
    AdminKey,
    SealRecord,
    SealRegistry,
    load_form,
    load_revocation_list,
    render_seal,
    write_revocation_list,
)
from sealkit.seal import open_registry as _open_registry
from sealkit.ukey import load_certificates, open_key

F = TypeVar("F", bound=Callable[..., Any])
KINDS = ("official", "contract", "legal-rep", "finance")
DATE = click.DateTime(["%Y-%m-%d"])


def registry_options(func: F) -> F:
    func = click.option("--actor", help="Who is acting, for the audit trail (default: the OS user).")(func)
    func = click.option("--registry", "registry_url", help="Registry URL (sqlite:///… or postgresql://…).")(
        func
    )
    return json_option(func)


@contextmanager
def open_registry(
    registry_url: str | None,
    actor: str | None = None,
    read_only: bool = False,
    admin_key: str | None = None,
    admin_cert: str | None = None,
) -> Iterator[SealRegistry]:
    """The registry of the flag or the configuration, with its head-signing key and certificate, and the
    administrator's key (``--admin-key``) that signs the requests of administrators' changes."""
    config = get_config()
    with contextlib.ExitStack() as stack:
        admin = None
        if admin_key:
            handle = stack.enter_context(open_key(admin_key, config=config))
            cert = _one_cert(admin_cert) if admin_cert else handle.certificate()
            if cert is None:
                raise InvalidInput("--admin-key has no certificate with it: give --admin-cert FILE")
            admin = AdminKey(handle, cert)
        registry = stack.enter_context(
            _open_registry(registry_url, config=config, actor=actor, read_only=read_only, admin=admin)
        )
        yield registry


def admin_options(func: F) -> F:
    """``--admin-key``/``--admin-cert``: a seal administrator's key ([registry] admin_certs)."""
    func = click.option(
        "--admin-cert", type=click.Path(dir_okay=False), help="The administrator key's certificate file."
    )(func)
    return click.option(
        "--admin-key",
        help="A seal administrator's key (file:…, pkcs11:…, keystore:…) to sign this change's request.",
    )(func)


def seal_maker_anchors(paths: tuple[str, ...]) -> list[Any]:
    """The seal-maker anchors of the flags and [trust] seal_makers; at least one."""
    sources = [*paths, *get_config().seal_maker_anchors]
    if not sources:
        raise InvalidInput("no seal-maker trust anchors: give --seal-maker-trust or set [trust] seal_makers")
    return [c for p in sources for c in load_certificates(p)]


def maker_options(func: F) -> F:
    func = seal_maker_trust_option(func)
    func = click.option(
        "--maker-cert", required=True, type=click.Path(dir_okay=False), help="Maker certificate."
    )(func)
    return click.option("--maker", "maker_ref", required=True, help="Seal maker's key (file:…, pkcs11:…).")(
        func
    )


def _one_cert(path: str) -> Any:
    return load_certificates(path)[0]


def _describe(record: SealRecord) -> str:
    line = (
        f"{record.es_id}  {record.status:<8}  {record.kind:<9}  {record.name}  "
        f"valid {timefmt.format_date(record.valid_start).split()[0]} .. "
        f"{timefmt.format_date(record.valid_end)}"
        f"  v{record.version}"
    )
    if record.revocation:
        r = record.revocation
        successor = f", successor {r.successor}" if r.successor else ""
        line += f"  revoked {timefmt.format_time(r.revoked_at)} ({r.reason}{successor})"
    return line


@click.group(name="seal")
def seal() -> None:
    """Electronic seals (GB/T 38540): issue, extend, revoke, merge, audit."""


@seal.command()
@click.option(
    "--form", "form_path", required=True, type=click.Path(dir_okay=False), help="Unit form (附件3)."
)
@click.option("--kind", required=True, type=click.Choice(KINDS))
@click.option("--holder-cert", "holder_certs", multiple=True, required=True, type=click.Path(dir_okay=False))
@maker_options
@click.option(
    "--valid-until", required=True, type=DATE, help="Last day of validity (YYYY-MM-DD, Beijing time)."
)
@click.option("--valid-from", type=DATE, help="First day of validity (default: today).")
@click.option(
    "--image", type=click.Path(dir_okay=False), help="Imprint image (scan or PNG) instead of rendering."
)
@click.option(
    "--allow-foreign-holder",
    "allow_foreign_holder",
    metavar="REASON",
    help="Accept holder certificates that do not belong to the unit, for this recorded reason.",
)
@admin_options
@registry_options
def issue(
    form_path: str,
    kind: str,
    holder_certs: tuple[str, ...],
    maker_ref: str,
    maker_cert: str,
    seal_maker_trust: tuple[str, ...],
    valid_until: dt.datetime,
    valid_from: dt.datetime | None,
    image: str | None,
    allow_foreign_holder: str | None,
    admin_key: str | None,
    admin_cert: str | None,
    registry_url: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Make, sign and register a seal; prints its ID. The maker must chain to a seal-maker anchor and every
    holder must belong to the unit (its USCC in the subject, or O = the unit's name)."""
    form = load_form(form_path)
    holders = [_one_cert(p) for p in holder_certs]
    image_bytes = Path(image).read_bytes() if image else None
    config = get_config()
    font = config.section("seal").get("font")
    anchors = seal_maker_anchors(seal_maker_trust)
    with (
        open_key(maker_ref, config=config) as maker,
        open_registry(registry_url, actor, admin_key=admin_key, admin_cert=admin_cert) as registry,
    ):
        record = registry.issue(
            form,
            kind,
            holders,
            maker,
            _one_cert(maker_cert),
            valid_until.date(),
            valid_from=valid_from.date() if valid_from else None,
            image=image_bytes,
            font=font,
            maker_trust=anchors,
            allow_foreign_holder=allow_foreign_holder,
        )
    emit(record.to_dict(), as_json, record.es_id)


def _parse_period(value: str | None, option: str = "--expiring") -> dt.timedelta | None:
    if value is None:
        return None
    match = re.fullmatch(r"(\d+)([dw]?)", value.strip())
    if not match:
        raise InvalidInput(f"{option} {value!r}: use a number of days such as 30d or 4w")
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    return dt.timedelta(days=days)


@seal.command(name="list")
@click.option("--unit", help="Only this unit's seals (USCC).")
@click.option(
    "--expiring",
    help="Only enabled seals whose validity ends within this period (30d, 4w); see also `seal expiring`.",
)
@click.option("--status", type=click.Choice(STATUSES))
@registry_options
def list_(
    unit: str | None,
    expiring: str | None,
    status: str | None,
    registry_url: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """List seals."""
    period = _parse_period(expiring)
    with open_registry(registry_url, actor) as registry:
        records = registry.list_seals(unit=unit, status=status, expiring_within=period)
    emit(
        {"seals": [r.to_dict() for r in records]},
        as_json,
        "\n".join(_describe(r) for r in records) or "no seals",
    )


@seal.command()
@click.argument("seal_id")
@registry_options
def show(seal_id: str, registry_url: str | None, actor: str | None, as_json: bool) -> None:
    """Show one seal and its versions."""
    with open_registry(registry_url, actor) as registry:
        record = registry.get(seal_id)
        versions = registry.versions(seal_id)
    data = record.to_dict()
    data["versions"] = [
        {"version": v, "created_at": timefmt.format_time(t), "size": len(d)} for v, t, d in versions
    ]
    emit(data, as_json, _describe(record) + f"\nunit {record.unit_uscc}, {len(versions)} SESeal version(s)")


@seal.command()
@click.argument("seal_id")
@click.option("--until", required=True, type=DATE, help="New last day of validity (YYYY-MM-DD).")
@maker_options
@admin_options
@registry_options
def extend(
    seal_id: str,
    until: dt.datetime,
    maker_ref: str,
    maker_cert: str,
    seal_maker_trust: tuple[str, ...],
    admin_key: str | None,
    admin_cert: str | None,
    registry_url: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Extend a seal's validity with a new SESeal version signed by the maker."""
    anchors = seal_maker_anchors(seal_maker_trust)
    with (
        open_key(maker_ref, config=get_config()) as maker,
        open_registry(registry_url, actor, admin_key=admin_key, admin_cert=admin_cert) as registry,
    ):
        record = registry.extend(seal_id, until.date(), maker, _one_cert(maker_cert), maker_trust=anchors)
    emit(record.to_dict(), as_json, _describe(record))


def _set_enabled(
    seal_id: str, enabled: bool, registry_url: str | None, actor: str | None, as_json: bool, **admin: Any
) -> None:
    with open_registry(registry_url, actor, **admin) as registry:
        record = registry.set_enabled(seal_id, enabled)
    emit(record.to_dict(), as_json, _describe(record))


@seal.command()
@click.argument("seal_id")
@admin_options
@registry_options
def disable(seal_id: str, registry_url: str | None, actor: str | None, as_json: bool, **admin: Any) -> None:
    """Disable a seal (it can be enabled again)."""
    _set_enabled(seal_id, False, registry_url, actor, as_json, **admin)


@seal.command()
@click.argument("seal_id")
@admin_options
@registry_options
def enable(seal_id: str, registry_url: str | None, actor: str | None, as_json: bool, **admin: Any) -> None:
    """Enable a disabled seal."""
    _set_enabled(seal_id, True, registry_url, actor, as_json, **admin)


@seal.command()
@click.argument("seal_id")
@click.option("--reason", required=True, type=click.Choice(REASONS))
@click.option("--successor", help="USCC of the successor unit.")
@click.option("--note", help="Free text for the record.")
@admin_options
@registry_options
def revoke(
    seal_id: str,
    reason: str,
    successor: str | None,
    note: str | None,
    registry_url: str | None,
    actor: str | None,
    as_json: bool,
    **admin: Any,
) -> None:
    """Revoke a seal for good."""
    with open_registry(registry_url, actor, **admin) as registry:
        record = registry.revoke(seal_id, reason, successor=successor, note=note)
    emit(record.to_dict(), as_json, _describe(record))


@seal.command()
@click.option("--units", required=True, help="Comma-separated USCCs of the merged units.")
@click.option("--into", "into", required=True, help="USCC of the unit they merge into.")
@click.option("--note", help="Free text for the record.")
@admin_options
@registry_options
def merge(
    units: str,
    into: str,
    note: str | None,
    registry_url: str | None,
    actor: str | None,
    as_json: bool,
    **admin: Any,
) -> None:
    """Revoke every seal of the merged units (reason merged, successor INTO) in one transaction."""
    codes = [u.strip() for u in units.split(",") if u.strip()]
    if not codes:
        raise InvalidInput("--units names no unit")
    with open_registry(registry_url, actor, **admin) as registry:
        revoked = registry.merge(codes, into, note=note)
    emit(
        {"revoked": revoked, "successor": into},
        as_json,
        f"revoked {len(revoked)} seal(s): {', '.join(revoked)}",
    )


@seal.command(name="export-revocations")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Revocation list (DER).")
@maker_options
@registry_options
def export_revocations(
    output: str,
    maker_ref: str,
    maker_cert: str,
    seal_maker_trust: tuple[str, ...],
    registry_url: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Write the registry's own revocations as a list signed by the seal authority (checked first: the
    registry against its audit chain, the authority against the seal-maker anchors)."""
    anchors = seal_maker_anchors(seal_maker_trust)
    with open_registry(registry_url, actor, read_only=True) as registry:
        report = registry.audit_verify()
        if report.unchecked is not None:
            raise RegistryCertificateMissing(report.unchecked)
        if not report.ok:
            raise AuditChainBroken(f"audit check failed: {report.problems[0]}")
        entries = registry.revocations(source="local")
    with open_key(maker_ref, config=get_config()) as maker:
        write_revocation_list(output, entries, maker, _one_cert(maker_cert), trust=anchors)
    emit(
        {"output": output, "entries": len(entries)},
        as_json,
        f"wrote {len(entries)} revocation(s) to {output}",
    )


@seal.command(name="import-revocations")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--seal-maker-trust",
    "--trust",
    "trust_paths",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Seal-maker trust anchor the list's authority must chain to; repeatable (with [trust] seal_makers).",
)
@registry_options
def import_revocations(
    file: str, trust_paths: tuple[str, ...], registry_url: str | None, actor: str | None, as_json: bool
) -> None:
    """Verify a revocation list against the seal-maker anchors, then record its revocations."""
    trust = seal_maker_anchors(trust_paths)
    revlist = load_revocation_list(Path(file).read_bytes(), trust)
    with open_registry(registry_url, actor) as registry:
        added = registry.import_revocations(revlist.entries, revlist.source)
    issued_at = timefmt.format_time(revlist.issued_at)
    data = {"entries": len(revlist.entries), "added": added, "issued_at": issued_at}
    emit(data, as_json, f"verified {len(revlist.entries)} revocation(s), {added} new")


@seal.command(name="audit")
@click.option("--verify", "verify", is_flag=True, hidden=True, help="Accepted for compatibility (always on).")
@registry_options
def audit_(verify: bool, registry_url: str | None, actor: str | None, as_json: bool) -> None:
    """Check the registry against its audit chain and the chain's signed head; prints the head hash to keep
    elsewhere."""
    with open_registry(registry_url, actor, read_only=True) as registry:
        report = registry.audit_verify()
    if not report.ok:
        if as_json:
            emit(report.to_dict(), True, "")
        if report.unchecked is not None:
            raise RegistryCertificateMissing(report.unchecked)
        raise AuditChainBroken(f"audit check failed: {'; '.join(report.problems)}")
    signed = {
        True: "head signature verified",
        False: "head NOT signed (configure [registry] signing_key and signing_cert)",
    }[bool(report.signed)]
    emit(
        report.to_dict(),
        as_json,
        f"audit chain OK: {report.entries} entries, head {report.head}; {signed}",
    )


def _size(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value.lower().replace("×", "x").split("x")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise click.BadParameter(f"{value!r}: give the width in mm (40) or width x height (45x30)") from None
    if len(numbers) not in (1, 2):
        raise click.BadParameter(f"{value!r}: give the width in mm (40) or width x height (45x30)")
    return numbers[0], numbers[-1]


@seal.command()
@click.option("--kind", required=True, type=click.Choice(IMAGE_KINDS))
@click.option("--name", required=True, help="Unit name (a person's name for legal-rep).")
@click.option(
    "--serial", help="Seal code (13 digits): lower arc of round seals, a line on ovals and squares."
)
@click.option("--shape", type=click.Choice(["square", "round"]), help="Finance seal shape (default square).")
@click.option("--size", "size", help="Size in mm: 40, or 45x30 for ovals (default: the kind's usual size).")
@click.option("--ink", help="Ink colour: red (default, #E60012), blue, purple, black or #RRGGBB.")
@click.option("--ink-texture", is_flag=True, help="Uneven ink density and worn edges (deterministic).")
@click.option("--taxpayer", help="Taxpayer number (USCC) across an invoice seal.")
@click.option("--purpose", help="The purpose line instead of the kind's (e.g. 业务专用章 on an oval).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@json_option
def image(
    kind: str,
    name: str,
    serial: str | None,
    shape: str | None,
    size: str | None,
    ink: str | None,
    ink_texture: bool,
    taxpayer: str | None,
    purpose: str | None,
    output: str,
    as_json: bool,
) -> None:
    """Render a seal imprint (PNG, 600 dpi, transparent background, true size in mm)."""
    font = get_config().section("seal").get("font")
    rendered = render_seal(
        kind,
        name,
        serial=serial,
        shape=shape,
        font=font,
        size_mm=_size(size),
        ink=ink,
        ink_texture=ink_texture,
        taxpayer=taxpayer,
        purpose=purpose,
    )
    rendered.save(output)
    data = {"output": output, "width_mm": rendered.width_mm, "height_mm": rendered.height_mm}
    emit(data, as_json, f"wrote {output} ({rendered.width_mm:g} x {rendered.height_mm:g} mm)")


# The custody commands (grants, the use register, expiry notice) live in their own module.
from sealkit_cli.custody_commands import CUSTODY_COMMANDS  # noqa: E402

for _command in CUSTODY_COMMANDS:
    seal.add_command(_command)
