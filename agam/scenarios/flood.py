"""Render the Jamuna flood scenario into upstream files (SYNTHETIC values, real formats):

- GloFAS: one netCDF per daily run in the EWDS `cems-glofas-forecast` layout (dis24 on
  number x forecast_reference_time x forecast_period x latitude x longitude, 0.05° cells),
  for the mirror the `glofas` feed reads;
- FFWC: the `api.ffwc.gov.bd/data_load/` responses (station list, observed levels,
  per-station forecasts) as they would have read at each time.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import Field

from agam.core.timeutil import DHAKA
from agam.scenarios.ewds import ewds_dataset, write_netcdf
from agam.scenarios.manifest import Manifest
from agam.scenarios.spec import Frozen, ScenarioSpec
from hazard_feeds.feed_configs import DEFAULT_POINTS

LABEL = "SYNTHETIC scenario data (Agam flood scenario, modelled on early July 2024)"


class StationMix(Frozen):
    scale: float
    offset_m3s: float = 0.0


class GlofasPart(Frozen):
    run_hour_utc: int = 0
    published_after_hours: int
    first_run: date
    last_run: date
    members: int = Field(ge=1)
    lead_days: int = Field(ge=1, le=30)
    lat_north: float
    lat_south: float
    lon_west: float
    lon_east: float
    spread_day1: float
    spread_day15: float
    truth_start: date
    bahadurabad_m3s: list[float]
    issue_bias: dict[date, float]
    stations: dict[str, StationMix]


class FfwcStation(Frozen):
    id: int
    river: str
    basin: str
    division: str
    district: str
    upazilla: str
    danger_level_m: float
    lat: float
    lon: float
    levels_m: list[float]


class FfwcPart(Frozen):
    forecast_hour_bst: int
    forecast_published_after_hours: int
    forecast_days: int
    forecast_step_hours: int
    observed_step_hours: int
    forecast_bias_m_per_lead_day: float
    truth_start: date
    stations: dict[str, FfwcStation]


def _daily(values: list[float], start: date, when: pd.DatetimeIndex) -> np.ndarray:
    """Linear interpolation of a daily series (value at 00:00 of each day)."""
    days = np.asarray([(t.date() - start).days + t.hour / 24 for t in when], dtype="float64")
    out: np.ndarray = np.interp(days, np.arange(len(values), dtype="float64"), values)
    return out


def glofas_run(part: GlofasPart, run: date, seed: int) -> xr.Dataset:
    start = pd.Timestamp(datetime.combine(run, time(part.run_hour_utc)))
    hours = np.arange(1, part.lead_days + 1, dtype="int32") * 24
    valid = start + pd.to_timedelta(hours, unit="h")
    lats = np.round(np.arange(part.lat_north, part.lat_south - 1e-9, -0.05), 3)
    lons = np.round(np.arange(part.lon_west, part.lon_east + 1e-9, 0.05), 3)
    cube = np.full((part.members, 1, part.lead_days, len(lats), len(lons)), np.nan, "float32")
    # dis24 = mean over the 24 h ending at valid_time: the day before's truth.
    truth = _daily(part.bahadurabad_m3s, part.truth_start, valid - pd.Timedelta(hours=24))
    bias = part.issue_bias.get(run, 1.0)
    spread = np.linspace(part.spread_day1, part.spread_day15, part.lead_days)
    rng = np.random.default_rng([seed, run.toordinal()])
    shocks = rng.standard_normal((part.members, part.lead_days))
    shocks[0] = 0.0  # member 0 is the control forecast
    for name, mix in part.stations.items():
        lon, lat = DEFAULT_POINTS[name]
        i, j = int(np.abs(lats - lat).argmin()), int(np.abs(lons - lon).argmin())
        median = (truth * mix.scale + mix.offset_m3s) * bias
        cube[:, 0, :, i, j] = median[np.newaxis, :] * (1.0 + shocks * spread[np.newaxis, :])
    return ewds_dataset(cube, start, hours, lats, lons, LABEL)


def _netcdf_bytes(ds: xr.Dataset) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "run.nc"
        write_netcdf(ds, target)
        return target.read_bytes()


def _bst(value: datetime) -> str:
    """FFWC writes Bangladesh time without an offset."""
    return value.astimezone(DHAKA).strftime("%Y-%m-%dT%H:%M:%S")


def _stations_json(part: FfwcPart) -> bytes:
    rows = [
        {
            "id": s.id,
            "station": name,
            "river": s.river,
            "basin": s.basin,
            "division": s.division,
            "district": s.district,
            "upazilla": s.upazilla,
            "dl": f"{s.danger_level_m:.2f}",
            "lat": f"{s.lat:.2f}",
            "long": f"{s.lon:.2f}",
        }
        for name, s in part.stations.items()
    ]
    return json.dumps(rows, indent=1).encode()


def _level(station: FfwcStation, start: date, when: datetime) -> float:
    local = pd.DatetimeIndex([when.astimezone(DHAKA).replace(tzinfo=None) - timedelta(hours=6)])
    return float(_daily(station.levels_m, start, local)[0])  # values are at 06:00 BST


def render_ffwc(spec: ScenarioSpec, part: FfwcPart, manifest: Manifest) -> None:
    base = "/ffwc/data_load/"
    begin = spec.play_from - timedelta(days=2)
    manifest.publish(
        f"{base}stations-2025/?format=json",
        begin,
        "ffwc/stations-2025.json",
        _stations_json(part),
        "application/json",
    )
    step = timedelta(hours=part.observed_step_hours)
    t = begin.replace(minute=0, second=0)
    while t <= spec.play_to + timedelta(days=1):
        rows = [
            {
                "st_id": s.id,
                "name": name,
                "river": s.river,
                "lat": f"{s.lat:.2f}",
                "long": f"{s.lon:.2f}",
                "district": s.district,
                "waterlevel": f"{_level(s, part.truth_start, t):.2f}",
                "dangerlevel": f"{s.danger_level_m:.2f}",
                "wl_date": _bst(t),
            }
            for name, s in part.stations.items()
        ]
        manifest.publish(
            f"{base}observed/",
            t + timedelta(minutes=40),
            f"ffwc/observed/{t:%Y%m%dT%H%MZ}.json",
            json.dumps(rows, indent=1).encode(),
            "application/json",
        )
        t += step
    day = begin.astimezone(DHAKA).date()
    while day <= (spec.play_to + timedelta(days=1)).astimezone(DHAKA).date():
        issued = datetime.combine(day, time(part.forecast_hour_bst), DHAKA).astimezone(UTC)
        for s in part.stations.values():
            rows = []
            steps = part.forecast_days * 24 // part.forecast_step_hours
            for k in range(steps + 1):
                when = issued + timedelta(hours=k * part.forecast_step_hours)
                lead_days = k * part.forecast_step_hours / 24
                level = _level(s, part.truth_start, when)
                level += part.forecast_bias_m_per_lead_day * lead_days
                rows.append({"fc_date": _bst(when), "waterlevel": f"{level:.2f}"})
            manifest.publish(
                f"{base}seven-days-forecast-waterlevel-by-station/{s.id}/",
                issued + timedelta(hours=part.forecast_published_after_hours),
                f"ffwc/forecast/{s.id}/{day:%Y%m%d}.json",
                json.dumps(rows, indent=1).encode(),
                "application/json",
            )
        day += timedelta(days=1)


def render(spec: ScenarioSpec, folder: Path) -> Manifest:
    manifest = Manifest(folder, spec.id, LABEL)
    extra = spec.extra
    glofas = GlofasPart.model_validate(extra["glofas"])
    run = glofas.first_run
    while run <= glofas.last_run:
        body = _netcdf_bytes(glofas_run(glofas, run, spec.seed))
        at = datetime.combine(run, time(glofas.run_hour_utc), UTC)
        manifest.publish(
            f"/glofas/glofas_{run:%Y%m%d}.nc",
            at + timedelta(hours=glofas.published_after_hours),
            f"glofas/glofas_{run:%Y%m%d}.nc",
            body,
            "application/x-netcdf",
        )
        run += timedelta(days=1)
    render_ffwc(spec, FfwcPart.model_validate(extra["ffwc"]), manifest)
    manifest.save()
    return manifest
