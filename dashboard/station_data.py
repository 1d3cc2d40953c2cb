"""Station series as plain frames for the charts (no Streamlit here).

GloFAS members, their fan quantiles, return-period levels and the daily exceedance exactly as
the trigger judged it (the rule's own evaluation: quorum, lead window, comparison); FFWC
observed levels (from the stored runs) followed by the newest forecast.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triggers.results import EvalContext

RP_COORD = re.compile(r"^rp(\d+(?:\.\d+)?)_m3s$")
FAN_QUANTILES = {"q10": 0.1, "q25": 0.25, "median": 0.5, "q75": 0.75, "q90": 0.9}


def _local(times: Any) -> pd.DatetimeIndex:
    """Naive UTC times -> naive Bangladesh wall-clock times (what the axis shows)."""
    index = pd.DatetimeIndex(times)
    if index.tz is None:
        index = index.tz_localize("UTC")
    return index.tz_convert("Asia/Dhaka").tz_localize(None)


def ensemble_members(forecast: Any, station: str) -> pd.DataFrame:
    """Long frame: time (Bangladesh time), member, discharge_m3s (NaN members dropped)."""
    cube = forecast.data["discharge_m3s"].sel(station=station).transpose("valid_time", "member")
    frame = pd.DataFrame(
        cube.values, index=_local(cube["valid_time"].values), columns=cube["member"].values
    )
    frame.index.name = "time"
    long = frame.reset_index().melt(id_vars="time", var_name="member", value_name="discharge_m3s")
    return long.dropna(subset=["discharge_m3s"]).reset_index(drop=True)


def fan_quantiles(members: pd.DataFrame) -> pd.DataFrame:
    """Per time: min, q10, q25, median, q75, q90, max of the valid members, and how many."""
    grouped = members.groupby("time")["discharge_m3s"]
    out = pd.DataFrame({"min": grouped.min(), "max": grouped.max(), "members": grouped.count()})
    for name, q in FAN_QUANTILES.items():
        out[name] = grouped.quantile(q)
    return out.reset_index()


def return_periods(forecast: Any, station: str) -> dict[float, float]:
    """Return-period discharges the forecast carries for the station (rp5_m3s, …), if known."""
    data = forecast.data
    out = {}
    for name in data.coords:
        match = RP_COORD.match(str(name))
        if match:
            value = float(data[name].sel(station=station))
            if np.isfinite(value):
                out[float(match.group(1))] = value
    return dict(sorted(out.items()))


class _NoUnions:
    """Station rules never ask for unions; anything else is a bug worth an error."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"station rules do not use the union layer ({name})")


def exceedance_days(rule: Any, forecast: Any) -> pd.DataFrame:
    """The rule's own per-day judgement of this forecast, as at its issue time: date (the
    lead day's calendar date), lead_day, probability, members_above, valid_members and
    day_state (above / below / unknown: fewer valid members than the quorum)."""
    ctx = EvalContext({rule.feed: forecast}, _NoUnions(), forecast.issued_at)  # type: ignore[arg-type]
    days = rule.evaluate(ctx).observed.get("days") or []
    frame = pd.DataFrame(days)
    if frame.empty:
        return frame
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def water_level_forecast(forecast: Any, code: str) -> pd.DataFrame:
    """time (Bangladesh time), water_level_m of the newest FFWC forecast."""
    series = forecast.data["water_level_m"].sel(station=code).isel(member=0).to_series().dropna()
    return pd.DataFrame({"time": _local(series.index), "water_level_m": series.to_numpy()})


def observed_levels(runs: Iterable[Any], code: str) -> pd.DataFrame:
    """Observed levels of one station from the processed files of stored FFWC runs (each
    run keeps what FFWC reported then); the newest report of a time wins."""
    points: dict[str, float] = {}
    for run in sorted(runs, key=lambda r: r.issued_at):
        path = Path(run.processed_path) if run.processed_path else None
        if path is not None and path.is_dir():  # a processed folder: its people's summary
            path = path / "summary.json"
        if path is None or not path.exists():
            continue
        station = json.loads(path.read_text("utf-8")).get("stations", {}).get(code)
        for item in (station or {}).get("observed", []):
            points[str(item["time"])] = float(item["water_level_m"])
    if not points:
        return pd.DataFrame({"time": pd.DatetimeIndex([]), "water_level_m": []})
    times = pd.to_datetime(list(points), utc=True)
    frame = pd.DataFrame({"time": _local(times), "water_level_m": list(points.values())})
    return frame.sort_values("time").reset_index(drop=True)


def observed_window(issued_at: datetime, days: int = 10) -> tuple[datetime, datetime]:
    """The stored runs worth reading for the observed part of a chart."""
    return issued_at - timedelta(days=days), issued_at
