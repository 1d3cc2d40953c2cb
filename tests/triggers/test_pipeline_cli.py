"""The evaluation pipeline and its CLI on stored forecasts: alerts raised once, explained."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.settings import load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.ingest import ingest
from store import alert_repo, audit

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
runner = CliRunner()


@pytest.mark.parametrize("wind", ["-100", "1e308", "nan"])
def test_cyclone_landfall_refuses_a_wind_no_storm_has(config_path: Path, wind: str) -> None:
    args = ["cyclone", "landfall", "--lon", "89.6", "--lat", "21.8", "--wind-kmh", wind]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--wind-kmh" in result.stderr


def test_cyclone_landfall_json(config_path: Path) -> None:
    result = runner.invoke(
        app,
        ["cyclone", "landfall", "--lon", "89.6", "--lat", "21.8", "--wind-kmh", "150", "--json"],
    )
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    unions = out["unions"]
    assert {u["adm2_en"] for u in unions} == {
        "Satkhira",
        "Patuakhali",
        "Bhola",
        "Noakhali",
        "Barguna",
        "Khulna",
    }
    distances = [u["distance_km"] for u in unions]
    winds = [u["wind_kmh"] for u in unions]
    assert distances == sorted(distances)
    assert winds == sorted(winds, reverse=True)
    assert unions[0]["wind_kmh"] > 118
    assert unions[0]["above_threshold"] is True
    assert unions[-1]["above_threshold"] is False
    assert out["model"]["distance_to"] == "boundary_line"
    one = runner.invoke(
        app,
        [
            "cyclone",
            "landfall",
            "--lon",
            "89.6",
            "--lat",
            "21.8",
            "--wind-kmh",
            "150",
            "--district",
            "Barguna",
            "--json",
        ],
    )
    assert {u["adm2_en"] for u in json.loads(one.stdout)["unions"]} == {"Barguna"}


def test_triggers_list_and_explain(config_path: Path) -> None:
    listed = json.loads(runner.invoke(app, ["triggers", "list", "--json"]).stdout)
    assert {s["rule_set"] for s in listed} == {
        "ocha_cerf_flood_2025",
        "ocha_cerf_cyclone_2025",
        "bdrcs_cyclone_eap_2021",
    }
    explained = runner.invoke(app, ["triggers", "explain", "FLOOD_JAMUNA_ACTION"])
    assert explained.exit_code == 0
    assert '"offset_m": 0.85' in explained.stdout
    assert runner.invoke(app, ["triggers", "explain", "NOPE"]).exit_code == 1


def test_bulletin_to_alerts_idempotent(config_path: Path, remal_drop: Path) -> None:
    drop = remal_drop  # the Remal-like bulletin replayed in 2025 (tests/conftest.py)
    config_path.write_text(
        config_path.read_text()
        + (f"\n[feeds.bmd]\ninterval_minutes = 10\nmax_age_hours = 12\ndrop_folder = '{drop}'\n"),
        encoding="utf-8",
    )
    # Fetched when it was issued (09:00 UTC): --as-of sees only what had arrived by then.
    fetched = datetime(2025, 5, 25, 9, 30, tzinfo=UTC)
    ctx = AppContext(load_settings(config_path), clock=lambda: fetched)
    ctx.store.upgrade()
    assert ingest(ctx, "bmd").outcome == "success"
    as_of = "2025-05-25T12:00:00Z"
    first = runner.invoke(app, ["evaluate", "--as-of", as_of, "--json"])
    assert first.exit_code == 0, first.stderr
    out = json.loads(first.stdout)
    action = next(e for e in out["evaluations"] if e["rule"] == "CYCLONE_ACTION")
    assert action["state"] == "met"
    assert action["unions"]
    assert "2 of 5" not in action["explanation"]
    assert "5 of 5 models" in action["explanation"]
    raised = [c for c in out["alert_changes"] if c["change"] == "raised"]
    assert raised
    assert all(c["stage"] == "action" for c in raised)
    observational = next(e for e in out["evaluations"] if e["rule"] == "CYCLONE_OBSERVATIONAL")
    assert observational["state"] == "not_met"
    again = json.loads(runner.invoke(app, ["evaluate", "--as-of", as_of, "--json"]).stdout)
    assert again["alert_changes"] == []
    with ctx.store.session() as session:
        alerts = alert_repo.open_alerts(session)
        assert len(alerts) == len(raised)
        assert all(a.affected_unions for a in alerts)
        events = alert_repo.events(session, alerts[0].id)
        assert len(events) == 1
        assert "5 of 5 models" in events[0].explanation
        assert audit.verify(session).ok
    shutil.rmtree(drop)


def test_a_person_closes_an_alert_with_a_reason(
    config_path: Path, remal_drop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    test_bulletin_to_alerts_idempotent(config_path, remal_drop)
    monkeypatch.setenv("AGAM_NEW_PASSWORD", "a long password")
    monkeypatch.setenv("AGAM_PASSWORD", "a long password")
    assert runner.invoke(app, ["users", "bootstrap", "admin"]).exit_code == 0
    add = ["users", "add", "dmo.barguna", "--role", "officer", "--district", "BD1004"]
    assert runner.invoke(app, [*add, "--user", "admin"]).exit_code == 0
    alerts = json.loads(runner.invoke(app, ["alerts", "list", "--json"]).stdout)
    barguna = next(a for a in alerts if a["district"] == "BD1004")
    other = next(a for a in alerts if a["district"] != "BD1004")
    refused = runner.invoke(
        app, ["alerts", "close", str(other["alert_id"]), "--user", "dmo.barguna", "--reason", "x"]
    )
    assert refused.exit_code == 8
    empty = runner.invoke(
        app, ["alerts", "close", str(barguna["alert_id"]), "--user", "dmo.barguna", "--reason", " "]
    )
    assert empty.exit_code == 8
    for hostile in ("x" * 1001, "fell\x1b]0;pwned\x07"):  # kept for good: bounded and plain
        refused = runner.invoke(
            app,
            ["alerts", "close", str(barguna["alert_id"]), "--user", "dmo.barguna",
             "--reason", hostile],
        )  # fmt: skip
        assert refused.exit_code == 8
        assert "at most 1,000 characters" in refused.stderr
    closed = runner.invoke(
        app,
        [
            "alerts",
            "close",
            str(barguna["alert_id"]),
            "--user",
            "dmo.barguna",
            "--reason",
            "landfall further east",
        ],
    )
    assert closed.exit_code == 0, closed.stderr
    after = {
        a["alert_id"]: a
        for a in json.loads(runner.invoke(app, ["alerts", "list", "--json"]).stdout)
    }
    assert after[barguna["alert_id"]]["status"] == "closed"
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_backtest_on_the_real_glofas_reanalysis(config_path: Path) -> None:
    data = Path(__file__).resolve().parents[2] / "agam" / "data" / "glofas_reanalysis"
    args = ["backtest", "--rules", "ocha_cerf_flood_2025", "--json"]
    for year in (2018, 2019, 2020):
        args += ["--series", str(data / f"{year}.csv")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    fired = {(r["stage_id"], r["year"]): r["first_fired"] for r in rows}
    # Real GloFAS reanalysis at Bahadurabad as a perfect forecast, RP5 = 100,000 m³/s:
    # 2019 is above it on 16-19 Jul, so the 15-day window sees it from the 3 Jul issue;
    # 2018 peaks at 61,700 and 2020 stays below in this series.
    assert fired[("FLOOD_JAMUNA_READINESS", 2019)] == "2019-07-03"
    assert fired[("FLOOD_JAMUNA_READINESS", 2018)] is None
    assert fired[("FLOOD_JAMUNA_READINESS", 2020)] is None
    assert {r["station"] for r in rows} == {"Bahadurabad"}
    missing = runner.invoke(app, ["backtest", "--rules", "nope", "--series", str(data)])
    assert missing.exit_code == 1


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"day,dis24_Bahadurabad\n2019-07-01,5\n", "row 1: field date: missing column"),
        (b"date,dis24_Bahadurabad\n2019-07-01,5\n01/07/2019,6\n", "row 3: field date: '01/07"),
        (b"date,dis24_Bahadurabad\n2019-07-01,5\n2019-07-02,high\n", "row 3: field dis24_Bah"),
        (b"date,dis24_Bahadurabad\n2019-07-01,nan\n", "row 2: field dis24_Bahadurabad: 'nan'"),
        (b"date,dis24_Bahadurabad\n2019-07-01,-4\n", "row 2: field dis24_Bahadurabad: '-4' is"),
        (b"date,x\n\xff\xfe\x00bad\n", "not a readable CSV (not UTF-8 text)"),
        (b"", "not a readable CSV (EmptyDataError)"),
    ],
)
def test_a_bad_series_file_is_one_line_naming_the_row_and_field(
    config_path: Path, tmp_path: Path, content: bytes, error: str
) -> None:
    """A backtest series was read by pandas as it came: a missing date column, a date in
    another format or a word among the numbers ended in a traceback; NaN was taken."""
    path = tmp_path / "series.csv"
    path.write_bytes(content)
    args = ["backtest", "--rules", "ocha_cerf_flood_2025", "--series", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 6, result.stderr
    assert f"{path}: {error}" in " ".join(result.stderr.split())
