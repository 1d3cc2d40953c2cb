"""Backtests through the real engine. `series`: a daily discharge table (date + one column per
station) used as a PERFECT forecast: on each issue day every ensemble member equals what
actually happened over the lead window, so the only question is what the rules would do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from agam.core.errors import RuleError
from hazard_feeds.contract import HazardForecast
from triggers.engine import evaluate
from triggers.model import RuleSet

PERFECT_MEMBERS = 51


@dataclass(frozen=True)
class Firing:
    rule_set_id: str
    stage_id: str
    station: str
    year: int
    first_fired: str | None  # ISO date of the first issue day the stage would have fired


def read_series(paths: list[Path]) -> pd.DataFrame:
    """One or more CSVs with a `date` column (YYYY-MM-DD) and one discharge column per station
    (m³/s); `dis24_<Station>` columns become `<Station>`. A bad cell is an error naming the
    file, row and field."""
    frames = [_series_file(path) for path in paths]
    if not frames:
        raise RuleError("no series files given")
    table = pd.concat(frames).drop_duplicates("date").set_index("date").sort_index()
    return table.astype("float64")


def _series_file(path: Path) -> pd.DataFrame:
    try:
        text = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise RuleError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        why = "not UTF-8 text" if isinstance(e, UnicodeDecodeError) else type(e).__name__
        raise RuleError(f"{path}: not a readable CSV ({why})") from None
    if "date" not in text.columns:
        raise RuleError(f"{path}: row 1: field date: missing column")
    frame = pd.DataFrame({"date": pd.to_datetime(text["date"], format="%Y-%m-%d", errors="coerce")})
    _first_bad(path, "date", text["date"], frame["date"].isna(), "not a date (YYYY-MM-DD)")
    for name in text.columns.drop("date"):
        values = pd.to_numeric(text[name], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype="float64")) | (values < 0).to_numpy()
        _first_bad(path, name, text[name], bad, "not a discharge (a number ≥ 0, in m³/s)")
        frame[name.removeprefix("dis24_")] = values
    return frame


def _first_bad(path: Path, name: str, cells: pd.Series, bad: Any, why: str) -> None:
    if np.any(bad):
        at = int(np.flatnonzero(bad)[0])
        raise RuleError(f"{path}: row {at + 2}: field {name}: {cells.iloc[at]!r} is {why}")


def _walk(rule: Any) -> Iterator[Any]:
    yield rule
    for child in getattr(rule, "rules", ()) or ():
        yield from _walk(child)


def _stations(rule_set: RuleSet) -> dict[str, set[str]]:
    """stage id -> GloFAS stations its rules read (ensemble exceedance only)."""
    out: dict[str, set[str]] = {}
    for stage in rule_set.triggers:
        for rule in _walk(stage.rule):
            if getattr(rule, "kind", None) == "ensemble_exceedance":
                out.setdefault(stage.id, set()).add(rule.station)
    return out


def _perfect(
    series: pd.DataFrame, stations: list[str], issued: pd.Timestamp, days: int
) -> HazardForecast:
    window = series.loc[issued + pd.Timedelta(days=1) : issued + pd.Timedelta(days=days), stations]
    cube = np.repeat(window.to_numpy()[np.newaxis, :, :], PERFECT_MEMBERS, axis=0)
    data = xr.Dataset(
        {"discharge_m3s": (("member", "valid_time", "station"), cube)},
        coords={
            "member": np.arange(PERFECT_MEMBERS),
            "station": stations,
            "valid_time": window.index.to_numpy(dtype="datetime64[ns]"),
        },
    )
    when = issued.to_pydatetime().replace(tzinfo=UTC)
    return HazardForecast(
        "glofas",
        "station_series",
        when,
        data=data,
        payload={"perfect_forecast": True},
        raw_sha256=f"series-{issued:%Y%m%d}",
    )


class _MemoUnions:
    """The union context with its area look-ups remembered across the thousands of runs."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.cache: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}

    def district_unions(self, districts: Any, upazilas: Any = ()) -> list[str]:
        key = (tuple(districts), tuple(upazilas))
        if key not in self.cache:
            self.cache[key] = list(self.inner.district_unions(districts, upazilas))
        return self.cache[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def backtest_series(
    rule_set: RuleSet,
    series: pd.DataFrame,
    unions: Any,
    months: tuple[int, int] = (4, 10),
    horizon_days: int = 15,
) -> list[Firing]:
    """Per stage reading these stations, per year: the first issue day it would have fired."""
    readable = {s: st for s, st in _stations(rule_set).items() if st <= set(series.columns)}
    if not readable:
        raise RuleError(
            f"rule set {rule_set.id} reads none of the series' stations "
            f"({', '.join(series.columns)})"
        )
    stations = sorted(set().union(*readable.values()))
    unions = _MemoUnions(unions)
    first: dict[tuple[str, int], str] = {}
    index = pd.DatetimeIndex(series.index)
    days = index[(index.month >= months[0]) & (index.month <= months[1])]
    for issued in days:
        forecast = _perfect(series, stations, issued, horizon_days)
        as_of = forecast.issued_at + timedelta(hours=6)
        for result in evaluate([rule_set], {"glofas": forecast}, unions, as_of):
            key = (result.stage_id, issued.year)
            if result.stage_id in readable and result.state == "met" and key not in first:
                first[key] = issued.date().isoformat()
    years = sorted(set(index.year))
    return [
        Firing(rule_set.id, stage_id, ",".join(sorted(st)), year, first.get((stage_id, year)))
        for stage_id, st in sorted(readable.items())
        for year in years
    ]


def as_rows(firings: list[Firing]) -> list[dict[str, Any]]:
    return [f.__dict__ for f in firings]
