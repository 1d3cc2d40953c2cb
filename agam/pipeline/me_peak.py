"""The moment an activation's payments should have come before: the hazard's peak.

- a cyclone: the landfall time of the forecast (BMD bulletin first) that raised its action
  stage;
- a flood: the observed peak when an observed series is given, otherwise the peak of the final
  forecast (the newest issued by the activation's last active time) at the rule set's
  station.

Always with a sentence saying which was used.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from agam.core.errors import AgamError
from agam.core.timeutil import ensure_utc, format_dhaka, iso_utc, parse_utc
from agam.pipeline.context import AppContext
from agam.pipeline.forecasts import current_forecast, load_forecast
from hazard_feeds.contract import HazardForecast
from store import feed_repo
from store.models import Alert, AlertEvent, Evaluation
from triggers.rules_cyclone import landfall_time

FLOOD_FEED_ORDER = ("ffwc", "glofas")  # observed-like water levels first, then discharge


@dataclass(frozen=True)
class Peak:
    at: datetime | None
    source: str  # observed | forecast_landfall | final_forecast_peak | none
    basis: str
    facts: dict[str, Any] = field(default_factory=dict)  # the basis's parts, for other languages


def read_observed(path: Path) -> list[tuple[datetime, float]]:
    """An observed series: a CSV with `time` (ISO-8601 with a UTC offset) and `value` (a
    finite number). Anything else is one error naming the file and the row."""
    out = []
    number = 1
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                out.append(_observation(path, number, row))
    except OSError as exc:
        raise AgamError(f"{path.name}: cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        why = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise AgamError(f"{path.name} after row {number}: not a readable CSV ({why})") from None
    if not out:
        raise AgamError(f"{path.name}: no observations")
    return out


def _observation(path: Path, number: int, row: dict[str, str]) -> tuple[datetime, float]:
    try:
        at, value = ensure_utc(datetime.fromisoformat(row["time"])), float(row["value"])
    except (KeyError, ValueError, TypeError) as exc:
        raise AgamError(f"{path.name} row {number}: time/value unreadable ({exc})") from None
    if not math.isfinite(value):
        raise AgamError(f"{path.name} row {number}: value {row['value']!r} is not a number")
    return at, value


def hazard_peak(
    ctx: AppContext,
    hazard: str,
    alerts: list[Alert],
    until: datetime,
    observed: Iterable[tuple[datetime, float]] | None = None,
    observed_label: str = "observed series",
) -> Peak:
    """`until`: the activation's last active time (the final forecast is the newest by then)."""
    if observed is not None:
        at, value = max(observed, key=lambda p: p[1])
        return Peak(
            at,
            "observed",
            f"observed peak {value:g} in {observed_label}",
            {"value": value, "series": observed_label},
        )
    if hazard == "cyclone":
        return _landfall(ctx, alerts)
    return _flood_forecast_peak(ctx, alerts, until)


def _forecasts(ctx: AppContext, evaluation_id: int | None) -> list[HazardForecast]:
    with ctx.store.read() as session:
        evaluation = session.get(Evaluation, evaluation_id) if evaluation_id else None
        refs = list(evaluation.forecast_run_ids or []) if evaluation else []
        runs = [feed_repo.find_forecast_by_sha(session, f, sha) for f, _at, sha in refs]
        keys = [(r.feed_id, r.raw_sha256, r.processed_path) for r in runs if r is not None]
    return [load_forecast(ctx, f, sha, path) for f, sha, path in keys]


def _landfall(ctx: AppContext, alerts: list[Alert]) -> Peak:
    """The landfall of the forecasts of the evaluation that first raised the action stage."""
    ids = [a.id for a in alerts]
    with ctx.store.read() as session:
        stmt = (
            select(AlertEvent.evaluation_id)
            .where(AlertEvent.alert_id.in_(ids), AlertEvent.to_stage == "action")
            .order_by(AlertEvent.at)
            .limit(1)
        )
        trigger = session.scalars(stmt).first()
    if trigger is None:
        trigger = min((a.first_evaluation_id for a in alerts), default=None)
    forecasts = sorted(
        _forecasts(ctx, trigger), key=lambda f: (f.kind != "bulletin", -f.issued_at.timestamp())
    )
    for forecast in forecasts:
        when = landfall_time(forecast)
        if when is not None:
            what = "BMD bulletin" if forecast.kind == "bulletin" else f"{forecast.feed_id} forecast"
            return Peak(
                when,
                "forecast_landfall",
                f"forecast landfall in the {what} issued {format_dhaka(forecast.issued_at)} "
                "that triggered the action stage",
                {"feed": forecast.feed_id, "issued_at": iso_utc(forecast.issued_at)},
            )
    return Peak(
        None,
        "none",
        "no stored forecast of the triggering evaluation gives a landfall",
        {"why": "no_landfall"},
    )


def _stations(ctx: AppContext, alerts: list[Alert]) -> list[tuple[str, str, str]]:
    """(feed, station, variable) the activation's rule sets judge for its districts."""
    found: list[tuple[str, str, str]] = []
    for rule_set in ctx.rule_sets():
        mine = [a for a in alerts if a.rule_set_id == rule_set.id]
        districts = {a.district_pcode for a in mine}
        for stage in rule_set.stages:
            if mine and districts & set(stage.districts or rule_set.districts):
                found.extend(_rule_stations(stage.rule))
    order = {f: i for i, f in enumerate(FLOOD_FEED_ORDER)}
    return sorted(set(found), key=lambda s: (order.get(s[0], 99), s))


def _rule_stations(rule: Any) -> list[tuple[str, str, str]]:
    out = []
    if all(hasattr(rule, k) for k in ("feed", "station", "variable")):
        out.append((str(rule.feed), str(rule.station), str(rule.variable)))
    for part in getattr(rule, "rules", ()) or ():
        out.extend(_rule_stations(part))
    return out


def _called(ctx: AppContext, feed: str, station: str) -> str:
    """'Bahadurabad (SW46.9L)' where the feed names the code it follows, else the station."""
    from hazard_feeds.feed_configs import ffwc_station_name

    name = ffwc_station_name(ctx.settings.feeds.get(feed), station) if feed == "ffwc" else None
    return f"{name} ({station})" if name else station


def _final_forecasts(ctx: AppContext, feeds: set[str], until: datetime) -> dict[str, Any]:
    """The newest forecast of each feed issued (and fetched) by the activation's end."""
    with ctx.store.read() as session:
        runs = [current_forecast(session, f, until) for f in sorted(feeds)]
        keys = [(r.feed_id, r.raw_sha256, r.processed_path) for r in runs if r is not None]
    return {f: load_forecast(ctx, f, sha, path) for f, sha, path in keys}


def _flood_forecast_peak(ctx: AppContext, alerts: list[Alert], until: datetime) -> Peak:
    stations = _stations(ctx, alerts)
    forecasts = _final_forecasts(ctx, {feed for feed, _, _ in stations}, until)
    for feed, station, variable in _stations(ctx, alerts):
        forecast = forecasts.get(feed)
        if forecast is None or forecast.kind != "station_series" or forecast.data is None:
            continue
        data = forecast.data
        if variable not in data or station not in list(data["station"].values):
            continue
        series = data[variable].sel(station=station)
        if "member" in series.dims:
            series = series.median("member", skipna=True)
        values = np.asarray(series.values, dtype=float)
        if not np.isfinite(values).any():
            continue
        index = int(np.nanargmax(values))
        when = parse_utc(str(np.datetime_as_string(series["valid_time"].values[index], "s")) + "Z")
        return Peak(
            when,
            "final_forecast_peak",
            f"peak {variable} {values[index]:g} at {_called(ctx, feed, station)} in the final "
            f"{feed} forecast issued "
            f"{format_dhaka(forecast.issued_at)} (no observed series given)",
            {
                "variable": variable,
                "value": float(values[index]),
                "station": station,
                "feed": feed,
                "issued_at": iso_utc(forecast.issued_at),
            },
        )
    return Peak(
        None,
        "none",
        "no observed series given and no final forecast with a peak",
        {"why": "no_forecast_peak"},
    )
