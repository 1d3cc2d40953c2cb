"""The store: migrations only, SQLite WAL, UTC round-trip, append-only audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError, StatementError

from agam.core.errors import StoreError
from store.db import Store, head_revision, require_current_schema, schema_revision
from store.models import AuditEntry, ForecastRun


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    s.upgrade()
    yield s
    s.dispose()


def test_schema_comes_from_migrations(tmp_path: Path) -> None:
    s = Store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    with pytest.raises(StoreError, match="run `agam db upgrade`"):
        require_current_schema(s.engine)
    s.upgrade()
    assert schema_revision(s.engine) == head_revision()
    require_current_schema(s.engine)
    s.upgrade()  # idempotent


def test_sqlite_runs_in_wal_with_foreign_keys(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_times_round_trip_in_utc(store: Store) -> None:
    dhaka = timezone(timedelta(hours=6))
    issued = datetime(2024, 7, 4, 12, 0, tzinfo=dhaka)
    with store.session() as session:
        session.add(
            ForecastRun(
                feed_id="ffwc",
                kind="station_series",
                issued_at=issued,
                fetched_at=issued,
                source_uri="x",
                raw_sha256="a" * 64,
                raw_path="p",
            )
        )
    with store.session() as session:
        run = session.scalars(select(ForecastRun)).one()
    assert run.issued_at == datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
    assert run.issued_at.tzinfo is UTC


def test_naive_times_are_refused(store: Store) -> None:
    naive = datetime(2024, 7, 4, 12, 0)
    with pytest.raises(StatementError, match="naive datetime"), store.session() as session:
        session.add(
            ForecastRun(
                feed_id="ffwc",
                kind="k",
                issued_at=naive,
                fetched_at=naive,
                source_uri="x",
                raw_sha256="b" * 64,
                raw_path="p",
            )
        )


def test_forecast_run_unique_per_feed_and_issue_time(store: Store) -> None:
    at = datetime(2024, 7, 4, tzinfo=UTC)
    row = {
        "feed_id": "glofas",
        "kind": "station_series",
        "issued_at": at,
        "fetched_at": at,
        "source_uri": "x",
        "raw_sha256": "c" * 64,
        "raw_path": "p",
    }
    with store.session() as session:
        session.add(ForecastRun(**row))
    with pytest.raises(DatabaseError), store.session() as session:
        session.add(ForecastRun(**row))


def test_audit_log_is_append_only_in_the_database(store: Store) -> None:
    at = datetime(2024, 7, 4, tzinfo=UTC)
    with store.session() as session:
        session.add(
            AuditEntry(
                at=at,
                actor="system",
                action="test",
                entity="x",
                entity_id="1",
                payload={},
                prev_hash="0" * 64,
                entry_hash="1" * 64,
            )
        )
    with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory'"))
    with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_latest_forecast_is_what_had_arrived_by_then(store: Store) -> None:
    from store import feed_repo

    issued = datetime(2026, 7, 1, 0, tzinfo=UTC)
    with store.session() as session:
        for day, sha in ((0, "a"), (1, "b")):
            feed_repo.add_forecast(
                session,
                feed_repo.NewForecast(
                    feed_id="glofas",
                    kind="station_series",
                    issued_at=issued + timedelta(days=day),
                    fetched_at=issued + timedelta(days=day, hours=9, minutes=30),
                    source_uri="http://mirror/",
                    raw_sha256=sha * 64,
                    raw_path="x",
                    processed_path=None,
                    complete=True,
                    quality=[],
                    summary={},
                ),
            )
    with store.session() as session:
        # Day 2's run was issued at 00:00 but only arrived at 09:30: not visible before.
        seen = feed_repo.latest_forecast(
            session, "glofas", issued + timedelta(days=1, hours=5), snapshot=False
        )
        assert seen is not None
        assert seen.raw_sha256 == "a" * 64
        later = feed_repo.latest_forecast(
            session, "glofas", issued + timedelta(days=1, hours=10), snapshot=False
        )
        assert later is not None
        assert later.raw_sha256 == "b" * 64
        assert (
            feed_repo.latest_forecast(
                session, "glofas", issued + timedelta(hours=1), snapshot=False
            )
            is None
        )
        assert feed_repo.stored_feed_ids(session) == ["glofas"]


def test_the_models_describe_exactly_the_migrated_schema(store: Store) -> None:
    """Every table, column, index and constraint of the models is what the migrations built
    (on both back ends), so a model change without its migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from store.models import Base

    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_a_list_s_lines_and_payees_are_found_by_their_unique_index(store: Store) -> None:
    """0010 dropped the list_id indexes that duplicated the unique constraints' leading
    column; lookups by list use the unique index instead of scanning."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with store.engine.connect() as conn:
        names = set(conn.exec_driver_sql("SELECT name FROM sqlite_master").scalars())
        assert not names & {"ix_allowance_lines_list_id", "ix_allowance_payees_list_id"}
        for table in ("allowance_lines", "allowance_payees"):
            plan = " ".join(
                str(r[-1])
                for r in conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE list_id = 7"
                )
            )
            assert f"SEARCH {table} USING INDEX sqlite_autoindex_{table}_1 (list_id=?)" in plan


def test_beneficiary_pages_keep_room_for_a_refresh_on_postgresql(store: Store) -> None:
    """0021: a changed record's new version can stay on its page without index entries."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL storage parameter")
    with store.engine.connect() as conn:
        options = conn.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'beneficiaries'"
        ).scalar()
    assert "fillfactor=90" in options
