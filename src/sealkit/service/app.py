""":func:`create_app`: the FastAPI application, its shared state, JSON errors, the access log, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from sealkit import __version__
from sealkit.config import Config
from sealkit.errors import NotYetOpen, SealkitError
from sealkit.exit_codes import exit_code_for
from sealkit.service import runtime
from sealkit.service.auth import Refused, authenticate, require
from sealkit.service.settings import ClientSpec, ServiceSettings

#: The CLI's exit codes (sealkit.errors) by name, as the JSON errors carry them.
EXIT_NAMES = {
    1: "failure",
    2: "bad-input",
    3: "verification-failed",
    4: "verification-indeterminate",
    5: "token",
    6: "certificate",
    7: "seal-refused",
    8: "envelope",
    9: "pdf",
    10: "registry",
    11: "configuration",
    12: "network-service",
    13: "grant-refused",
    15: "not-authorised",
}
#: HTTP status for a library error, by exit code: the client's fault is 4xx, the service's 5xx.
HTTP_STATUS = {
    **{1: 500, 2: 400, 3: 422, 4: 422, 5: 503, 6: 422},
    **{7: 409, 8: 422, 9: 422, 10: 503, 11: 500, 12: 502, 13: 403, 15: 403},
}


@dataclass
class ServiceContext:
    """What every request shares: settings, the open keys, limits, metrics and the access log."""

    settings: ServiceSettings
    keys: runtime.KeyPool
    metrics: runtime.Metrics
    in_flight: runtime.InFlight
    access: Any
    flow_config: Config  # the configuration without [sign] defaults: a client names its key and seal
    certificates: Any = None  # tls.CertificateClients when clients may come with TLS certificates

    def authorise(self, request: Request, operation: str) -> ClientSpec:
        certificate = getattr(request.state, "certificate", None)
        client = authenticate(dict(request.headers), self.settings.clients, certificate)
        request.state.client = client.name
        require(client, operation)
        return client

    def scratch(self) -> Path:
        """A private directory for one request's files; :func:`discard` removes it."""
        path = self.settings.work_dir / "tmp" / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path


async def _sweep_forever(ctx: ServiceContext) -> None:
    """Retention (:mod:`sealkit.service.retention`): at start, then every hour; deletions are logged."""
    from sealkit.service.retention import SWEEP_EVERY_S, sweep

    while True:
        try:
            deleted = await asyncio.to_thread(sweep, ctx.settings)
        except OSError as exc:
            deleted = []
            runtime.log_access(ctx.access, event="retention", error=str(exc))
        if deleted:
            runtime.log_access(ctx.access, event="retention", deleted_bids=deleted)
        await asyncio.sleep(SWEEP_EVERY_S)


def discard(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def context(request: Request) -> ServiceContext:
    ctx = request.app.state.sealkit
    assert isinstance(ctx, ServiceContext)
    return ctx


def error_body(kind: str, message: str, exit_code: int, **extra: Any) -> dict[str, Any]:
    error = {"type": kind, "message": message, "exit_code": exit_code, "code": EXIT_NAMES.get(exit_code)}
    return {"error": error, **extra}


def create_app(config: Config) -> FastAPI:
    """The service for ``config`` (its ``[service]`` section: see :mod:`sealkit.service.settings`)."""
    from sealkit.service import routes_bids, routes_contracts, routes_ops, routes_seals

    settings = ServiceSettings.from_config(config)
    (settings.work_dir / "tmp").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in config.env.items() if k not in ("SEALKIT_KEY", "SEALKIT_SEAL")}
    raw = {k: v for k, v in config.raw.items() if k != "sign"}
    ctx = ServiceContext(
        settings=settings,
        keys=runtime.KeyPool(settings),
        metrics=runtime.Metrics(),
        in_flight=runtime.InFlight(settings.max_inflight_per_client),
        access=runtime.access_logger(settings.access_log),
        flow_config=Config(path=config.path, raw=raw, env=env),
    )
    if settings.client_ca is not None:
        from sealkit.service.tls import CertificateClients

        ctx.certificates = CertificateClients(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_sweep_forever(ctx))
        yield
        sweeper.cancel()
        ctx.keys.close()  # after uvicorn let the requests in flight finish

    app = FastAPI(
        title="sealkit",
        version=__version__,
        description="Sign, verify and file contracts; seals; bid envelopes opened at the opening time.",
        lifespan=lifespan,
    )
    app.state.sealkit = ctx
    for module in (routes_contracts, routes_seals, routes_bids, routes_ops):
        app.include_router(module.router)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse(error_body(exc.kind, exc.message, exc.exit_code), status_code=exc.status)

    @app.exception_handler(SealkitError)
    async def library_error(request: Request, exc: SealkitError) -> JSONResponse:
        code = exit_code_for(exc)
        status = 403 if isinstance(exc, NotYetOpen) else HTTP_STATUS.get(code, 500)
        return JSONResponse(error_body(type(exc).__name__, exc.message, code), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return JSONResponse(error_body("InvalidInput", problems, 2), status_code=400)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        message = f"internal error ({type(exc).__name__}); the access log has the request id"
        return JSONResponse(error_body("InternalError", message, 70), status_code=500)

    @app.middleware("http")
    async def account(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("x-request-id", uuid.uuid4().hex)[:64]
        started = runtime.monotonic()
        ctx.metrics.in_flight += 1
        status = 500
        try:
            if ctx.certificates is not None:
                from sealkit.service.tls import client_certificate, fingerprint

                der = client_certificate(request.scope)
                if der is not None:
                    request.state.certificate = (fingerprint(der), await ctx.certificates.identify(der))
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-Id"] = request_id
            return response
        finally:
            ctx.metrics.in_flight -= 1
            elapsed = runtime.monotonic() - started
            route = getattr(request.scope.get("route"), "path", "unmatched")
            ctx.metrics.observe(route, request.method, status, elapsed)
            bytes_in = getattr(request.state, "bytes_in", 0)
            ctx.metrics.bytes_in += bytes_in
            runtime.log_access(
                ctx.access,
                id=request_id,
                client=getattr(request.state, "client", None),
                peer=request.client.host if request.client else None,
                method=request.method,
                path=request.url.path,
                status=status,
                ms=round(elapsed * 1000, 1),
                bytes_in=bytes_in,
            )

    return app


def safe_name(name: str | None, default: str) -> str:
    """A safe file name for a client-given ``name`` (its last part, no control characters)."""
    base = Path(name or default).name.strip()
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in "/\\")
    return cleaned[:120] or default
