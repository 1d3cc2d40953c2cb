"""Flood rule kinds on station series: ensemble exceedance (GloFAS) and water-level crossing
(FFWC) with an optional discharge-trend condition. Every number comes from the rule set."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal, Self

import numpy as np
from pydantic import Field, model_validator

from triggers.bounds import (
    AgeHours,
    Days,
    DischargeM3s,
    FeedName,
    LeadDays,
    Members,
    OffsetM,
    Probability,
)
from triggers.days import DayState, longest_run, runs, window_days
from triggers.exceedance import station_exceedance
from triggers.results import (
    Comparison,
    EvalContext,
    ForecastRef,
    RuleBase,
    RuleResult,
    State,
    compare,
    day_span,
    is_partial,
    result,
    station_names,
    symbol,
    usable,
    verb,
)
from triggers.trend import Trend


def _window_text(min_lead_days: float, max_lead_days: float) -> str:
    if min_lead_days <= 1:
        return f"within {max_lead_days:g} days"
    return f"at {min_lead_days:g}–{max_lead_days:g} days' lead"


def _probability_text(how: Comparison, value: float) -> str:
    return f"{'more than' if how == 'gt' else 'at least'} {value:.0%}"


class EnsembleExceedance(RuleBase):
    """p_d = share of valid (non-NaN) members whose value compares to the threshold on lead
    day d; met when p_d compares to min_probability on N consecutive days inside the lead
    window. A day with fewer valid members than min_members is unknown."""

    kind: Literal["ensemble_exceedance"]
    feed: FeedName
    station: str
    variable: Literal["discharge_m3s"]
    # The threshold, inline or resolved at load time from a rule-set [thresholds] entry
    # named by threshold_ref (then source and provisional flag come from that entry).
    threshold_m3s: DischargeM3s = Field(gt=0)
    threshold_ref: str | None = None
    threshold_source: str | None = None
    threshold_provisional: bool = False
    comparison: Comparison
    min_probability: Probability = Field(ge=0, le=1)
    probability_comparison: Comparison
    consecutive_days: Days = Field(ge=1)
    min_lead_days: LeadDays = Field(ge=0)
    max_lead_days: LeadDays = Field(gt=0)
    min_members: Members = Field(ge=1)
    max_age_hours: AgeHours = Field(gt=0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.min_lead_days > self.max_lead_days:
            raise ValueError("min_lead_days is after max_lead_days")
        return self

    def threshold_observed(self) -> dict[str, Any]:
        return {
            "threshold_m3s": self.threshold_m3s,
            "threshold_ref": self.threshold_ref,
            "threshold_source": self.threshold_source,
            "threshold_provisional": self.threshold_provisional,
        }

    def describe(self) -> str:
        flag = " (provisional)" if self.threshold_provisional else ""
        value = f"{self.threshold_m3s:,.0f} m³/s{flag}"
        return (
            f"{self.feed} ensemble at {self.station}: "
            f"{_probability_text(self.probability_comparison, self.min_probability)} "
            f"of valid members {verb(self.comparison)} {value} on {self.consecutive_days} "
            f"consecutive days {_window_text(self.min_lead_days, self.max_lead_days)} "
            f"(quorum {self.min_members} members; forecast at most {self.max_age_hours:g} h old)"
        )

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        rid, kind = self.rule_id(ctx), self.kind
        forecast, why = usable(ctx, self.feed, self.max_age_hours)
        if forecast is None:
            return result(rid, kind, "unknown", f"discharge at {self.station} unknown: {why}")
        ref = [ForecastRef.of(forecast)]
        if self.station not in station_names(forecast) or self.variable not in forecast.data:
            text = f"{self.station} {self.variable} is missing from the {self.feed} forecast"
            return result(rid, kind, "unknown", text, inputs=ref)
        threshold, observed = self.threshold_m3s, self.threshold_observed()
        days, window = station_exceedance(self, forecast)
        if not window.days:
            text = f"the {self.feed} forecast does not reach the lead window at {self.station}"
            return result(rid, kind, "unknown", text, observed, ref)
        states: list[DayState] = [d.day_state for d in days]
        per_day = [d.as_dict() for d in days]
        state, starts = runs(states, self.consecutive_days)
        if state == "not_met" and is_partial(forecast, self.station):
            state = "unknown"
        best_len = longest_run(states)[0]
        observed |= {
            "station": self.station,
            "comparison": self.comparison,
            "min_probability": self.min_probability,
            "consecutive_days": self.consecutive_days,
            "days": per_day,
            "longest_run_days": best_len,
            "members_total": int(forecast.data.sizes["member"]),
        }
        summary = self._summary(state, starts, states, per_day, window.dates, threshold, observed)
        return result(rid, kind, state, summary, observed, ref, window_end=window.end)

    def _summary(
        self,
        state: State,
        starts: list[int],
        states: list[DayState],
        per_day: list[dict[str, Any]],
        dates: Any,
        threshold: float,
        observed: dict[str, Any],
    ) -> str:
        flag = " (provisional threshold)" if observed.get("threshold_provisional") else ""
        value = f"{threshold:,.0f} m³/s{flag} at {self.station}"
        window = _window_text(self.min_lead_days, self.max_lead_days)
        n = self.consecutive_days
        if state == "met":
            start = starts[0]
            run = per_day[start : start + n]
            weak = min(run, key=lambda d: (d["probability"], d["lead_day"]))
            span = day_span(dates[run[0]["lead_day"]], dates[run[-1]["lead_day"]])
            return (
                f"{weak['members_above']} of {weak['valid_members']} members "
                f"({weak['probability']:.0%}) {verb(self.comparison)} {value} on {n} "
                f"consecutive days ({span}) {window}"
            )
        if state == "unknown" and "below" not in states and "above" not in states:
            fewest = min(per_day, key=lambda d: (d["valid_members"], d["lead_day"]))
            return (
                f"only {fewest['valid_members']} valid members at {self.station} on "
                f"{fewest['date']} (quorum {self.min_members}), so the {value} test "
                f"{window} cannot be judged"
            )
        peak = max(per_day, key=lambda d: (d["probability"], -d["lead_day"]))
        need = _probability_text(self.probability_comparison, self.min_probability)
        text = (
            f"at most {peak['members_above']} of {peak['valid_members']} members "
            f"({peak['probability']:.0%}) {verb(self.comparison)} {value} on any day "
            f"{window} (peak {peak['date']}); {need} on {n} consecutive days is needed"
        )
        best_len, best_start = longest_run(states)
        if best_len:
            span = day_span(
                dates[per_day[best_start]["lead_day"]],
                dates[per_day[best_start + best_len - 1]["lead_day"]],
            )
            text += f" and the longest run is {best_len} day{'s' * (best_len > 1)} ({span})"
        if state == "unknown":
            text += ", and some days lack data"
        return text


class WaterLevelCrossing(RuleBase):
    """The deterministic forecast level compares to danger level + offset_m on
    consecutive_days_above consecutive lead days inside the window; the danger level is read
    from the forecast's station coordinate `danger_level_m`, never fixed in a rule set.
    With `trend`, some crossing day must also start a sustained-or-increasing trend."""

    kind: Literal["water_level_crossing"]
    feed: FeedName
    station: str
    variable: Literal["water_level_m"]
    offset_m: OffsetM
    comparison: Comparison
    consecutive_days_above: Days = Field(ge=1)
    min_lead_days: LeadDays = Field(ge=0)
    max_lead_days: LeadDays = Field(gt=0)
    max_age_hours: AgeHours = Field(gt=0)
    level_decimals: int = Field(ge=0, le=6)  # levels and the trigger level compared rounded
    trend: Trend | None = None

    def describe(self) -> str:
        text = (
            f"{self.feed} forecast at {self.station} {symbol(self.comparison)} danger level "
            f"+ {self.offset_m:g} m on {self.consecutive_days_above} consecutive day(s) "
            f"{_window_text(self.min_lead_days, self.max_lead_days)} (forecast at most "
            f"{self.max_age_hours:g} h old)"
        )
        return text + (f", and {self.trend.describe()}" if self.trend else "")

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        rid, kind = self.rule_id(ctx), self.kind
        forecast, why = usable(ctx, self.feed, self.max_age_hours)
        if forecast is None:
            return result(rid, kind, "unknown", f"water level at {self.station} unknown: {why}")
        ref = [ForecastRef.of(forecast)]
        data = forecast.data
        if self.station not in station_names(forecast) or self.variable not in data:
            text = f"{self.station} {self.variable} is missing from the {self.feed} forecast"
            return result(rid, kind, "unknown", text, inputs=ref)
        name = str(data["name"].sel(station=self.station).values) if "name" in data.coords else ""
        label = name or self.station
        danger = (
            float(data["danger_level_m"].sel(station=self.station).values)
            if "danger_level_m" in data.coords
            else float("nan")
        )
        if not np.isfinite(danger):
            text = f"the {self.feed} forecast gives no danger level for {label}"
            return result(rid, kind, "unknown", text, inputs=ref)
        trigger_m = round(danger + self.offset_m, self.level_decimals)
        series = data[self.variable].sel(station=self.station)
        levels = np.asarray(series.transpose("valid_time", "member").values, dtype=float)
        levels = np.round(levels[:, 0], self.level_decimals)
        window = window_days(
            data["valid_time"].values, forecast.issued_at, self.min_lead_days, self.max_lead_days
        )
        states: list[DayState] = []
        day_max: dict[int, float] = {}
        for n in window.days:
            values = levels[window.steps.get(n, [])]
            values = values[np.isfinite(values)]
            if values.size == 0:
                states.append("unknown")
                continue
            day_max[n] = float(values.max())
            above = bool(compare(day_max[n], trigger_m, self.comparison))
            states.append("above" if above else "below")
        wl_state, starts = runs(states, self.consecutive_days_above)
        if wl_state == "not_met" and is_partial(forecast, self.station):
            wl_state = "unknown"
        crossing = [window.days[i] for i in starts]
        observed: dict[str, Any] = {
            "station": self.station,
            "station_name": name,
            "danger_level_m": danger,
            "offset_m": self.offset_m,
            "trigger_level_m": trigger_m,
            "comparison": self.comparison,
            "daily_max_level_m": {
                window.dates[n].date().isoformat(): v for n, v in day_max.items()
            },
            "crossing_dates": [window.dates[n].date().isoformat() for n in crossing],
        }
        top = max(day_max.items(), key=lambda kv: (kv[1], -kv[0]), default=None)
        level_text = (
            f"danger level {danger:.2f} m + {self.offset_m:.2f} m = {trigger_m:.2f} m, "
            f"{_window_text(self.min_lead_days, self.max_lead_days)}"
        )
        if not crossing:
            peak = f"at most {top[1]:.2f} m" if top else "no level"
            text = f"{self.feed.upper()} forecasts {peak} at {label} ({level_text})"
            if wl_state == "unknown":
                text += " and some days lack data"
            return result(rid, kind, wl_state, text, observed, ref, window_end=window.end)
        first = window.dates[crossing[0]]
        text = (
            f"{self.feed.upper()} forecasts {day_max[crossing[0]]:.2f} m at {label} on "
            f"{day_span(first, first)} ({symbol(self.comparison)} {level_text})"
        )
        if self.trend is None:
            return result(rid, kind, wl_state, text, observed, ref, window_end=window.end)
        out = self._with_trend(ctx, rid, text, observed, ref, wl_state, crossing, window.dates)
        return replace(out, window_end=window.end)

    def _with_trend(
        self,
        ctx: EvalContext,
        rid: str,
        text: str,
        observed: dict[str, Any],
        refs: list[ForecastRef],
        wl_state: State,
        crossing: list[int],
        dates: Any,
    ) -> RuleResult:
        """Met if some crossing day starts a trend that holds; a crossing hidden by missing
        water levels (wl_state unknown) keeps a failed trend unknown."""
        assert self.trend is not None
        checks = [self.trend.check(ctx, dates[n]) for n in crossing]
        states = [c.state for c in checks] + (["unknown"] if wl_state == "unknown" else [])
        state: State = "met" if "met" in states else "unknown" if "unknown" in states else "not_met"
        chosen = next((c for c in checks if c.state == state), checks[0])
        observed = observed | {"trend": chosen.observed}
        for c in checks:
            refs.extend(c.inputs)
        return result(rid, self.kind, state, f"{text}, and {chosen.summary}", observed, refs)
