"""Forecast builders for the trigger tests: exact members, levels and winds built with xarray,
and a fake union layer. Exposed as the session fixture `fx` (usable inside Hypothesis tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hazard_feeds.contract import HazardForecast, QualityIssue
from triggers.engine import load_rule_sets
from triggers.model import RuleSet

ISSUED = datetime(2024, 7, 5, 0, 0, tzinfo=UTC)
AS_OF = ISSUED + timedelta(hours=6)
THRESHOLD = 100_000.0
JAMUNA = ("BD5010", "BD5532", "BD4539", "BD5549", "BD5088")
PADMA = ("BD3054", "BD3056", "BD3086")
COAST = ("BD4087", "BD1078", "BD1009", "BD2075", "BD1004", "BD4047")


def _times(start: datetime, n: int) -> np.ndarray:
    return np.array(
        [(start + timedelta(days=d)).replace(tzinfo=None) for d in range(n)],
        dtype="datetime64[ns]",
    )


def members_matrix(above_by_day: Sequence[int], members: int = 51) -> np.ndarray:
    """(members, days): on day d the first above_by_day[d] members are 1,000 m3/s above the
    Bahadurabad RP5, the rest 1,000 below."""
    values = np.full((members, len(above_by_day)), THRESHOLD - 1_000.0)
    for d, n in enumerate(above_by_day):
        values[:n, d] = THRESHOLD + 1_000.0
    return values


def glofas(
    values: np.ndarray | Mapping[str, np.ndarray],
    *,
    issued: datetime = ISSUED,
    quality: tuple[QualityIssue, ...] = (),
    member_ids: Sequence[int] | None = None,
) -> HazardForecast:
    """values (members, lead days 1..n) for Bahadurabad, or {station: values}."""
    by_station = values if isinstance(values, Mapping) else {"Bahadurabad": values}
    names = list(by_station)
    cube = np.stack([np.asarray(by_station[n], dtype=float) for n in names], axis=-1)
    members, days = cube.shape[0], cube.shape[1]
    data = xr.Dataset(
        {"discharge_m3s": (("member", "valid_time", "station"), cube)},
        coords={
            "member": list(member_ids) if member_ids is not None else list(range(members)),
            "valid_time": _times(issued + timedelta(days=1), days),
            "station": names,
        },
    )
    return HazardForecast(
        "glofas", "station_series", issued, data=data, quality=quality, raw_sha256="a" * 64
    )


def sustained(days: int = 15, members: int = 51, start: float = THRESHOLD) -> np.ndarray:
    """Discharge rising 1% a day at every member (a trend that holds)."""
    row = start * 1.01 ** np.arange(days)
    return np.tile(row, (members, 1))


def ffwc(
    levels_m: Sequence[float] | Mapping[str, Sequence[float]],
    *,
    danger_m: float | Mapping[str, float] = 19.50,
    issued: datetime = ISSUED,
) -> HazardForecast:
    """levels on lead days 1..n for Bahadurabad (SW46.9L), or {code: levels}."""
    by_code = levels_m if isinstance(levels_m, Mapping) else {"SW46.9L": levels_m}
    codes = list(by_code)
    dl = danger_m if isinstance(danger_m, Mapping) else {c: danger_m for c in codes}
    n = len(next(iter(by_code.values())))
    cube = np.array([list(by_code[c]) for c in codes], dtype=float).T[None, :, :]
    names = {"SW46.9L": "Bahadurabad", "SW93.5L": "Mawa"}
    data = xr.Dataset(
        {"water_level_m": (("member", "valid_time", "station"), cube)},
        coords={
            "member": [0],
            "valid_time": _times(issued + timedelta(days=1), n),
            "station": codes,
            "danger_level_m": ("station", [dl[c] for c in codes]),
            "name": ("station", [names.get(c, c) for c in codes]),
        },
    )
    return HazardForecast("ffwc", "station_series", issued, data=data, raw_sha256="f" * 64)


def bulletin(
    winds: Mapping[str, float],
    *,
    lead_hours: float = 96,
    system: str | None = "depression",
    observed: Mapping[str, float] | None = None,
    signals: Mapping[str, int] | None = None,
    issued: datetime = ISSUED,
    landfall: tuple[float, float] | None = (89.6, 21.8),
    model_order: Sequence[str] | None = None,
) -> HazardForecast:
    """A BMD bulletin: model winds valid lead_hours after issue, at a landfall point."""
    models = list(model_order) if model_order is not None else sorted(winds)
    valid = issued + timedelta(hours=lead_hours)
    data = xr.Dataset(
        {
            "max_wind_kmh": (
                ("model", "valid_time"),
                np.array([winds[m] for m in models], dtype=float).reshape(len(models), 1),
            )
        },
        coords={
            "model": models,
            "valid_time": np.array([valid.replace(tzinfo=None)], dtype="datetime64[ns]"),
        },
    )
    payload: dict[str, Any] = {
        "port_signals": dict(signals or {}),
        "observed_landfall": [
            {"source": s, "max_wind_kmh": w} for s, w in (observed or {}).items()
        ],
    }
    if system is not None:
        payload["system"] = {"type": system, "lat": 18.0, "lon": 89.5, "in_bay_of_bengal": True}
    if landfall is not None:
        payload["landfall"] = {"lon": landfall[0], "lat": landfall[1], "time": valid}
    return HazardForecast(
        "bmd", "bulletin", issued, data=data, payload=payload, raw_sha256="b" * 64
    )


class FakeUnions:
    """Two unions per district (`<district>0001`, `<district>0002`) at fixed distances from any
    landfall point; upazila filters keep unions of districts that have a listed upazila.
    `containing` unions hold the landfall: 0 km when measured to the polygon, their listed
    distance (to their own edge) when measured to the boundary line."""

    def __init__(
        self, distances: Mapping[str, float] | None = None, containing: Sequence[str] = ()
    ) -> None:
        codes = [f"{d}{i:04d}" for d in (*JAMUNA, *PADMA, *COAST) for i in (1, 2)]
        self.distances = {c: 500.0 for c in codes} | dict(distances or {})
        self.containing = set(containing)
        self.shares: dict[str, float] = {}
        self.raster_shares: dict[str, float] = {}

    def district_unions(
        self, district_pcodes: Sequence[str], upazila_pcodes: Sequence[str] = ()
    ) -> list[str]:
        keep = {u[:6] for u in upazila_pcodes} if upazila_pcodes else set(district_pcodes)
        return sorted(c for c in self.distances if c[:6] in keep and c[:6] in set(district_pcodes))

    def distance_to_boundary_km(
        self, lon: float, lat: float, pcodes: Sequence[str], measure: str = "boundary_line"
    ) -> Mapping[str, float]:
        inside = self.containing if measure == "polygon" else set()
        return {p: 0.0 if p in inside else self.distances[p] for p in pcodes}

    def union_names(self, pcodes: Sequence[str]) -> Mapping[str, str]:
        return {p: f"Union {p[-4:]}" for p in pcodes}

    def footprint_shares(
        self, footprints: Any, pcodes: Sequence[str], min_wind_kmh: float
    ) -> Mapping[str, float]:
        return {p: self.shares[p] for p in pcodes if p in self.shares}

    def raster_share(
        self, grid: Any, pcodes: Sequence[str], variable: str, value: float, comparison: str
    ) -> Mapping[str, float]:
        return {p: self.raster_shares[p] for p in pcodes if p in self.raster_shares}


@pytest.fixture(scope="session")
def rule_sets() -> dict[str, RuleSet]:
    return {s.id: s for s in load_rule_sets()}


@pytest.fixture(scope="session")
def fx() -> SimpleNamespace:
    return SimpleNamespace(
        ISSUED=ISSUED,
        AS_OF=AS_OF,
        THRESHOLD=THRESHOLD,
        JAMUNA=JAMUNA,
        COAST=COAST,
        members_matrix=members_matrix,
        glofas=glofas,
        sustained=sustained,
        ffwc=ffwc,
        bulletin=bulletin,
        FakeUnions=FakeUnions,
    )
