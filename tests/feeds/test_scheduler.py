"""`agam scheduler` as its own process: short interval, an injected failure, status after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from agam.cli.main import app

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
EVENTLIST = (FEEDS / "gdacs" / "eventlist-TC.json").read_bytes()
GEOMETRY = (FEEDS / "gdacs" / "geometry-TC.json").read_bytes()


def test_scheduler_survives_a_failure_and_reports_status(
    config_path: Path, httpserver: HTTPServer
) -> None:
    calls = {"n": 0}

    def eventlist(_request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:  # the first run fails
            return Response("upstream down", status=503)
        return Response(EVENTLIST, content_type="application/json")

    httpserver.expect_request("/api/events/geteventlist/EVENTS4APP").respond_with_handler(eventlist)
    httpserver.expect_request("/api/polygons/getgeometry").respond_with_data(
        GEOMETRY, content_type="application/json"
    )
    config_path.write_text(
        config_path.read_text()
        + (
            f"\n[feeds.gdacs]\ninterval_seconds = 1\nmax_age_hours = 6\nretries = 0\n"
            f"base_url = '{httpserver.url_for('/api/')}'\n"
        ),
        encoding="utf-8",
    )
    env = dict(os.environ, AGAM_CONFIG=str(config_path))
    done = subprocess.run(
        [sys.executable, "-m", "agam.cli.main", "scheduler", "--for-seconds", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "scheduler stopped after" in done.stdout
    result = CliRunner().invoke(app, ["feeds", "status", "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["scheduler"]["state"] == "not_running"  # it stopped after 5 s
    assert report["scheduler"]["stopped_cleanly"] is True
    assert report["scheduler"]["message"].startswith("scheduler not running since ")
    gdacs = next(row for row in report["feeds"] if row["feed_id"] == "gdacs")
    assert gdacs["last_failure_at"] is not None
    assert gdacs["last_success_at"] is not None
    assert gdacs["last_success_at"] > gdacs["last_failure_at"]
    assert gdacs["failing"] is False
    assert gdacs["latest_issued_at"] == "2026-07-28T03:00:00Z"
    assert gdacs["state"] == "stale"  # the recorded payload is months old
    assert calls["n"] >= 2
