"""``/v1/seals``: the seals a client may use, as the registry holds them (status, validity, revocation)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

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


@router.get("/{seal}")
async def show_seal(request: Request, seal: str) -> dict[str, Any]:
    """One of the client's seals, by alias or registry ID."""
    ctx = context(request)
    client = ctx.authorise(request, "seals")
    by_id = {ctx.settings.seals[a]: a for a in client.seals}
    alias = by_id.get(seal, seal)
    allowed(client, "seal", alias, client.seals)
    records = await in_thread(lambda: _records(ctx, [alias]), ctx.settings.timeout_s)
    return records[0]
