"""A seal revocation record: what the registry, revocation lists and verifiers exchange.

Kept apart from the registry so that verifying a seal offline does not import the database layer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sealkit.errors import SealError
from sealkit.timefmt import format_time


class RevocationUnknown(SealError):
    """The sources asked do not know the seal (or are out of date): its revocation status is unknown."""


@dataclass
class Revocation:
    """A revoked seal: when, why, and the successor unit."""

    es_id: str
    revoked_at: dt.datetime
    reason: str
    successor: str | None = None
    note: str | None = None
    source: str = "local"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["revoked_at"] = format_time(self.revoked_at)
        return data
