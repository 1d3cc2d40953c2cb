"""Write GloFAS forecasts in the netCDF layout the Copernicus EWDS returns for
`cems-glofas-forecast` (data_format=netcdf): `dis24` (m3 s-1) on (number,
forecast_reference_time, forecast_period, latitude, longitude), `forecast_period` in hours,
a 2-D `valid_time`, member 0 = control. Used for SYNTHETIC scenario runs and test fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from hazard_feeds.native_io import NATIVE_IO_LOCK


def ewds_dataset(
    cube: np.ndarray,
    start: pd.Timestamp,
    hours: np.ndarray,
    lats: np.ndarray,
    lons: np.ndarray,
    label: str,
) -> xr.Dataset:
    """`cube` is (member, 1, lead, lat, lon); `label` says what made the data."""
    valid = start + pd.to_timedelta(hours, unit="h")
    return xr.Dataset(
        {
            "dis24": (
                ("number", "forecast_reference_time", "forecast_period", "latitude", "longitude"),
                cube,
                {
                    "units": "m**3 s**-1",
                    "long_name": "Mean discharge in the last 24 hours",
                    "GRIB_shortName": "dis24",
                    "GRIB_paramId": 240023,
                },
            )
        },
        coords={
            "number": ("number", np.arange(cube.shape[0], dtype="int64")),
            "forecast_reference_time": [start],
            "forecast_period": ("forecast_period", hours, {"units": "hours"}),
            "valid_time": (("forecast_reference_time", "forecast_period"), valid.values[None, :]),
            "latitude": ("latitude", lats, {"units": "degrees_north"}),
            "longitude": ("longitude", lons, {"units": "degrees_east"}),
        },
        attrs={
            "Conventions": "CF-1.7",
            "institution": "European Centre for Medium-Range Weather Forecasts",
            "agam_data": label,
        },
    )


def write_netcdf(ds: xr.Dataset, target: Path) -> None:
    seconds = "seconds since 1970-01-01"
    encoding: dict[str, dict[str, Any]] = {
        "dis24": {"zlib": True, "complevel": 9, "_FillValue": np.float32(np.nan)},
        "forecast_reference_time": {"units": seconds, "dtype": "int64"},
        "valid_time": {"units": seconds, "dtype": "int64"},
    }
    with NATIVE_IO_LOCK:
        ds.to_netcdf(target, encoding=encoding, engine="netcdf4")
