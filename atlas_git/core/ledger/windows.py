"""Budget windows (day, week, month) in a configurable timezone.

``settings.timezone`` is ``"local"`` (the machine's zone, DST-aware) or an IANA
name such as ``"Europe/Paris"`` or ``"UTC"``. A day starts at 00:00, a week on
Monday 00:00 and a month on the 1st at 00:00 in that zone. Spend is kept in
15-minute UTC buckets: every timezone in use today is offset from UTC by a
multiple of 15 minutes, so each window is an exact range of buckets whatever
zone is configured, and a budget check sums a few thousand rows at most.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from atlas_git.errors import UsageError

BUCKET_SECONDS = 900
WINDOWS = ("daily", "weekly", "monthly")


def bucket_of(ts: float) -> int:
    """The 15-minute UTC bucket a timestamp falls in."""
    return int(ts // BUCKET_SECONDS)


def resolve_zone(name: str | None) -> tzinfo | None:
    """The zone for ``name``; None means the machine's local zone."""
    if not name or name == "local":
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"unknown timezone {name!r} in settings.timezone",
                         hint='use "local", "UTC" or an IANA name like "Europe/Paris"') from exc


def _midnight(year: int, month: int, day: int, zone: tzinfo | None) -> float:
    if zone is None:
        # mktime with isdst=-1 lets the C library pick the right DST offset.
        return time.mktime((year, month, day, 0, 0, 0, 0, 0, -1))
    return datetime(year, month, day, tzinfo=zone).timestamp()


@dataclass(frozen=True)
class WindowStarts:
    """UTC timestamps where the current day, week and month began."""

    daily: float
    weekly: float
    monthly: float

    def as_dict(self) -> dict[str, float]:
        return {"daily": self.daily, "weekly": self.weekly, "monthly": self.monthly}


def window_starts(now: float, zone: tzinfo | None) -> WindowStarts:
    """Where each window containing ``now`` began, in UTC seconds."""
    local = datetime.fromtimestamp(now, zone) if zone is not None else datetime.fromtimestamp(now)
    monday = local.date() - timedelta(days=local.weekday())
    return WindowStarts(
        daily=_midnight(local.year, local.month, local.day, zone),
        weekly=_midnight(monday.year, monday.month, monday.day, zone),
        monthly=_midnight(local.year, local.month, 1, zone),
    )


def local_day(ts: float, zone: tzinfo | None) -> str:
    """``YYYY-MM-DD`` of ``ts`` in the configured zone (analytics rows)."""
    dt = datetime.fromtimestamp(ts, zone) if zone is not None else datetime.fromtimestamp(ts)
    return dt.strftime("%Y-%m-%d")
