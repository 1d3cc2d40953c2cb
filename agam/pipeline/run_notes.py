"""Notes a feed run leaves beside its outcome: written in English for the CLI and the log,
and read back here so the dashboard can word them in its reader's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from agam.core.timeutil import DHAKA, format_dhaka

_TIME = r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC\+6"
_NOT_USED = re.compile(
    rf"issued {_TIME}, before the forecast in force \(issued {_TIME}\): stored, not used"
)


def not_used(issued_at: datetime, in_force_at: datetime) -> str:
    """A stored forecast that is not judged: one issued later is in force."""
    return (
        f"issued {format_dhaka(issued_at)}, before the forecast in force (issued "
        f"{format_dhaka(in_force_at)}): stored, not used"
    )


def not_used_times(note: str | None) -> tuple[datetime, datetime] | None:
    """The issue times (UTC, to the minute) of a run's `not_used` note, wherever it is among
    the run's notes; None when it has none."""
    found = _NOT_USED.search(note or "")
    if found is None:
        return None
    issued, in_force = (
        datetime.strptime(t, "%Y-%m-%d %H:%M").replace(tzinfo=DHAKA).astimezone(UTC)
        for t in found.groups()
    )
    return issued, in_force
