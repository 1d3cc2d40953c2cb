"""`agam replay` and `agam backtest --observed` on a stored cyclone season."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from agam.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGAM_DATA_DIR", raising=False)
    monkeypatch.delenv("AGAM_DATABASE_URL", raising=False)
    monkeypatch.delenv("AGAM_CONFIG", raising=False)


def test_replay_json_and_progress(season: SimpleNamespace, tmp_path: Path) -> None:
    into = tmp_path / "replayed"
    args = ["replay", "--from", "2026-05-01", "--to", "2026-05-31", "--into", str(into)]
    result = runner.invoke(app, [*args, "--config", str(season.config), "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["steps"] == 6
    assert out["data_dir"] == str(into.resolve())
    assert out["start"] == "2026-05-01T00:00:00Z"
    assert out["end"] == "2026-05-31T23:59:59Z"
    assert {a["stage"] for a in out["alerts"]} == {"readiness", "action"}  # both stood down
    assert {"rule_set": "ocha_cerf_cyclone_2025", "district": "BD4087", "stage": "action",
            "at": "2026-05-21T06:00:00Z"} in out["first_reached"]  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "[1/6] bmd issued 2026-05-01 11:00 UTC+6: success, 4 alert changes"
    assert lines[1] == "[2/6] bmd issued 2026-05-02 11:00 UTC+6: success, 0 alert changes"
    assert len(lines) == 6


def test_replay_table_default_folder_and_errors(season: SimpleNamespace) -> None:
    base = ["replay", "--config", str(season.config)]
    window = ["--from", "2026-05-20T00:00:00Z", "--to", "2026-05-22T00:00:00+06:00"]
    result = runner.invoke(app, [*base, *window, "--rule-set", "ocha_cerf_cyclone_2025"])
    assert result.exit_code == 0, result.stderr
    assert "replayed 2 forecasts" in result.stdout
    folder = season.ctx.settings.data_dir / "replay-20260520T0000Z-20260521T1800Z"
    assert (folder / "agam.sqlite3").is_file()
    again = runner.invoke(app, [*base, *window])
    assert again.exit_code == 3
    assert "already holds forecasts" in again.stderr
    bad = runner.invoke(app, [*base, "--from", "May 1", "--to", "2026-05-31"])
    assert bad.exit_code == 2
    assert "--from" in bad.stderr
    unknown = runner.invoke(
        app, [*base, *window, "--rule-set", "nope", "--into", str(season.root / "x")]
    )
    assert unknown.exit_code == 6


def test_backtest_observed_json_and_table(season: SimpleNamespace, tmp_path: Path) -> None:
    observed = tmp_path / "observed.csv"
    observed.write_text(
        "event_id,start,end,districts,description\n"
        "cyclone-may,2026-05-23,2026-05-24,,CONSTRUCTED\n"
        "surge-sep,2026-09-10,2026-09-12,BD2075,CONSTRUCTED\n",
        encoding="utf-8",
    )
    args = ["backtest", "--rules", "ocha_cerf_cyclone_2025", "--observed", str(observed)]
    args += ["--config", str(season.config)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["lead_window_days"] == 15
    assert out["events"][0]["stages"]["readiness"]["lead_days"] == 2.5
    assert out["totals"]["readiness"]["false_alarms"] == 1
    narrow = json.loads(
        runner.invoke(app, [*args, "--json", "--start", "2026-05-15", "--end", "2026-05-31"]).stdout
    )
    assert narrow["evaluations"] == 3
    assert narrow["false_alarms"] == []
    with_alarm = runner.invoke(app, args)
    assert with_alarm.exit_code == 0, with_alarm.stderr
    assert "2026-05-01 12:00 UTC+6" in with_alarm.stdout
    table = runner.invoke(app, [*args, "--lead-window-days", "30"])
    assert table.exit_code == 0, table.stderr
    assert "hit (21.5" in table.stdout  # the table may wrap "d)" onto the next line
    assert "no false alarms" in table.stdout
    assert "6 evaluations of ocha_cerf_cyclone_2025; lead window 30 days" in table.stdout
    missing = runner.invoke(app, [*args[:2], "nope", *args[3:]])
    assert missing.exit_code == 1
    observed.write_text("event_id,start,end,districts,description\ne1,2026-05-24,x,,\n")
    broken = runner.invoke(app, args)
    assert broken.exit_code == 6
    assert f"{observed}: row 2: field end" in broken.stderr
