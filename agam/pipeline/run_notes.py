"""Notes a feed run leaves beside its outcome: written in English for the CLI and the log,
and read back here so the dashboard can word them in its reader's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from agam.core.timeutil import DHAKA, format_dhaka
from hazard_feeds.gdacs_episodes import EpisodeBehind

_TIME = r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC\+6"
_BEHIND = re.compile(r"^an older list than the one in force \((.+)\): stored, not used$")
_BEHIND_EVENT = re.compile(r"^(.+), event (\d+), at episode (\d+), not (\d+)$")
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


def behind(events: list[EpisodeBehind]) -> str:
    """A snapshot list not put in force: cyclones it shares with the list in force are at
    earlier episodes (`hazard_feeds.gdacs_episodes`)."""
    told = " | ".join(
        f"{e.name}, event {e.event_id}, at episode {e.episode}, not {e.in_force_episode}"
        for e in events
    )
    return f"an older list than the one in force ({told}): stored, not used"


def behind_events(note: str | None) -> list[EpisodeBehind] | None:
    """The events of a run's `behind` note, wherever it is among the run's notes; None when
    it has none."""
    for part in (note or "").split("; "):
        found = _BEHIND.match(part)
        if found is None:
            continue
        events = [_BEHIND_EVENT.match(item) for item in found.group(1).split(" | ")]
        return [
            EpisodeBehind(m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)))
            for m in events
            if m is not None
        ]
    return None
