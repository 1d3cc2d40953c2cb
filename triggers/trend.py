"""The "sustained or increasing discharge" condition of the flood action triggers.

Definition (ADR 0002): over the N calendar days D .. D+N-1 starting on the water-level
crossing day D, the ensemble median of each day is at least (1 - tolerance_fraction) times
the median of the day before, i.e. the day-over-day relative change is >= -tolerance_fraction
(N-1 changes). Days are UTC calendar dates of the valid times; a day with fewer valid members
than min_members, or outside the forecast, is unknown.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from triggers.bounds import AgeHours, Days, FeedName, Members
from triggers.results import (
    EvalContext,
    ForecastRef,
    State,
    day_span,
    station_names,
    usable,
)


@dataclass(frozen=True)
class TrendCheck:
    state: State
    summary: str
    observed: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[ForecastRef, ...] = ()


class Trend(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    feed: FeedName
    station: str
    variable: Literal["discharge_m3s"]
    statistic: Literal["median"]
    consecutive_days: Days = Field(ge=2)
    tolerance_fraction: float = Field(ge=0, lt=1)
    min_members: Members = Field(ge=1)
    max_age_hours: AgeHours = Field(gt=0)

    def describe(self) -> str:
        return (
            f"the {self.feed} ensemble {self.statistic} at {self.station} is sustained or "
            f"increasing (each day ≥ {1 - self.tolerance_fraction:.0%} of the day before) for "
            f"{self.consecutive_days} days from the crossing day (quorum {self.min_members}; "
            f"forecast at most {self.max_age_hours:g} h old)"
        )

    def _medians(self, data: Any, dates: list[pd.Timestamp]) -> list[float | None]:
        cube = data[self.variable].sel(station=self.station).transpose("valid_time", "member")
        values = np.asarray(cube.values, dtype=float)
        days = pd.DatetimeIndex(data["valid_time"].values).normalize()
        out: list[float | None] = []
        for day in dates:
            rows = values[np.asarray(days == day)]
            with np.errstate(invalid="ignore"):
                finite = np.isfinite(rows)
                count = finite.sum(axis=0)
                per_member = np.where(finite, rows, 0.0).sum(axis=0) / np.maximum(count, 1)
            valid = count > 0
            if int(valid.sum()) < self.min_members:
                out.append(None)
            else:
                out.append(float(np.median(per_member[valid])))
        return out

    def check(self, ctx: EvalContext, start: pd.Timestamp) -> TrendCheck:
        where = f"the {self.feed} discharge trend at {self.station}"
        forecast, why = usable(ctx, self.feed, self.max_age_hours)
        if forecast is None:
            return TrendCheck("unknown", f"{where} is unknown: {why}")
        refs = (ForecastRef.of(forecast),)
        if self.station not in station_names(forecast) or self.variable not in forecast.data:
            return TrendCheck("unknown", f"{where} is unknown: station missing", inputs=refs)
        dates = [start.normalize() + pd.Timedelta(days=k) for k in range(self.consecutive_days)]
        medians = self._medians(forecast.data, dates)
        changes: list[State] = []
        for before, after in itertools.pairwise(medians):
            if before is None or after is None:
                changes.append("unknown")
            elif after >= before * (1 - self.tolerance_fraction):
                changes.append("met")
            else:
                changes.append("not_met")
        state: State = (
            "not_met" if "not_met" in changes else "unknown" if "unknown" in changes else "met"
        )
        observed = {
            "station": self.station,
            "tolerance_fraction": self.tolerance_fraction,
            "median_m3s": {
                d.date().isoformat(): (None if m is None else round(m, 1))
                for d, m in zip(dates, medians, strict=True)
            },
        }
        span = day_span(dates[0], dates[-1])
        shown = " → ".join("?" if m is None else f"{m:,.0f}" for m in medians)
        if state == "met":
            text = f"{where} is sustained or increasing over {span} ({shown} m³/s)"
        elif state == "not_met":
            fall = changes.index("not_met") + 1
            text = (
                f"{where} falls on {day_span(dates[fall], dates[fall])} by more than "
                f"{self.tolerance_fraction:.0%} ({shown} m³/s)"
            )
        else:
            text = f"{where} over {span} is unknown: some days lack data ({shown} m³/s)"
        return TrendCheck(state, text, observed, refs)
