"""`agam report …`: monitoring and evaluation of activations and seasons (aggregates only)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agam.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    emit_json,
    handle_errors,
    settings_for,
)
from agam.cli.time_options import parse_when
from agam.core.timeutil import format_dhaka, parse_utc
from agam.pipeline.context import AppContext
from agam.pipeline.me_report import activation_report, season_csv, season_report

app = typer.Typer(help="Monitoring and evaluation reports.", no_args_is_help=True)


def _when(value: str | None) -> str:
    return format_dhaka(parse_utc(value)) if value else "-"


def _print_activation(r: dict[str, Any]) -> None:
    t, c, reach = r["timeline"], r["coverage"], r["reach"]
    tag = " [SYNTHETIC payments]" if r["synthetic"] else ""
    lines = [
        f"activation {r['activation_id']} · {r['hazard']} · {r['label']}{tag}",
        "times in Bangladesh time (UTC+6)",
        f"triggered {_when(t['triggered_at'])} → first approval {_when(t['first_approval_at'])}"
        f" → payments {_when(t['first_payment_at'])} … {_when(t['last_payment_at'])}",
        f"peak {_when(r['peak']['at'])}: {r['peak']['basis']}",
        f"lead time before the peak: first payment {t['lead_hours_first_payment']} h, last "
        f"{t['lead_hours_last_payment']} h; share paid before the peak "
        f"{t['share_paid_before_peak']}",
        f"coverage: {c['households_paid']:,} of {c['households_on_rolls']:,} households on the "
        f"rolls in the alerts' unions ({c['share']}); BDT {r['paid_bdt']:,}",
        "reach: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in reach.items()),
    ]
    for kind, reasons in r["not_paid_by_reason"].items():
        for reason, n in reasons.items():
            lines.append(f"{kind}: {reason}: {n:,}")
    for g in r["grievances"]:
        lines.append(
            f"grievances {g['district_pcode']} {g['category']}: {g['received']} received, "
            f"{g['resolved']} resolved (median {g['median_hours_to_resolve']} h), "
            f"{g['overdue']} overdue"
        )
    for line in lines:
        console.print(line, markup=False)


@app.command("activation")
@handle_errors
def activation_cmd(
    activation_id: int,
    observed: Annotated[
        Path | None,
        typer.Option("--observed", help="observed series CSV (time,value): its peak is used"),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Timeline, lead time before the peak, coverage, disaggregated reach, failed and
    reversed payments and grievances of one activation."""
    ctx = AppContext(settings_for(config))
    report = activation_report(ctx, activation_id, observed)
    if as_json:
        emit_json(report)
    else:
        _print_activation(report)


@app.command("season")
@handle_errors
def season_cmd(
    start: Annotated[str, typer.Option("--from", help="ISO-8601 date or time (UTC if bare)")],
    end: Annotated[str, typer.Option("--to", help="ISO-8601 date or time, exclusive")],
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with HXL hashtags")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every activation opened in [--from, --to): one row per activation and district."""
    ctx = AppContext(settings_for(config))
    season = season_report(ctx, parse_when(start, "--from"), parse_when(end, "--to"))
    if as_json:
        emit_json(season)
    elif as_csv:
        sys.stdout.write(season_csv(season))
    else:
        for report in season["activations"]:
            _print_activation(report)
        console.print(
            f"{len(season['activations'])} activation(s): {season['households_paid']:,} "
            f"households paid, BDT {season['paid_bdt']:,}",
            markup=False,
        )
