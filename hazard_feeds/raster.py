"""Hazard rasters (flood depth or extent, wind swath) from any GeoTIFF/COG, by URL or path.

Read with rasterio honouring CRS and nodata (nodata -> NaN), windowed to Bangladesh's extent
in the raster's own CRS. The raster is never reprojected here; overlays bring the unions to it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import xarray as xr
from affine import Affine
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from agam.core.errors import FeedError
from agam.core.timeutil import iso_utc, utc_now
from hazard_feeds.checks import check_bytes, check_count, check_year, mask_outside
from hazard_feeds.contract import HazardForecast, QualityIssue, RawArtifact
from hazard_feeds.dropped_files import read_dropped
from hazard_feeds.feed_configs import RasterConfig
from hazard_feeds.guard import guarded_parse
from hazard_feeds.limits import current

log = logging.getLogger(__name__)

BANGLADESH_LONLAT = (88.0, 20.5, 92.7, 26.7)
NUMERIC_DTYPES = frozenset(
    {"uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"}
    | {"float32", "float64"}
)


def read_raster(
    content: bytes,
    variable: str,
    fallback_time: datetime,
    valid_time: datetime | None = None,
    band: int = 1,
) -> tuple[xr.Dataset, list[QualityIssue]]:
    """Band `band` windowed to Bangladesh in the raster's CRS; nodata and impossible values ->
    NaN (reported). The header is checked before any cell is read, and a window larger than
    [raster] max_read_cells is read through overviews at a coarser resolution."""
    limits = current().raster
    check_bytes(content, limits.max_bytes, "raster", "file")
    try:
        with MemoryFile(content) as memfile, _quiet_open(memfile) as src:
            _check_header(src, band)
            west, south, east, north = _bangladesh_in(src.crs)
            window = _whole_pixels(from_bounds(west, south, east, north, src.transform))
            window = window.intersection(Window(0, 0, src.width, src.height))
            rows, cols = int(window.height), int(window.width)
            factor = _decimation(rows * cols)
            shape = (max(1, math.ceil(rows / factor)), max(1, math.ceil(cols / factor)))
            data = src.read(
                band, window=window, out_shape=shape, masked=True, resampling=Resampling.nearest
            )
            data = data.astype("float64").filled(np.nan)
            # src.window_transform() uses affine's deprecated `*`; compose with `@` instead.
            transform = (
                src.transform
                @ Affine.translation(window.col_off, window.row_off)
                @ Affine.scale(window.width / shape[1], window.height / shape[0])
            )
            crs = src.crs.to_wkt()
            tag = src.tags().get("TIFFTAG_DATETIME")
    except rasterio.errors.WindowError:
        raise FeedError("raster: the raster does not cover Bangladesh") from None
    except (rasterio.errors.RasterioError, ValueError) as exc:
        raise FeedError(f"raster: not a readable GeoTIFF ({exc})") from None
    quality = _mask_values(data, variable)
    if not np.isfinite(data).any():  # a grid that says nothing must not read as "no flood"
        text = f"no cell over Bangladesh has a value ({rows * cols:,} cells nodata or masked)"
        quality.append(QualityIssue("partial", text, variable))
    when = valid_time or _tiff_time(tag) or fallback_time
    xs = transform.c + transform.a * (np.arange(shape[1]) + 0.5)
    ys = transform.f + transform.e * (np.arange(shape[0]) + 0.5)
    dataset = xr.Dataset(
        {variable: (("valid_time", "y", "x"), data[np.newaxis])},
        coords={"valid_time": [np.datetime64(when.replace(tzinfo=None), "ns")], "y": ys, "x": xs},
        attrs={
            "crs": crs,
            "transform": tuple(transform)[:6],
            "valid_time": iso_utc(when),
            "decimation": factor,
        },
    )
    return dataset, quality


def _quiet_open(memfile: MemoryFile) -> Any:
    """Open without NotGeoreferencedWarning: a missing CRS is refused by _check_header."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return memfile.open()


def _bangladesh_in(crs: Any) -> tuple[float, float, float, float]:
    """Bangladesh's box in the raster's CRS; a CRS that cannot place it (the far side of an
    orthographic view) gives non-finite numbers, refused here."""
    box = transform_bounds("EPSG:4326", crs, *BANGLADESH_LONLAT)
    if not all(math.isfinite(v) for v in box):
        raise FeedError("raster: header CRS: Bangladesh has no position in it")
    west, south, east, north = box
    return west, south, east, north


def _whole_pixels(window: Window) -> Window:
    """The window grown outwards to whole pixels (the transform then stays exact)."""
    col, row = math.floor(window.col_off), math.floor(window.row_off)
    end_col = math.ceil(window.col_off + window.width)
    end_row = math.ceil(window.row_off + window.height)
    return Window(col, row, end_col - col, end_row - row)


def _check_header(src: Any, band: int) -> None:
    """Refuse what would allocate too much or cannot be placed, before reading a cell."""
    limits = current().raster
    if src.crs is None:
        raise FeedError("raster: the file has no CRS")
    for name, size in (("width", src.width), ("height", src.height)):
        check_count(size, limits.max_side_px, "raster", f"header {name}", "pixels")
    check_count(src.count, limits.max_bands, "raster", "header bands", "bands")
    if band > src.count:
        raise FeedError(f"raster: band {band} requested, the file has {src.count}")
    if not all(math.isfinite(v) for v in tuple(src.transform)[:6]) or src.transform.is_degenerate:
        raise FeedError("raster: header geotransform: not finite or degenerate")
    if src.transform.b or src.transform.d:  # cell centres below assume a north-up grid
        raise FeedError("raster: header geotransform: rotated or sheared grids are not read")
    if src.crs.is_geographic:
        _check_on_globe(src)
    if src.dtypes[band - 1] not in NUMERIC_DTYPES:
        raise FeedError(f"raster: band {band}: cell type {src.dtypes[band - 1]} is not numeric")


def _check_on_globe(src: Any) -> None:
    """A geographic grid lies on the globe: longitudes within -180..360 (either convention,
    one turn at most), latitudes within -90..90, give or take [raster] globe_margin_deg."""
    margin = current().raster.globe_margin_deg
    west, east = sorted((src.bounds.left, src.bounds.right))
    south, north = sorted((src.bounds.bottom, src.bounds.top))
    if (
        west < -180 - margin
        or east > 360 + margin
        or east - west > 360 + 2 * margin
        or south < -90 - margin
        or north > 90 + margin
    ):
        raise FeedError(
            f"raster: header geotransform: extent {west:g}..{east:g} °E, {south:g}..{north:g} °N "
            "in a geographic CRS goes past the globe (-180..180 or 0..360 °E, -90..90 °N)"
        )


def _decimation(cells: int) -> int:
    """1 when the window fits [raster] max_read_cells, else the coarsening that makes it fit."""
    limits = current().raster
    if cells <= limits.max_read_cells:
        return 1
    factor = math.ceil(math.sqrt(cells / limits.max_read_cells))
    if factor > limits.max_decimation:
        raise FeedError(
            f"raster: window over Bangladesh: {cells:,} cells would need reading at 1/{factor} "
            f"resolution (limit 1/{limits.max_decimation}); provide a coarser file"
        )
    log.warning("raster: %s cells over Bangladesh, reading at 1/%d resolution", cells, factor)
    return factor


def _mask_values(data: np.ndarray, variable: str) -> list[QualityIssue]:
    """Infinite or physically impossible cells become NaN (missing) and are reported."""
    known = current().bound_for_field(variable)
    if known is None:
        bad = np.isinf(data)
        data[bad] = np.nan
        hidden = int(bad.sum())
        what = "infinite"
    else:
        masked, hidden = mask_outside(data, known[0])
        data[...] = masked
        what = f"infinite or outside {known[1].min:g}..{known[1].max:g}"
    if not hidden:
        return []
    return [QualityIssue("partial", f"{hidden} cells {what}, kept as missing", variable)]


def _tiff_time(tag: str | None) -> datetime | None:
    """TIFFTAG_DATETIME ("YYYY:MM:DD HH:MM:SS", taken as UTC); unreadable -> None."""
    try:
        when = datetime.strptime(f"{tag} +0000", "%Y:%m:%d %H:%M:%S %z") if tag else None
    except ValueError:
        log.warning("raster: ignoring unreadable TIFFTAG_DATETIME %r", tag[:40] if tag else tag)
        return None
    return check_year(when, "raster", "TIFFTAG_DATETIME") if when else None


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
        if not path.exists() and not path.is_symlink():
            raise FeedError(f"raster: {path} not found")
        content = read_dropped(self.feed_id, path, current().raster.max_bytes)
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
        data, quality = read_raster(
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
            quality=tuple(quality),
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
            "decimation": int(data.attrs.get("decimation", 1)),
            "quality": [
                {"code": q.code, "message": q.message, "subject": q.subject}
                for q in forecast.quality
            ],
            "max": None if not np.isfinite(values).any() else float(np.nanmax(values)),
        }
