"""Times as people in Chinese procurement read and write them: Beijing time unless a zone is given.

One place for parsing and printing times, used by the library and the CLI:

- a time written without a zone (``2026-12-01T09:30``, ``2026-12-01 09:30``, a date) is a time in the
  *display zone*, Beijing time (UTC+8) unless the configuration's ``[time] zone`` says otherwise
  (``"+08:00"``, ``"UTC"``, ``"Asia/Shanghai"``); a ``datetime`` without ``tzinfo`` handed to sealkit is
  read the same way (:func:`aware`);
- every time sealkit prints carries its offset (:func:`format_time`: ``2026-12-01T09:30:00+08:00``).

Times inside signatures, timestamps and certificates are UTC by their standards and stay so.
"""

from __future__ import annotations

import datetime as dt
import re

from sealkit.errors import ConfigError, InvalidInput

BEIJING = dt.timezone(dt.timedelta(hours=8), "UTC+08:00")

_zone: dt.tzinfo = BEIJING
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def parse_zone(text: str) -> dt.tzinfo:
    """A zone from ``+08:00``, ``UTC+8``, ``UTC``, ``Z`` or an IANA name such as ``Asia/Shanghai``."""
    value = str(text).strip()
    if value.upper() in ("UTC", "Z", "GMT"):
        return dt.UTC
    match = _OFFSET.match(value)
    if match:
        sign, hours, minutes = match.groups()
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta >= dt.timedelta(hours=24):
            raise ConfigError(f"time zone {value!r} is out of range: use an offset such as +08:00")
        return dt.timezone(-delta if sign == "-" else delta)
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {value!r}: use an offset such as +08:00, UTC, or a name such as Asia/Shanghai"
        ) from None


def use_zone(zone: dt.tzinfo | str | None) -> None:
    """Make ``zone`` the display zone (None: Beijing time again). The CLI calls this with ``[time] zone``."""
    global _zone
    _zone = BEIJING if zone is None else parse_zone(zone) if isinstance(zone, str) else zone


def display_zone() -> dt.tzinfo:
    """The zone naive times are read in and times are printed in (Beijing time by default)."""
    return _zone


def aware(moment: dt.datetime, zone: dt.tzinfo | None = None) -> dt.datetime:
    """``moment`` with a zone: a naive time is read in ``zone`` (default: the display zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone or _zone)


def parse_time(text: str, *, what: str = "time", zone: dt.tzinfo | None = None) -> dt.datetime:
    """An aware datetime from ISO 8601 text; a time without a zone is in ``zone`` (the display zone).

    A date alone means its midnight. ``Z`` and offsets such as ``+08:00`` are honoured.
    """
    value = str(text).strip()
    try:
        moment = dt.datetime.fromisoformat(value.replace(" ", "T", 1) if " " in value else value)
    except ValueError:
        raise InvalidInput(
            f"{what} {value!r} is not an ISO 8601 time: write 2026-12-01T09:30 (Beijing time) or with an "
            "offset, 2026-12-01T09:30+08:00"
        ) from None
    return aware(moment, zone)


def parse_date(text: str, *, what: str = "date") -> dt.date:
    """A calendar date from ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a date: write it as 2027-12-31") from None


def format_time(moment: dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """``2026-12-01T09:30:00+08:00``: the moment in ``zone`` (the display zone), to the second."""
    return aware(moment).astimezone(zone or _zone).isoformat(timespec="seconds")


def format_date(moment: dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """``2027-12-31 (UTC+08:00)``: the calendar day of ``moment`` in ``zone``, with the zone named."""
    local = aware(moment).astimezone(zone or _zone)
    offset = local.strftime("%z")
    return f"{local.date().isoformat()} (UTC{offset[:3]}:{offset[3:]})"
