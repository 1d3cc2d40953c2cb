"""Times typed on the command line: one parser, one refusal that says what to type."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import typer

from agam.core.timeutil import parse_utc

EXAMPLE = "e.g. 2026-07-03, 2026-07-03T10:00 (UTC) or 2026-07-03T16:00+06:00 (Dhaka)"


def parse_when(text: str, option: str, *, end_of_day: bool = False) -> datetime:
    """ISO time (UTC unless it has an offset) or ISO date: a date means 00:00 UTC, or with
    `end_of_day` the last instant of that UTC day (so --to DATE includes the day)."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            return day + timedelta(days=1, microseconds=-1) if end_of_day else day
        return parse_utc(value)
    except (ValueError, OverflowError):
        raise typer.BadParameter(
            f"not an ISO date or time: {text!r} ({EXAMPLE})", param_hint=option
        ) from None
