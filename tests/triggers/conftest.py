"""Forecast builders for rule tests: exact members, levels and winds, no files needed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hazard_feeds.bmd import Bulletin, bulletin_forecast
from hazard_feeds.contract import HazardForecast

ISSUED = datetime(2024, 7, 1, 0, 0, tzinfo=UTC)


def _times(start: datetime, n: int) -> np.ndarray:
    return np.array(
        [(start + timedelta(days=d)).replace(tzinfo=None) for d in range(n)], dtype="datetime64[ns]"
    )


def glofas(
    above_by_day: Sequence[int],
    *,
    threshold: float = 100_000,
    members: int = 51,
    station: str = "Bahadurabad",
    issued: datetime = ISSUED,
    values: np.ndarray | None = None,
) -> HazardForecast:
    """Day d (lead d+1) has above_by_day[d] members 1,000 m3/s over the threshold."""
    days = len(above_by_day)
    if values is None:
        values = np.full((members, days), threshold - 1_000.0)
        for d, n in enumerate(above_by_day):
            values[:n, d] = threshold + 1_000.0
    data = xr.Dataset(
        {"discharge_m3s": (("member", "valid_time", "station"), values[:, :, np.newaxis])},
        coords={
            "member": np.arange(values.shape[0]),
            "valid_time": _times(issued + timedelta(days=1), days),
            "station": [station],
        },
    )
    return HazardForecast("glofas", "station_series", issued, data=data, raw_sha256="g" * 64)


def ffwc(
    levels_m: Sequence[float],
    *,
    danger_m: float = 19.50,
    station: str = "SW46.9L",
    issued: datetime = ISSUED,
) -> HazardForecast:
    data = xr.Dataset(
        {
            "water_level_m": (
                ("member", "valid_time", "station"),
                np.array(levels_m, dtype=float)[None, :, None],
            )
        },
        coords={
            "member": [0],
            "valid_time": _times(issued + timedelta(days=1), len(levels_m)),
            "station": [station],
            "danger_level_m": ("station", [danger_m]),
            "name": ("station", ["Bahadurabad"]),
        },
    )
    return HazardForecast("ffwc", "station_series", issued, data=data, raw_sha256="f" * 64)


def bulletin(
    winds: Mapping[str, float],
    *,
    lead_hours: float = 96,
    system: str = "depression",
    observed: Mapping[str, float] | None = None,
    signal: int = 7,
    issued: datetime = ISSUED,
) -> HazardForecast:
    valid = issued + timedelta(hours=lead_hours)
    return bulletin_forecast(
        Bulletin.model_validate(
            {
                "issued_at": issued,
                "serial": "TEST",
                "system": {"type": system, "lat": 18.0, "lon": 89.5, "in_bay_of_bengal": True},
                "port_signals": {"Mongla": signal},
                "landfall": {"lat": 21.8, "lon": 89.6, "time": valid},
                "model_winds": [
                    {"model": m, "max_wind_kmh": w, "averaging_minutes": 3, "valid_time": valid}
                    for m, w in winds.items()
                ],
                "observed_landfall": [
                    {"source": s, "max_wind_kmh": w} for s, w in (observed or {}).items()
                ],
            }
        )
    )


class FakeUnions:
    """Unions at fixed distances from any landfall point."""

    def __init__(self, distances: Mapping[str, float]) -> None:
        self.distances = dict(distances)

    def unions_of(self, districts: Sequence[str], upazilas: Sequence[str]) -> list[str]:
        return sorted(u for u in self.distances if any(u.startswith(d) for d in districts))

    def distance_to_boundary_km(
        self, lon: float, lat: float, pcodes: Sequence[str]
    ) -> Mapping[str, float]:
        return {p: self.distances[p] for p in pcodes}

    def footprint_shares(
        self, footprints: Any, pcodes: Sequence[str], min_wind_kmh: float
    ) -> Mapping[str, float]:
        return {}


@pytest.fixture
def builders() -> dict[str, Callable[..., Any]]:
    return {"glofas": glofas, "ffwc": ffwc, "bulletin": bulletin}


@pytest.fixture
def unions() -> FakeUnions:
    names = {}
    for district in (
        "BD5010",
        "BD4539",
        "BD5532",
        "BD5549",
        "BD5088",
        "BD3054",
        "BD3056",
        "BD3086",
    ):
        names[f"{district}0001"] = 0.0
    for i, district in enumerate(("BD4087", "BD1078", "BD1009", "BD2075", "BD1004", "BD4047")):
        names[f"{district}0001"] = 10.0 * i
        names[f"{district}0002"] = 150.0 + 10.0 * i
    return FakeUnions(names)
