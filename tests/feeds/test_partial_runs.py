"""Partial feeds stay partial (issue 12, point 6), against a real local HTTP server.

One FFWC station answering 404 (or bad data) makes that station missing and the rest of the run
proceeds; the run is recorded as "partial" and shown so by `agam feeds status`. The triggers
still judge the stations that are there, and a rule reading a missing station is "unknown",
never "not met".
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.settings import load_settings
from agam.core.timeutil import SteppedClock
from agam.pipeline.context import AppContext
from agam.pipeline.evaluate import latest_forecasts
from agam.pipeline.health import feed_health
from agam.pipeline.ingest import ingest
from boundaries.context import LayerUnionContext
from boundaries.layer import UnionLayer
from store import feed_repo
from triggers.engine import evaluate, load_rule_sets

FFWC = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "ffwc"
BAHADURABAD = (FFWC / "forecast-SW46.9L.json").read_text()
AS_OF = datetime(2020, 6, 7, 6, 0, tzinfo=UTC)  # FFWC issued 00:00 UTC; rules allow 30 h
FORECAST = "/data_load/seven-days-forecast-waterlevel-by-station/{}/"


def _lowered(body: str, metres: float) -> str:
    """Bahadurabad's real forecast shape, `metres` lower (a Padma station's range)."""
    rows = json.loads(body)
    for row in rows:
        row["waterlevel"] = f"{float(row['waterlevel']) - metres:.2f}"
    return json.dumps(rows)


@pytest.fixture
def ctx(config_path: Path, httpserver: HTTPServer) -> Iterator[AppContext]:
    config_path.write_text(
        config_path.read_text()
        + (
            "\n[feeds.ffwc]\ninterval_minutes = 180\nmax_age_hours = 30\n"
            f"base_url = '{httpserver.url_for('/data_load/')}'\n"
            "retries = 0\nbackoff_factor_s = 0\nread_timeout_s = 2\nconnect_timeout_s = 2\n"
        ),
        encoding="utf-8",
    )
    # The pipeline's clock at issue time + 6 h: what a live run on 7 June 2020 saw.
    context = AppContext(load_settings(config_path), clock=SteppedClock(AS_OF))
    context.store.upgrade()
    yield context
    context.store.dispose()


def _serve(httpserver: HTTPServer, **forecasts: tuple[int, str]) -> None:
    """Station list and observed levels, then (status, body) per FFWC id."""
    httpserver.expect_request(
        "/data_load/stations-2025/", query_string="format=json"
    ).respond_with_data((FFWC / "stations-2025.json").read_bytes())
    httpserver.expect_request("/data_load/observed/").respond_with_data(
        (FFWC / "observed.json").read_bytes()
    )
    for ffwc_id, (status, body) in forecasts.items():
        httpserver.expect_request(FORECAST.format(ffwc_id.lstrip("_"))).respond_with_data(
            body, status=status, content_type="application/json"
        )


def _stage_states(ctx: AppContext, layer: UnionLayer) -> dict[str, tuple[str, str]]:
    [flood] = [s for s in load_rule_sets() if s.id == "ocha_cerf_flood_2025"]
    results = evaluate([flood], latest_forecasts(ctx, AS_OF), LayerUnionContext(layer), AS_OF)
    return {r.stage_id: (r.result.state, r.result.summary) for r in results}


def test_one_station_404_and_one_with_bad_data_leave_bahadurabad_judged(
    ctx: AppContext, httpserver: HTTPServer, union_layer: UnionLayer
) -> None:
    _serve(
        httpserver,
        _46=(200, BAHADURABAD),
        _93=(404, '{"detail": "Not found."}'),
        _95=(200, '[{"fc_date": "2020-06-07T06:00:00", "waterlevel": 1e308}]'),
    )
    outcome = ingest(ctx, "ffwc", trigger="test")
    assert outcome.outcome == "partial", outcome.error
    assert outcome.forecast_run_id is not None
    assert outcome.new_forecast  # a partial forecast is judged like any new one
    assert "SW91.9R missing_station" in (outcome.error or "")
    assert "HTTP 404" in (outcome.error or "")
    assert "SW93.5L missing_station" in (outcome.error or "")
    with ctx.store.session() as session:
        [run] = feed_repo.recent_runs(session, "ffwc")
        assert (run.outcome, run.forecast_run_id) == ("partial", outcome.forecast_run_id)
        stored = feed_repo.get_forecast(session, outcome.forecast_run_id)
        assert stored is not None
        assert not stored.complete
        assert {q["subject"] for q in stored.quality} == {"SW91.9R", "SW93.5L"}
        assert "1e+308 is outside the physical range" in json.dumps(stored.quality)
    forecast = latest_forecasts(ctx, AS_OF)["ffwc"]
    assert list(forecast.data["station"].values) == ["SW46.9L"]

    states = _stage_states(ctx, union_layer)
    jamuna_state, jamuna_text = states["FLOOD_JAMUNA_ACTION"]
    assert jamuna_state == "not_met"  # judged on Bahadurabad's levels (~17.3 m < 20.35 m)
    assert "Bahadurabad" in jamuna_text
    padma_state, padma_text = states["FLOOD_PADMA_ACTION"]
    assert padma_state == "unknown"  # Mawa is missing: never "not met"
    assert "SW93.5L" in padma_text

    health = {h.feed_id: h for h in feed_health(ctx, as_of=AS_OF)}["ffwc"]
    assert health.partial
    assert not health.failing
    assert health.missing_subjects() == ["SW91.9R", "SW93.5L"]


def test_bahadurabad_missing_gives_unknown_never_not_met(
    ctx: AppContext, httpserver: HTTPServer, union_layer: UnionLayer
) -> None:
    _serve(
        httpserver,
        _46=(404, '{"detail": "Not found."}'),
        _93=(200, _lowered(BAHADURABAD, 10.0)),
        _95=(200, _lowered(BAHADURABAD, 11.0)),
    )
    outcome = ingest(ctx, "ffwc", trigger="test")
    assert outcome.outcome == "partial", outcome.error
    forecast = latest_forecasts(ctx, AS_OF)["ffwc"]
    assert list(forecast.data["station"].values) == ["SW91.9R", "SW93.5L"]
    states = _stage_states(ctx, union_layer)
    state, text = states["FLOOD_JAMUNA_ACTION"]
    assert state == "unknown", text
    assert "SW46.9L water_level_m is missing" in text
    assert states["FLOOD_PADMA_ACTION"][0] == "not_met"  # Mawa is there and below DL + 0.5 m


def test_every_station_failing_fails_the_run_and_keeps_the_last_good(
    ctx: AppContext, httpserver: HTTPServer
) -> None:
    _serve(httpserver, _46=(200, BAHADURABAD), _93=(404, "{}"), _95=(404, "{}"))
    good = ingest(ctx, "ffwc", trigger="test")
    assert good.outcome == "partial"
    httpserver.clear()
    ctx.clock.now = AS_OF.replace(hour=9)  # type: ignore[attr-defined]  # three hours on
    _serve(httpserver, _46=(404, "{}"), _93=(404, "{}"), _95=(200, "[{"))
    failed = ingest(ctx, "ffwc", trigger="test")
    assert failed.outcome == "failed"
    assert "no followed station is usable" in (failed.error or "")
    assert "SW93.5L" in (failed.error or "")
    assert "not valid JSON" in (failed.error or "")
    with ctx.store.session() as session:
        assert feed_repo.status_row(session, "ffwc").latest_forecast_run_id == good.forecast_run_id
    health = {h.feed_id: h for h in feed_health(ctx, as_of=AS_OF)}["ffwc"]
    assert health.failing
    assert health.partial  # the forecast still served is the partial one


def test_feeds_status_shows_a_partial_run(ctx: AppContext, httpserver: HTTPServer) -> None:
    _serve(httpserver, _46=(200, BAHADURABAD), _93=(404, "{}"), _95=(503, "down"))
    assert ingest(ctx, "ffwc", trigger="test").outcome == "partial"
    runner = CliRunner()
    result = runner.invoke(app, ["feeds", "status", "--json"])
    assert result.exit_code == 0, result.stderr
    row = next(r for r in json.loads(result.stdout)["feeds"] if r["feed_id"] == "ffwc")
    assert row["partial"] is True
    assert {q["subject"] for q in row["quality"]} == {"SW91.9R", "SW93.5L"}
    assert any("HTTP 503" in q["message"] for q in row["quality"])
    table = runner.invoke(app, ["feeds", "status"])  # one row: ffwc is the only feed here
    assert table.exit_code == 0, table.stderr
    assert "partial" in table.stdout
    assert "SW93.5L" in table.stdout


GLOFAS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "glofas"
GLOFAS_AS_OF = datetime(2020, 6, 25, 12, 0, tzinfo=UTC)


def _broken_glofas_run() -> bytes:
    """The fixture run with member 7 garbage (-500,000 m³/s) and the 72 h step infinite."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.nc"
        source.write_bytes((GLOFAS / "glofas_fc_20200625.nc").read_bytes())
        with xr.open_dataset(source, decode_timedelta=False) as ds:
            broken = ds.load()
        broken["dis24"].loc[{"number": 7}] = -500_000.0
        broken["dis24"].loc[{"forecast_period": 72}] = np.inf
        target = Path(folder) / "out.nc"
        broken.to_netcdf(target, engine="netcdf4")
        return target.read_bytes()


def test_a_failed_glofas_member_and_timestep_make_a_partial_run(
    config_path: Path, httpserver: HTTPServer, union_layer: UnionLayer
) -> None:
    httpserver.expect_request("/mirror/glofas_20200625.nc").respond_with_data(
        _broken_glofas_run(), content_type="application/x-netcdf"
    )
    config_path.write_text(
        config_path.read_text()
        + (
            "\n[feeds.glofas]\ninterval_minutes = 1440\nmax_age_hours = 36\n"
            f"mirror_url = '{httpserver.url_for('/mirror/')}glofas_{{date:%Y%m%d}}.nc'\n"
            "retries = 0\n"
        ),
        encoding="utf-8",
    )
    ctx = AppContext(load_settings(config_path), clock=SteppedClock(GLOFAS_AS_OF))
    ctx.store.upgrade()
    try:
        outcome = ingest(ctx, "glofas", trigger="test")
        assert outcome.outcome == "partial", outcome.error
        forecast = latest_forecasts(ctx, GLOFAS_AS_OF)["glofas"]
        messages = [q.message for q in forecast.quality]
        assert "50 of 51 ensemble members present" in messages
        assert any(m.startswith("Bahadurabad: 1 of 15 lead times without data") for m in messages)
        assert any(m.startswith("Bahadurabad: ") and "kept as missing" in m for m in messages), (
            messages
        )
        cube = forecast.data["discharge_m3s"].sel(station="Bahadurabad").values
        assert not np.isinf(cube).any()
        assert np.nanmin(cube) >= 0  # no garbage member left to compare
        assert np.isnan(cube[7]).all()
        [flood] = [s for s in load_rule_sets() if s.id == "ocha_cerf_flood_2025"]
        results = evaluate(
            [flood], {"glofas": forecast}, LayerUnionContext(union_layer), GLOFAS_AS_OF
        )
        readiness = next(r for r in results if r.stage_id == "FLOOD_JAMUNA_READINESS")
        days = readiness.result.observed["days"]
        assert {d["valid_members"] for d in days} <= {0, 50}  # the rest of the run is judged
        assert readiness.result.state == "unknown"  # a partial station is never "not met"
    finally:
        ctx.store.dispose()
