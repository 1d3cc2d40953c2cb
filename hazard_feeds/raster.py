"""Hazard rasters (flood depth or extent, wind swath) from any GeoTIFF/COG, by URL or path.

Read with rasterio honouring CRS and nodata (nodata -> NaN), windowed to Bangladesh's extent
in the raster's own CRS. The raster is never reprojected here; overlays bring the unions to it.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import xarray as xr
from affine import Affine
from pydantic import Field, field_validator
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from rasterio.windows import from_bounds

from agam.core.errors import FeedError
from agam.core.timeutil import ensure_utc, iso_utc, utc_now
from hazard_feeds.config import FeedConfig
from hazard_feeds.contract import HazardForecast, RawArtifact
from hazard_feeds.guard import guarded_parse

log = logging.getLogger(__name__)

BANGLADESH_LONLAT = (88.0, 20.5, 92.7, 26.7)


class RasterConfig(FeedConfig):
    url: str = ""  # http(s)://… or a local path (file://… accepted)
    variable: str = Field(default="flood_depth_m", pattern=r"^[a-z][a-z0-9_]*$")
    band: int = Field(default=1, ge=1)
    valid_time: datetime | None = None  # else the file's TIFFTAG_DATETIME, else fetch time
    max_age_hours: float = 48.0

    @field_validator("valid_time")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return ensure_utc(value) if value is not None else None


def read_raster(
    content: bytes,
    variable: str,
    fallback_time: datetime,
    valid_time: datetime | None = None,
    band: int = 1,
) -> xr.Dataset:
    """Band `band` windowed to Bangladesh in the raster's CRS; nodata -> NaN."""
    try:
        with MemoryFile(content) as memfile, memfile.open() as src:
            if src.crs is None:
                raise FeedError("raster: the file has no CRS")
            if band > src.count:
                raise FeedError(f"raster: band {band} requested, the file has {src.count}")
            west, south, east, north = transform_bounds("EPSG:4326", src.crs, *BANGLADESH_LONLAT)
            window = from_bounds(west, south, east, north, src.transform).intersection(
                rasterio.windows.Window(0, 0, src.width, src.height)
            )
            data = src.read(band, window=window, masked=True).astype("float64").filled(np.nan)
            # src.window_transform() uses affine's deprecated `*`; compose with `@` instead.
            transform = src.transform @ Affine.translation(window.col_off, window.row_off)
            crs = src.crs.to_wkt()
            tag = src.tags().get("TIFFTAG_DATETIME")
    except rasterio.errors.WindowError:
        raise FeedError("raster: the raster does not cover Bangladesh") from None
    except rasterio.errors.RasterioError as exc:
        raise FeedError(f"raster: not a readable GeoTIFF ({exc})") from None
    when = valid_time or _tiff_time(tag) or fallback_time
    rows, cols = data.shape
    xs = transform.c + transform.a * (np.arange(cols) + 0.5)
    ys = transform.f + transform.e * (np.arange(rows) + 0.5)
    return xr.Dataset(
        {variable: (("valid_time", "y", "x"), data[np.newaxis])},
        coords={"valid_time": [np.datetime64(when.replace(tzinfo=None), "ns")], "y": ys, "x": xs},
        attrs={"crs": crs, "transform": tuple(transform)[:6], "valid_time": iso_utc(when)},
    )


def _tiff_time(tag: str | None) -> datetime | None:
    """TIFFTAG_DATETIME ("YYYY:MM:DD HH:MM:SS", taken as UTC); unreadable -> None."""
    try:
        return datetime.strptime(f"{tag} +0000", "%Y:%m:%d %H:%M:%S %z") if tag else None
    except ValueError:
        log.warning("raster: ignoring unreadable TIFFTAG_DATETIME %r", tag[:40] if tag else tag)
        return None


class RasterFeed:
    feed_id = "raster"

    def __init__(self, config: RasterConfig) -> None:
        self.config = config

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        url = self.config.url
        if not url:
            raise FeedError("raster: set [feeds.raster].url to a GeoTIFF URL or path")
        if url.startswith(("http://", "https://")):
            return http.get(url, feed_id=self.feed_id, since=since)  # type: ignore[no-any-return]
        path = Path(url.removeprefix("file://"))
        if not path.is_file():
            raise FeedError(f"raster: {path} not found")
        content = path.read_bytes()
        return RawArtifact(
            self.feed_id,
            path.resolve().as_uri(),
            content,
            hashlib.sha256(content).hexdigest(),
            utc_now(),
            content_type="image/tiff",
        )

    @guarded_parse
    def parse(self, raw: RawArtifact) -> HazardForecast:
        data = read_raster(
            raw.content,
            self.config.variable,
            raw.fetched_at,
            self.config.valid_time,
            self.config.band,
        )
        issued = datetime.fromisoformat(data.attrs["valid_time"].replace("Z", "+00:00"))
        return HazardForecast(
            self.feed_id,
            "grid",
            issued,
            data=data,
            source_uri=raw.source_uri,
            raw_sha256=raw.sha256,
        )

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        data = forecast.data
        values = data[self.config.variable].values
        return {
            "feed": "raster",
            "issued_at": iso_utc(forecast.issued_at),
            "variable": self.config.variable,
            "shape": list(values.shape[1:]),
            "crs": data.attrs["crs"],
            "transform": list(data.attrs["transform"]),
            "valid_cells": int(np.isfinite(values).sum()),
            "max": None if not np.isfinite(values).any() else float(np.nanmax(values)),
        }
