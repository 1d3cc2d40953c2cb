"""A parsed forecast kept on disk once and read back: one parse per raw artifact.

Layout of one forecast folder (written to a temporary sibling, then renamed into place,
so a reader never sees half a forecast):
- `meta.json`: feed, kind, issue time, payload, quality, source; datetimes tagged so they
  come back as tz-aware datetimes, not strings;
- `data.nc`: the xarray Dataset (station_series / track / grid), attributes in meta.json;
- `footprints.parquet`: the GeoDataFrame of a footprint forecast (GeoParquet).
netCDF goes through NATIVE_IO_LOCK (netCDF-C/HDF5 are not thread-safe).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import xarray as xr

from agam.core.errors import FeedError
from agam.core.timeutil import ensure_utc
from hazard_feeds.contract import HazardForecast, QualityIssue
from hazard_feeds.native_io import NATIVE_IO_LOCK

FORMAT_VERSION = 1
META = "meta.json"
DATA = "data.nc"
FOOTPRINTS = "footprints.parquet"


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": ensure_utc(value).isoformat()}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_encode(v) for v in value.tolist()]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$datetime"}:
            return datetime.fromisoformat(value["$datetime"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def write_forecast(forecast: HazardForecast, folder: Path) -> Path:
    """Keep `forecast` at `folder` (idempotent: an existing folder is left as it is)."""
    if (folder / META).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        meta: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "feed_id": forecast.feed_id,
            "kind": forecast.kind,
            "issued_at": forecast.issued_at,
            "payload": dict(forecast.payload),
            "quality": [vars(q) for q in forecast.quality],
            "source_uri": forecast.source_uri,
            "raw_sha256": forecast.raw_sha256,
        }
        if forecast.data is not None:
            meta["data_attrs"] = dict(forecast.data.attrs)
            with NATIVE_IO_LOCK:
                forecast.data.drop_attrs(deep=False).to_netcdf(work / DATA, engine="netcdf4")
        if forecast.footprints is not None:
            forecast.footprints.to_parquet(work / FOOTPRINTS)
        (work / META).write_text(json.dumps(_encode(meta), ensure_ascii=False), "utf-8")
        try:
            os.rename(work, folder)
        except OSError:
            if not (folder / META).is_file():  # not a concurrent writer of the same forecast
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def read_forecast(folder: Path) -> HazardForecast:
    """The forecast kept at `folder`; FeedError when it is missing or unreadable."""
    try:
        meta = _decode(json.loads((folder / META).read_text("utf-8")))
    except (OSError, ValueError) as exc:
        raise FeedError(f"{folder}: no readable processed forecast ({exc})") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise FeedError(f"{folder}: processed forecast format {meta.get('format_version')}")
    data = None
    if (folder / DATA).is_file():
        with NATIVE_IO_LOCK, xr.open_dataset(folder / DATA, engine="netcdf4") as ds:
            data = ds.load()
        data.attrs.update(meta.get("data_attrs") or {})
    footprints = None
    if (folder / FOOTPRINTS).is_file():
        footprints = gpd.read_parquet(folder / FOOTPRINTS)
    return HazardForecast(
        feed_id=meta["feed_id"],
        kind=meta["kind"],
        issued_at=meta["issued_at"],
        data=data,
        footprints=footprints,
        payload=meta["payload"],
        quality=tuple(QualityIssue(**q) for q in meta["quality"]),
        source_uri=meta["source_uri"],
        raw_sha256=meta["raw_sha256"],
    )
