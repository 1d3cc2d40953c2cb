"""Read GloFAS forecast files (netCDF, zipped netCDF, GRIB) into one canonical cube.

EWDS hands back several layouts for `cems-glofas-forecast` `dis24`:
- netCDF (new data stores): dims (number, forecast_reference_time, forecast_period, latitude,
  longitude) with a 2-D `valid_time` coordinate; sometimes one zip with a file per product type
  (control forecast without `number`, perturbed members with it);
- GRIB through cfgrib: dims (number, step, latitude, longitude) with a scalar `time`, control
  (`dataType=cf`) and perturbed (`dataType=pf`) read separately;
- older netCDF conversions: (number, time, step, lat, lon).
`canonical_cube` turns any of them into dis24(member, valid_time, latitude, longitude).
"""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from agam.core.errors import FeedError
from hazard_feeds.native_io import NATIVE_IO_LOCK

log = logging.getLogger(__name__)

VARIABLE = "dis24"
MEMBER_DIMS = ("number", "realization", "member", "ensemble")
REF_NAMES = ("forecast_reference_time", "time")
LEAD_NAMES = ("step", "forecast_period", "leadtime", "lead_time")
LAT_NAMES = ("latitude", "lat")
LON_NAMES = ("longitude", "lon")


def open_dataset(content: bytes, feed_id: str = "glofas") -> xr.Dataset:
    """netCDF, zipped netCDF or GRIB bytes -> Dataset; FeedError names what is wrong."""
    if content[:4] == b"GRIB":
        return _open_grib(content, feed_id)
    if content[:4] == b"PK\x03\x04":
        return _open_zip(content, feed_id)
    try:
        return _open_netcdf(content)
    except (OSError, ValueError, KeyError) as exc:
        raise FeedError(f"{feed_id}: not a readable netCDF/GRIB file ({exc})") from None


def _open_netcdf(content: bytes) -> xr.Dataset:
    with NATIVE_IO_LOCK, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "glofas.nc"
        path.write_bytes(content)
        # Lead times are converted by canonical_cube from their units (no xarray guessing).
        with xr.open_dataset(path, engine="netcdf4", decode_timedelta=False) as ds:
            return ds.load()


def _open_zip(content: bytes, feed_id: str) -> xr.Dataset:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = sorted(n for n in archive.namelist() if n.endswith((".nc", ".nc4")))
            parts = [_open_netcdf(archive.read(n)) for n in names]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FeedError(f"{feed_id}: unreadable zip of netCDF files ({exc})") from None
    if not parts:
        raise FeedError(f"{feed_id}: the zip holds no netCDF file")
    return _combine_members(parts)


def _open_grib(content: bytes, feed_id: str) -> xr.Dataset:
    try:
        import cfgrib  # noqa: F401
    except ImportError:
        raise FeedError(
            f"{feed_id}: GRIB input needs the `grib` extra (pip install 'agam[grib]': cfgrib, "
            "eccodes), or request data_format = 'netcdf'"
        ) from None
    parts = []
    with NATIVE_IO_LOCK, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "glofas.grib"
        path.write_bytes(content)
        for kind in ("cf", "pf"):
            try:
                with xr.open_dataset(
                    path,
                    engine="cfgrib",
                    backend_kwargs={"filter_by_keys": {"dataType": kind}, "indexpath": ""},
                ) as ds:
                    if ds.data_vars:
                        parts.append(ds.load())
            except (OSError, ValueError, KeyError) as exc:
                raise FeedError(f"{feed_id}: unreadable GRIB ({kind}: {exc})") from None
    if not parts:
        raise FeedError(f"{feed_id}: the GRIB file holds no control or perturbed forecast")
    return _combine_members(parts)


def _combine_members(parts: list[xr.Dataset]) -> xr.Dataset:
    """Control (no member dim, or member 0) and perturbed members -> one `number` dim."""
    ready = []
    for ds in parts:
        member = next((d for d in MEMBER_DIMS if d in ds.dims), None)
        if member is None:
            scalar = next((d for d in MEMBER_DIMS if d in ds.coords), None)
            number = int(ds[scalar].values) if scalar else 0
            ds = ds.drop_vars([scalar] if scalar else []).expand_dims(number=[number])
        elif member != "number":
            ds = ds.rename({member: "number"})
        ready.append(ds)
    if len(ready) == 1:
        return ready[0]
    return xr.concat(ready, dim="number", join="outer").sortby("number")


def _first(ds: xr.Dataset | xr.DataArray, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in ds.dims or n in ds.coords), None)


def _lead_as_timedelta(coord: xr.DataArray) -> pd.TimedeltaIndex:
    values = np.atleast_1d(coord.values)
    if np.issubdtype(values.dtype, np.timedelta64):
        return pd.to_timedelta(values)
    units = str(coord.attrs.get("units", "hours")).lower()
    seconds = 86400.0 if units.startswith("day") else 1.0 if units.startswith("s") else 3600.0
    return pd.to_timedelta(np.round(values.astype("float64") * seconds).astype("int64"), unit="s")


def canonical_cube(ds: xr.Dataset, feed_id: str = "glofas") -> tuple[xr.DataArray, datetime]:
    """dis24 as (member, valid_time, latitude, longitude) and the forecast issue time (UTC)."""
    if VARIABLE not in ds:
        found = ", ".join(map(str, ds.data_vars)) or "none"
        raise FeedError(f"{feed_id}: no `{VARIABLE}` variable (found {found})")
    da = ds[VARIABLE]
    ref = _first(da, REF_NAMES)
    if ref is None:
        raise FeedError(f"{feed_id}: no forecast reference time (time / forecast_reference_time)")
    ref_values = np.atleast_1d(da[ref].values)
    issued_np = ref_values.max()
    if ref in da.dims:
        if len(ref_values) > 1:
            log.warning(
                "%s: %d forecast runs in one file; using the latest", feed_id, len(ref_values)
            )
        da = da.sel({ref: issued_np})
    issued_ts = pd.Timestamp(issued_np)
    lead = _first(da, LEAD_NAMES)
    if lead is not None and lead in da.dims:
        valid = issued_ts + _lead_as_timedelta(da[lead])
        da = da.drop_vars([c for c in ("valid_time",) if c in da.coords])
        da = da.assign_coords(valid_time=(lead, valid.values)).swap_dims({lead: "valid_time"})
    elif "valid_time" not in da.dims:
        raise FeedError(f"{feed_id}: no lead-time dimension (step / forecast_period / valid_time)")
    member = _first(da, MEMBER_DIMS)
    if member is None or member not in da.dims:
        da = da.expand_dims(member=[0])
    else:
        da = da.rename({member: "member"})
    lat, lon = _first(da, LAT_NAMES), _first(da, LON_NAMES)
    if lat is None or lon is None:
        raise FeedError(f"{feed_id}: no latitude/longitude dimensions")
    da = da.rename({lat: "latitude", lon: "longitude"})
    keep = {"member", "valid_time", "latitude", "longitude"}
    extra = [d for d in da.dims if d not in keep]
    if any(da.sizes[d] != 1 for d in extra):
        raise FeedError(f"{feed_id}: unexpected dimensions {extra} on {VARIABLE}")
    da = da.squeeze(extra, drop=True) if extra else da
    da = da.drop_vars([c for c in da.coords if c not in keep])
    da = da.transpose("member", "valid_time", "latitude", "longitude").sortby("valid_time")
    return da.astype("float64"), issued_ts.to_pydatetime().replace(tzinfo=UTC)
