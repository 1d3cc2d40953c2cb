"""`agam feeds …` and `agam scheduler`: hazard feeds, their runs and freshness."""

from __future__ import annotations

import json
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
from agam.core.errors import FeedError
from agam.core.timeutil import format_dhaka, utc_now
from agam.pipeline.context import AppContext
from agam.pipeline.health import check_scheduler, feed_health
from agam.pipeline.ingest import ingest
from hazard_feeds.checks import check_issued_before_fetch
from hazard_feeds.guard import json_ready
from hazard_feeds.registry import feed_names, parse_file

app = typer.Typer(help="Hazard feeds: list, fetch, status, offline parse.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_feeds(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Known feeds and whether config.toml enables them."""
    settings = settings_for(config)
    rows = []
    for name in feed_names():
        table = settings.feeds.get(name)
        rows.append(
            {
                "feed": name,
                "configured": table is not None,
                "enabled": table is not None and table.enabled,
                "schedule": table and (table.cron or table.interval_minutes),
            }
        )
    if as_json:
        emit_json(rows)
        return
    out = Table("feed", "enabled", "schedule")
    for r in rows:
        out.add_row(str(r["feed"]), "yes" if r["enabled"] else "no", str(r["schedule"] or "—"))
    console.print(out)


@app.command("fetch")
@handle_errors
def fetch(
    name: Annotated[str, typer.Argument(help="feed name, e.g. gdacs")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run one feed now (fetch, keep, parse, record); exit 5 if it failed."""
    ctx = AppContext(settings_for(config))
    if name not in feed_names():
        raise FeedError(f"unknown feed {name!r}; known: {', '.join(feed_names())}")
    ctx.store.upgrade()
    outcome = ingest(ctx, name, trigger="cli")
    data = json_ready(outcome.__dict__)
    if as_json:
        emit_json(data)
    else:
        console.print(
            f"{name}: {outcome.outcome}" + (f" — {outcome.error}" if outcome.error else ""),
            markup=False,
        )
    if outcome.outcome == "failed":
        raise typer.Exit(FeedError.exit_code)


@app.command("status")
@handle_errors
def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Whether the scheduler runs, then last success, last failure and staleness per feed.
    A scheduler not running is reported (and the administrators told, once per outage)."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    scheduler = check_scheduler(ctx)
    rows = feed_health(ctx)
    if as_json:
        emit_json({"scheduler": scheduler.as_json(), "feeds": [r.as_json() for r in rows]})
        return
    line = scheduler.sentence()
    if scheduler.state == "not_running":
        err_console.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(line, markup=False)
    table = Table(
        "feed", "state", "issued (Dhaka)", "age h", "missing", "last success", "last failure"
    )
    for r in rows:
        state = r.state + (" · partial" if r.partial else "") + (" · failing" if r.failing else "")
        state += " · not judged yet" if r.unjudged else ""
        table.add_row(
            r.feed_id,
            state,
            format_dhaka(r.latest_issued_at) if r.latest_issued_at else "—",
            f"{r.age_hours:.1f}" if r.age_hours is not None else "—",
            ", ".join(r.missing_subjects()) or "—",
            format_dhaka(r.last_success_at) if r.last_success_at else "—",
            (format_dhaka(r.last_failure_at) + f" ({r.last_error})") if r.last_failure_at else "—",
        )
    console.print(table)


@app.command("parse")
@handle_errors
def parse(
    name: Annotated[str, typer.Argument(help="feed name, or atcf for a JTWC b-deck")],
    file: Annotated[Path, typer.Argument(help="a raw upstream file", exists=True, dir_okay=False)],
    config: ConfigOption = None,
    as_json: JsonOption = True,
) -> None:
    """Parse a raw upstream file offline and print the normalised forecast; a file the parser
    refuses (shape, size or values) is one line naming the file and field, exit 5. So is one
    issued later than now allows, as ingest refuses it."""
    settings = settings_for(config)
    forecast, feed = parse_file(name, file, settings.feeds.get(name))
    check_issued_before_fetch(forecast.issued_at, utc_now(), name, file.resolve().as_uri())
    data = json_ready(feed.to_json(forecast))
    if as_json:
        emit_json(data)
    else:
        console.print_json(json.dumps(data, ensure_ascii=False))
