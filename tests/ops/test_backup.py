"""`agam db backup` / `agam db restore`: the commands docs/operations.md tells operators to
run, exercised on SQLite and PostgreSQL: a restored store has the same alerts, lists and
audit chain (verified against the backup's manifest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agam.core.settings import load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.evaluate import run_evaluation
from agam.pipeline.ingest import ingest
from store import alert_repo, audit

AGAM = [sys.executable, "-m", "agam.cli.main"]
FETCHED = datetime(2025, 5, 25, 9, 30, tzinfo=UTC)
AS_OF = datetime(2025, 5, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def empty_database(database_url: str, another_postgres_database: Callable[[], str]) -> str:
    """Where to restore: a new SQLite file, or a second empty PostgreSQL database."""
    return "" if database_url.startswith("sqlite") else another_postgres_database()


def agam(config: Path, *args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AGAM_CONFIG=str(config))
    env.pop("AGAM_DATABASE_URL", None)
    if url:
        env["AGAM_DATABASE_URL"] = url
    return subprocess.run(
        [*AGAM, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
def test_backup_and_restore_round_trip(
    config_path: Path,
    tmp_path: Path,
    remal_drop: Path,
    database_url: str,
    empty_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "" if database_url.startswith("sqlite") else database_url
    if url:
        monkeypatch.setenv("AGAM_DATABASE_URL", url)
    config_path.write_text(
        config_path.read_text()
        + "\n[feeds.bmd]\ninterval_minutes = 10\nmax_age_hours = 12\n"
        + f"drop_folder = '{remal_drop}'\n",
        encoding="utf-8",
    )
    ctx = AppContext(load_settings(config_path), clock=lambda: FETCHED)
    ctx.store.upgrade()
    assert ingest(ctx, "bmd").outcome == "success"
    run_evaluation(ctx, AS_OF)
    with ctx.store.read() as session:
        alerts = sorted(
            (a.rule_set_id, a.district_pcode, a.stage) for a in alert_repo.open_alerts(session)
        )
        head = audit.verify(session).head
    ctx.store.dispose()
    assert alerts

    backup_dir = tmp_path / "backup-2025-05-25"
    made = agam(config_path, "db", "backup", str(backup_dir), "--json", url=url)
    assert made.returncode == 0, made.stderr
    manifest = json.loads(made.stdout)
    assert manifest["audit_head"] == head
    assert (backup_dir / "raw").is_dir()
    again = agam(config_path, "db", "backup", str(backup_dir), url=url)
    assert again.returncode == 8  # never overwrites a backup
    assert "is not empty" in again.stderr

    # Restore on a new site: a new data dir (and, on PostgreSQL, a new empty database).
    site = tmp_path / "restored"
    site.mkdir()
    restored_config = site / "config.toml"
    restored_config.write_text('[app]\ndata_dir = "data"\nlog_level = "WARNING"\n', "utf-8")
    done = agam(restored_config, "db", "restore", str(backup_dir), "--json", url=empty_database)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["restored"] is True
    twice = agam(restored_config, "db", "restore", str(backup_dir), url=empty_database)
    assert twice.returncode == 8  # never restores over a store

    verify = agam(restored_config, "audit", "verify", "--json", url=empty_database)
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["head"] == head
    listed = agam(restored_config, "alerts", "list", "--json", url=empty_database)
    assert listed.returncode == 0, listed.stderr
    restored = sorted(
        (a["rule_set"], a["district"], a["stage"])
        for a in json.loads(listed.stdout)
        if a["status"] == "open"
    )
    assert restored == alerts
    assert any((site / "data" / "raw").rglob("*"))
