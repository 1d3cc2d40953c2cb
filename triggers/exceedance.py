"""A station's daily ensemble exceedance exactly as the engine judges it: the share of valid
members that compare to the threshold on each lead day of the window, and whether the day is
above, below or unknown (fewer valid members than the quorum).

`EnsembleExceedance` evaluates with it, hazard intensity reads it, and the Stations page shows
it, so the three can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from hazard_feeds.contract import HazardForecast
from triggers.days import DayState, WindowDays, window_days
from triggers.results import Comparison, compare


class ExceedanceTest(Protocol):
    """What the daily test needs from a rule (EnsembleExceedance has all of it)."""

    @property
    def station(self) -> str: ...
    @property
    def variable(self) -> str: ...
    @property
    def threshold_m3s(self) -> float: ...
    @property
    def comparison(self) -> Comparison: ...
    @property
    def min_probability(self) -> float: ...
    @property
    def probability_comparison(self) -> Comparison: ...
    @property
    def min_lead_days(self) -> float: ...
    @property
    def max_lead_days(self) -> float: ...
    @property
    def min_members(self) -> int: ...


@dataclass(frozen=True)
class DayExceedance:
    lead_day: int
    date: str  # ISO date (UTC) of the day's valid time
    valid_members: int
    members_above: int
    probability: float  # members_above / valid_members, 0 when none is valid
    day_state: DayState  # above | below | unknown (under quorum)

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead_day": self.lead_day,
            "date": self.date,
            "valid_members": self.valid_members,
            "members_above": self.members_above,
            "probability": round(self.probability, 4),
            "day_state": self.day_state,
        }


def station_exceedance(
    rule: ExceedanceTest, forecast: HazardForecast
) -> tuple[list[DayExceedance], WindowDays]:
    """Each lead day of the rule's window at its station, judged as the engine judges it.
    Raises KeyError when the forecast does not carry the station or the variable."""
    data = forecast.data
    if rule.variable not in data or rule.station not in [str(s) for s in data["station"].values]:
        raise KeyError(f"{rule.station} {rule.variable} is not in the {forecast.feed_id} forecast")
    cube = data[rule.variable].sel(station=rule.station)
    values = np.asarray(cube.transpose("valid_time", "member").values, dtype=float)
    window = window_days(
        data["valid_time"].values, forecast.issued_at, rule.min_lead_days, rule.max_lead_days
    )
    days: list[DayExceedance] = []
    for n in window.days:
        rows = values[window.steps.get(n, [])]
        valid = np.isfinite(rows).any(axis=0)
        hit = (compare(rows, rule.threshold_m3s, rule.comparison) & np.isfinite(rows)).any(axis=0)
        n_valid, n_above = int(valid.sum()), int(hit.sum())
        share = n_above / n_valid if n_valid else 0.0
        state: DayState
        if n_valid < rule.min_members:
            state = "unknown"
        elif compare(share, rule.min_probability, rule.probability_comparison):
            state = "above"
        else:
            state = "below"
        days.append(
            DayExceedance(n, window.dates[n].date().isoformat(), n_valid, n_above, share, state)
        )
    return days, window


def peak_probability(days: list[DayExceedance]) -> float | None:
    """The highest daily probability over the days that reach the quorum; None if none does."""
    judged = [d.probability for d in days if d.day_state != "unknown"]
    return max(judged) if judged else None
