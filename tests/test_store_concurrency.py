"""Concurrent writers on one store: no "database is locked" half way through a transaction,
a lock that outlasts the busy timeout is a one-line StoreError (never a traceback), one
open alert per rule set and district is enforced by the database, and the pipeline lock
serialises writers across threads."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.errors import StoreError
from store import audit
from store.db import Store
from store.locks import LockTimeout, acquire, exclusive
from store.models import Alert, Evaluation

T0 = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Store:
    s = Store(database_url, busy_timeout_ms=5000)
    s.upgrade()
    yield s
    s.dispose()


def test_read_then_write_transactions_never_fail_for_a_lock(store: Store) -> None:
    """Each transaction reads the chain's head, then appends: on SQLite a deferred BEGIN
    fails at once with "database is locked" when another writer committed in between."""
    errors: list[str] = []

    def writer(n: int) -> None:
        for i in range(15):
            try:
                with store.session() as session:
                    audit.head(session)
                    time.sleep(0.001)
                    audit.append(
                        session, at=T0, actor=f"w{n}", action="test", entity="t", entity_id=i
                    )
            except Exception as exc:  # the test's point: there must be none
                errors.append(repr(exc)[:200])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.read() as session:
        report = audit.verify(session)
    assert report.ok
    assert report.entries == 6 * 15


def test_a_lock_held_too_long_is_a_store_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'agam.sqlite3'}"
    holder, impatient = Store(url, busy_timeout_ms=5000), Store(url, busy_timeout_ms=100)
    holder.upgrade()
    writing = holder.engine.execution_options(sqlite_begin="IMMEDIATE")
    with writing.connect() as conn:
        conn.execute(text("SELECT 1"))  # another process, writing for a long time
        with (
            pytest.raises(StoreError, match="stayed locked by another writer") as caught,
            impatient.session() as session,
        ):
            session.execute(text("SELECT 1"))
        assert "\n" not in str(caught.value)
        conn.rollback()
    with impatient.read() as session:  # readers never wait
        assert session.execute(text("SELECT 1")).scalar() == 1
    holder.dispose()
    impatient.dispose()


def test_cli_reports_a_locked_database_in_one_line(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path.write_text(
        config_path.read_text() + "\n[database]\nbusy_timeout_ms = 100\n", encoding="utf-8"
    )
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    store = Store(f"sqlite:///{config_path.parent / 'data' / 'agam.sqlite3'}")
    with store.engine.execution_options(sqlite_begin="IMMEDIATE").connect() as conn:
        conn.execute(text("SELECT 1"))  # holds the write lock
        monkeypatch.setenv("AGAM_NEW_PASSWORD", "a long password")
        result = runner.invoke(app, ["users", "add", "dmo.x", "--role", "officer"])
        conn.rollback()
    store.dispose()
    assert result.exit_code == 8
    assert result.stderr.startswith("error: the database stayed locked by another writer")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def _evaluation(session: object, key: str) -> int:
    row = Evaluation(
        input_key=key,
        rule_set_id="r",
        rule_set_version="1",
        stage="action",
        as_of=T0,
        state="met",
        explanation="x",
        created_at=T0,
    )
    session.add(row)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return int(row.id)


def _alert(evaluation_id: int, status: str = "open") -> Alert:
    return Alert(
        rule_set_id="ocha_cerf_flood_2025",
        rule_set_version="2025.1",
        district_pcode="BD5549",
        stage="action",
        status=status,
        opened_at=T0,
        updated_at=T0,
        first_evaluation_id=evaluation_id,
        last_evaluation_id=evaluation_id,
    )


def test_one_open_alert_per_rule_set_and_district(store: Store) -> None:
    with store.session() as session:
        ev = _evaluation(session, "k1")
        session.add(_alert(ev))
        session.add(_alert(ev, status="closed"))  # closed ones may repeat
        session.add(_alert(ev, status="stood_down"))
    with pytest.raises(IntegrityError):
        _open_another(store, ev)


def _open_another(store: Store, evaluation_id: int) -> None:
    with store.session() as session:
        session.add(_alert(evaluation_id))


def test_pipeline_lock_serialises_threads_and_times_out(store: Store) -> None:
    inside: list[int] = []
    overlap: list[bool] = []

    def work(n: int) -> None:
        with exclusive(store, "pipeline-test", timeout_s=60):
            inside.append(n)
            overlap.append(len(inside) > 1)
            time.sleep(0.05)
            inside.remove(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlap == [False] * 5
    held = acquire(store, "pipeline-test", timeout_s=1)
    try:
        started = time.monotonic()
        with pytest.raises(LockTimeout, match="held the pipeline-test lock too long"):
            acquire(store, "pipeline-test", timeout_s=0.5)
        assert time.monotonic() - started < 30
    finally:
        held.release()
