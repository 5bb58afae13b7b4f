"""What the service shares between requests: open keys (one user at a time), request bodies on disk,
timeouts, per-client concurrency, metrics and the access log."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from sealkit.errors import TokenError
from sealkit.service.auth import Refused
from sealkit.service.settings import ServiceSettings

if TYPE_CHECKING:  # pragma: no cover
    from sealkit.ukey import PrivateKeyHandle

T = TypeVar("T")
BEIJING = dt.timezone(dt.timedelta(hours=8), "UTC+08:00")


class KeyPool:
    """Keys opened once and kept open; each key is used by one request at a time (a token signs serially)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._handles: dict[str, PrivateKeyHandle] = {}

    @contextlib.contextmanager
    def use(self, alias: str, wait_s: float) -> Iterator[PrivateKeyHandle]:
        """The open key ``alias``, held for the block; 503 if it stays busy for ``wait_s``."""
        lock = self._locks[alias]
        if not lock.acquire(timeout=wait_s):
            raise Refused(503, "Busy", f"key {alias!r} is busy; try again later", exit_code=5)
        try:
            handle = self._handles.get(alias)
            if handle is None:
                from sealkit.ukey import open_key

                spec = self._settings.keys[alias]
                handle = open_key(spec.keyref, config=self._settings.config)
                self._handles[alias] = handle
            try:
                yield handle
            except TokenError:
                self._handles.pop(alias, None)  # reopen next time: the token may have been replugged
                with contextlib.suppress(Exception):
                    handle.close()
                raise
        finally:
            lock.release()

    def close(self) -> None:
        for alias in list(self._handles):
            with self._locks[alias], contextlib.suppress(Exception):
                self._handles.pop(alias).close()


class Metrics:
    """Counters in the Prometheus text format (requests, durations, in flight, signatures, bytes in)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.in_flight = 0
        self.events: dict[str, int] = defaultdict(int)
        self.bytes_in = 0

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests[(route, method, status)] += 1
        self.seconds[route] += seconds
        self.counts[route] += 1

    def text(self) -> str:
        lines = [
            "# HELP sealkit_requests_total HTTP requests by route, method and status.",
            "# TYPE sealkit_requests_total counter",
        ]
        for (route, method, status), n in sorted(self.requests.items()):
            lines.append(f'sealkit_requests_total{{route="{route}",method="{method}",status="{status}"}} {n}')
        lines += [
            "# HELP sealkit_request_seconds Time spent answering requests, by route.",
            "# TYPE sealkit_request_seconds summary",
        ]
        for route in sorted(self.counts):
            lines.append(f'sealkit_request_seconds_sum{{route="{route}"}} {self.seconds[route]:.6f}')
            lines.append(f'sealkit_request_seconds_count{{route="{route}"}} {self.counts[route]}')
        lines += [
            "# HELP sealkit_requests_in_flight Requests being answered now.",
            "# TYPE sealkit_requests_in_flight gauge",
            f"sealkit_requests_in_flight {self.in_flight}",
            "# HELP sealkit_operations_total Completed operations (signatures, verifications, bids).",
            "# TYPE sealkit_operations_total counter",
        ]
        for name, n in sorted(self.events.items()):
            lines.append(f'sealkit_operations_total{{operation="{name}"}} {n}')
        lines += [
            "# HELP sealkit_request_body_bytes_total Request body bytes received.",
            "# TYPE sealkit_request_body_bytes_total counter",
            f"sealkit_request_body_bytes_total {self.bytes_in}",
        ]
        return "\n".join(lines) + "\n"


class InFlight:
    """At most ``limit`` requests per client at once (429 beyond); the event loop is the only writer."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: dict[str, int] = defaultdict(int)

    @contextlib.contextmanager
    def enter(self, client: str) -> Iterator[None]:
        if self.counts[client] >= self.limit:
            raise Refused(429, "TooManyRequests", f"client {client!r} has {self.limit} requests running")
        self.counts[client] += 1
        try:
            yield
        finally:
            self.counts[client] -= 1


def access_logger(path: Path) -> logging.Logger:
    """A logger writing one JSON line per request to ``path`` (never propagated to the root logger)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"sealkit.access.{path}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    return logger


def log_access(logger: logging.Logger, **fields: Any) -> None:
    fields = {"time": dt.datetime.now(BEIJING).isoformat(timespec="milliseconds"), **fields}
    logger.info(json.dumps(fields, ensure_ascii=False, default=str))


async def body_to_file(request: Request, path: Path, limit: int) -> Path:
    """Stream the request body into ``path`` (never whole in memory); 413 over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, "TooLarge", f"the request body is over the limit of {limit} bytes")
    size = 0
    try:
        with path.open("xb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Refused(413, "TooLarge", f"the request body is over the limit of {limit} bytes")
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    request.state.bytes_in = size
    if size == 0:
        path.unlink(missing_ok=True)
        raise Refused(400, "InvalidInput", "the request body is empty: send the file as the body")
    return path


async def in_thread(function: Callable[[], T], timeout_s: float) -> T:
    """Run blocking library work in a worker thread; 504 when it takes longer than ``timeout_s``."""
    try:
        return await asyncio.wait_for(run_in_threadpool(function), timeout_s)
    except TimeoutError:
        raise Refused(504, "Timeout", f"the operation took longer than {timeout_s:g} s") from None


def monotonic() -> float:
    return time.monotonic()
