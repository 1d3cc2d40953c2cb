"""What rules see and return: the evaluation context, three-valued results, shared helpers.

Three-valued logic: "met", "not_met", "unknown". Missing, stale or partial inputs give
"unknown", never "not_met". Ordered not_met < unknown < met for monotonicity checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from agam.core.timeutil import iso_utc
from hazard_feeds.contract import HazardForecast

State = Literal["met", "not_met", "unknown"]
Comparison = Literal["gt", "ge"]
STATE_RANK: dict[str, int] = {"not_met": 0, "unknown": 1, "met": 2}
VERDICT: dict[str, str] = {"met": "met", "not_met": "not met", "unknown": "unknown"}
# Forecast quality codes that make a forecast partial for the subject they name.
PARTIAL_CODES = frozenset({"missing_timestep", "partial", "stale"})


class UnionContext(Protocol):
    """The union layer as the rules see it; implemented in boundaries/ (fakes in tests)."""

    def district_unions(
        self, district_pcodes: Sequence[str], upazila_pcodes: Sequence[str] = ()
    ) -> list[str]:
        """ADM4 codes of the districts, restricted to the listed upazilas when any are given
        (upazila codes in either scheme: BBS 2020 `BD554909` or COD-AB 2025 `BD55490009`)."""
        ...

    def distance_to_boundary_km(
        self,
        lon: float,
        lat: float,
        pcodes: Sequence[str],
        measure: Literal["boundary_line", "polygon"] = "boundary_line",
    ) -> Mapping[str, float]:
        """Distance (km, EPSG:32646) from a point to each union: to its boundary line, the
        containing union included ("boundary_line", OCHA's tool), or 0 inside ("polygon")."""
        ...

    def union_names(self, pcodes: Sequence[str]) -> Mapping[str, str]: ...

    def raster_share(
        self,
        grid: Any,
        pcodes: Sequence[str],
        variable: str,
        value: float,
        comparison: Literal["gt", "ge"],
    ) -> Mapping[str, float]:
        """Share (0-1) of each union's valid cells of `grid[variable]` (first time step) whose
        value compares to `value`; NaN where the union has no valid cell."""
        ...

    def footprint_shares(
        self, footprints: Any, pcodes: Sequence[str], min_wind_kmh: float
    ) -> Mapping[str, float]:
        """Share (0-1) of each union's area inside footprint bands of at least min_wind_kmh:
        the largest share over the timestep bands and the whole-track swath (GDACS)."""
        ...


class RuleBase(BaseModel):
    """Every rule kind: frozen, unknown keys refused, an optional id (else its path)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str | None = None

    def rule_id(self, ctx: EvalContext) -> str:
        return self.id or ctx.rule_path


class ForecastRef(NamedTuple):
    """Which forecast a result read (a tuple, so it sorts and serialises as a list)."""

    feed_id: str
    issued_at: str  # ISO-8601 UTC with Z
    raw_sha256: str | None

    @classmethod
    def of(cls, forecast: HazardForecast) -> ForecastRef:
        return cls(forecast.feed_id, iso_utc(forecast.issued_at), forecast.raw_sha256)


@dataclass(frozen=True)
class EvalContext:
    forecasts: Mapping[str, HazardForecast]
    unions: UnionContext
    as_of: datetime
    area_unions: tuple[str, ...] = ()  # the stage's target unions (ADM4)
    rule_path: str = "rule"

    def child(self, index: int) -> EvalContext:
        return dataclasses.replace(self, rule_path=f"{self.rule_path}.{index}")


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    kind: str
    state: State
    summary: str  # a clause, without the verdict
    observed: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[ForecastRef, ...] = ()
    unions: tuple[str, ...] | None = None  # None: the rule does not single out unions
    children: tuple[RuleResult, ...] = ()
    window_end: datetime | None = None  # last valid time the rule looked at (stand-down)

    @property
    def explanation(self) -> str:
        """One English sentence, shown verbatim in the UI."""
        return sentence(f"{self.summary}: {VERDICT[self.state]}.")

    def flatten(self) -> tuple[RuleResult, ...]:
        out: list[RuleResult] = [self]
        for child in self.children:
            out.extend(child.flatten())
        return tuple(out)


def result(
    rule_id: str,
    kind: str,
    state: State,
    summary: str,
    observed: Mapping[str, Any] | None = None,
    inputs: Iterable[ForecastRef] = (),
    unions: Iterable[str] | None = None,
    window_end: datetime | None = None,
) -> RuleResult:
    return RuleResult(
        rule_id,
        kind,
        state,
        summary,
        dict(sorted((observed or {}).items())),
        tuple(sorted(set(inputs))),
        None if unions is None else tuple(sorted(set(unions))),
        window_end=window_end,
    )


def sentence(text: str) -> str:
    """Capitalise the first letter (summaries are clauses that start in lower case)."""
    return text[:1].upper() + text[1:]


def compare(value: Any, threshold: float, how: Comparison) -> Any:
    """Elementwise; NaN compares False either way."""
    return np.greater(value, threshold) if how == "gt" else np.greater_equal(value, threshold)


def symbol(how: Comparison) -> str:
    return ">" if how == "gt" else "≥"


def verb(how: Comparison) -> str:
    return "exceed" if how == "gt" else "reach or exceed"


def kleene_all(states: Iterable[State]) -> State:
    values = list(states)
    if "not_met" in values:
        return "not_met"
    return "unknown" if "unknown" in values else "met"


def kleene_any(states: Iterable[State]) -> State:
    values = list(states)
    if "met" in values:
        return "met"
    return "unknown" if "unknown" in values else "not_met"


def usable(ctx: EvalContext, feed: str, max_age_hours: float) -> tuple[HazardForecast | None, str]:
    """The feed's forecast if present, issued by as_of and fresh; else None and why."""
    forecast = ctx.forecasts.get(feed)
    if forecast is None or forecast.issued_at > ctx.as_of:
        return None, f"no {feed} forecast issued by {iso_utc(ctx.as_of)}"
    age_hours = (ctx.as_of - forecast.issued_at).total_seconds() / 3600
    if age_hours > max_age_hours:
        return None, (
            f"the newest {feed} forecast is {age_hours:.0f} h old (limit {max_age_hours:g} h)"
        )
    return forecast, ""


def is_partial(forecast: HazardForecast, subject: str) -> bool:
    """True when the forecast reports missing timesteps or partial data for this subject."""
    return any(q.code in PARTIAL_CODES and q.subject in (None, subject) for q in forecast.quality)


def lead_days(valid_times: Any, issued_at: datetime) -> np.ndarray:
    """Lead of each valid time in days (floats) from issued_at; valid times are naive UTC."""
    issued = pd.Timestamp(iso_utc(issued_at)).tz_localize(None)
    lead = (pd.DatetimeIndex(valid_times) - issued) / pd.Timedelta(days=1)
    return np.asarray(lead, dtype=float)


def day_span(first: pd.Timestamp, last: pd.Timestamp) -> str:
    if first == last:
        return f"{first.day} {first:%b}"
    if first.month == last.month:
        return f"{first.day}–{last.day} {last:%b}"
    return f"{first.day} {first:%b}–{last.day} {last:%b}"


def station_names(forecast: HazardForecast) -> list[str]:
    data = forecast.data
    if data is None or "station" not in getattr(data, "dims", {}):
        return []
    return [str(s) for s in data["station"].values]
