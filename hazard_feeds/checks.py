"""Checks every parser shares: refuse naming the field, sizes before allocating, finite numbers
inside physical bounds, times inside the years a forecast can have. Limits come from
`hazard_feeds/limits.toml` through `hazard_feeds.limits.current()`."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from agam.core.errors import FeedError
from agam.core.timeutil import iso_utc
from hazard_feeds.contract import QualityIssue
from hazard_feeds.limits import current


def refuse(feed_id: str, field: str, problem: str) -> FeedError:
    """The one error shape: `<feed>: <field>: <problem>` (the guard adds the file)."""
    return FeedError(f"{feed_id}: {field}: {problem}")


def a_kind(value: Any) -> str:
    """ "a list", "an int", "a str": what a value is, for messages."""
    name = type(value).__name__
    return ("an " if name[0] in "aeiou" else "a ") + name


def check_bytes(content: bytes, max_bytes: int, feed_id: str, what: str) -> None:
    """Refuse a body over its byte limit before anything parses it."""
    if len(content) > max_bytes:
        raise refuse(feed_id, what, f"{len(content):,} bytes, over the {max_bytes:,}-byte limit")


def check_count(count: int, limit: int, feed_id: str, field: str, what: str) -> None:
    if count > limit:
        raise refuse(feed_id, field, f"{count:,} {what}, over the limit of {limit:,}")


def as_number(value: Any, feed_id: str, field: str) -> float:
    """A JSON/CSV number (or numeric string) as a finite float; booleans are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise refuse(feed_id, field, f"{_show(value)} is not a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        raise refuse(feed_id, field, f"{_show(value)} is not a number") from None
    if not math.isfinite(number):
        raise refuse(feed_id, field, f"{_show(value)} is not a finite number")
    return number


def in_bounds(value: float, quantity: str, feed_id: str, field: str) -> float:
    """`value` if it lies inside the physical bounds of `quantity` (e.g. "water_level_m")."""
    bound = current().bound(quantity)
    if not bound.holds(value):
        raise refuse(
            feed_id,
            field,
            f"{value:g} is outside the physical range {bound.min:g}..{bound.max:g} ({quantity})",
        )
    return value


def bounded_number(value: Any, quantity: str, feed_id: str, field: str) -> float:
    return in_bounds(as_number(value, feed_id, field), quantity, feed_id, field)


def in_box(lon: float, lat: float, box: str, feed_id: str, field: str) -> None:
    """Refuse a position outside a sanity box of limits.toml (e.g. "bangladesh")."""
    if not current().in_box(box, lon, lat):
        raise refuse(feed_id, field, f"({lon:g}, {lat:g}) is outside the {box} box")


def check_year(when: datetime, feed_id: str, field: str) -> datetime:
    span = current().time
    if not span.min_year <= when.year <= span.max_year:
        raise refuse(
            feed_id, field, f"year {when.year} is outside {span.min_year}..{span.max_year}"
        )
    return when


def latest_issue_time(fetched_at: datetime) -> datetime:
    """The latest issue time a forecast fetched at `fetched_at` may carry: [time]
    max_issued_after_fetch_minutes allow for clock skew, anything later is a wrong time."""
    return fetched_at + timedelta(minutes=current().time.max_issued_after_fetch_minutes)


def check_issued_before_fetch(
    issued_at: datetime, fetched_at: datetime, feed_id: str, source: str
) -> None:
    """Refuse a forecast issued after `latest_issue_time` of its fetch: it would stay hidden
    from every evaluation until its issue time."""
    if issued_at > latest_issue_time(fetched_at):
        ahead_h = (issued_at - fetched_at).total_seconds() / 3600
        raise FeedError(
            f"{feed_id}: {source}: issued_at: {iso_utc(issued_at)} is {ahead_h:.1f} h "
            f"after it was fetched ({iso_utc(fetched_at)}): a time zone written wrong, or "
            "this machine's clock behind? Not stored"
        )


def observed_by_fetch(
    points: list[tuple[datetime, float]],
    fetched_at: datetime,
    feed_id: str,
    station: tuple[str, str],
) -> tuple[list[tuple[datetime, float]], QualityIssue | None]:
    """A station's (name, code) observations without those dated after `latest_issue_time`
    of the fetch (a year typed wrong at one gauge), and the note saying so. Left in, the
    newest would become the run's issue time and refuse the whole run: every station's data
    lost to one record."""
    latest = latest_issue_time(fetched_at)
    kept = [(when, value) for when, value in points if when <= latest]
    if len(kept) == len(points):
        return points, None
    first = min(when for when, _ in points if when > latest)
    note = (
        f"{feed_id}: observed level at {station[0]} ({station[1]}) dated {iso_utc(first)}, "
        f"after the run was fetched ({iso_utc(fetched_at)}): left out"
    )
    return kept, QualityIssue("partial", note, station[1])


def mask_outside(values: np.ndarray, quantity: str) -> tuple[np.ndarray, int]:
    """A float copy with non-finite and out-of-bounds cells set to NaN (missing), and how many
    present cells that hid. NaN already there stays NaN and is not counted."""
    bound = current().bound(quantity)
    out = np.array(values, dtype="float64", copy=True)
    present = ~np.isnan(out)
    with np.errstate(invalid="ignore"):
        bad = present & ~(np.isfinite(out) & (out >= bound.min) & (out <= bound.max))
    out[bad] = np.nan
    return out, int(bad.sum())


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
