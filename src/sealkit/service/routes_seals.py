"""``/v1/seals``: the seals a client may use, as the registry holds them (status, validity, revocation), the
grants of their use and their use register."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from sealkit.service.app import context
from sealkit.service.auth import allowed
from sealkit.service.runtime import in_thread

router = APIRouter(prefix="/v1/seals", tags=["seals"])


def _records(ctx: Any, aliases: list[str]) -> list[dict[str, Any]]:
    from sealkit.seal import SealRegistry

    with SealRegistry(ctx.flow_config.registry_url) as registry:
        return [{"alias": a, **registry.get(ctx.settings.seals[a]).to_dict()} for a in aliases]


@router.get("")
async def list_seals(request: Request) -> list[dict[str, Any]]:
    """The client's seals: alias, ID, status, validity, revocation."""
    ctx = context(request)
    client = ctx.authorise(request, "seals")
    return await in_thread(lambda: _records(ctx, sorted(client.seals)), ctx.settings.timeout_s)


def _alias(ctx: Any, request: Request, seal: str) -> str:
    """The client's alias for ``seal`` (an alias or a registry ID), after the access checks."""
    client = ctx.authorise(request, "seals")
    by_id = {ctx.settings.seals[a]: a for a in client.seals}
    alias = by_id.get(seal, seal)
    allowed(client, "seal", alias, client.seals)
    return str(alias)


@router.get("/{seal}")
async def show_seal(request: Request, seal: str) -> dict[str, Any]:
    """One of the client's seals, by alias or registry ID."""
    ctx = context(request)
    alias = _alias(ctx, request, seal)
    records = await in_thread(lambda: _records(ctx, [alias]), ctx.settings.timeout_s)
    return records[0]


def _custody(ctx: Any, alias: str, what: str, since: str | None) -> dict[str, Any]:
    from sealkit import timefmt
    from sealkit.seal import open_registry

    es_id = ctx.settings.seals[alias]
    start = timefmt.parse_time(since, what="since") if since else None
    with open_registry(config=ctx.flow_config, read_only=True) as registry:
        registry.get(es_id)
        if what == "grants":
            items = [g.to_dict() for g in registry.grants(es_id)]
        else:
            items = [u.to_dict() for u in registry.uses(es_id, since=start)]
    return {"alias": alias, "seal": es_id, what: items}


@router.get("/{seal}/grants")
async def seal_grants(request: Request, seal: str) -> dict[str, Any]:
    """The grants of one of the client's seals (用印授权): holder, period, purposes, uses."""
    ctx = context(request)
    alias = _alias(ctx, request, seal)
    return await in_thread(lambda: _custody(ctx, alias, "grants", None), ctx.settings.timeout_s)


@router.get("/{seal}/uses")
async def seal_uses(
    request: Request,
    seal: str,
    since: str | None = Query(None, description="Only uses from this date or time (Beijing time)."),
) -> dict[str, Any]:
    """The use register of one of the client's seals (用印登记): every use and its document's digests."""
    ctx = context(request)
    alias = _alias(ctx, request, seal)
    return await in_thread(lambda: _custody(ctx, alias, "uses", since), ctx.settings.timeout_s)
