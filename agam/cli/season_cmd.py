"""`agam replay` (a stored season into a separate store) and the observed-events backtest that
`agam backtest --observed` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
from agam.cli.time_options import parse_when
from agam.core.errors import NotFound
from agam.core.timeutil import format_dhaka
from agam.pipeline.backtest_events import (
    as_table_rows,
    read_observed,
    score,
    season_firings,
    to_json,
)
from agam.pipeline.context import AppContext
from agam.pipeline.replay import ReplayStep, ReplaySummary, replay, replay_settings
from store.db import require_current_schema
from triggers.engine import load_rule_sets


def _progress(step: ReplayStep) -> None:
    plural = "" if step.alert_changes == 1 else "s"
    err_console.print(
        f"[{step.index}/{step.total}] {step.feed_id} issued {format_dhaka(step.issued_at)}: "
        f"{step.outcome}, {step.alert_changes} alert change{plural}",
        markup=False,
        highlight=False,
    )


def _print_summary(summary: ReplaySummary) -> None:
    console.print(
        f"replayed {summary.steps} forecasts into {summary.data_dir}", markup=False, highlight=False
    )
    feeds = Table("feed", "outcomes")
    for feed_id, counts in summary.by_feed.items():
        feeds.add_row(feed_id, ", ".join(f"{k} {v}" for k, v in counts.items()))
    console.print(feeds)
    alerts = Table("rule set", "district", "stage", "status", "alerts")
    for (rule_set, district, stage, status), count in sorted(summary.alerts.items()):
        alerts.add_row(rule_set, district, stage, status, str(count))
    console.print(alerts)
    first = Table("rule set", "district", "stage", "first reached")
    for (rule_set, district, stage), at in sorted(summary.first_reached.items()):
        first.add_row(rule_set, district, stage, format_dhaka(at))
    console.print(first)


@handle_errors
def replay_cmd(
    from_: Annotated[
        str, typer.Option("--from", help="first issue time: ISO date or time (UTC unless offset)")
    ],
    to: Annotated[str, typer.Option("--to", help="last issue time; a date includes that day")],
    speed: Annotated[
        float | None,
        typer.Option("--speed", help="scenario seconds per real second (default: at once)"),
    ] = None,
    into: Annotated[
        Path | None,
        typer.Option("--into", help="target data dir (default <data_dir>/replay-<from>-<to>)"),
    ] = None,
    rule_set: Annotated[
        list[str] | None, typer.Option("--rule-set", help="evaluate only this rule set (repeat)")
    ] = None,
    rule_set_file: Annotated[
        list[Path] | None,
        typer.Option("--rule-set-file", help="extra rule set TOML, e.g. a draft new version"),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-run the stored forecasts issued in [--from, --to] through the live pipeline into a
    separate data dir, on the times they were fetched; print the alerts it produced."""
    settings = settings_for(config)
    start = parse_when(from_, "--from")
    end = parse_when(to, "--to", end_of_day=True)
    folder = into or settings.data_dir / f"replay-{start:%Y%m%dT%H%MZ}-{end:%Y%m%dT%H%MZ}"
    summary = replay(
        AppContext(settings),
        AppContext(replay_settings(settings, folder)),
        start,
        end,
        speed=speed,
        rule_sets=rule_set or None,
        on_step=_progress,
        rule_set_files=rule_set_file or None,
    )
    if as_json:
        emit_json(summary.to_dict())
    else:
        _print_summary(summary)


def backtest_observed(
    *,
    rules: str,
    observed: Path,
    start: str | None,
    end: str | None,
    lead_window_days: int,
    config: Path | None,
    as_json: bool,
) -> None:
    """Hits, misses, lead times and false alarms of a rule set on the stored forecasts,
    against observed events."""
    ctx = AppContext(settings_for(config))
    sets = {s.id: s for s in load_rule_sets()}
    if rules not in sets:
        raise NotFound(f"no rule set {rules!r}; see `agam triggers list`")
    events = read_observed(observed)
    require_current_schema(ctx.store.engine)
    first = parse_when(start, "--start") if start else None
    last = parse_when(end, "--end", end_of_day=True) if end else None
    result = score(
        events, season_firings(ctx, sets[rules], first, last), sets[rules], lead_window_days
    )
    if as_json:
        emit_json(to_json(result))
        return
    table = Table("event", "districts", "window", *result.stages)
    for row in as_table_rows(result):
        table.add_row(*row.values())
    console.print(table)
    alarms = Table("false alarm", "first (UTC+6)", "evaluations", "districts")
    for alarm in result.false_alarms:
        alarms.add_row(
            alarm.stage,
            format_dhaka(alarm.first),
            str(alarm.evaluations),
            ", ".join(alarm.districts),
        )
    console.print(alarms if result.false_alarms else "no false alarms")
    totals = Table("stage", "hits", "misses", "false alarms", "mean lead (days)")
    for stage, t in result.totals.items():
        lead = "—" if t["mean_lead_days"] is None else f"{t['mean_lead_days']:g}"
        totals.add_row(stage, str(t["hits"]), str(t["misses"]), str(t["false_alarms"]), lead)
    console.print(totals)
    console.print(
        f"{result.evaluations} evaluations of {rules}; lead window {lead_window_days} days",
        markup=False,
        highlight=False,
    )
