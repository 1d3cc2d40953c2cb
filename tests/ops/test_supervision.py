"""A supervised pipeline, with real processes on SQLite and PostgreSQL:

- killed (SIGKILL) between committing alerts and proposing their lists, the next tick
  proposes the lists;
- a second scheduler on the same store waits as standby and takes over when the first dies;
- a scheduler that stopped beating is reported ("not running since ...") and the
  administrators are told once per outage.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agam.core.faults import CRASH_ENV
from agam.core.settings import load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.health import check_scheduler
from agam.pipeline.ingest import ingest
from store import alert_repo, audit, heartbeat_repo, list_repo, outbox_repo
from store.user_repo import add_user

AGAM = [sys.executable, "-m", "agam.cli.main"]
FETCHED = datetime(2025, 5, 25, 9, 30, tzinfo=UTC)
AS_OF = "2025-05-25T12:00:00Z"
FAST_HEARTBEAT = (
    "\n[scheduler]\nheartbeat_interval_s = 0.5\nstale_after_s = 3\nstandby_poll_s = 0.2\n"
)


@pytest.fixture
def site(
    config_path: Path, database_url: str, remal_drop: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AppContext]:
    """A store (SQLite or PostgreSQL) with the Remal-like bulletin ingested: evaluating it
    at AS_OF raises action alerts."""
    monkeypatch.setenv("AGAM_DATABASE_URL", database_url)
    config_path.write_text(
        config_path.read_text()
        + "\n[feeds.bmd]\ninterval_minutes = 600\nmax_age_hours = 12\n"
        + f"drop_folder = '{remal_drop}'\n"
        + FAST_HEARTBEAT,
        encoding="utf-8",
    )
    ctx = AppContext(load_settings(config_path), clock=lambda: FETCHED)
    ctx.store.upgrade()
    assert ingest(ctx, "bmd").outcome == "success"
    yield ctx
    ctx.store.dispose()


def agam(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AGAM, *args],
        env=dict(os.environ, **(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def lists_and_alerts(ctx: AppContext) -> tuple[list[int], dict[int, int]]:
    with ctx.store.read() as session:
        alerts = [a.id for a in alert_repo.open_alerts(session)]
        lists = {}
        for a in alert_repo.open_alerts(session):
            row = list_repo.latest_revision(session, a.id, a.district_pcode)
            if row is not None:
                lists[a.id] = row.id
    return alerts, lists


def wait_for(check: Callable[[], Any], timeout_s: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_killed_between_alert_and_list_heals_on_the_next_tick(site: AppContext) -> None:
    crashed = agam("evaluate", "--as-of", AS_OF, env={CRASH_ENV: "after_alert_commit"})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    alerts, lists = lists_and_alerts(site)
    assert alerts  # the alerts committed ...
    assert lists == {}  # ... and the process died before proposing any list
    # The next tick: a scheduler heartbeat (no new forecast arrives, nothing is evaluated).
    ticked = agam("scheduler", "--for-seconds", "4")
    assert ticked.returncode == 0, ticked.stderr
    assert "Traceback" not in ticked.stderr
    alerts_after, lists = lists_and_alerts(site)
    assert alerts_after == alerts
    assert sorted(lists) == sorted(alerts)  # every open action alert has its list now
    with site.store.read() as session:
        assert audit.verify(session).ok


@pytest.mark.slow
def test_the_next_evaluation_heals_too(site: AppContext) -> None:
    crashed = agam("evaluate", "--as-of", AS_OF, env={CRASH_ENV: "after_alert_commit"})
    assert crashed.returncode == -signal.SIGKILL
    again = agam("evaluate", "--as-of", AS_OF, "--json")
    assert again.returncode == 0, again.stderr
    alerts, lists = lists_and_alerts(site)
    assert alerts
    assert sorted(lists) == sorted(alerts)


def heartbeat_holder(ctx: AppContext) -> str | None:
    with ctx.store.read() as session:
        row = heartbeat_repo.get(session)
        return row.holder if row is not None and row.state == "running" else None


class Scheduler:
    """`agam scheduler` in its own process, its stderr collected as it comes."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [*AGAM, "scheduler", "--for-seconds", "180"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def stop(self, sig: int) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return code


@pytest.mark.slow
def test_standby_scheduler_takes_over_when_the_active_one_dies(site: AppContext) -> None:
    first = Scheduler()
    second: Scheduler | None = None
    try:
        wait_for(lambda: (heartbeat_holder(site) or "").endswith(f":{first.proc.pid}"), 120, "A")
        second = Scheduler()
        wait_for(lambda: "waiting as standby" in second.stderr, 120, "B on standby")
        time.sleep(1)
        assert (heartbeat_holder(site) or "").endswith(f":{first.proc.pid}")  # still A
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
        wait_for(
            lambda: (heartbeat_holder(site) or "").endswith(f":{second.proc.pid}"), 60, "takeover"
        )
        assert second.stop(signal.SIGTERM) == 0, second.stderr
        assert "Traceback" not in first.stderr + second.stderr
        with site.store.read() as session:
            row = heartbeat_repo.get(session)
            assert row is not None
            assert row.state == "stopped"
    finally:
        for proc in (first, second):
            if proc is not None and proc.proc.poll() is None:
                proc.stop(signal.SIGKILL)


def test_watchdog_reports_a_dead_scheduler_and_tells_admins_once(
    site: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    last_beat = datetime.now(UTC) - timedelta(hours=2)
    with site.store.session() as session:
        heartbeat_repo.beat(
            session, holder="host-a:4242", started_at=last_beat, at=last_beat, jobs=["feed:bmd"]
        )
        add_user(
            session,
            username="admin.ops",
            role="admin",
            districts=[],
            password=None,
            display_name="Ops",
            at=last_beat,
            email="ops@example.org",
        )
    first = agam("watchdog")
    assert first.returncode == 10
    assert "scheduler not running since" in first.stderr
    assert "no heartbeat; was host-a:4242" in first.stderr
    status = agam("feeds", "status")
    assert status.returncode == 0, status.stderr
    assert "warning: scheduler not running since" in status.stderr
    assert agam("watchdog").returncode == 10
    with site.store.read() as session:
        told = [m for m in outbox_repo.all_messages(session) if m.kind == "scheduler"]
    assert [(m.recipient, m.channel) for m in told] == [("admin.ops", "email")]  # once
    assert told[0].subject.startswith("[Agam] scheduler not running since")
    # notifications are off in this config: recorded, not pretended
    assert told[0].status == "not_configured"


def test_running_scheduler_is_reported_running(site: AppContext) -> None:
    with site.store.session() as session:
        now = site.now()  # the context's clock: a beat just now
        heartbeat_repo.beat(session, holder="host-b:7", started_at=now, at=now, jobs=[])
    health = check_scheduler(site)  # in-process: a subprocess starts slower than 3 s
    assert health.state == "running"
    assert health.sentence().startswith("scheduler running on host-b:7")
    with site.store.read() as session:
        assert outbox_repo.all_messages(session) == []
