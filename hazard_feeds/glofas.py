"""GloFAS ensemble river discharge (Copernicus EWDS `cems-glofas-forecast`, `dis24`).

fetch: a cdsapi request for Bangladesh's box (control + perturbed members, 24-360 h leads),
the key only from the environment (CDSAPI_URL / CDSAPI_KEY, or ~/.cdsapirc). parse: netCDF
with xarray (GRIB through cfgrib when the `grib` extra is installed), sample the configured
reporting points at the nearest grid cell, keep every member and lead day. Missing members,
stations or days are reported as quality issues, never filled.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import xarray as xr

from agam.core.errors import FeedError
from agam.core.reference import station_thresholds
from agam.core.timeutil import iso_utc, utc_now
from hazard_feeds.checks import mask_outside
from hazard_feeds.contract import HazardForecast, QualityIssue, RawArtifact
from hazard_feeds.dropped_files import read_dropped
from hazard_feeds.feed_configs import GlofasConfig
from hazard_feeds.glofas_grid import canonical_cube, open_dataset
from hazard_feeds.guard import guarded_parse
from hazard_feeds.http import redact
from hazard_feeds.limits import current

log = logging.getLogger(__name__)


def _return_periods(names: list[str]) -> dict[str, list[float]]:
    """`rp<N>_m3s` per station from the shared thresholds (NaN where a station has none)."""
    shared = [t for t in station_thresholds().thresholds.values() if t.return_period_years]
    out: dict[str, list[float]] = {}
    for years in sorted({float(t.return_period_years or 0) for t in shared}):
        by_station = {t.station: t.value for t in shared if t.return_period_years == years}
        out[f"rp{years:g}_m3s"] = [by_station.get(n, np.nan) for n in names]
    return out


def _nat(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[ns]")


def station_series(
    ds: xr.Dataset, cfg: GlofasConfig
) -> tuple[xr.Dataset, list[QualityIssue], datetime]:
    """Sample every reporting point; (member, valid_time, station) discharge plus findings."""
    da, issued = canonical_cube(ds)
    lats, lons = da["latitude"].values, da["longitude"].values
    quality: list[QualityIssue] = []
    columns: list[np.ndarray] = []
    names: list[str] = []
    meta: dict[str, list[float]] = {"lon": [], "lat": [], "cell_lon": [], "cell_lat": []}
    for name, (lon, lat) in cfg.points.items():
        i, j = int(np.abs(lats - lat).argmin()), int(np.abs(lons - lon).argmin())
        distance = max(abs(float(lats[i]) - lat), abs(float(lons[j]) - lon))
        if distance > cfg.max_snap_distance_deg:
            quality.append(QualityIssue("missing_station", f"{name} is outside the grid", name))
            continue
        values, hidden = mask_outside(da.isel(latitude=i, longitude=j).values, "discharge_m3s")
        if hidden:
            quality.append(_masked_issue(name, hidden, values.size))
        if np.isnan(values).all():
            quality.append(QualityIssue("missing_station", f"{name} has no data (all NaN)", name))
            continue
        columns.append(values)
        names.append(name)
        for key, number in zip(meta, (lon, lat, float(lons[j]), float(lats[i])), strict=True):
            meta[key].append(round(number, 5))
    if not columns:
        reasons = "; ".join(q.message for q in quality)
        raise FeedError(f"glofas: no reporting point has data in this file ({reasons})")
    n_members, n_times = da.sizes["member"], da.sizes["valid_time"]
    cube = np.stack(columns, axis=-1) if columns else np.empty((n_members, n_times, 0))
    quality += _member_issues(cube, cfg.expected_members)
    valid = pd.DatetimeIndex(da["valid_time"].values)
    quality += _timestep_issues(cube, valid, names, issued, cfg.leadtime_hours)
    lead_hours = (
        (valid - pd.Timestamp(issued.replace(tzinfo=None))) / pd.Timedelta(hours=1)
    ).values
    coords: dict[str, Any] = {
        "member": np.asarray(da["member"].values),
        "valid_time": _nat(valid.values),
        "station": names,
        "lead_hours": ("valid_time", lead_hours.astype("int64")),
    }
    coords |= {key: ("station", values) for key, values in meta.items()}
    coords |= {label: ("station", values) for label, values in _return_periods(names).items()}
    out = xr.Dataset(
        {"discharge_m3s": (("member", "valid_time", "station"), cube)},
        coords=coords,
        attrs={"source": "GloFAS", "variable": "dis24", "units": "m3 s-1"},
    )
    return out, quality, issued


def _masked_issue(name: str, hidden: int, total: int) -> QualityIssue:
    """Values no river can have (non-finite, negative, beyond the bounds) become missing: that
    member and timestep is unknown, never a number the triggers would compare."""
    bound = current().bound("discharge_m3s")
    return QualityIssue(
        "partial",
        f"{name}: {hidden} of {total} values non-finite or outside {bound.min:g}.."
        f"{bound.max:g} m³/s, kept as missing",
        name,
    )


def _member_issues(cube: np.ndarray, expected: int) -> list[QualityIssue]:
    present = int((~np.isnan(cube)).any(axis=(1, 2)).sum()) if cube.size else cube.shape[0]
    if present >= expected:
        return []
    return [QualityIssue("missing_member", f"{present} of {expected} ensemble members present")]


def _timestep_issues(
    cube: np.ndarray,
    valid: pd.DatetimeIndex,
    names: list[str],
    issued: datetime,
    leadtime_hours: tuple[int, ...],
) -> list[QualityIssue]:
    base = pd.Timestamp(issued.replace(tzinfo=None))
    expected = {base + pd.Timedelta(hours=h) for h in leadtime_hours}
    issues = [
        QualityIssue(
            "missing_timestep",
            f"lead {int((t - base) / pd.Timedelta(hours=1))} h ({iso_utc(_aware(t))}) is missing",
            iso_utc(_aware(t)),
        )
        for t in sorted(expected - set(valid))
    ]
    for k, name in enumerate(names):
        empty = np.isnan(cube[:, :, k]).all(axis=0)
        if empty.any() and not empty.all():
            issues.append(
                QualityIssue(
                    "missing_timestep",
                    f"{name}: {int(empty.sum())} of {len(empty)} lead times without data",
                    name,
                )
            )
    return issues


def _aware(value: Any) -> datetime:
    return pd.Timestamp(value).to_pydatetime().replace(tzinfo=UTC)


class GlofasFeed:
    feed_id = "glofas"

    def __init__(self, config: GlofasConfig) -> None:
        self.config = config
        self.clock: Callable[[], datetime] = utc_now  # the pipeline injects its clock

    def run_day(self) -> datetime:
        return self.clock() - timedelta(days=self.config.lag_days)

    def request(self, day: datetime) -> dict[str, Any]:
        """The cdsapi request body for one day's run."""
        return {
            "system_version": [self.config.system_version],
            "hydrological_model": [self.config.hydrological_model],
            "product_type": ["control_forecast", "ensemble_perturbed_forecasts"],
            "variable": "river_discharge_in_the_last_24_hours",
            "year": [f"{day.year}"],
            "month": [f"{day.month:02d}"],
            "day": [f"{day.day:02d}"],
            "leadtime_hour": [str(h) for h in self.config.leadtime_hours],
            "data_format": self.config.data_format,
            "download_format": "unarchived",
            "area": list(self.config.area),
        }

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        """The day's run from the mirror when one is set, else from EWDS (key from the
        environment only)."""
        if self.config.mirror_url:
            return self._fetch_mirror(http, since)
        del http, since  # cdsapi has its own session; EWDS has no conditional GET
        try:
            import cdsapi
        except ImportError:
            raise FeedError(
                "glofas: fetching needs the `glofas` extra (pip install cdsapi)"
            ) from None
        url = os.environ.get("CDSAPI_URL") or self.config.base_url
        key = os.environ.get("CDSAPI_KEY")
        # Without CDSAPI_KEY, cdsapi reads ~/.cdsapirc itself.
        client = cdsapi.Client(url=url, key=key, quiet=True) if key else cdsapi.Client(url=url)
        now = self.clock()
        day = self.run_day()
        suffix = ".nc" if self.config.data_format == "netcdf" else ".grib"
        log.info(
            "glofas: requesting %s run %s from %s", self.config.dataset, day.date(), redact(url)
        )
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / f"glofas{suffix}"
            try:
                client.retrieve(self.config.dataset, self.request(day), str(target))
            except Exception as exc:  # cdsapi raises bare Exceptions carrying the server text
                text = " ".join(str(exc).split())[:200]
                if key:
                    text = text.replace(key, "***")
                raise FeedError(
                    f"glofas: EWDS request failed ({type(exc).__name__}: {redact(text)})"
                ) from None
            content = target.read_bytes()
        return RawArtifact(
            self.feed_id,
            f"{redact(url)}#{self.config.dataset}/{day:%Y-%m-%d}",
            content,
            hashlib.sha256(content).hexdigest(),
            now,
            content_type="application/x-netcdf"
            if self.config.data_format == "netcdf"
            else "application/grib",
        )

    def _fetch_mirror(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        url = self.config.mirror_url.format(date=self.run_day())
        if url.startswith("file:"):  # an agency share mounted locally: others fill it
            path = Path(unquote(urlparse(url).path))
            content = read_dropped(self.feed_id, path, current().netcdf.max_bytes)
            digest = hashlib.sha256(content).hexdigest()
            return RawArtifact(self.feed_id, path.as_uri(), content, digest, utc_now())
        got: RawArtifact = http.get(url, feed_id=self.feed_id, since=since)
        return got

    @guarded_parse
    def parse(self, raw: RawArtifact) -> HazardForecast:
        data, quality, issued = station_series(open_dataset(raw.content), self.config)
        wanted = set(data["station"].values.tolist())
        return HazardForecast(
            self.feed_id,
            "station_series",
            issued,
            data=data,
            quality=tuple(quality),
            source_uri=raw.source_uri,
            raw_sha256=raw.sha256,
            payload={
                "members": int(data.sizes["member"]),
                "thresholds": [
                    {"id": key} | t.model_dump()
                    for key, t in sorted(station_thresholds().thresholds.items())
                    if t.station in wanted
                ],
            },
        )

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        data = forecast.data
        times = [iso_utc(_aware(t)) for t in data["valid_time"].values]
        stations: dict[str, Any] = {}
        for k, name in enumerate(data["station"].values.tolist()):
            cube = data["discharge_m3s"].isel(station=k).transpose("valid_time", "member").values
            stations[str(name)] = {
                "lon": float(data["lon"].values[k]),
                "lat": float(data["lat"].values[k]),
                "cell_lon": float(data["cell_lon"].values[k]),
                "cell_lat": float(data["cell_lat"].values[k]),
                "valid_time": times,
                "discharge_m3s": [
                    [None if np.isnan(v) else round(float(v), 2) for v in row] for row in cube
                ],
            }
        return {
            "feed": self.feed_id,
            "issued_at": iso_utc(forecast.issued_at),
            "members": int(data.sizes["member"]),
            "stations": stations,
            "thresholds": list(forecast.payload.get("thresholds", [])),
            "quality": [_issue(q) for q in forecast.quality],
        }


def _issue(q: QualityIssue) -> dict[str, Any]:
    return {"code": q.code, "message": q.message, "subject": q.subject}
