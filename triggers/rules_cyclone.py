"""Cyclone rule kinds: model agreement on wind, union wind decay, footprint exposure, BMD port
signal and observed landfall. Inputs are track-kind forecasts (dims model, valid_time; var
max_wind_kmh) or BMD bulletins (the same cube in `data`, the bulletin in `payload`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agam.core.reference import ModelName, PortName, SignalNumber, SystemName, vocabulary
from agam.core.timeutil import parse_utc
from hazard_feeds.contract import HazardForecast
from triggers.bounds import (
    AgeHours,
    DecayPerKm,
    FeedName,
    LeadHours,
    Probability,
    Sources,
    WindFactor,
    WindKmh,
)
from triggers.results import (
    Comparison,
    EvalContext,
    ForecastRef,
    RuleBase,
    RuleResult,
    State,
    compare,
    kleene_all,
    lead_days,
    result,
    symbol,
    usable,
)

# The BMD/IMD classification ladder of Bay of Bengal systems (weakest first), the forecast
# models and the port signals are shared vocabularies (agam/core/data/vocabulary.toml): which
# rung or signal a rule needs is rule-set data.


def _hours(valid: Any, issued: datetime) -> float:
    when = valid if isinstance(valid, datetime) else parse_utc(str(valid))
    return (when - issued).total_seconds() / 3600


def model_winds(
    forecast: HazardForecast, models: tuple[str, ...], min_lead_h: float, max_lead_h: float
) -> dict[str, float | None]:
    """Highest finite wind per listed model with lead in [min_lead_h, max_lead_h]: a number;
    a model with winds only outside the window: -inf (it forecasts nothing there); a model the
    forecast does not carry at all: None. Reads the (model, valid_time) cube, else the
    bulletin payload's model_winds."""
    found: dict[str, list[float]] = {}
    data = forecast.data
    if data is not None and "max_wind_kmh" in data:
        hours = lead_days(data["valid_time"].values, forecast.issued_at) * 24
        inside = (hours >= min_lead_h) & (hours <= max_lead_h)
        for name in data["model"].values:
            row = np.asarray(data["max_wind_kmh"].sel(model=name).values, dtype=float)
            if np.isfinite(row).any():
                kept = [float(v) for v in row[inside] if np.isfinite(v)]
                found.setdefault(str(name).upper(), []).extend(kept or [-math.inf])
    else:
        for item in forecast.payload.get("model_winds") or []:
            key = str(item.get("model", "")).upper()
            wind = float(item.get("max_wind_kmh", math.nan))
            if not math.isfinite(wind):
                continue
            hours_ahead = _hours(item.get("valid_time"), forecast.issued_at)
            inside_window = min_lead_h <= hours_ahead <= max_lead_h
            found.setdefault(key, []).append(wind if inside_window else -math.inf)
    return {m: (max(found[m]) if m in found else None) for m in sorted(models)}


def landfall_time(forecast: HazardForecast) -> datetime | None:
    """The forecast landfall time (the bulletin's `landfall.time`), else the last valid time
    of its winds: when the hazard the forecast describes has passed. Stand-down is counted
    from it (rule-set lifecycle)."""
    landfall = forecast.payload.get("landfall")
    if isinstance(landfall, Mapping) and landfall.get("time") is not None:
        when = landfall["time"]
        return when if isinstance(when, datetime) else parse_utc(str(when))
    data = forecast.data
    if data is not None and "valid_time" in data.coords and data.sizes.get("valid_time"):
        last = np.asarray(data["valid_time"].values).max()
        return parse_utc(str(np.datetime_as_string(last, unit="s")) + "Z")
    return None


def observed_winds(payload: Mapping[str, Any]) -> dict[str, float]:
    """Highest observed landfall wind per source in a bulletin payload."""
    reports: dict[str, float] = {}
    for item in payload.get("observed_landfall") or []:
        source = str(item.get("source", "")).upper()
        wind = float(item.get("max_wind_kmh", math.nan))
        if math.isfinite(wind):
            reports[source] = max(wind, reports.get(source, wind))
    return dict(sorted(reports.items()))


class SystemCondition(BaseModel):
    """A system of at least `min_type` exists (from the bulletin), optionally in the Bay."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min_type: SystemName
    in_bay_of_bengal: bool

    def check(self, payload: Mapping[str, Any]) -> tuple[State, str, str | None]:
        system = payload.get("system")
        order = vocabulary().systems.order
        if not isinstance(system, Mapping) or system.get("type") not in order:
            return "unknown", "the bulletin names no system", None
        kind = str(system["type"])
        strong = order.index(kind) >= order.index(self.min_type)
        in_bay = bool(system.get("in_bay_of_bengal", False)) or not self.in_bay_of_bengal
        words = kind.replace("_", " ").replace("well marked", "well-marked")
        need = self.min_type.replace("_", " ").replace("well marked", "well-marked")
        where = " in the Bay of Bengal" if self.in_bay_of_bengal else ""
        text = f"a {words} exists{where} (at least a {need} needed)"
        if not in_bay:
            text = f"the {words} is not in the Bay of Bengal"
        return ("met" if strong and in_bay else "not_met"), text, kind


class ModelAgreement(RuleBase):
    """At least min_models of the listed models forecast max_wind_kmh compared to
    threshold_kmh at some valid time with lead in [min_lead_hours, max_lead_hours]."""

    kind: Literal["model_agreement"]
    feed: FeedName
    models: tuple[ModelName, ...] = Field(min_length=1)
    min_models: Sources = Field(ge=1)
    threshold_kmh: WindKmh = Field(gt=0)
    comparison: Comparison
    min_lead_hours: LeadHours = Field(ge=0)
    max_lead_hours: LeadHours = Field(gt=0)
    max_age_hours: AgeHours = Field(gt=0)
    # A listed model the forecast does not carry: "unknown" (it might agree) or "not_met".
    missing_model: Literal["unknown", "not_met"]
    system: SystemCondition | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(set(self.models)) != len(self.models) or self.min_models > len(self.models):
            raise ValueError("models must be distinct and at least min_models many")
        return self

    def describe(self) -> str:
        text = (
            f"at least {self.min_models} of {', '.join(self.models)} forecast "
            f"{symbol(self.comparison)} {self.threshold_kmh:g} km/h at "
            f"{self.min_lead_hours:g}–{self.max_lead_hours:g} h lead ({self.feed}, at most "
            f"{self.max_age_hours:g} h old)"
        )
        if self.system:
            text += f", and at least a {self.system.min_type.replace('_', ' ')} exists"
        return text

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        rid, kind = self.rule_id(ctx), self.kind
        forecast, why = usable(ctx, self.feed, self.max_age_hours)
        if forecast is None:
            return result(rid, kind, "unknown", f"model winds unknown: {why}")
        winds = model_winds(forecast, self.models, self.min_lead_hours, self.max_lead_hours)
        agree = [
            m
            for m, w in winds.items()
            if w is not None and compare(w, self.threshold_kmh, self.comparison)
        ]
        missing = [m for m, w in winds.items() if w is None]
        open_count = len(missing) if self.missing_model == "unknown" else 0
        votes: State = (
            "met"
            if len(agree) >= self.min_models
            else "unknown"
            if len(agree) + open_count >= self.min_models
            else "not_met"
        )
        shown = ", ".join(
            f"{m} {w:.0f}" for m, w in winds.items() if w is not None and math.isfinite(w)
        )
        text = (
            f"{len(agree)} of {len(self.models)} models ({', '.join(agree) or 'none'}) forecast "
            f"{symbol(self.comparison)} {self.threshold_kmh:g} km/h at "
            f"{self.min_lead_hours:g}–{self.max_lead_hours:g} h lead "
            f"({shown or 'no wind in the window'}; {self.min_models} needed)"
        )
        observed: dict[str, Any] = {
            "model_winds_kmh": {
                m: (w if w is None or math.isfinite(w) else "outside window")
                for m, w in winds.items()
            },
            "agreeing_models": agree,
            "missing_models": missing,
            "threshold_kmh": self.threshold_kmh,
            "comparison": self.comparison,
        }
        states = [votes]
        if self.system is not None:
            sys_state, sys_text, sys_kind = self.system.check(forecast.payload)
            observed["system"] = sys_kind
            states.append(sys_state)
            text += f" and {sys_text}"
        refs = [ForecastRef.of(forecast)]
        return result(
            rid, kind, kleene_all(states), text, observed, refs, window_end=landfall_time(forecast)
        )


class UnionWindDecay(RuleBase):
    """wind_union = landfall_wind x factor_a x exp(-decay_b_per_km x d_km), d_km from the
    landfall point to each target union (ctx.unions) measured as `distance_to` says: to the
    union's boundary line, the containing union included (OCHA's tool), or 0 inside the
    polygon. Unions whose wind compares to the threshold are affected."""

    kind: Literal["union_wind_decay"]
    feed: FeedName
    models: tuple[ModelName, ...] = Field(min_length=1)
    # Landfall wind: the highest or median forecast of `models` in the lead window, or the
    # highest observed landfall wind in the bulletin (after landfall).
    landfall_wind: Literal["max_of_models", "median_of_models", "observed_max"]
    min_lead_hours: LeadHours = Field(ge=0)
    max_lead_hours: LeadHours = Field(gt=0)
    factor_a: WindFactor = Field(gt=0)
    decay_b_per_km: DecayPerKm = Field(ge=0)
    threshold_kmh: WindKmh = Field(gt=0)
    comparison: Comparison
    # "boundary_line": st_distance(st_boundary(union), landfall) as OCHA's tool computes it;
    # "polygon": 0 for the union that contains the landfall (ADR 0007).
    distance_to: Literal["boundary_line", "polygon"]
    max_age_hours: AgeHours = Field(gt=0)

    @field_validator("distance_to", mode="before")
    @classmethod
    def _not_ambiguous(cls, value: Any) -> Any:
        if value == "boundary":
            raise ValueError(
                '"boundary" is ambiguous: use "boundary_line" (OCHA\'s tool: the distance to '
                'the boundary line, the containing union included) or "polygon" (0 inside)'
            )
        return value

    def describe(self) -> str:
        where = {"boundary_line": "boundary line", "polygon": "polygon (0 inside)"}
        return (
            f"landfall wind ({self.landfall_wind.replace('_', ' ')}) × {self.factor_a:g} × "
            f"exp(−{self.decay_b_per_km:g} × km to the union {where[self.distance_to]}) "
            f"{symbol(self.comparison)} {self.threshold_kmh:g} km/h in a target union"
        )

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        rid, kind = self.rule_id(ctx), self.kind
        forecast, why = usable(ctx, self.feed, self.max_age_hours)
        if forecast is None:
            return result(rid, kind, "unknown", f"union winds unknown: {why}")
        ref = [ForecastRef.of(forecast)]
        landfall = forecast.payload.get("landfall")
        if self.landfall_wind == "observed_max":
            values = sorted(observed_winds(forecast.payload).values())
        else:
            winds = model_winds(forecast, self.models, self.min_lead_hours, self.max_lead_hours)
            values = sorted(w for w in winds.values() if w is not None and math.isfinite(w))
        if not isinstance(landfall, Mapping) or not values or not ctx.area_unions:
            why = "no landfall point" if not isinstance(landfall, Mapping) else "no model wind"
            why = why if ctx.area_unions else "no target unions"
            return result(rid, kind, "unknown", f"union winds unknown: {why}", inputs=ref)
        median = self.landfall_wind == "median_of_models"
        wind = float(np.median(values)) if median else values[-1]
        lon, lat = float(landfall["lon"]), float(landfall["lat"])
        distance = ctx.unions.distance_to_boundary_km(
            lon, lat, sorted(ctx.area_unions), self.distance_to
        )
        per_union = {
            code: round(wind * self.factor_a * math.exp(-self.decay_b_per_km * float(d)), 1)
            for code, d in sorted(distance.items())
        }
        hit = sorted(
            c for c, w in per_union.items() if compare(w, self.threshold_kmh, self.comparison)
        )
        nearest = min(distance.items(), key=lambda kv: (kv[1], kv[0]), default=None)
        names = ctx.unions.union_names([nearest[0]]) if nearest else {}
        near = (
            f"; nearest {names.get(nearest[0], nearest[0])} at {nearest[1]:.0f} km"
            if nearest
            else ""
        )
        text = (
            f"landfall wind {wind:.0f} km/h at {lat:.2f}°N {lon:.2f}°E decays to "
            f"{symbol(self.comparison)} {self.threshold_kmh:g} km/h in {len(hit)} of "
            f"{len(per_union)} target unions{near}"
        )
        observed = {
            "landfall_lat": lat,
            "landfall_lon": lon,
            "landfall_wind_kmh": wind,
            "distance_km": {c: round(float(d), 2) for c, d in sorted(distance.items())},
            "distance_to": self.distance_to,
            "union_wind_kmh": per_union,
        }
        state: State = "met" if hit else "not_met"
        end = landfall_time(forecast)
        return result(rid, kind, state, text, observed, ref, unions=hit, window_end=end)


class FootprintExposure(RuleBase):
    """Unions with a share of their area (compared to min_share) inside footprint bands of at
    least min_wind_kmh; shares come from ctx.unions.footprint_shares."""

    kind: Literal["footprint_exposure"]
    feed: FeedName
    min_wind_kmh: WindKmh = Field(gt=0)
    min_share: Probability = Field(ge=0, le=1)
    share_comparison: Comparison
    max_age_hours: AgeHours = Field(gt=0)

    def describe(self) -> str:
        return (
            f"{symbol(self.share_comparison)} {self.min_share:.0%} of a union's area inside the "
            f"{self.feed} ≥ {self.min_wind_kmh:g} km/h wind band"
        )

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        rid, kind = self.rule_id(ctx), self.kind
        forecast, why = usable(ctx, self.feed, self.max_age_hours)
        if forecast is None or forecast.footprints is None:
            why = why or f"the {self.feed} forecast has no footprint"
            return result(rid, kind, "unknown", f"wind footprint unknown: {why}")
        shares = ctx.unions.footprint_shares(
            forecast.footprints, sorted(ctx.area_unions), self.min_wind_kmh
        )
        hit = sorted(
            c for c, s in shares.items() if compare(s, self.min_share, self.share_comparison)
        )
        text = (
            f"{len(hit)} target unions have {symbol(self.share_comparison)} "
            f"{self.min_share:.0%} of their area inside the {self.min_wind_kmh:g} km/h band"
        )
        observed = {"union_share": {c: round(float(s), 4) for c, s in sorted(shares.items())}}
        state: State = "met" if hit else "not_met"
        return result(rid, kind, state, text, observed, [ForecastRef.of(forecast)], unions=hit)


class BmdSignal(RuleBase):
    """The highest maritime port signal in the bulletin (optionally at listed ports); a port
    with no signal hoisted counts as 0."""

    kind: Literal["bmd_signal"]
    feed: FeedName
    min_signal: SignalNumber
    comparison: Comparison
    ports: tuple[PortName, ...] = ()
    max_age_hours: AgeHours = Field(gt=0)

    def describe(self) -> str:
        where = f" at {', '.join(self.ports)}" if self.ports else ""
        return f"BMD maritime signal {symbol(self.comparison)} {self.min_signal}{where}"

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        rid, kind = self.rule_id(ctx), self.kind
        forecast, why = usable(ctx, self.feed, self.max_age_hours)
        if forecast is None:
            return result(rid, kind, "unknown", f"the BMD port signal is unknown: {why}")
        raw = forecast.payload.get("port_signals") or {}
        wanted = {p.lower() for p in self.ports}
        signals = {str(p): int(s) for p, s in raw.items() if not wanted or str(p).lower() in wanted}
        top = max(signals.values(), default=0)
        state: State = "met" if compare(top, self.min_signal, self.comparison) else "not_met"
        need = f"{symbol(self.comparison)} {self.min_signal} needed"
        text = f"the highest BMD port signal is {top} ({need})"
        observed = {"port_signals": dict(sorted(signals.items())), "max_signal": top}
        return result(rid, kind, state, text, observed, [ForecastRef.of(forecast)])


class ObservedLandfall(RuleBase):
    """Observed landfall wind compared to threshold_kmh from any of `any_of_sources`, or from
    at least `min_other_sources` of `other_sources`. No landfall report yet: not met."""

    kind: Literal["observed_landfall"]
    feed: FeedName
    threshold_kmh: WindKmh = Field(gt=0)
    comparison: Comparison
    any_of_sources: tuple[ModelName, ...]
    other_sources: tuple[ModelName, ...] = ()
    min_other_sources: Sources = Field(ge=1)
    max_age_hours: AgeHours = Field(gt=0)

    def describe(self) -> str:
        return (
            f"observed landfall wind {symbol(self.comparison)} {self.threshold_kmh:g} km/h from "
            f"{' or '.join(self.any_of_sources)}, or from at least {self.min_other_sources} of "
            f"{', '.join(self.other_sources)}"
        )

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        rid, kind = self.rule_id(ctx), self.kind
        forecast, why = usable(ctx, self.feed, self.max_age_hours)
        if forecast is None:
            return result(rid, kind, "unknown", f"observed landfall unknown: {why}")
        reports = observed_winds(forecast.payload)

        def ok(s: str) -> bool:
            return s in reports and bool(compare(reports[s], self.threshold_kmh, self.comparison))

        primary = [s for s in self.any_of_sources if ok(s)]
        other = [s for s in self.other_sources if ok(s)]
        state: State = "met" if primary or len(other) >= self.min_other_sources else "not_met"
        shown = ", ".join(f"{s} {w:.0f} km/h" for s, w in sorted(reports.items()))
        text = (
            f"observed landfall winds ({shown}): {', '.join(primary + other) or 'none'} "
            f"{symbol(self.comparison)} {self.threshold_kmh:g} km/h"
            if reports
            else "no observed landfall wind reported yet"
        )
        observed = {"observed_landfall_kmh": dict(sorted(reports.items()))}
        end = landfall_time(forecast) or forecast.issued_at
        return result(rid, kind, state, text, observed, [ForecastRef.of(forecast)], window_end=end)
