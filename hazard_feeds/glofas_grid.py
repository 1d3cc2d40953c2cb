"""Read GloFAS forecast files (netCDF, zipped netCDF, GRIB) into one canonical cube.

EWDS hands back several layouts for `cems-glofas-forecast` `dis24`:
- netCDF (new data stores): dims (number, forecast_reference_time, forecast_period, latitude,
  longitude) with a 2-D `valid_time` coordinate; sometimes one zip with a file per product type
  (control forecast without `number`, perturbed members with it);
- GRIB through cfgrib: dims (number, step, latitude, longitude) with a scalar `time`, control
  (`dataType=cf`) and perturbed (`dataType=pf`) read separately;
- older netCDF conversions: (number, time, step, lat, lon).
`canonical_cube` turns any of them into dis24(member, valid_time, latitude, longitude).
Sizes are checked before anything is loaded (limits.toml [netcdf]); coordinates and times must
be finite and in range, so a damaged file is a FeedError naming the variable, never a traceback.
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
from hazard_feeds.checks import check_bytes, check_count, check_year, refuse
from hazard_feeds.limits import current
from hazard_feeds.native_io import NATIVE_IO_LOCK

log = logging.getLogger(__name__)

VARIABLE = "dis24"
MEMBER_DIMS = ("number", "realization", "member", "ensemble")
REF_NAMES = ("forecast_reference_time", "time")
LEAD_NAMES = ("step", "forecast_period", "leadtime", "lead_time")
LAT_NAMES = ("latitude", "lat")
LON_NAMES = ("longitude", "lon")
# Lead-time units -> hours per unit (CF/UDUNITS spellings seen in GloFAS files and their kin).
LEAD_UNITS = {"hours": 1.0, "hour": 1.0, "h": 1.0, "hrs": 1.0, "days": 24.0, "day": 24.0, "d": 24.0}
LEAD_UNITS |= {"seconds": 1 / 3600, "second": 1 / 3600, "s": 1 / 3600, "minutes": 1 / 60}
# Discharge units as GloFAS files spell m³/s (GRIB/EWDS "m**3 s**-1", CF "m3 s-1", ...); older
# files carry no `units` attribute. Anything else (mm, m3/day) is not read as m³/s.
DISCHARGE_UNITS = frozenset({"m**3 s**-1", "m3 s-1", "m^3/s", "m3/s", "m^3 s^-1", "cumecs"})


def open_dataset(content: bytes, feed_id: str = "glofas") -> xr.Dataset:
    """netCDF, zipped netCDF or GRIB bytes -> Dataset; FeedError names what is wrong."""
    check_bytes(content, current().netcdf.max_bytes, feed_id, "file")
    if content[:4] == b"GRIB":
        return _open_grib(content, feed_id)
    if content[:4] == b"PK\x03\x04":
        return _open_zip(content, feed_id)
    return _open_netcdf(content, feed_id)


def _open_netcdf(content: bytes, feed_id: str, what: str = "file") -> xr.Dataset:
    """Open lazily, check the sizes, then load. A truncated or damaged file (the netCDF library
    raises many kinds of errors for those) is one FeedError."""
    with NATIVE_IO_LOCK, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "glofas.nc"
        path.write_bytes(content)
        try:
            # Lead times are converted by canonical_cube from their units (no xarray guessing).
            with xr.open_dataset(path, engine="netcdf4", decode_timedelta=False) as ds:
                _check_sizes(ds, feed_id, what)
                return ds.load()
        except FeedError:
            raise
        except Exception as exc:  # netCDF4/HDF5/xarray: OSError, RuntimeError, ValueError, ...
            text = " ".join(str(exc).split())[:160]
            raise FeedError(
                f"{feed_id}: {what}: not a readable netCDF/GRIB file ({type(exc).__name__}: {text})"
            ) from None


def _check_sizes(ds: xr.Dataset, feed_id: str, what: str) -> None:
    """Refuse a file whose dimensions would not fit the limits, before reading its values."""
    limits = current().netcdf
    for name in MEMBER_DIMS:
        if name in ds.sizes:
            check_count(ds.sizes[name], limits.max_members, feed_id, f"{what} {name}", "members")
    for name in LEAD_NAMES:
        if name in ds.sizes:
            check_count(ds.sizes[name], limits.max_valid_times, feed_id, f"{what} {name}", "steps")
    for key, variable in ds.variables.items():
        check_count(int(variable.size), limits.max_values, feed_id, f"{what} {key}", "values")


def _open_zip(content: bytes, feed_id: str) -> xr.Dataset:
    limits = current().netcdf
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = [i for i in archive.infolist() if i.filename.endswith((".nc", ".nc4"))]
            check_count(len(infos), limits.max_zip_entries, feed_id, "zip", "netCDF files")
            unpacked = sum(i.file_size for i in infos)
            check_count(unpacked, limits.max_zip_uncompressed_bytes, feed_id, "zip", "bytes")
            parts = [
                _open_netcdf(archive.read(i), feed_id, f"zip entry {i.filename}")
                for i in sorted(infos, key=lambda i: i.filename)
            ]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise FeedError(f"{feed_id}: unreadable zip of netCDF files ({exc})") from None
    if not parts:
        raise FeedError(f"{feed_id}: the zip holds no netCDF file")
    return _combine_members(parts, feed_id)


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
    return _combine_members(parts, feed_id)


def _combine_members(parts: list[xr.Dataset], feed_id: str = "glofas") -> xr.Dataset:
    """Control (no member dim, or member 0) and perturbed members -> one `number` dim. The
    parts must share their grid and lead times: an outer join of grids that differ by a hair
    would multiply the cells past every size limit."""
    total = sum(int(ds[VARIABLE].size) for ds in parts if VARIABLE in ds)
    for ds in parts:  # concat keeps the first part's attributes only
        if VARIABLE in ds:
            check_units(ds[VARIABLE], feed_id)
    limit = current().netcdf.max_values
    check_count(total, limit, feed_id, f"{VARIABLE} over all parts", "values")
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
    try:
        return xr.concat(ready, dim="number", join="exact").sortby("number")
    except ValueError as exc:
        text = " ".join(str(exc).split())[:120]
        raise refuse(feed_id, "parts", f"their grids or lead times differ ({text})") from None


def check_units(da: xr.DataArray, feed_id: str) -> None:
    """Refuse discharge in other units than m³/s (a missing `units` is taken as m³/s)."""
    units = da.attrs.get("units")
    if units is None or (isinstance(units, str) and not units.strip()):
        return
    if not isinstance(units, str) or " ".join(units.split()).lower() not in DISCHARGE_UNITS:
        known = ", ".join(sorted(DISCHARGE_UNITS))
        raise refuse(feed_id, f"{da.name} units", f"{str(units)[:30]!r} is not m³/s ({known})")


def _first(ds: xr.Dataset | xr.DataArray, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in ds.dims or n in ds.coords), None)


def _lead_as_timedelta(coord: xr.DataArray, feed_id: str, name: str) -> pd.TimedeltaIndex:
    """Lead times from timedelta values or numbers in their `units`; finite and in range."""
    values = np.atleast_1d(coord.values)
    if np.issubdtype(values.dtype, np.timedelta64):
        if np.isnat(values).any():
            raise refuse(feed_id, name, "a lead time is missing (NaT)")
        hours = values.astype("timedelta64[s]").astype("float64") / 3600.0
    elif values.dtype.kind in "fiu":
        units = str(coord.attrs.get("units", "hours")).strip().lower()
        scale = LEAD_UNITS.get(units)
        if scale is None:  # "minutes" read as hours would move every valid time
            raise refuse(feed_id, name, f"lead time units {units[:30]!r} are not known")
        hours = values.astype("float64") * scale
    else:
        raise refuse(feed_id, name, f"lead times are not numbers ({values.dtype})")
    limit = current().netcdf.max_lead_hours
    if not np.isfinite(hours).all() or (hours < 0).any() or (hours > limit).any():
        raise refuse(feed_id, name, f"lead times must be finite and within 0..{limit} h")
    return pd.to_timedelta(np.round(hours * 3600).astype("int64"), unit="s")


def _issue_time(da: xr.DataArray, ref: str, feed_id: str) -> np.datetime64:
    values = np.atleast_1d(da[ref].values)
    if values.dtype.kind != "M" or values.size == 0 or np.isnat(values).any():
        raise refuse(feed_id, ref, "not a valid forecast reference time")
    issued: np.datetime64 = values.max()
    check_year(pd.Timestamp(issued).to_pydatetime(), feed_id, ref)
    if len(values) > 1:
        log.warning("%s: %d forecast runs in one file; using the latest", feed_id, len(values))
    return issued


def _check_axis(da: xr.DataArray, name: str, quantity: str, feed_id: str) -> None:
    values = np.asarray(da[name].values)
    bound = current().bound(quantity)
    if values.dtype.kind not in "fiu" or values.size == 0:
        raise refuse(feed_id, name, "not a numeric coordinate")
    if not np.isfinite(values).all() or values.min() < bound.min or values.max() > bound.max:
        raise refuse(
            feed_id, name, f"values must be finite and within {bound.min:g}..{bound.max:g}"
        )


def canonical_cube(ds: xr.Dataset, feed_id: str = "glofas") -> tuple[xr.DataArray, datetime]:
    """dis24 as (member, valid_time, latitude, longitude) and the forecast issue time (UTC)."""
    if VARIABLE not in ds:
        found = ", ".join(map(str, ds.data_vars)) or "none"
        raise FeedError(f"{feed_id}: no `{VARIABLE}` variable (found {found})")
    da = ds[VARIABLE]
    if da.dtype.kind not in "fiu":
        raise refuse(feed_id, VARIABLE, f"values are not numbers ({da.dtype})")
    check_units(da, feed_id)
    ref = _first(da, REF_NAMES)
    if ref is None:
        raise FeedError(f"{feed_id}: no forecast reference time (time / forecast_reference_time)")
    issued_np = _issue_time(da, ref, feed_id)
    if ref in da.dims:
        da = da.sel({ref: issued_np})
    issued_ts = pd.Timestamp(issued_np)
    lead = _first(da, LEAD_NAMES)
    if lead is not None and lead in da.dims:
        valid = issued_ts + _lead_as_timedelta(da[lead], feed_id, lead)
        da = da.drop_vars([c for c in ("valid_time",) if c in da.coords])
        da = da.assign_coords(valid_time=(lead, valid.values)).swap_dims({lead: "valid_time"})
    elif "valid_time" not in da.dims:
        raise FeedError(f"{feed_id}: no lead-time dimension (step / forecast_period / valid_time)")
    valid_times = pd.DatetimeIndex(da["valid_time"].values)
    if valid_times.hasnans or not valid_times.is_unique:
        raise refuse(feed_id, "valid_time", "lead times are missing or repeated")
    member = _first(da, MEMBER_DIMS)
    if member is None or member not in da.dims:
        da = da.expand_dims(member=[0])
    else:
        da = da.rename({member: "member"})
    numbers = pd.Index(np.atleast_1d(da["member"].values))
    if not numbers.is_unique:  # a member counted twice would weigh twice in every probability
        twice = numbers[numbers.duplicated()][0]
        raise refuse(feed_id, member or "member", f"ensemble member {twice} is given twice")
    lat, lon = _first(da, LAT_NAMES), _first(da, LON_NAMES)
    if lat is None or lon is None:
        raise FeedError(f"{feed_id}: no latitude/longitude dimensions")
    da = da.rename({lat: "latitude", lon: "longitude"})
    _check_axis(da, "latitude", "latitude_deg", feed_id)
    _check_axis(da, "longitude", "longitude_deg", feed_id)
    keep = {"member", "valid_time", "latitude", "longitude"}
    extra = [d for d in da.dims if d not in keep]
    if any(da.sizes[d] != 1 for d in extra):
        raise FeedError(f"{feed_id}: unexpected dimensions {extra} on {VARIABLE}")
    da = da.squeeze(extra, drop=True) if extra else da
    da = da.drop_vars([c for c in da.coords if c not in keep])
    da = da.transpose("member", "valid_time", "latitude", "longitude").sortby("valid_time")
    return da.astype("float64"), issued_ts.to_pydatetime().replace(tzinfo=UTC)
