"""Migration 0019 on SQLite and PostgreSQL: every stored feed run is kept, runs whose note
says "stored, not used" are recorded as not put in force, the rest as in force, and the
downgrade takes the column away again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from store.db import Store, migrate
from tests.lists.test_list_membership import _downgrade

T0 = datetime(2026, 5, 20, 5, 0, tzinfo=UTC)
NOTE = (
    "issued 2026-05-20 08:00 UTC+6, before the forecast in force (issued 2026-05-20 11:00 "
    "UTC+6): stored, not used; SW46.9L missing_station (no rows)"
)


def test_runs_said_unused_are_recorded_not_in_force(database_url: str) -> None:
    store = Store(database_url)
    try:
        migrate(store.engine, "0018")
        with store.engine.begin() as conn:
            for run_id, error in ((1, None), (2, NOTE), (3, "HTTP 500 from upstream")):
                conn.execute(
                    text(
                        "INSERT INTO feed_runs (id, feed_id, started_at, finished_at, outcome, "
                        "error, trigger) VALUES (:i, 'bmd', :at, :at, 'success', :e, 'cli')"
                    ),
                    {"i": run_id, "at": T0, "e": error},
                )
        store.upgrade()
        with store.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, in_force FROM feed_runs ORDER BY id")).all()
        assert [(i, bool(f)) for i, f in rows] == [(1, True), (2, False), (3, True)]

        _downgrade(store.engine, "0018")
        with store.engine.connect() as conn:
            kept = conn.execute(text("SELECT id, error FROM feed_runs ORDER BY id")).all()
        assert [(i, e) for i, e in kept] == [(1, None), (2, NOTE), (3, "HTTP 500 from upstream")]
        store.upgrade()
    finally:
        store.dispose()
