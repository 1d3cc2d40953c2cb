"""Fetch -> keep -> parse -> record against a real local HTTP server with recorded payloads.

Each failure mode ends in a recorded feed run, and the last good forecast stays the one served.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from agam.core.settings import load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.evaluate import latest_forecasts
from agam.pipeline.health import feed_health
from agam.pipeline.ingest import ingest
from store import feed_repo

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
EVENTLIST = (FEEDS / "gdacs" / "eventlist-TC.json").read_bytes()
GEOMETRY = (FEEDS / "gdacs" / "geometry-TC.json").read_bytes()
LIST_PATH = "/gdacsapi/api/events/geteventlist/EVENTS4APP"
GEO_PATH = "/gdacsapi/api/polygons/getgeometry"


@pytest.fixture
def ctx(config_path: Path, httpserver: HTTPServer) -> Iterator[AppContext]:
    config_path.write_text(
        config_path.read_text()
        + (
            "\n[feeds.gdacs]\ninterval_minutes = 30\nmax_age_hours = 6\n"
            f"base_url = '{httpserver.url_for('/gdacsapi/api/')}'\n"
            "retries = 2\nbackoff_factor_s = 0\nread_timeout_s = 0.5\nconnect_timeout_s = 2\n"
        ),
        encoding="utf-8",
    )
    context = AppContext(load_settings(config_path))
    context.store.upgrade()
    yield context
    context.store.dispose()


def _truncating_server(body: bytes) -> int:
    """Announces the whole body, sends a third of it, closes: what a dropped link looks like."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)

    def serve() -> None:
        for _ in range(8):  # the client retries; answer each attempt the same way
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                head = f"Content-Length: {len(body)}\r\n\r\n".encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + head
                    + body[: len(body) // 3]
                )
        sock.close()

    threading.Thread(target=serve, daemon=True).start()
    return int(sock.getsockname()[1])


def _context_for(ctx: AppContext, base_url: str) -> AppContext:
    """The same site and store, with GDACS pointed elsewhere."""
    path = ctx.settings.config_path
    text = path.read_text().replace(str(ctx.settings.feeds["gdacs"].base_url), base_url)
    path.write_text(text, encoding="utf-8")
    return AppContext(load_settings(path))


def _serve_ok(httpserver: HTTPServer, etag: str = '"v1"') -> None:
    httpserver.expect_request(LIST_PATH).respond_with_data(
        EVENTLIST, content_type="application/json", headers={"ETag": etag}
    )
    httpserver.expect_request(GEO_PATH).respond_with_data(GEOMETRY, content_type="application/json")


def _runs(ctx: AppContext) -> list[Any]:
    with ctx.store.session() as session:
        return list(reversed(feed_repo.recent_runs(session, "gdacs")))


def _latest_id(ctx: AppContext) -> int | None:
    with ctx.store.session() as session:
        return feed_repo.status_row(session, "gdacs").latest_forecast_run_id


def _good_run(ctx: AppContext, httpserver: HTTPServer) -> int:
    _serve_ok(httpserver)
    outcome = ingest(ctx, "gdacs")
    # GDACS gives no per-point wind: its forecasts are always partial, and the run says so.
    assert outcome.outcome == "partial", outcome.error
    assert "per-point wind is unknown" in (outcome.error or "")
    httpserver.clear()
    assert outcome.forecast_run_id is not None
    return outcome.forecast_run_id


def test_success_keeps_raw_and_processed(ctx: AppContext, httpserver: HTTPServer) -> None:
    run_id = _good_run(ctx, httpserver)
    with ctx.store.session() as session:
        run = feed_repo.get_forecast(session, run_id)
        assert run is not None
        raw_path, processed = Path(run.raw_path), Path(run.processed_path or "")
        assert run.issued_at.isoformat() == "2026-07-28T03:00:00+00:00"  # the advisory
    assert raw_path.exists()
    bundle = json.loads(raw_path.read_text())
    assert bundle["parts"][0]["name"] == "eventlist"
    assert bundle["parts"][0]["body"].encode() == EVENTLIST  # upstream bytes kept verbatim
    assert json.loads((processed / "summary.json").read_text())["name"] == "GENEVIEVE-26"
    assert (processed / "meta.json").is_file()  # the parsed forecast, kept once
    # The same upstream again: stored once, recorded as unchanged.
    _serve_ok(httpserver)
    again = ingest(ctx, "gdacs")
    assert again.outcome == "unchanged"
    assert again.forecast_run_id == run_id


def test_304_sends_validators_and_changes_nothing(ctx: AppContext, httpserver: HTTPServer) -> None:
    run_id = _good_run(ctx, httpserver)
    httpserver.expect_request(LIST_PATH, headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    outcome = ingest(ctx, "gdacs")
    assert outcome.outcome == "not_modified"
    assert _latest_id(ctx) == run_id


def test_429_then_success(ctx: AppContext, httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(LIST_PATH).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request(LIST_PATH).respond_with_data(
        EVENTLIST, content_type="application/json"
    )
    httpserver.expect_request(GEO_PATH).respond_with_data(GEOMETRY, content_type="application/json")
    assert ingest(ctx, "gdacs").outcome == "partial"


@pytest.mark.parametrize("case", ["500", "timeout", "truncated", "malformed", "schema"])
def test_failures_are_recorded_and_last_good_forecast_stays(
    ctx: AppContext, httpserver: HTTPServer, case: str
) -> None:
    good = _good_run(ctx, httpserver)
    if case == "500":
        httpserver.expect_request(LIST_PATH).respond_with_data("boom", status=500)
        expected = "HTTP 500"
    elif case == "timeout":

        def slow(_request: Request) -> Response:
            time.sleep(1.2)
            return Response(EVENTLIST, content_type="application/json")

        httpserver.expect_request(LIST_PATH).respond_with_handler(slow)
        expected = "timed out"
    elif case == "truncated":
        port = _truncating_server(EVENTLIST)
        ctx = _context_for(ctx, f"http://127.0.0.1:{port}/gdacsapi/api/")
        expected = "truncated"
    elif case == "malformed":
        httpserver.expect_request(LIST_PATH).respond_with_data(
            EVENTLIST[:-40], content_type="application/json"
        )
        expected = "not valid JSON"
    else:
        httpserver.expect_request(LIST_PATH).respond_with_json({"events": []})
        expected = "unknown schema"
    outcome = ingest(ctx, "gdacs")
    assert outcome.outcome == "failed"
    assert expected in (outcome.error or "")
    assert _latest_id(ctx) == good  # never replaced by a failure
    runs = _runs(ctx)
    assert [r.outcome for r in runs] == ["partial", "failed"]
    assert expected in (runs[-1].error or "")
    health = {h.feed_id: h for h in feed_health(ctx)}["gdacs"]
    assert health.failing
    assert health.latest_issued_at is not None


def test_stale_feed_is_reported(ctx: AppContext, httpserver: HTTPServer) -> None:
    _good_run(ctx, httpserver)
    health = {h.feed_id: h for h in feed_health(ctx)}["gdacs"]
    assert health.state == "stale"  # issued 2026-07-28, max age 6 h, judged now
    assert not health.failing


def test_evaluation_reads_the_processed_forecast_never_the_raw(
    ctx: AppContext, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One parse per artifact: after ingest, judging reads the processed copy back."""
    _good_run(ctx, httpserver)
    feed = ctx.feed("gdacs")
    parsed = feed.parse

    def no_parse(raw: object) -> object:
        raise AssertionError("re-parsed from raw")

    monkeypatch.setattr(feed, "parse", no_parse)
    ctx.forget_forecasts()
    forecast = latest_forecasts(ctx, datetime.now(UTC))["gdacs"]
    assert forecast.footprints is not None
    assert forecast.payload["name"] == "GENEVIEVE-26"
    assert forecast.issued_at.isoformat() == "2026-07-28T03:00:00+00:00"  # the advisory time
    # A run stored before processed copies existed is parsed from raw once, then kept.
    with ctx.store.session() as session:
        run = feed_repo.latest_forecast(session, "gdacs", snapshot=True)
        assert run is not None
        shutil.rmtree(run.processed_path or "")
    monkeypatch.setattr(feed, "parse", parsed)
    ctx.forget_forecasts()
    assert latest_forecasts(ctx, datetime.now(UTC))["gdacs"].payload["name"] == "GENEVIEVE-26"
    monkeypatch.setattr(feed, "parse", no_parse)
    ctx.forget_forecasts()
    assert latest_forecasts(ctx, datetime.now(UTC))["gdacs"].payload["name"] == "GENEVIEVE-26"
