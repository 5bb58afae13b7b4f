"""What the service keeps, and for how long: kept bids until ``bid_retention_days`` after their opening time
(or until a client deletes them), and no request's scratch files beyond the request.

Kept bids are ciphertext (``work_dir/bids/ID.p7m`` and its record ``ID.json``); an opened bid's plaintext
exists only in the request's scratch directory while it is sent, and is removed after. A scratch directory
left by a killed process (which may hold a plaintext) is removed by the next sweep once it is older than
any request can be. The service sweeps when it starts and then every hour.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path

from sealkit.service.settings import ServiceSettings

SWEEP_EVERY_S = 3600.0


def delete_bid(store: Path, bid_id: str) -> None:
    """Remove a kept bid's envelope and record (the record last: a half-deleted bid is still listed)."""
    (store / f"{bid_id}.p7m").unlink(missing_ok=True)
    (store / f"{bid_id}.json").unlink(missing_ok=True)


def expired_bids(store: Path, retention_days: float, now: dt.datetime) -> list[str]:
    """IDs of the bids in ``store`` whose opening time is more than ``retention_days`` before ``now``."""
    limit = now - dt.timedelta(days=retention_days)
    found = []
    for record in sorted(store.glob("*.json")):
        try:
            opening = dt.datetime.fromisoformat(json.loads(record.read_text(encoding="utf-8"))["opens_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a bid record the service wrote: left alone
        if opening.tzinfo is not None and opening < limit:
            found.append(record.stem)
    return found


def sweep(settings: ServiceSettings, now: dt.datetime | None = None) -> list[str]:
    """Delete expired bids and stale scratch directories; the deleted bids' IDs."""
    now = now or dt.datetime.now(dt.UTC)
    deleted: list[str] = []
    store = settings.work_dir / "bids"
    if settings.bid_retention_days is not None and store.is_dir():
        for bid_id in expired_bids(store, settings.bid_retention_days, now):
            delete_bid(store, bid_id)
            deleted.append(bid_id)
    scratch = settings.work_dir / "tmp"
    stale = time.time() - max(3600.0, 2 * settings.timeout_s)
    if scratch.is_dir():
        for folder in scratch.iterdir():
            try:
                old = folder.stat().st_mtime < stale
            except OSError:
                continue
            if old:
                shutil.rmtree(folder, ignore_errors=True)
    return deleted
