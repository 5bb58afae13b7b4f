"""``/v1/bids``: encrypt a bid to the configured recipients and keep it; open it only at or after its opening
time by the server's clock (a time without a zone is Beijing time); delete it after (or let ``[service]
bid_retention_days`` do it: :mod:`sealkit.service.retention`). Bids stream through files on disk, so a
large bid never sits in memory."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from sealkit.errors import InvalidInput, NotYetOpen
from sealkit.service.app import context, discard, safe_name
from sealkit.service.auth import Refused, allowed
from sealkit.service.runtime import BEIJING, body_to_file, in_thread

router = APIRouter(prefix="/v1/bids", tags=["bids"])
BID_ID = re.compile(r"[0-9a-f]{32}")
BINARY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The bid file, as the raw request body.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def opening_time(text: str) -> dt.datetime:
    """An ISO 8601 opening time; without a zone it is Beijing time (UTC+8)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"opens_at {text!r} is not an ISO 8601 time (e.g. 2026-12-01T09:30+08:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


def _bids(request: Request) -> Path:
    path = context(request).settings.work_dir / "bids"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@router.post("/encrypt", openapi_extra=BINARY_BODY, status_code=201)
async def encrypt(
    request: Request,
    opens_at: str = Query(..., description="Bid opening time, ISO 8601 (no zone: Beijing time)."),
    to: str = Query(..., description="Recipient aliases, comma-separated."),
    sign_key: str | None = Query(None, description="Key alias that signs the bid before encryption."),
    name: str | None = Query(None, description="The bid's file name."),
) -> dict[str, Any]:
    """Encrypt the bid in the body to the recipients and keep the envelope; answers its ID."""
    from sealkit.envelope import encrypt_file, load_certificates

    ctx = context(request)
    client = ctx.authorise(request, "bids.encrypt")
    opening = opening_time(opens_at)
    aliases = [a.strip() for a in to.split(",") if a.strip()]
    if not aliases:
        raise InvalidInput("to= names no recipient")
    for alias in aliases:
        allowed(client, "recipient", alias, client.recipients)
    if sign_key is not None:
        allowed(client, "key", sign_key, client.keys)
    bid_id = uuid.uuid4().hex
    store = _bids(request)
    envelope = store / f"{bid_id}.p7m"
    with ctx.in_flight.enter(client.name):
        scratch = ctx.scratch()
        try:
            source = await body_to_file(request, scratch / safe_name(name, "bid"), ctx.settings.max_body)
            recipients = [c for a in aliases for c in load_certificates(ctx.settings.recipients[a])]

            def work() -> Any:
                if sign_key is None:
                    return encrypt_file(source, envelope, recipients)
                spec = ctx.settings.keys[sign_key]
                signer_cert = load_certificates(spec.cert)[0] if spec.cert else None
                with ctx.keys.use(sign_key, ctx.settings.timeout_s) as handle:
                    return encrypt_file(source, envelope, recipients, signer=handle, signer_cert=signer_cert)

            info = await in_thread(work, ctx.settings.timeout_s)
            meta = {
                "id": bid_id,
                "client": client.name,
                "name": source.name,
                "opens_at": opening.isoformat(),
                "recipients": aliases,
                "envelope_sha256": await in_thread(lambda: _sha256(envelope), ctx.settings.timeout_s),
                "envelope": {k: v for k, v in info.to_dict().items() if k != "path"},
            }
            (store / f"{bid_id}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        except BaseException:
            envelope.unlink(missing_ok=True)
            raise
        finally:
            discard(scratch)
    ctx.metrics.events["bids.encrypt"] += 1
    return meta


def _meta(request: Request, bid_id: str) -> dict[str, Any]:
    path = _bids(request) / f"{bid_id}.json"
    if not BID_ID.fullmatch(bid_id) or not path.is_file():
        raise Refused(404, "NotFound", f"no bid {bid_id!r}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@router.post(
    "/{bid_id}/open",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The opened bid."}},
)
async def open_bid(
    request: Request,
    bid_id: str,
    key: str = Query(..., description="Alias of the decryption key."),
) -> FileResponse:
    """Decrypt a kept bid with the key: refused (403) before its opening time by the server's clock."""
    from sealkit.envelope import decrypt_file, load_certificates

    ctx = context(request)
    client = ctx.authorise(request, "bids.open")
    allowed(client, "key", key, client.keys)
    meta = _meta(request, bid_id)
    opening = dt.datetime.fromisoformat(meta["opens_at"])
    now = dt.datetime.now(dt.UTC)
    if now < opening:
        raise NotYetOpen(
            f"bid {bid_id} opens at {opening.isoformat(timespec='seconds')}; it is now "
            f"{now.astimezone(opening.tzinfo).isoformat(timespec='seconds')}"
        )
    anchors = [c for p in ctx.settings.config.trust_anchors for c in load_certificates(p)]
    envelope = _bids(request) / f"{bid_id}.p7m"
    with ctx.in_flight.enter(client.name):
        scratch = ctx.scratch()
        output = scratch / safe_name(meta.get("name"), "bid")
        try:

            def work() -> Any:
                with ctx.keys.use(key, ctx.settings.timeout_s) as handle:
                    return decrypt_file(envelope, output, handle, trust=anchors, not_before=opening)

            result = await in_thread(work, ctx.settings.timeout_s)
        except BaseException:
            discard(scratch)
            raise
    ctx.metrics.events["bids.open"] += 1
    headers = {"X-Sealkit-Recipient": quote(result.recipient.identifier)}
    if result.signer is not None:
        headers["X-Sealkit-Signer"] = quote(result.signer.subject)
    return FileResponse(
        output,
        media_type="application/octet-stream",
        headers=headers,
        background=BackgroundTask(discard, scratch),
    )


@router.delete("/{bid_id}")
async def delete_bid(request: Request, bid_id: str) -> dict[str, Any]:
    """Delete a kept bid (its envelope and record) once its opening time has passed; refused (403) before:
    a bid cannot disappear before it is opened. Keep the opened bid in the platform's own archive first."""
    from sealkit.service.retention import delete_bid as remove

    ctx = context(request)
    client = ctx.authorise(request, "bids.open")
    meta = _meta(request, bid_id)
    opening = dt.datetime.fromisoformat(meta["opens_at"])
    if dt.datetime.now(dt.UTC) < opening:
        raise NotYetOpen(
            f"bid {bid_id} opens at {opening.isoformat(timespec='seconds')}: it is kept until then"
        )
    remove(_bids(request), bid_id)
    ctx.metrics.events["bids.delete"] += 1
    return {"id": bid_id, "deleted": True, "by": client.name}


@router.get("/{bid_id}")
async def show_bid(request: Request, bid_id: str) -> dict[str, Any]:
    """A kept bid's record: opening time, recipients, envelope structure (nothing is decrypted)."""
    context(request).authorise(request, "bids.open")
    return _meta(request, bid_id)
