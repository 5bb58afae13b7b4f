"""``/healthz`` and ``/metrics`` (Prometheus text), open to the load balancer and the monitoring."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from sealkit import __version__
from sealkit.service.app import context

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, Any]:
    """Alive and answering."""
    return {"status": "ok", "version": __version__}


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> str:
    """Request counts, durations, requests in flight and operations, in the Prometheus text format."""
    return context(request).metrics.text()
