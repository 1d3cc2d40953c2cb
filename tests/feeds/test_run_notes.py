"""A run's "stored, not used" notes read back to what they were written with."""

from __future__ import annotations

from datetime import UTC, datetime

from agam.pipeline.run_notes import behind, behind_events, not_used, not_used_times
from hazard_feeds.gdacs_episodes import EpisodeBehind


def test_the_note_reads_back_to_its_times_wherever_it_stands() -> None:
    issued = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
    in_force = datetime(2026, 5, 20, 5, 30, tzinfo=UTC)
    note = not_used(issued, in_force)
    assert note == (
        "issued 2026-05-20 08:00 UTC+6, before the forecast in force (issued 2026-05-20 "
        "11:30 UTC+6): stored, not used"
    )
    assert not_used_times(note) == (issued, in_force)
    assert not_used_times(f"{note}; SW46.9L missing_station (no rows)") == (issued, in_force)
    assert not_used_times("HTTP 500 from https://ffwc.example/") is None
    assert not_used_times(None) is None


def test_a_held_back_list_reads_back_to_its_events() -> None:
    events = [EpisodeBehind("MOCHA-23", 1000970, 6, 7), EpisodeBehind("X, Y", 2, 1, 3)]
    note = behind(events)
    assert note == (
        "an older list than the one in force (MOCHA-23, event 1000970, at episode 6, not 7 | "
        "X, Y, event 2, at episode 1, not 3): stored, not used"
    )
    assert behind_events(note) == events
    assert behind_events(f"{note}; track partial (GDACS gives …)") == events
    assert behind_events(not_used(datetime(2026, 5, 20, tzinfo=UTC), datetime.now(UTC))) is None
    assert behind_events(None) is None


def test_the_labels_word_a_held_back_list_in_bangla() -> None:
    from dashboard.labels import run_note

    note = behind([EpisodeBehind("MOCHA-23", 1000970, 6, 7)]) + "; track partial (…)"
    lacking = [{"code": "partial", "message": "per-point wind is unknown", "subject": "track"}]
    said = run_note(note, lacking, "bn")
    assert said.startswith(
        "কার্যকর তালিকার চেয়ে পুরোনো তালিকা (MOCHA-23, ইভেন্ট ১০০০৯৭০, পর্ব ৬, কার্যকর তালিকায় ৭): "
        "সংরক্ষিত, ব্যবহৃত হয়নি; "
    ), said
    assert run_note(note, None, "en") == (
        "an older list than the one in force (MOCHA-23, event 1000970, at episode 6, not 7): "
        "stored, not used"
    )
