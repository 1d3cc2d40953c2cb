"""Hash-chained audit log: appends link, tampering is found and the row named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DatabaseError

from store.audit import (
    GENESIS,
    append,
    checkpoint,
    checkpoint_signed,
    sign_checkpoint,
    verify,
    verify_checkpoint,
)
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


def _recompute_from(conn: Connection, first_id: int) -> None:
    """An attacker who edited a row and then recomputed every hash after it."""
    from sqlalchemy import select

    from store.audit import entry_hash
    from store.models import AuditEntry

    table = AuditEntry.__table__
    rows = conn.execute(select(table).order_by(table.c.id)).all()
    prev = GENESIS
    for row in rows:
        new = entry_hash(
            prev, row.at, row.actor, row.action, row.entity, row.entity_id, row.payload
        )
        if row.id >= first_id:
            conn.execute(
                text("UPDATE audit_log SET prev_hash = :p, entry_hash = :h WHERE id = :id"),
                {"p": prev, "h": new, "id": row.id},
            )
        prev = new


def test_a_checkpoint_finds_deleted_tail_rows(store: Store) -> None:
    with store.session() as session:
        mark = checkpoint(session, T0 + timedelta(hours=1))
    assert (mark["entries"], mark["last_id"]) == (5, 5)
    with store.engine.begin() as conn:
        drop_trigger(conn, "audit_log_no_delete")
        conn.execute(text("DELETE FROM audit_log WHERE id >= 4"))
    with store.session() as session:
        assert verify(session).ok  # the chain alone cannot tell
        report = verify_checkpoint(session, mark)
    assert not report.ok
    assert "2 entries deleted" in (report.reason or "")


def test_a_checkpoint_finds_a_recomputed_chain(store: Store) -> None:
    with store.session() as session:
        mark = checkpoint(session, T0 + timedelta(hours=1))
        append(session, at=T0 + timedelta(hours=2), actor="later", action="x", entity="y",
               entity_id=1)  # fmt: skip
    with store.engine.begin() as conn:
        drop_trigger(conn, "audit_log_no_update")
        conn.execute(text("""UPDATE audit_log SET payload = '{"households": 999}' WHERE id = 3"""))
        _recompute_from(conn, 3)
    with store.session() as session:
        assert verify(session).ok  # a consistent, rewritten chain
        report = verify_checkpoint(session, mark)
        assert verify_checkpoint(session, checkpoint(session, T0)).ok
    assert not report.ok
    assert "recomputed" in (report.reason or "")


def test_checkpoints_are_signed() -> None:
    mark = {"version": 1, "entries": 5, "last_id": 5, "head": "a" * 64, "at": "t"}
    signed = sign_checkpoint(mark, b"k" * 32)
    assert checkpoint_signed(signed, b"k" * 32)
    assert not checkpoint_signed(signed, b"o" * 32)
    assert not checkpoint_signed(signed | {"entries": 4}, b"k" * 32)
