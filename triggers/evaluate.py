"""Pure evaluation: forecasts + unions + an explicit as_of -> results with explanations.

Three-valued: "met", "not_met", "unknown". Missing, stale or partial inputs give "unknown",
never "not_met"; all_of is not_met if any part is not_met, else unknown if any is unknown;
any_of is met if any part is met, else unknown if any is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from hazard_feeds.contract import HazardForecast
from triggers import model as m

State = Literal["met", "not_met", "unknown"]
SYSTEM_ORDER = (
    "low",
    "well_marked_low",
    "depression",
    "deep_depression",
    "cyclonic_storm",
    "severe_cyclonic_storm",
    "very_severe_cyclonic_storm",
    "extremely_severe_cyclonic_storm",
    "super_cyclonic_storm",
)


class UnionContext(Protocol):
    def unions_of(self, districts: Sequence[str], upazilas: Sequence[str]) -> list[str]: ...
    def distance_to_boundary_km(
        self, lon: float, lat: float, pcodes: Sequence[str]
    ) -> Mapping[str, float]: ...
    def footprint_shares(
        self, footprints: Any, pcodes: Sequence[str], min_wind_kmh: float
    ) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class RuleResult:
    state: State
    explanation: str
    observed: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[tuple[str, str, str | None], ...] = ()  # (feed, issued_at ISO, raw sha256)
    unions: tuple[str, ...] | None = None  # union-specific rules name the unions they hit
    window_end: datetime | None = None


@dataclass(frozen=True)
class Ctx:
    forecasts: Mapping[str, HazardForecast]
    unions: UnionContext
    as_of: datetime
    area: tuple[str, ...]  # the trigger's unions


def _cmp(value: Any, threshold: float, how: m.Comparison) -> Any:
    return value > threshold if how == "gt" else value >= threshold


def _sym(how: m.Comparison) -> str:
    return ">" if how == "gt" else "≥"


def _ref(f: HazardForecast) -> tuple[str, str, str | None]:
    return (f.feed_id, f.issued_at.isoformat(), f.raw_sha256)


def _usable(ctx: Ctx, feed: str, max_age_hours: float) -> HazardForecast | RuleResult:
    forecast = ctx.forecasts.get(feed)
    if forecast is None or forecast.issued_at > ctx.as_of:
        return RuleResult(
            "unknown",
            f"No {feed} forecast available at {ctx.as_of:%d %b %H:%M} "
            "UTC: unknown, not 'no hazard'.",
        )
    age_h = (ctx.as_of - forecast.issued_at).total_seconds() / 3600
    if age_h > max_age_hours:
        return RuleResult(
            "unknown",
            f"The newest {feed} forecast is {age_h:.0f} h old (limit "
            f"{max_age_hours:.0f} h): unknown.",
            inputs=(_ref(forecast),),
        )
    return forecast


def _days(times: np.ndarray) -> list[datetime]:
    return [pd.Timestamp(t).to_pydatetime() for t in times]


def ensemble_exceedance(rule: m.EnsembleExceedance, ctx: Ctx) -> RuleResult:
    got = _usable(ctx, rule.feed, rule.max_age_hours)
    if isinstance(got, RuleResult):
        return got
    data = got.data
    if data is None or rule.station not in list(data["station"].values):
        return RuleResult(
            "unknown",
            f"{rule.station} is missing from the {rule.feed} forecast.",
            inputs=(_ref(got),),
        )
    cube = data["discharge_m3s"].sel(station=rule.station).transpose("valid_time", "member")
    issued = pd.Timestamp(got.issued_at.replace(tzinfo=None))
    lead = (pd.to_datetime(cube["valid_time"].values) - issued) / pd.Timedelta(days=1)
    window = (lead >= rule.min_lead_days) & (lead <= rule.max_lead_days)
    values = cube.values[np.asarray(window)]
    times = _days(cube["valid_time"].values[np.asarray(window)])
    valid = np.isfinite(values)
    members = valid.sum(axis=1)
    if len(times) == 0 or members.min() < rule.min_members:
        n = int(members.min()) if len(times) else 0
        return RuleResult(
            "unknown",
            f"Only {n} valid ensemble members at {rule.station} (need "
            f"{rule.min_members}): unknown.",
            {"members": n},
            (_ref(got),),
        )
    above = np.where(valid, _cmp(values, rule.threshold_m3s, rule.comparison), False)
    prob = above.sum(axis=1) / members
    hit = _cmp(prob, rule.min_probability, rule.probability_comparison)
    best, run, best_end = 0, 0, -1
    for i, ok in enumerate(hit):
        contiguous = i > 0 and times[i] - times[i - 1] == timedelta(days=1)
        run = (run + 1 if contiguous or run == 0 else 1) if ok else 0
        if run > best:
            best, best_end = run, i
    met = best >= rule.consecutive_days
    peak = int(np.argmax(prob))
    observed = {
        "station": rule.station,
        "threshold_m3s": rule.threshold_m3s,
        "threshold_source": rule.threshold_source,
        "members": int(members.max()),
        "max_probability": round(float(prob.max()), 4),
        "max_probability_day": times[peak].date().isoformat(),
        "longest_run_days": best,
        "probability_by_day": {
            t.date().isoformat(): round(float(p), 4) for t, p in zip(times, prob, strict=True)
        },
    }
    days = f"{times[best_end - best + 1]:%d %b}–{times[best_end]:%d %b}" if best else "no day"
    verdict = "met" if met else "not met"
    text = (
        f"{int(above[peak].sum())} of {int(members[peak])} members "
        f"({prob[peak]:.0%}) {_sym(rule.comparison)} {rule.threshold_m3s:,.0f} m³/s at "
        f"{rule.station} on {times[peak]:%d %b}; probability "
        f"{_sym(rule.probability_comparison)} {rule.min_probability:.0%} on {best} "
        f"consecutive day(s) ({days}) within {rule.max_lead_days} days, "
        f"{rule.consecutive_days} needed: {verdict}."
    )
    return RuleResult(
        "met" if met else "not_met", text, observed, (_ref(got),), window_end=times[-1]
    )


def _trend(rule: m.Trend, ctx: Ctx, start: datetime) -> RuleResult:
    got = _usable(ctx, rule.feed, 48.0)
    if isinstance(got, RuleResult):
        return got
    data = got.data
    if data is None or rule.station not in list(data["station"].values):
        return RuleResult("unknown", f"No {rule.feed} trend at {rule.station}: unknown.")
    cube = data["discharge_m3s"].sel(station=rule.station)
    members = np.isfinite(cube.values).sum(axis=0)
    median = pd.Series(
        np.nanmedian(np.where(np.isfinite(cube.values), cube.values, np.nan), axis=0),
        index=pd.to_datetime(cube["valid_time"].values),
    )
    day0 = pd.Timestamp(start.replace(tzinfo=None)).normalize()
    daily = median.groupby(pd.DatetimeIndex(median.index).normalize()).mean()
    needed = [day0 + pd.Timedelta(days=k) for k in range(rule.days)]
    if any(d not in daily.index for d in needed) or members.min() < rule.min_members:
        return RuleResult(
            "unknown",
            f"{rule.feed} at {rule.station} does not cover the "
            f"{rule.days} days from {day0:%d %b}: trend unknown.",
            inputs=(_ref(got),),
        )
    series = daily.loc[needed].to_numpy()
    ok = all(
        series[k] >= (1 - rule.tolerance_fraction) * series[k - 1] for k in range(1, len(series))
    )
    text = (
        f"{rule.feed} median at {rule.station} is "
        f"{'sustained or increasing' if ok else 'falling'} over {rule.days} days from "
        f"{day0:%d %b} ({', '.join(f'{v:,.0f}' for v in series)} m³/s)"
    )
    return RuleResult(
        "met" if ok else "not_met",
        text,
        {"trend_median_m3s": [round(float(v), 1) for v in series]},
        (_ref(got),),
    )


def water_level_crossing(rule: m.WaterLevelCrossing, ctx: Ctx) -> RuleResult:
    got = _usable(ctx, rule.feed, rule.max_age_hours)
    if isinstance(got, RuleResult):
        return got
    data = got.data
    if data is None or rule.station not in list(data["station"].values):
        return RuleResult(
            "unknown",
            f"{rule.station} is missing from the {rule.feed} forecast.",
            inputs=(_ref(got),),
        )
    danger = float(data["danger_level_m"].sel(station=rule.station))
    level = data["water_level_m"].sel(station=rule.station).isel(member=0).to_series().dropna()
    issued = pd.Timestamp(got.issued_at.replace(tzinfo=None))
    lead = (level.index - issued) / pd.Timedelta(days=1)
    level = level[(lead >= rule.min_lead_days) & (lead <= rule.max_lead_days)]
    trigger_m = round(danger + rule.offset_m, 3)
    if level.empty:
        return RuleResult(
            "unknown",
            f"No {rule.feed} forecast at {rule.station} within {rule.max_lead_days} days: unknown.",
            inputs=(_ref(got),),
        )
    crossing = level[_cmp(level.round(3), trigger_m, rule.comparison)]
    observed: dict[str, Any] = {
        "station": rule.station,
        "danger_level_m": danger,
        "offset_m": rule.offset_m,
        "trigger_level_m": trigger_m,
        "max_forecast_m": round(float(level.max()), 3),
    }
    name = str(data["name"].sel(station=rule.station).values) if "name" in data else rule.station
    head = (
        f"{rule.feed.upper()} forecasts {level.max():.2f} m at {name} "
        f"(DL {danger:.2f} + {rule.offset_m:.2f} = {trigger_m:.2f} m)"
    )
    end = level.index.max().to_pydatetime()
    if crossing.empty:
        return RuleResult(
            "not_met", f"{head}: not crossed, not met.", observed, (_ref(got),), window_end=end
        )
    first = crossing.index.min().to_pydatetime()
    observed["crossing_time"] = first.isoformat()
    if rule.trend is None:
        return RuleResult(
            "met",
            f"{head}, crossing on {first:%d %b}: met.",
            observed,
            (_ref(got),),
            window_end=end,
        )
    trend = _trend(rule.trend, ctx, first)
    observed |= trend.observed
    verdict = {"met": "met", "not_met": "not met", "unknown": "unknown"}[trend.state]
    return RuleResult(
        trend.state,
        f"{head}, crossing on {first:%d %b}, and {trend.explanation}: {verdict}.",
        observed,
        (_ref(got), *trend.inputs),
        window_end=end,
    )


def _winds(
    rule: m.ModelAgreement | m.UnionWindDecay, got: HazardForecast, lo_h: float, hi_h: float
) -> dict[str, float]:
    wind = got.data["max_wind_kmh"]
    issued = pd.Timestamp(got.issued_at.replace(tzinfo=None))
    out: dict[str, float] = {}
    for model_name in rule.models:
        if model_name not in list(wind["model"].values):
            continue
        series = wind.sel(model=model_name).to_series().dropna()
        lead = (series.index - issued) / pd.Timedelta(hours=1)
        series = series[(lead >= lo_h) & (lead <= hi_h)]
        if not series.empty:
            out[model_name] = float(series.max())
    return out


def model_agreement(rule: m.ModelAgreement, ctx: Ctx) -> RuleResult:
    got = _usable(ctx, rule.feed, rule.max_age_hours)
    if isinstance(got, RuleResult):
        return got
    winds = _winds(rule, got, rule.min_lead_hours, rule.max_lead_hours)
    agree = sorted(k for k, v in winds.items() if _cmp(v, rule.threshold_kmh, rule.comparison))
    observed: dict[str, Any] = {"model_winds_kmh": winds, "agreeing_models": agree}
    text = (
        f"{len(agree)} of {len(rule.models)} models ({', '.join(agree) or 'none'}) forecast "
        f"{_sym(rule.comparison)} {rule.threshold_kmh:.0f} km/h within "
        f"{rule.min_lead_hours:.0f}–{rule.max_lead_hours:.0f} h, {rule.min_models} needed"
    )
    met = len(agree) >= rule.min_models
    if rule.requires_system_at_least:
        system = got.payload.get("system") or {}
        kind = system.get("type")
        observed["system"] = kind
        formed = (
            kind in SYSTEM_ORDER
            and SYSTEM_ORDER.index(kind) >= SYSTEM_ORDER.index(rule.requires_system_at_least)
            and system.get("in_bay_of_bengal", False)
        )
        text += (
            f"; system in the Bay of Bengal: {kind or 'none'} "
            f"(at least {rule.requires_system_at_least.replace('_', ' ')} required)"
        )
        met = met and formed
    return RuleResult(
        "met" if met else "not_met",
        f"{text}: {'met' if met else 'not met'}.",
        observed,
        (_ref(got),),
    )


def observed_landfall(rule: m.ObservedLandfall, ctx: Ctx) -> RuleResult:
    got = _usable(ctx, rule.feed, rule.max_age_hours)
    if isinstance(got, RuleResult):
        return got
    reports = {
        o["source"]: float(o["max_wind_kmh"]) for o in got.payload.get("observed_landfall") or []
    }
    if not reports:
        return RuleResult(
            "not_met", "No observed landfall reported yet: not met.", inputs=(_ref(got),)
        )
    primary = [
        s
        for s in rule.any_of_sources
        if s in reports and _cmp(reports[s], rule.threshold_kmh, rule.comparison)
    ]
    secondary = [
        s
        for s in rule.of_sources
        if s in reports and _cmp(reports[s], rule.threshold_kmh, rule.comparison)
    ]
    met = bool(primary) or len(secondary) >= rule.or_at_least
    text = (
        f"Observed landfall wind {reports}: {', '.join(primary + secondary) or 'none'} "
        f"{_sym(rule.comparison)} {rule.threshold_kmh:.0f} km/h: {'met' if met else 'not met'}."
    )
    return RuleResult(
        "met" if met else "not_met", text, {"observed_landfall_kmh": reports}, (_ref(got),)
    )


def union_wind_decay(rule: m.UnionWindDecay, ctx: Ctx) -> RuleResult:
    got = _usable(ctx, rule.feed, rule.max_age_hours)
    if isinstance(got, RuleResult):
        return got
    landfall = got.payload.get("landfall")
    winds = _winds(rule, got, 0.0, 1e9)
    if not landfall or not winds:
        return RuleResult(
            "unknown",
            "No forecast landfall point or model wind: union winds unknown.",
            inputs=(_ref(got),),
        )
    values = sorted(winds.values())
    wind = values[-1] if rule.landfall_wind == "max_of_models" else float(np.median(values))
    distance = ctx.unions.distance_to_boundary_km(landfall["lon"], landfall["lat"], ctx.area)
    per_union = {
        u: round(wind * rule.factor_a * float(np.exp(-rule.decay_b_per_km * d)), 1)
        for u, d in distance.items()
    }
    hit = tuple(
        sorted(u for u, w in per_union.items() if _cmp(w, rule.threshold_kmh, rule.comparison))
    )
    text = (
        f"Landfall {wind:.0f} km/h at {landfall['lat']:.2f}N {landfall['lon']:.2f}E decays to "
        f"{_sym(rule.comparison)} {rule.threshold_kmh:.0f} km/h in {len(hit)} of "
        f"{len(per_union)} target unions: {'met' if hit else 'not met'}."
    )
    return RuleResult(
        "met" if hit else "not_met",
        text,
        {
            "landfall_wind_kmh": wind,
            "union_wind_kmh": per_union,
            "union_intensity": {
                u: round(min(w / rule.threshold_kmh, 1.0), 3) for u, w in per_union.items()
            },
        },
        (_ref(got),),
        unions=hit,
    )


def footprint_exposure(rule: m.FootprintExposure, ctx: Ctx) -> RuleResult:
    got = _usable(ctx, rule.feed, rule.max_age_hours)
    if isinstance(got, RuleResult):
        return got
    shares = ctx.unions.footprint_shares(got.footprints, ctx.area, rule.min_wind_kmh)
    hit = tuple(sorted(u for u, s in shares.items() if s >= rule.min_share))
    text = (
        f"{len(hit)} target unions have ≥ {rule.min_share:.0%} of their area inside the "
        f"{rule.min_wind_kmh:.0f} km/h band: {'met' if hit else 'not met'}."
    )
    return RuleResult(
        "met" if hit else "not_met", text, {"union_share": dict(shares)}, (_ref(got),), unions=hit
    )


def bmd_signal(rule: m.BmdSignal, ctx: Ctx) -> RuleResult:
    got = _usable(ctx, rule.feed, rule.max_age_hours)
    if isinstance(got, RuleResult):
        return got
    signals = {
        p: int(s)
        for p, s in (got.payload.get("port_signals") or {}).items()
        if not rule.ports or p in rule.ports
    }
    top = max(signals.values(), default=0)
    met = top >= rule.min_signal
    return RuleResult(
        "met" if met else "not_met",
        f"Highest BMD port signal {top} (≥ {rule.min_signal} needed): "
        f"{'met' if met else 'not met'}.",
        {"port_signals": signals},
        (_ref(got),),
    )


def combine(kind: str, parts: list[RuleResult]) -> RuleResult:
    states = [p.state for p in parts]
    if kind == "all_of":
        state: State = (
            "not_met" if "not_met" in states else "unknown" if "unknown" in states else "met"
        )
    else:
        state = "met" if "met" in states else "unknown" if "unknown" in states else "not_met"
    union_sets = [set(p.unions) for p in parts if p.unions is not None]
    unions: tuple[str, ...] | None = None
    if union_sets:
        joined = set.intersection(*union_sets) if kind == "all_of" else set.union(*union_sets)
        unions = tuple(sorted(joined))
    observed: dict[str, Any] = {}
    for p in parts:
        observed |= p.observed
    ends = [p.window_end for p in parts if p.window_end is not None]
    joiner = " AND " if kind == "all_of" else " OR "
    return RuleResult(
        state,
        joiner.join(p.explanation.rstrip(".") for p in parts) + ".",
        observed,
        tuple(i for p in parts for i in p.inputs),
        unions,
        max(ends) if ends else None,
    )


def evaluate_rule(rule: Any, ctx: Ctx) -> RuleResult:
    if isinstance(rule, m.AllOf | m.AnyOf):
        return combine(rule.kind, [evaluate_rule(r, ctx) for r in rule.rules])
    handlers: dict[type, Any] = {
        m.EnsembleExceedance: ensemble_exceedance,
        m.WaterLevelCrossing: water_level_crossing,
        m.ModelAgreement: model_agreement,
        m.ObservedLandfall: observed_landfall,
        m.UnionWindDecay: union_wind_decay,
        m.FootprintExposure: footprint_exposure,
        m.BmdSignal: bmd_signal,
    }
    result: RuleResult = handlers[type(rule)](rule, ctx)
    return result
