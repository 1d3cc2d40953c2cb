"""`agam evaluate`, `agam triggers list|explain`, `agam cyclone landfall`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from agam.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    emit_json,
    handle_errors,
    settings_for,
)
from agam.cli.time_options import parse_when
from agam.core.errors import NotFound, RuleError
from agam.core.timeutil import iso_utc
from agam.pipeline.context import AppContext
from agam.pipeline.evaluate import run_evaluation
from boundaries.overlay import union_wind_decay
from triggers.engine import explain, load_rule_sets
from triggers.model import UnionWindDecay
from triggers.results import compare, symbol

triggers_app = typer.Typer(help="Rule sets and their triggers.", no_args_is_help=True)
cyclone_app = typer.Typer(help="Cyclone tools.", no_args_is_help=True)


@handle_errors
def evaluate_cmd(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO time (UTC unless offset)")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Judge the latest stored forecasts with the active rule sets; reconcile alerts."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    when = parse_when(as_of, "--as-of") if as_of else ctx.now()
    results, changes = run_evaluation(ctx, when)
    rows: list[dict[str, Any]] = [
        {
            "rule_set": r.rule_set_id,
            "version": r.rule_set_version,
            "rule": r.trigger_id,
            "stage": r.stage,
            "state": r.state,
            "met": r.state == "met",
            "explanation": r.explanation,
            "districts": list(r.districts),
            "unions": list(r.unions),
            "inputs": [list(i) for i in r.inputs],
        }
        for r in results
    ]
    if as_json:
        emit_json(
            {
                "as_of": iso_utc(when),
                "evaluations": rows,
                "alert_changes": [c.__dict__ for c in changes],
            }
        )
        return
    table = Table("rule", "stage", "state", "districts", "unions", "explanation")
    for r in rows:
        table.add_row(
            r["rule"],
            r["stage"],
            r["state"],
            ", ".join(r["districts"]),
            str(len(r["unions"])),
            r["explanation"],
        )
    console.print(table)
    for c in changes:
        console.print(f"alert {c.alert_id} {c.change}: {c.district_pcode} {c.stage}", markup=False)


@triggers_app.command("list")
@handle_errors
def list_cmd(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Shipped rule sets, versions, sources and triggers."""
    settings_for(config)
    rows: list[dict[str, Any]] = [
        {
            "rule_set": s.id,
            "version": s.version,
            "effective_from": s.effective_from,
            "effective_to": s.effective_to,
            "enabled_by_default": s.enabled_by_default,
            "source": s.source_document.title,
            "triggers": [
                {"id": t.id, "stage": t.stage, "districts": list(t.districts)} for t in s.triggers
            ],
        }
        for s in load_rule_sets()
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table("rule set", "version", "in force from", "default", "trigger", "stage")
    for s in rows:
        for t in s["triggers"]:
            table.add_row(
                s["rule_set"],
                s["version"],
                str(s["effective_from"]),
                "on" if s["enabled_by_default"] else "off",
                t["id"],
                t["stage"],
            )
    console.print(table)


@triggers_app.command("explain")
@handle_errors
def explain_cmd(
    rule_id: Annotated[str, typer.Argument(help="e.g. FLOOD_JAMUNA_ACTION")],
    config: ConfigOption = None,
) -> None:
    """A trigger's full definition with its rule set's source document."""
    settings_for(config)
    for rule_set in load_rule_sets():
        if any(t.id == rule_id for t in rule_set.triggers):
            typer.echo(explain(rule_set, rule_id))
            return
    raise NotFound(f"no trigger {rule_id!r}; see `agam triggers list`")


def _decay_rule() -> UnionWindDecay:
    """The union wind decay of the active cyclone rule set (a stage's rule or targeting)."""
    for rule_set in load_rule_sets():
        if not rule_set.enabled_by_default:
            continue
        for trigger in rule_set.triggers:
            candidates: list[Any] = [trigger.rule, *getattr(trigger.rule, "rules", ())]
            targeting = getattr(trigger, "targeting", None)
            if targeting is not None:
                candidates.append(targeting)
            for rule in candidates:
                if isinstance(rule, UnionWindDecay):
                    return rule
    raise RuleError("no active rule set defines a union wind decay")


def _cyclone_districts() -> list[str]:
    for rule_set in load_rule_sets():
        if rule_set.hazard == "cyclone" and rule_set.enabled_by_default:
            return list(rule_set.triggers[0].districts)
    raise RuleError("no active cyclone rule set")


MAX_WIND_KMH = 400  # as a bulletin's winds (hazard_feeds.bmd)


@cyclone_app.command("landfall")
@handle_errors
def landfall(
    lon: Annotated[float, typer.Option("--lon", min=-180, max=180)],
    lat: Annotated[float, typer.Option("--lat", min=-90, max=90)],
    wind_kmh: Annotated[
        float, typer.Option("--wind-kmh", min=0, max=MAX_WIND_KMH, help="landfall wind, km/h")
    ],
    district: Annotated[list[str] | None, typer.Option("--district", help="name or P-code")] = None,
    distance_to: Annotated[
        str | None,
        typer.Option(
            "--distance-to",
            help="boundary_line (OCHA's tool, the default of the shipped rule set) or polygon "
            "(0 inside the union that contains the landfall)",
        ),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Wind per union from a landfall point, decayed as OCHA's monitoring tool does."""
    layer = AppContext(settings_for(config)).union_layer()
    frame = layer.frame
    codes = _cyclone_districts()
    if district:
        names = {n.lower(): c for n, c in zip(frame["adm2_en"], frame["adm2_pcode"], strict=True)}
        codes = [names.get(d.lower(), d.upper()) for d in district]
        unknown = [c for c in codes if c not in set(frame["adm2_pcode"])]
        if unknown:
            raise NotFound(f"unknown district(s): {', '.join(unknown)}")
    rule = _decay_rule()
    if distance_to is not None:
        if distance_to not in ("boundary_line", "polygon"):
            raise RuleError(f"--distance-to must be boundary_line or polygon, not {distance_to!r}")
        rule = rule.model_copy(update={"distance_to": distance_to})
    table = union_wind_decay(
        layer.unions_in(codes),
        lon,
        lat,
        wind_kmh,
        rule.factor_a,
        rule.decay_b_per_km,
        rule.distance_to,
    )
    table["above_threshold"] = compare(table["wind_kmh"], rule.threshold_kmh, rule.comparison)
    if as_json:
        emit_json(
            {
                "landfall": {"lon": lon, "lat": lat, "wind_kmh": wind_kmh},
                "model": {
                    "factor_a": rule.factor_a,
                    "decay_b_per_km": rule.decay_b_per_km,
                    "threshold_kmh": rule.threshold_kmh,
                    "comparison": rule.comparison,
                    "distance_to": rule.distance_to,
                    "crs": "EPSG:32646",
                },
                "unions": table.to_dict("records"),
            }
        )
        return
    out = Table(
        "union",
        "upazila",
        "district",
        "km",
        "wind km/h",
        f"{symbol(rule.comparison)} {rule.threshold_kmh:g}",
    )
    for r in table.itertuples():
        out.add_row(
            f"{r.adm4_en} ({r.adm4_pcode})",
            str(r.adm3_en),
            str(r.adm2_en),
            f"{r.distance_km:.1f}",
            f"{r.wind_kmh:.1f}",
            "yes" if r.above_threshold else "",
        )
    console.print(out)


@handle_errors
def backtest_cmd(
    rules: Annotated[str, typer.Option("--rules", help="rule set id, e.g. ocha_cerf_flood_2025")],
    series: Annotated[
        list[Path] | None,
        typer.Option("--series", help="daily discharge CSV(s) or a folder: a perfect forecast"),
    ] = None,
    observed: Annotated[
        Path | None,
        typer.Option("--observed", help="observed events CSV, scored on the stored forecasts"),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="with --observed: first forecast arrival")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="with --observed: last forecast arrival")
    ] = None,
    lead_window_days: Annotated[
        int, typer.Option("--lead-window-days", min=0, help="with --observed: days before onset")
    ] = 15,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """What the rules would have done. --observed: hits, misses, false alarms and lead times
    of the stored season's forecasts against observed events. --series: per rule reading the
    series' stations, each year and the first day it would have fired (a perfect forecast)."""
    if (series is None) == (observed is None):
        raise typer.BadParameter("give exactly one of --series or --observed")
    if observed is not None:
        from agam.cli.season_cmd import backtest_observed

        backtest_observed(
            rules=rules,
            observed=observed,
            start=start,
            end=end,
            lead_window_days=lead_window_days,
            config=config,
            as_json=as_json,
        )
        return
    assert series is not None
    from agam.pipeline.backtest import as_rows, backtest_series, read_series
    from boundaries.context import LayerUnionContext

    ctx = AppContext(settings_for(config))
    sets = {s.id: s for s in load_rule_sets()}
    if rules not in sets:
        raise NotFound(f"no rule set {rules!r}; see `agam triggers list`")
    files = sorted(f for p in series for f in (p.glob("*.csv") if p.is_dir() else [p]))
    firings = backtest_series(sets[rules], read_series(files), LayerUnionContext(ctx.union_layer()))
    rows = as_rows(firings)
    if as_json:
        emit_json(rows)
        return
    table = Table("stage", "station", "year", "first fired (perfect forecast)")
    for r in rows:
        table.add_row(r["stage_id"], r["station"], str(r["year"]), r["first_fired"] or "—")
    console.print(table)
