"""Retention of kept bids: deleted ``bid_retention_days`` after their opening time, never before; without a
retention nothing is deleted; a scratch directory a killed server left (it may hold a plaintext) goes once it
is older than any request."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

from sealkit.config import Config
from sealkit.service.retention import sweep
from sealkit.service.settings import ServiceSettings

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def settings(tmp_path, retention):
    raw = {"service": {"work_dir": str(tmp_path / "work"), "timeout_s": 60}}
    if retention is not None:
        raw["service"]["bid_retention_days"] = retention
    return ServiceSettings.from_config(Config(raw=raw, env={}))


def keep(tmp_path, bid_id: str, opens_at: dt.datetime) -> None:
    store = tmp_path / "work" / "bids"
    store.mkdir(parents=True, exist_ok=True)
    (store / f"{bid_id}.p7m").write_bytes(b"ciphertext")
    (store / f"{bid_id}.json").write_text(json.dumps({"id": bid_id, "opens_at": opens_at.isoformat()}))


def test_bids_past_their_retention_are_deleted_and_the_others_kept(tmp_path):
    keep(tmp_path, "a" * 32, NOW - dt.timedelta(days=31))  # opened 31 days ago: gone
    keep(tmp_path, "b" * 32, NOW - dt.timedelta(days=29))  # 29 days: kept
    keep(tmp_path, "c" * 32, NOW + dt.timedelta(days=1))  # not yet opened: kept
    (tmp_path / "work" / "bids" / "notes.json").write_text("not a bid record")
    assert sweep(settings(tmp_path, 30), NOW) == ["a" * 32]
    left = sorted(p.name for p in (tmp_path / "work" / "bids").iterdir())
    assert left == [
        "b" * 32 + ".json",
        "b" * 32 + ".p7m",
        "c" * 32 + ".json",
        "c" * 32 + ".p7m",
        "notes.json",
    ]


def test_without_a_retention_nothing_is_deleted(tmp_path):
    keep(tmp_path, "a" * 32, NOW - dt.timedelta(days=3650))
    assert sweep(settings(tmp_path, None), NOW) == []
    assert len(list((tmp_path / "work" / "bids").iterdir())) == 2


def test_a_stale_scratch_directory_goes_and_a_live_one_stays(tmp_path):
    scratch = tmp_path / "work" / "tmp"
    stale, live = scratch / "stale", scratch / "live"
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / "opened-bid.tar").write_bytes(b"plaintext")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    sweep(settings(tmp_path, None), NOW)
    assert not stale.exists()
    assert (live / "opened-bid.tar").is_file()
