"""Migration 0006 on a store that already holds duplicate open alerts (possible before one
writer): the newest stays open, the older ones are closed naming why, then the database
refuses new duplicates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from store.db import Store, migrate, schema_revision

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def _insert(conn: sa.Connection, sql: str, **values: object) -> int:
    return int(conn.execute(sa.text(sql + " RETURNING id"), values).scalar_one())


def test_duplicates_are_closed_then_refused(database_url: str) -> None:
    store = Store(database_url)
    migrate(store.engine, "0004")
    assert schema_revision(store.engine) == "0004"
    with store.engine.begin() as conn:
        ev = _insert(
            conn,
            "INSERT INTO evaluations (input_key, rule_set_id, rule_set_version, stage, as_of,"
            " state, explanation, observed, forecast_run_ids, affected_districts,"
            " affected_unions, created_at) VALUES ('k', 'r', '1', 'action', :t, 'met', 'x',"
            " '{}', '[]', '[]', '[]', :t)",
            t=T0,
        )
        ids = [
            _insert(
                conn,
                "INSERT INTO alerts (rule_set_id, rule_set_version, district_pcode, stage,"
                " status, opened_at, updated_at, first_evaluation_id, last_evaluation_id,"
                " affected_unions) VALUES ('ocha_cerf_flood_2025', '2025.1', 'BD5549',"
                " 'action', 'open', :t, :t, :e, :e, '[]')",
                t=T0,
                e=ev,
            )
            for _ in range(3)
        ]
    store.upgrade()
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, status, closed_reason FROM alerts ORDER BY id")
        ).all()
    assert [(r.id, r.status) for r in rows] == [
        (ids[0], "closed"),
        (ids[1], "closed"),
        (ids[2], "open"),
    ]
    assert all("duplicate open alert closed by migration 0006" in r.closed_reason for r in rows[:2])
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alerts SET status = 'open' WHERE id = :i"), {"i": ids[0]})
    store.dispose()
