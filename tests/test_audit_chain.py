"""Hash-chained audit log: appends link, tampering is found and the row named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DatabaseError

from store.audit import GENESIS, append, verify
from store.db import Store

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)


def drop_trigger(conn: Connection, name: str) -> None:
    """What an attacker with database-owner access could do."""
    suffix = " ON audit_log" if conn.dialect.name == "postgresql" else ""
    conn.execute(text(f"DROP TRIGGER {name}{suffix}"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    s.upgrade()
    with s.session() as session:
        for i in range(5):
            append(
                session,
                at=T0 + timedelta(minutes=i),
                actor=f"user{i}",
                action="list.approve",
                entity="allowance_list",
                entity_id=i,
                payload={"households": 100 + i},
            )
    yield s
    s.dispose()


def test_chain_links_and_verifies(store: Store) -> None:
    with store.session() as session:
        report = verify(session)
    assert report.ok
    assert report.entries == 5
    assert report.head != GENESIS


def test_database_refuses_edits(store: Store) -> None:
    with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'x' WHERE id = 2"))


def test_tampering_names_the_row(store: Store) -> None:
    # Someone with file access drops the trigger and edits row 3.
    with store.engine.begin() as conn:
        drop_trigger(conn, "audit_log_no_update")
        conn.execute(text("""UPDATE audit_log SET payload = '{"households": 999}' WHERE id = 3"""))
    with store.session() as session:
        report = verify(session)
    assert not report.ok
    assert report.bad_id == 3
    assert "hash" in (report.reason or "")


def test_deleting_a_row_breaks_the_link(store: Store) -> None:
    with store.engine.begin() as conn:
        drop_trigger(conn, "audit_log_no_delete")
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
    with store.session() as session:
        report = verify(session)
    assert not report.ok
    assert report.bad_id == 3
