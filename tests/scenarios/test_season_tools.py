"""Backtest and replay on the bundled flood season (the scenario played into a store)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

from agam.cli.main import app
from agam.pipeline.context import AppContext
from agam.pipeline.replay import alert_overview, replay, replay_settings

runner = CliRunner()
OBSERVED = Path(str(resources.files("agam.scenarios") / "data" / "observed_flood_2026.csv"))


def backtest(flood_site, *extra: str):
    args = ["backtest", "--rules", "ocha_cerf_flood_2025", "--observed", str(OBSERVED)]
    return runner.invoke(app, [*args, *extra, "--config", str(flood_site.config)])


def test_backtest_on_the_bundled_season(flood_site) -> None:
    result = backtest(flood_site, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    table = {
        (e["event_id"], stage): (cell["result"], cell["lead_days"])
        for e in report["events"]
        for stage, cell in e["stages"].items()
    }
    assert table == {
        # readiness 27 Jun 09:30 UTC, action 2 Jul 03:15 UTC; onset 6 Jul 00:00 BST
        ("jamuna-2026-07", "readiness"): ("hit", 8.4),
        ("jamuna-2026-07", "action"): ("hit", 3.6),
        ("padma-2026-07", "readiness"): ("miss", None),
        ("padma-2026-07", "action"): ("miss", None),
    }
    assert report["false_alarms"] == []
    assert {s: (t["hits"], t["misses"]) for s, t in report["totals"].items()} == {
        "readiness": (1, 1),
        "action": (1, 1),
    }
    text = backtest(flood_site)
    assert "hit (8.4 d)" in text.stdout
    assert "no false alarms" in text.stdout


def test_backtest_needs_one_source(flood_site) -> None:
    result = runner.invoke(
        app, ["backtest", "--rules", "ocha_cerf_flood_2025", "--config", str(flood_site.config)]
    )
    assert result.exit_code != 0
    assert "exactly one of --series or --observed" in result.stderr


def test_replay_of_the_season_reaches_the_same_stages_on_the_same_times(
    flood_site, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    target = AppContext(replay_settings(flood_site.settings, tmp_path / "replay"))
    summary = replay(
        flood_site.ctx, target, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 31, tzinfo=UTC)
    )
    assert summary.steps == 64
    assert alert_overview(target) == alert_overview(flood_site.ctx)
    reached = {(d, s): t.date().isoformat() for (_, d, s), t in summary.first_reached.items()}
    assert reached[("BD5549", "readiness")] == "2026-06-27"
    assert reached[("BD5549", "action")] == "2026-07-02"


def test_replay_checks_the_season_against_a_draft_rule_set_version(
    flood_site, tmp_path: Path
) -> None:
    from store import alert_repo
    from triggers.engine import builtin_rule_set_dir

    shipped = (builtin_rule_set_dir() / "ocha_cerf_flood_2025.toml").read_text(encoding="utf-8")
    assert 'version = "2025.2"' in shipped
    assert "offset_m = 0.85" in shipped
    draft = tmp_path / "flood_draft.toml"
    draft.write_text(
        shipped.replace('version = "2025.2"', 'version = "2026.1"').replace(
            "offset_m = 0.85",
            "offset_m = 1.20",  # a stricter action level: DL + 1.20 m
        ),
        encoding="utf-8",
    )

    def replay_with(rule_file: Path, into: str, *extra: str):
        args = ["replay", "--from", "2026-06-01", "--to", "2026-07-31", "--into"]
        args += [str(tmp_path / into), "--rule-set-file", str(rule_file), *extra]
        return runner.invoke(app, [*args, "--config", str(flood_site.config)])

    result = replay_with(draft, "replay", "--json")
    assert result.exit_code == 0, result.stderr
    reached = {(r["district"], r["stage"]) for r in json.loads(result.stdout)["first_reached"]}
    assert ("BD5549", "readiness") in reached
    assert ("BD5549", "action") not in reached  # the forecasts never reach DL + 1.20 m
    target = AppContext(replay_settings(flood_site.settings, tmp_path / "replay"))
    with target.store.session() as session:
        versions = {a.rule_set_version for a in alert_repo.all_alerts(session)}
    assert versions == {"2026.1"}
    broken = tmp_path / "broken.toml"
    broken.write_text("schema_version = 1\nid = 'x'\n", encoding="utf-8")
    failed = replay_with(broken, "replay2")
    assert failed.exit_code != 0
    assert "broken.toml" in failed.stderr
