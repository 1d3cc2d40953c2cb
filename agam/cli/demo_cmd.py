"""`agam demo`: a fresh clone to a dashboard with alerts and proposed lists, offline."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from agam.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    emit_json,
    err_console,
    handle_errors,
    settings_for,
)
from agam.cli.serve_cmd import prepare_map, serve
from agam.core.settings import Settings
from agam.core.timeutil import to_dhaka
from agam.pipeline.context import AppContext

ScenarioOption = Annotated[
    str, typer.Option("--scenario", help="flood, cyclone or both (bundled, SYNTHETIC data)")
]


class Progress:
    """One line per scenario day, what each feed newly said, every alert change and failure."""

    def __init__(self) -> None:
        self.day: date | None = None
        self.said: dict[str, str | None] = {}

    def __call__(self, step: Any) -> None:
        day = to_dhaka(step.at).date()
        if day != self.day:
            self.day = day
            err_console.print(f"  {day:%d %b %Y} (scenario day, Bangladesh time)", markup=False)
        news = step.headline and step.headline != self.said.get(step.feed_id)
        self.said[step.feed_id] = step.headline or self.said.get(step.feed_id)
        if step.changes or news or step.outcome == "failed":
            text = "    " + step.line().replace("\n", "\n    ")
            err_console.print(text, markup=False, soft_wrap=True)


def play_scenarios(settings: Settings, scenario: str, speed: float | None) -> list[Any]:
    from agam.scenarios.player import play
    from agam.scenarios.spec import load_scenario, scenario_names

    results = []
    quiet = logging.getLogger()
    level = quiet.level
    for name in scenario_names(scenario):
        spec = load_scenario(name)
        err_console.print(
            f"scenario {name}: {spec.title}\n  modelled on {spec.modelled_on}; played "
            f"{to_dhaka(spec.play_from):%d %b} - {to_dhaka(spec.play_to):%d %b %Y} through "
            "the scheduler's feed jobs on an accelerated clock",
            markup=False,
        )
        quiet.setLevel(max(level, logging.WARNING))  # the progress lines tell the story
        try:
            result = play(settings, name, progress=Progress(), speed=speed)
        finally:
            quiet.setLevel(level)
        if not result.played:
            err_console.print("  already played into this store (nothing to do)", markup=False)
        results.append(result)
    return results


def print_accounts(accounts: dict[str, str], url: str) -> None:
    """The closing words: where to go and how to sign in (again, not 265 lines up)."""
    if accounts:
        console.print(f"Sign in at {url} with (passwords shown only in this run):", markup=False)
        for username, password in accounts.items():
            console.print(f"  {username:18} {password}", markup=False)
    else:
        console.print(
            f"Sign in at {url} with the demo accounts created at the first run "
            "(their passwords were printed then).",
            markup=False,
        )
    console.print(
        "Lost a password? `agam users reset-password USERNAME` sets a new one.", markup=False
    )


def print_summary(summary: dict[str, Any]) -> None:
    alerts = Table("district", "rule set", "stage", "opened (UTC+6)", "unions", title="Open alerts")
    for a in summary["alerts"]:
        alerts.add_row(a["district"], a["rule_set"], a["stage"], a["opened_bst"], str(a["unions"]))
    console.print(alerts)
    lists = Table("district", "list", "status", "households", "total BDT", title="Lists")
    for row in summary["lists"]:
        lists.add_row(
            row["district"],
            str(row["list_id"]),
            row["status"],
            f"{row['households']:,}",
            f"{row['total_bdt']:,}",
        )
    console.print(lists)
    console.print(
        f"{len(summary['alerts'])} open alerts {summary['alerts_by_stage']}; "
        f"{len(summary['lists'])} lists {summary['lists_by_status']}; "
        f"{summary['households']:,} households, BDT {summary['total_bdt']:,}",
        markup=False,
    )


def payment_round(ctx: AppContext, passwords: dict[str, str]) -> dict[str, Any] | None:
    """The SYNTHETIC payment round for one list (only when the demo accounts were created in
    this run: their passwords are known only now)."""
    from agam.scenarios.payment_round import play_payment_round

    played = play_payment_round(ctx, passwords, Path(ctx.settings.data_dir) / "demo" / "payments")
    if played is None:
        err_console.print("payment round: not played (no untouched list, or a re-run)")
        return None
    s = played.summary
    err_console.print(
        f"SYNTHETIC payment round for list {played.list_id}: paid {s['paid']:,} "
        f"(BDT {s['paid_bdt']:,}), failed {s['failed']:,}, reversed {s['reversed']:,}; "
        f"return file {played.return_file}",
        markup=False,
    )
    counts = {k: s[k] for k in ("paid", "failed", "reversed", "pending", "paid_bdt")}
    return {"list_id": played.list_id, "return_file": str(played.return_file)} | counts


def run_demo(
    settings: Settings,
    *,
    scenario: str,
    households: int,
    prepare_only: bool,
    as_json: bool,
    port: int | None,
    speed: float | None,
) -> None:
    from agam.pipeline.demo import ensure_demo_accounts, ensure_synthetic_registry
    from agam.scenarios.spec import scenario_names
    from agam.scenarios.summary import store_summary

    scenario_names(scenario)  # a bad --scenario fails before anything is prepared
    ctx = AppContext(settings)
    prepared: dict[str, object] = dict(ctx.prepare())
    accounts = ensure_demo_accounts(ctx)
    if accounts:  # shown once, first thing: only the hashes are stored
        err_console.print("Demo accounts (passwords shown once, keep them):", markup=False)
        for username, password in accounts.items():
            err_console.print(f"  {username:18} {password}", markup=False)
    prepared["registry"] = ensure_synthetic_registry(ctx, households)
    err_console.print(
        f"prepared {prepared['data_dir']}: {prepared['unions']:,} unions; "
        f"SYNTHETIC registry {prepared['registry']}",
        markup=False,
    )
    results = play_scenarios(settings, scenario, speed)
    payments = payment_round(ctx, accounts)
    summary = store_summary(ctx)
    if as_json:
        emit_json(
            {
                "prepared": prepared,
                "demo_accounts_created": sorted(accounts),
                "scenarios": [r.to_dict() for r in results],
                "payment_round": payments,
                **summary,
            }
        )
    else:
        print_summary(summary)
        port_shown = port or settings.dashboard.port
        print_accounts(accounts, f"http://localhost:{port_shown}")
    if not prepare_only:
        prepare_map(ctx)
        ctx.store.dispose()
        serve(settings, port)


@handle_errors
def demo_cmd(
    config: ConfigOption = None,
    scenario: ScenarioOption = "both",
    prepare_only: Annotated[
        bool, typer.Option("--prepare-only", help="prepare and play, print a summary, exit")
    ] = False,
    as_json: JsonOption = False,
    port: Annotated[int | None, typer.Option("--port")] = None,
    households: Annotated[
        int, typer.Option("--households", help="size of the SYNTHETIC demo registry")
    ] = 200_000,
    speed: Annotated[
        float | None,
        typer.Option("--speed", help="scenario seconds per real second (default: no waiting)"),
    ] = None,
) -> None:
    """Prepare the store, boundaries, demo accounts and a SYNTHETIC registry, play the bundled
    scenarios through the feed jobs, then serve the dashboard. Safe to re-run."""
    run_demo(
        settings_for(config),
        scenario=scenario,
        households=households,
        prepare_only=prepare_only,
        as_json=as_json,
        port=port,
        speed=speed,
    )
