"""A SQLite store held locked by another writer past the busy timeout: the scheduler's feed
job tries again a bounded number of times, then gives up until its next run with one log
line; notification delivery pauses with one line. Never a traceback, never an exception
into APScheduler (which would print one)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.errors import StoreError
from agam.core.settings import load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.delivery import deliver_due
from agam.pipeline.writer import when_unlocked
from agam.scheduler import build_scheduler
from store import feed_repo, heartbeat_repo
from store.models import OutboxMessage

FETCHED = datetime(2025, 5, 25, 9, 30, tzinfo=UTC)
READ_ONLY = (
    ["audit", "verify", "--json"],
    ["alerts", "list", "--json"],
    ["feeds", "status", "--json"],
    ["db", "status", "--json"],
)


@pytest.fixture
def site(config_path: Path, remal_drop: Path, tmp_path: Path) -> Iterator[AppContext]:
    config_path.write_text(
        config_path.read_text()
        + "\n[database]\nbusy_timeout_ms = 50\n"
        + "\n[scheduler]\nlocked_retries = 2\nlocked_retry_wait_s = 0\n"
        + f"\n[feeds.bmd]\ninterval_minutes = 600\ndrop_folder = '{remal_drop}'\n",
        encoding="utf-8",
    )
    ctx = AppContext(load_settings(config_path), clock=lambda: FETCHED)
    ctx.store.upgrade()
    yield ctx
    ctx.store.dispose()


@contextmanager
def another_writer(ctx: AppContext) -> Iterator[None]:
    """Another process's write transaction on the same SQLite file."""
    path = ctx.store.sqlite_file
    assert path is not None
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def feed_runs(ctx: AppContext) -> int:
    with ctx.store.read() as session:
        return len(feed_repo.recent_runs(session, "bmd", 50))


def test_feed_job_gives_up_on_a_locked_store_with_one_line_then_runs(
    site: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = build_scheduler(site)
    job = scheduler.get_job("feed:bmd")
    assert job is not None
    with caplog.at_level(logging.WARNING), another_writer(site):
        job.func(*job.args)  # returns: nothing reaches APScheduler
    retries = [r for r in caplog.records if "trying again in" in r.getMessage()]
    gave_up = [r for r in caplog.records if "feed bmd not run" in r.getMessage()]
    assert len(retries) == 2  # [scheduler] locked_retries
    assert len(gave_up) == 1
    assert "locked" in gave_up[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)  # no traceback anywhere
    assert feed_runs(site) == 0
    job.func(*job.args)  # the lock is gone: the next run does its work
    assert feed_runs(site) == 1


def test_delivery_pauses_on_a_locked_store_without_a_traceback(
    site: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), another_writer(site):
        report = deliver_due(site)
    assert report.errors
    assert "locked" in report.errors[0]
    assert all(r.exc_info is None for r in caplog.records)


def test_when_unlocked_retries_only_lock_errors() -> None:
    calls: list[int] = []

    def locked_twice() -> str:
        calls.append(1)
        if len(calls) <= 2:
            raise StoreError("the database stayed locked by another writer (database is locked)")
        return "done"

    assert when_unlocked("step", locked_twice, retries=3, wait_s=0, sleep=lambda _: None) == "done"
    assert len(calls) == 3

    def broken() -> str:
        calls.append(1)
        raise StoreError("database unavailable: disk I/O error")

    calls.clear()
    with pytest.raises(StoreError, match="disk I/O"):
        when_unlocked("step", broken, retries=3, wait_s=0, sleep=lambda _: None)
    assert len(calls) == 1  # not a lock: no retry


def test_read_only_commands_answer_while_another_writer_holds_the_store(site: AppContext) -> None:
    """A reader never waits for the write lock: with a writer holding the store past the
    busy timeout, each still answers (a scheduler down for hours included: telling the
    admins is a write, left for the next check)."""
    long_ago = datetime(2025, 5, 25, tzinfo=UTC)
    with site.store.session() as session:
        heartbeat_repo.beat(session, holder="host:1", started_at=long_ago, at=long_ago, jobs=[])
    runner = CliRunner()
    with another_writer(site):
        for argv in READ_ONLY:
            result = runner.invoke(app, argv)
            assert result.exit_code == 0, (argv, result.stderr)
    status = runner.invoke(app, ["feeds", "status", "--json"])  # the lock is gone: told now
    assert status.exit_code == 0
    with site.store.read() as session:
        assert session.query(OutboxMessage).count() >= 1
