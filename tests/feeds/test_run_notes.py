"""A run's "stored, not used" note reads back to the times it was written with."""

from __future__ import annotations

from datetime import UTC, datetime

from agam.pipeline.run_notes import not_used, not_used_times


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
