"""Audit entries are chained when their transaction commits, not when they are appended.

So the chain's lock is the last a transaction takes and is held only for its commit: an
evaluation that has appended and goes on locking alerts does not hold the chain against a
person's close of one of them (the soak found that deadlock on PostgreSQL) or against a
sign-in. A rolled-back transaction leaves no entry, in the database or for the session's
next transaction.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from store import alert_repo, audit
from store.db import Store
from store.models import Alert, AuditEntry, Evaluation
from store.user_repo import add_user
from tests.conftest import PASSWORD

AT = datetime(2025, 7, 4, 6, 0, tzinfo=UTC)


def _alerts(store: Store) -> tuple[int, int]:
    with store.session() as session:
        evaluation = Evaluation(input_key="lock-order", rule_set_id="ocha_cerf_flood_2025",
                                rule_set_version="1", stage="action", as_of=AT, state="met",
                                explanation="test", created_at=AT)  # fmt: skip
        session.add(evaluation)
        session.flush()
        ids = []
        for district in ("BD5549", "BD4539"):
            alert = Alert(rule_set_id="ocha_cerf_flood_2025", rule_set_version="1",
                          district_pcode=district, stage="action", status="open", opened_at=AT,
                          updated_at=AT, first_evaluation_id=evaluation.id,
                          last_evaluation_id=evaluation.id, affected_unions=[])  # fmt: skip
            session.add(alert)
            session.flush()
            ids.append(alert.id)
        add_user(session, username="officer.x", role="officer", districts=["BD4539"],
                 password=PASSWORD, display_name="officer", at=AT)  # fmt: skip
    return ids[0], ids[1]


def _actions(store: Store) -> list[tuple[str, str]]:
    with store.read() as session:
        rows = session.execute(select(AuditEntry.actor, AuditEntry.action)
                               .where(AuditEntry.action.like("alert.%"))
                               .order_by(AuditEntry.id))  # fmt: skip
        return [(a, b) for a, b in rows]


def test_a_close_during_an_evaluation_commits_and_the_chain_follows_commit_order(
    database_url: str, principal_for: Any
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: no row locks to order")
    store = Store(database_url)
    store.upgrade()
    first, second = _alerts(store)
    officer = principal_for(store, "officer.x")
    outcome: dict[str, object] = {}

    with store.session() as evaluation:  # as an evaluation: one alert, its entry, the next
        evaluation.execute(text("SET LOCAL lock_timeout = '20s'"))
        evaluation.scalars(select(Alert).where(Alert.id == first).with_for_update()).one()
        audit.append(evaluation, at=AT, actor="system", action="alert.updated",
                     entity="alert", entity_id=first)  # fmt: skip

        def close() -> None:
            try:
                with store.session() as session:
                    session.execute(text("SET LOCAL lock_timeout = '20s'"))
                    alert_repo.close_alert(session, second, officer, "stood down", AT)
                    audit.append(session, at=AT, actor="officer.x", action="alert.closed",
                                 entity="alert", entity_id=second)  # fmt: skip
                outcome["closed"] = True
            except Exception as exc:  # reported by the assertion below
                outcome["error"] = exc

        closer = threading.Thread(target=close)
        closer.start()
        closer.join(timeout=20)  # appending did not take the chain: the close goes through
        assert not closer.is_alive()
        assert outcome == {"closed": True}
        locked = evaluation.scalars(select(Alert).where(Alert.id == second).with_for_update())
        assert locked.one().status == "closed"  # the evaluation then sees the closed alert
    assert _actions(store) == [("officer.x", "alert.closed"), ("system", "alert.updated")]
    with store.read() as session:
        assert audit.verify(session).ok
    store.dispose()


def test_an_uncommitted_entry_does_not_hold_back_another_appender(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time")
    store = Store(database_url)
    store.upgrade()
    done = threading.Event()
    with store.session() as long_one:
        audit.append(long_one, at=AT, actor="system", action="alert.updated", entity="alert",
                     entity_id=1)  # fmt: skip

        def sign_in() -> None:
            with store.session() as session:
                session.execute(text("SET LOCAL lock_timeout = '20s'"))
                audit.append(session, at=AT, actor="dc.x", action="session.sign_in",
                             entity="user", entity_id="dc.x")  # fmt: skip
            done.set()

        threading.Thread(target=sign_in).start()
        assert done.wait(20)
    with store.read() as session:
        report = audit.verify(session)
        assert report.ok
        assert report.entries == 2
    store.dispose()


def test_entries_are_written_at_commit_in_order_and_dropped_on_rollback(
    database_url: str,
) -> None:
    store = Store(database_url)
    store.upgrade()

    def failing_decision() -> None:
        with store.session() as session:
            audit.append(session, at=AT, actor="a", action="alert.dropped", entity="alert",
                         entity_id=1)  # fmt: skip
            raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError):
        failing_decision()
    with store.session() as session:
        for i in range(3):
            audit.append(session, at=AT + timedelta(minutes=i), actor=f"u{i}",
                         action="alert.kept", entity="alert", entity_id=i)  # fmt: skip
        assert session.scalar(select(AuditEntry.id).limit(1)) is None  # not before the commit
    assert _actions(store) == [("u0", "alert.kept"), ("u1", "alert.kept"), ("u2", "alert.kept")]
    with store.read() as session:
        assert audit.verify(session).entries == 3
    # a session that rolled back starts its next transaction without the dropped entries
    maker = store._sessions  # one Session object across two transactions
    with maker() as session:
        with session.begin():
            audit.append(session, at=AT, actor="b", action="alert.dropped", entity="alert",
                         entity_id=2)  # fmt: skip
            session.rollback()
        with session.begin():
            audit.append(session, at=AT, actor="c", action="alert.again", entity="alert",
                         entity_id=3)  # fmt: skip
    assert [a for a in _actions(store) if a[1] != "alert.kept"] == [("c", "alert.again")]
    store.dispose()
