"""Two GDACS lists tell which is older only through a cyclone both carry."""

from __future__ import annotations

from typing import Any

from hazard_feeds.gdacs_episodes import EpisodeBehind, episodes_behind


def listing(*events: tuple[Any, Any, str]) -> dict[str, Any]:
    return {"events": [{"event_id": e, "episode_id": p, "name": n} for e, p, n in events]}


def test_only_a_shared_cyclone_at_an_earlier_episode_tells() -> None:
    in_force = listing((1, 7, "MOCHA-23"), (2, 3, "FABIEN-23"))
    assert episodes_behind(listing((1, 6, "MOCHA-23")), in_force) == [
        EpisodeBehind("MOCHA-23", 1, 6, 7)
    ]
    assert episodes_behind(listing((1, 7, "MOCHA-23")), in_force) == []  # the same advisory
    assert episodes_behind(listing((1, 8, "MOCHA-23")), in_force) == []  # newer
    assert episodes_behind(listing((3, 1, "OTHER-23")), in_force) == []  # nothing shared
    assert episodes_behind({"events": []}, in_force) == []  # a quiet list cannot be told
    assert episodes_behind(listing((1, 6, "MOCHA-23")), {}) == []
    mixed = listing((1, 8, "MOCHA-23"), (2, 2, "FABIEN-23"))  # one ahead, one behind
    assert episodes_behind(mixed, in_force) == [EpisodeBehind("FABIEN-23", 2, 2, 3)]


def test_events_without_both_numbers_are_not_compared() -> None:
    in_force = listing((1, 7, "MOCHA-23"))
    assert episodes_behind(listing((1, None, "MOCHA-23")), in_force) == []
    assert episodes_behind(listing(("x", 6, "MOCHA-23")), in_force) == []
    assert episodes_behind({"events": [{"event_id": 1}]}, in_force) == []
