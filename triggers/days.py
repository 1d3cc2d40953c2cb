"""Lead days and runs of consecutive days, shared by the station-series rules.

A valid time with lead L days (from the forecast's issued_at) belongs to lead day ceil(L):
GloFAS step 24 h is lead day 1. A rule's window [min_lead_days, max_lead_days] holds the lead
days n with min <= n <= max, cut at the forecast's horizon (its last valid time). A day of
the window with no usable value is "unknown", never "below".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from triggers.results import State, lead_days

DayState = Literal["above", "below", "unknown"]
# Float noise when a lead is computed from timestamps (24 h -> 1.0000000000001 days).
_LEAD_NOISE_DAYS = 1e-9


@dataclass(frozen=True)
class WindowDays:
    days: tuple[int, ...]  # lead day numbers of the window, consecutive
    steps: dict[int, list[int]]  # lead day -> indices into the valid_time axis
    dates: dict[int, pd.Timestamp]  # lead day -> calendar date (UTC) of its valid time
    end: datetime | None  # the last valid time inside the window, tz-aware UTC


def window_days(
    valid_times: Sequence[np.datetime64] | np.ndarray,
    issued_at: datetime,
    min_lead_days: float,
    max_lead_days: float,
) -> WindowDays:
    leads = lead_days(valid_times, issued_at)
    if leads.size == 0:
        return WindowDays((), {}, {}, None)
    numbers = [math.ceil(lead - _LEAD_NOISE_DAYS) for lead in leads]
    first = max(math.ceil(min_lead_days - _LEAD_NOISE_DAYS), min(numbers))
    last = min(math.floor(max_lead_days + _LEAD_NOISE_DAYS), max(numbers))
    steps: dict[int, list[int]] = {}
    for index, number in enumerate(numbers):
        if first <= number <= last:
            steps.setdefault(number, []).append(index)
    issued_day = pd.Timestamp(issued_at.replace(tzinfo=None)).normalize()
    days = tuple(range(first, last + 1))
    dates = {n: issued_day + pd.Timedelta(days=n) for n in days}
    for n, indices in steps.items():
        dates[n] = pd.Timestamp(valid_times[indices[-1]]).normalize()
    inside = [i for indices in steps.values() for i in indices]
    end = (
        pd.Timestamp(max(valid_times[i] for i in inside)).tz_localize("UTC").to_pydatetime()
        if inside
        else None
    )
    return WindowDays(days, steps, dates, end)


def runs(states: Sequence[DayState], length: int) -> tuple[State, list[int]]:
    """Three-valued "length consecutive days above": met with the start index of every
    all-above run, unknown if some run is all above-or-unknown, else not_met."""
    starts = [
        i
        for i in range(len(states) - length + 1)
        if all(s == "above" for s in states[i : i + length])
    ]
    if starts:
        return "met", starts
    possible = any(
        all(s != "below" for s in states[i : i + length]) for i in range(len(states) - length + 1)
    )
    return ("unknown" if possible else "not_met"), []


def longest_run(states: Sequence[DayState]) -> tuple[int, int]:
    """(length, start index) of the longest all-above run; (0, -1) if none."""
    best, best_start, current = 0, -1, 0
    for i, s in enumerate(states):
        current = current + 1 if s == "above" else 0
        if current > best:
            best, best_start = current, i - current + 1
    return best, best_start
