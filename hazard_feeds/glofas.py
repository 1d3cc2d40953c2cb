"""GloFAS ensemble river discharge (Copernicus EWDS `cems-glofas-forecast`, `dis24`).

fetch: a cdsapi request for Bangladesh's box (control + perturbed members, 24-360 h leads),
key only from the environment (CDSAPI_URL / CDSAPI_KEY, or ~/.cdsapirc). parse: netCDF with
xarray (GRIB through cfgrib when the `grib` extra is installed), sample the configured
reporting points at the nearest cell, keep every member and lead day. Missing members,
stations or days are reported, never filled.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from agam.core.errors import FeedError
from agam.core.timeutil import iso_utc, utc_now
from hazard_feeds.config import FeedConfig
from hazard_feeds.contract import HazardForecast, QualityIssue, RawArtifact

MEMBER_DIMS = ("number", "realization", "member", "ensemble")
REF_DIMS = ("forecast_reference_time", "time")
LEAD_DIMS = ("step", "forecast_period", "leadtime", "lead_time")


class ReportingPoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    lon: float = Field(ge=80, le=100)
    lat: float = Field(ge=15, le=32)


class GlofasConfig(FeedConfig):
    base_url: str = "https://ewds.climate.copernicus.eu/api"
    dataset: str = "cems-glofas-forecast"
    system_version: str = "operational"
    data_format: str = "netcdf"
    # N, W, S, E snapped to the v4 0.05° grid (x.x25 / x.x75).
    area: tuple[float, float, float, float] = (26.725, 87.975, 20.475, 92.725)
    leadtime_hours: tuple[int, ...] = tuple(24 * d for d in range(1, 16))
    expected_members: int = Field(default=51, ge=1)
    max_age_hours: float = 36.0
    # Nearest-cell sampling: a point further than this from any cell centre is "missing".
    max_snap_distance_deg: float = 0.1
    points: tuple[ReportingPoint, ...] = (
        ReportingPoint(name="Bahadurabad", lon=89.65, lat=25.15),
        ReportingPoint(name="Noonkhawa", lon=89.77, lat=25.919),
        ReportingPoint(name="Chilmari", lon=89.68, lat=25.56),
        ReportingPoint(name="Sariakandi", lon=89.65, lat=24.89),
        ReportingPoint(name="Kazipur", lon=89.70, lat=24.63),
        ReportingPoint(name="Serajganj", lon=89.71, lat=24.46),
        ReportingPoint(name="Aricha", lon=89.65, lat=23.88),
        ReportingPoint(name="Goalundo", lon=89.77873, lat=23.76775),
        ReportingPoint(name="Mawa", lon=90.25666, lat=23.47216),
        ReportingPoint(name="Hardinge Bridge", lon=89.05, lat=24.05),
    )


def open_dataset(content: bytes, feed_id: str = "glofas") -> xr.Dataset:
    """netCDF (or GRIB with cfgrib) bytes -> Dataset; names the problem when it cannot."""
    if content[:4] == b"GRIB":
        try:
            import cfgrib  # noqa: F401
        except ImportError:
            raise FeedError(f"{feed_id}: GRIB input needs the `grib` extra (cfgrib)") from None
        with tempfile.NamedTemporaryFile(suffix=".grib") as tmp:
            tmp.write(content)
            tmp.flush()
            parts = [
                xr.open_dataset(
                    tmp.name, engine="cfgrib", backend_kwargs={"filter_by_keys": {"dataType": kind}}
                ).load()
                for kind in ("cf", "pf")
            ]
        control = parts[0].expand_dims(number=[0]) if "number" not in parts[0].dims else parts[0]
        return xr.concat([control, parts[1]], dim="number")
    try:
        return _open_netcdf(content)
    except (OSError, ValueError) as exc:
        raise FeedError(f"{feed_id}: not a readable netCDF/GRIB file ({exc})") from None


def _open_netcdf(content: bytes) -> xr.Dataset:
    with tempfile.NamedTemporaryFile(suffix=".nc") as tmp:
        tmp.write(content)
        tmp.flush()
        return xr.open_dataset(tmp.name, engine="netcdf4").load()


def _dim(ds: xr.Dataset | xr.DataArray, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in ds.dims or n in ds.coords), None)


def station_series(
    ds: xr.Dataset, cfg: GlofasConfig
) -> tuple[xr.Dataset, list[QualityIssue], datetime]:
    if "dis24" not in ds:
        raise FeedError(f"glofas: no `dis24` variable (found {', '.join(map(str, ds.data_vars))})")
    da = ds["dis24"]
    member = _dim(da, MEMBER_DIMS)
    ref = _dim(ds, REF_DIMS)
    if ref is None:
        raise FeedError("glofas: no forecast reference time (time / forecast_reference_time)")
    ref_values = np.atleast_1d(ds[ref].values)
    issued_np = ref_values.max()
    if ref in da.dims:
        da = da.sel({ref: issued_np})
    issued = pd.Timestamp(issued_np).to_pydatetime().replace(tzinfo=UTC)
    lead = _dim(da, LEAD_DIMS)
    if lead is not None:
        steps = pd.to_timedelta(da[lead].values)
        valid = pd.Timestamp(issued_np) + steps
        da = da.assign_coords(valid_time=(lead, valid)).swap_dims({lead: "valid_time"})
    elif "valid_time" not in da.dims:
        raise FeedError("glofas: no lead-time dimension (step / forecast_period / valid_time)")
    da = da.expand_dims(member=[0]) if member is None else da.rename({member: "member"})
    lat = "latitude" if "latitude" in da.dims else "lat"
    lon = "longitude" if "longitude" in da.dims else "lon"
    quality: list[QualityIssue] = []
    columns, names = [], []
    for point in cfg.points:
        cell = da.sel({lat: point.lat, lon: point.lon}, method="nearest")
        distance = max(abs(float(cell[lat]) - point.lat), abs(float(cell[lon]) - point.lon))
        values = cell.transpose("member", "valid_time").values.astype("float64")
        if distance > cfg.max_snap_distance_deg or np.isnan(values).all():
            quality.append(
                QualityIssue(
                    "missing_station", f"{point.name} is outside the forecast grid", point.name
                )
            )
            continue
        columns.append(values)
        names.append(point.name)
    members = int(da.sizes["member"])
    if members < cfg.expected_members:
        quality.append(
            QualityIssue(
                "missing_member",
                f"{members} of {cfg.expected_members} ensemble members present",
                None,
            )
        )
    expected_days = len(cfg.leadtime_hours)
    if da.sizes["valid_time"] < expected_days:
        quality.append(
            QualityIssue(
                "missing_timestep",
                f"{da.sizes['valid_time']} of {expected_days} lead days present",
                None,
            )
        )
    cube = np.stack(columns, axis=-1) if columns else np.empty((members, da.sizes["valid_time"], 0))
    out = xr.Dataset(
        {"discharge_m3s": (("member", "valid_time", "station"), cube)},
        coords={
            "member": np.asarray(da["member"].values),
            "station": names,
            "valid_time": np.asarray(da["valid_time"].values, dtype="datetime64[ns]"),
        },
        attrs={"source": "GloFAS", "variable": "dis24", "units": "m3 s-1"},
    )
    return out, quality, issued


class GlofasFeed:
    feed_id = "glofas"

    def __init__(self, config: GlofasConfig) -> None:
        self.config = config

    def request(self, day: datetime) -> dict[str, Any]:
        return {
            "system_version": [self.config.system_version],
            "hydrological_model": ["lisflood"],
            "product_type": ["control_forecast", "ensemble_perturbed_forecasts"],
            "variable": "river_discharge_in_the_last_24_hours",
            "year": f"{day.year}",
            "month": f"{day.month:02d}",
            "day": f"{day.day:02d}",
            "leadtime_hour": [str(h) for h in self.config.leadtime_hours],
            "data_format": self.config.data_format,
            "download_format": "unarchived",
            "area": list(self.config.area),
        }

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        """Ask EWDS for today's forecast (the key comes from the environment)."""
        del http, since  # cdsapi has its own session; EWDS has no conditional GET
        try:
            import cdsapi
        except ImportError:
            raise FeedError("glofas: fetching needs the `glofas` extra (cdsapi)") from None
        url = os.environ.get("CDSAPI_URL", self.config.base_url)
        key = os.environ.get("CDSAPI_KEY")
        client = cdsapi.Client(url=url, key=key, quiet=True) if key else cdsapi.Client(url=url)
        today = utc_now()
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "glofas.nc"
            try:
                client.retrieve(self.config.dataset, self.request(today), str(target))
            except Exception as exc:  # cdsapi raises bare Exceptions with the server message
                raise FeedError(
                    f"glofas: EWDS request failed ({type(exc).__name__}: {str(exc)[:200]})"
                ) from None
            content = target.read_bytes()
        import hashlib

        return RawArtifact(
            self.feed_id,
            f"{url}#{self.config.dataset}/{today:%Y-%m-%d}",
            content,
            hashlib.sha256(content).hexdigest(),
            today,
            content_type="application/x-netcdf",
        )

    def parse(self, raw: RawArtifact) -> HazardForecast:
        data, quality, issued = station_series(open_dataset(raw.content), self.config)
        return HazardForecast(
            self.feed_id,
            "station_series",
            issued,
            data=data,
            quality=tuple(quality),
            source_uri=raw.source_uri,
            raw_sha256=raw.sha256,
            payload={"members": int(data.sizes["member"])},
        )

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        data = forecast.data
        times = [
            iso_utc(pd.Timestamp(t).to_pydatetime().replace(tzinfo=UTC))
            for t in data["valid_time"].values
        ]
        stations = {}
        for name in data["station"].values:
            cube = data["discharge_m3s"].sel(station=name).transpose("valid_time", "member")
            stations[str(name)] = {
                "valid_time": times,
                "discharge_m3s": [
                    [None if np.isnan(v) else round(float(v), 2) for v in row]
                    for row in cube.values
                ],
            }
        return {
            "feed": "glofas",
            "issued_at": iso_utc(forecast.issued_at),
            "members": int(data.sizes["member"]),
            "stations": stations,
            "quality": [q.__dict__ for q in forecast.quality],
        }
