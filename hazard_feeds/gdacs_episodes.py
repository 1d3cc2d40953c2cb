"""Which of two GDACS event lists is older, where they can tell.

GDACS numbers a cyclone's advisories as episodes of its event, upwards. A list is the whole
current state of the feed (a snapshot), so the list fetched last is current; but a lagging
mirror or cache may serve an older list after a newer one. Where both lists carry the same
cyclone, its episode going backwards tells: the later-fetched list is older. Where they share
no cyclone (one quiet, or two different storms) nothing in the lists tells, and the list
fetched last stands (ADR 0010).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EpisodeBehind:
    name: str
    event_id: int
    episode: int  # in the list just fetched
    in_force_episode: int  # in the list in force


def _episodes(payload: Mapping[str, Any]) -> dict[int, tuple[int, str]]:
    found: dict[int, tuple[int, str]] = {}
    for event in payload.get("events") or []:
        try:
            event_id, episode = int(event["event_id"]), int(event["episode_id"])
        except (KeyError, TypeError, ValueError):
            continue  # an event without both numbers cannot be compared
        name = str(event.get("name") or f"event {event_id}")
        found[event_id] = max(found.get(event_id, (episode, name)), (episode, name))
    return found


def episodes_behind(fetched: Mapping[str, Any], in_force: Mapping[str, Any]) -> list[EpisodeBehind]:
    """Cyclones both lists carry (`payload` of a GDACS forecast) whose episode in `fetched`
    comes before the one in `in_force`, by event id."""
    now, before = _episodes(fetched), _episodes(in_force)
    return [
        EpisodeBehind(name, event_id, episode, before[event_id][0])
        for event_id, (episode, name) in sorted(now.items())
        if event_id in before and episode < before[event_id][0]
    ]
