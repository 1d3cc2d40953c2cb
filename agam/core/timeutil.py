"""Times are stored in UTC and shown in Asia/Dhaka."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

DHAKA = ZoneInfo("Asia/Dhaka")


def utc_now() -> datetime:
    """The current time, tz-aware UTC. Only entry points and I/O layers call this."""
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return `value` in UTC; naive datetimes are rejected, not guessed."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


def parse_utc(text: str) -> datetime:
    """Parse ISO-8601; a trailing Z or offset is honoured, naive text is taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    """ISO-8601 with a Z suffix, seconds precision."""
    return ensure_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_dhaka(value: datetime) -> datetime:
    return ensure_utc(value).astimezone(DHAKA)


def format_dhaka(value: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as people in Bangladesh read it, with the zone named (Bangladesh time, UTC+6;
    never "BST", which reads as British Summer Time)."""
    return to_dhaka(value).strftime(fmt) + " UTC+6"


class SteppedClock:
    """A clock that shows whatever time it was last set to (accelerated plays, replays)."""

    def __init__(self, now: datetime) -> None:
        self.now = ensure_utc(now)

    def __call__(self) -> datetime:
        return self.now
