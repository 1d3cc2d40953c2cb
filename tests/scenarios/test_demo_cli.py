"""`agam demo --prepare-only`: from an empty data dir to alerts and proposed lists for both
bundled scenarios, offline; a second run changes nothing and shows no password again."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agam.cli.main import app

runner = CliRunner()
FLOOD_DISTRICTS = {"BD4539", "BD5010", "BD5088", "BD5532", "BD5549"}


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_demo_prepares_plays_and_summarises(config_path: Path) -> None:
    code, out, err = run("demo", "--prepare-only", "--json", "--households", "3000")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["prepared"]["unions"] == 5160
    assert summary["prepared"]["registry"]["status"] == "imported"
    assert summary["demo_accounts_created"] == sorted(
        [
            "admin.demo",
            "committee.demo",
            "dc.kurigram",
            "officer.kurigram",
            "dc.satkhira",
            "officer.satkhira",
        ]
    )
    assert err.index("Demo accounts") < err.index("scenario flood")  # printed once, at start
    assert [s["scenario"] for s in summary["scenarios"]] == ["flood", "cyclone"]
    assert all(s["played"] for s in summary["scenarios"])
    action = {
        (a["rule_set"], a["district_pcode"]) for a in summary["alerts"] if a["stage"] == "action"
    }
    assert {d for r, d in action if r == "ocha_cerf_flood_2025"} == FLOOD_DISTRICTS
    assert {d for r, d in action if r == "ocha_cerf_cyclone_2025"} >= {"BD4087"}  # Satkhira
    listed = {row["district_pcode"] for row in summary["lists"]}
    assert listed == {d for _, d in action}  # one proposed list per district at action
    # one list (Kurigram's, the flood) went through a SYNTHETIC payment round
    paid = summary["payment_round"]
    assert summary["lists_by_status"] == {"draft": len(listed) - 1, "exported": 1}
    assert [r["district_pcode"] for r in summary["lists"] if r["list_id"] == paid["list_id"]] == [
        "BD5549"
    ]
    assert paid["paid"] > 0
    assert paid["pending"] == 0
    assert "SYNTHETIC payment round for list" in err
    assert summary["households"] == sum(r["households"] for r in summary["lists"]) > 0
    assert summary["total_bdt"] == 5000 * summary["households"]
    # what each feed newly said, in the order the scheduler's jobs ran
    assert "GloFAS run 27 Jun: Bahadurabad ≥ 100,000 m³/s (RP5) in up to 63% of 51" in err
    assert "FFWC forecast: Bahadurabad peak 20.35 m (danger level 19.50, +0.85)" in err
    assert "BMD SL. NO. 9: very severe cyclonic storm; signals Mongla 4" in err
    assert err.index("GloFAS run 27 Jun") < err.index("-> readiness") < err.index("-> action")
    assert "alert escalated" in err
    assert "-> action" in err

    code, out, err = run("demo", "--prepare-only", "--json", "--households", "3000")
    again = json.loads(out)
    assert code == 0, err
    assert again["demo_accounts_created"] == []
    assert "Demo accounts" not in err
    assert not any(s["played"] for s in again["scenarios"])
    assert again["alerts"] == summary["alerts"]
    assert again["lists"] == summary["lists"]
    assert again["payment_round"] is None  # played once


def test_demo_rejects_an_unknown_scenario(config_path: Path) -> None:
    code, _, err = run("demo", "--prepare-only", "--scenario", "tsunami")
    assert code != 0
    assert "--scenario must be flood, cyclone or both" in err
