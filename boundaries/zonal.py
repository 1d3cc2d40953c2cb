"""Zonal statistics of a raster over all unions, in one pass over the raster.

The union layer is rasterised once per grid (cell-centre rule), the in-union cells are sorted
by union into a flat index, and the index is cached on disk. Each new raster then costs one
gather plus `ufunc.reduceat` per statistic. Unions with no cell centre inside (small urban
wards on coarse grids) use the cell under their representative point (`fallback` = True).
No valid cell gives NaN, never 0.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.features import rasterize

from agam.core.errors import BoundaryError
from boundaries.zonal_kernel import fused_stats

log = logging.getLogger(__name__)
INDEX_VERSION = "2"  # 2: a folder of .npy files, memory-mapped when read
INDEX_ARRAYS = ("pcodes", "order", "starts", "fallback", "shape", "zone")


@dataclass(frozen=True)
class ZoneIndex:
    pcodes: np.ndarray  # (n,) ADM4 P-codes in zone order
    order: np.ndarray  # flat raster indices of in-union cells, grouped by zone
    starts: np.ndarray  # (n + 1,) offsets of each zone's cells in `order`
    fallback: np.ndarray  # (n,) bool: the zone uses its representative-point cell
    shape: tuple[int, int]
    zone: np.ndarray  # flat zone grid (1-based union number, 0 = no union) for streaming

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.starts)


def grid_key(
    unions: gpd.GeoDataFrame, shape: tuple[int, int], transform: Affine, crs: CRS | str
) -> str:
    digest = hashlib.sha256(INDEX_VERSION.encode())
    digest.update(repr((shape, tuple(transform)[:6], CRS.from_user_input(crs).to_wkt())).encode())
    digest.update("|".join(unions["adm4_pcode"]).encode())
    digest.update(b"".join(shapely.to_wkb(unions.geometry.to_numpy())))
    return digest.hexdigest()[:32]


def build_zone_index(
    unions: gpd.GeoDataFrame,
    shape: tuple[int, int],
    transform: Affine,
    crs: CRS | str | None,
    cache_dir: Path | None = None,
) -> ZoneIndex:
    """Rasterise the unions onto the grid (once) and sort the in-union cells by union."""
    if crs is None:
        raise BoundaryError("raster has no CRS; cannot place the unions on it")
    key = grid_key(unions, shape, transform, crs)
    cached = cache_dir / "zones" / key if cache_dir else None
    if cached is not None and cached.is_dir():
        index = _read_index(cached)
        if index is not None:
            return index
    projected = unions.to_crs(CRS.from_user_input(crs)) if unions.crs != crs else unions
    n = len(projected)
    dtype = "uint16" if n < 65535 else "uint32"
    zone = rasterize(
        ((g, i + 1) for i, g in enumerate(projected.geometry)),
        out_shape=shape,
        transform=transform,
        fill=0,
        dtype=dtype,
        all_touched=False,
    )
    flat = zone.ravel()
    cells = np.flatnonzero(flat)
    ids = flat[cells].astype(np.int64)
    order = cells[np.argsort(ids, kind="stable")]
    counts = np.bincount(ids, minlength=n + 1)[1:]
    fallback = np.zeros(n, dtype=bool)
    extra: dict[int, int] = {}
    inverse = ~transform
    for zone_id in np.flatnonzero(counts == 0):
        point = projected.geometry.iloc[zone_id].representative_point()
        col, row = inverse @ (point.x, point.y)
        r, c = int(np.floor(row)), int(np.floor(col))
        if 0 <= r < shape[0] and 0 <= c < shape[1]:
            extra[int(zone_id)] = r * shape[1] + c
            fallback[zone_id] = True
    if extra:
        pieces, start = [], 0
        for zone in range(n):
            pieces.append(order[start : start + int(counts[zone])])
            start += int(counts[zone])
            if zone in extra:
                pieces.append(np.array([extra[zone]]))
        order = np.concatenate(pieces)
        counts = counts + fallback
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    index = ZoneIndex(
        projected["adm4_pcode"].to_numpy(dtype=str),
        # int32 halves the index's memory traffic; grids past 2**31 cells keep int64
        order.astype(np.int32 if shape[0] * shape[1] < 2**31 else np.int64),
        starts,
        fallback,
        shape,
        flat,
    )
    if cached is not None:
        _write_index(cached, index)
    return index


def _write_index(folder: Path, index: ZoneIndex) -> None:
    """One .npy per array in a folder renamed into place (a reader never sees half of one;
    of two processes writing the same grid, the first rename wins)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        for name in INDEX_ARRAYS:
            value = np.array(index.shape) if name == "shape" else getattr(index, name)
            np.save(tmp / f"{name}.npy", value, allow_pickle=False)
        os.rename(tmp, folder)
    except OSError:
        if not folder.is_dir():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_index(folder: Path) -> ZoneIndex | None:
    """The cached index; the two grid-sized arrays are memory-mapped (read-only), so a new
    process starts without reading them whole. None if the folder is damaged (rebuilt)."""
    try:
        arrays = {
            name: np.load(folder / f"{name}.npy", allow_pickle=False,
                          mmap_mode="r" if name in ("order", "zone") else None)
            for name in INDEX_ARRAYS
        }  # fmt: skip
    except (OSError, ValueError) as error:
        log.warning("zone index cache %s unreadable (%s); rebuilding", folder.name, error)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    shape = (int(arrays["shape"][0]), int(arrays["shape"][1]))
    return ZoneIndex(
        arrays["pcodes"],
        np.asarray(arrays["order"]),
        arrays["starts"],
        arrays["fallback"],
        shape,
        np.asarray(arrays["zone"]),
    )


def _reduce(
    ufunc: np.ufunc, values: np.ndarray, starts: np.ndarray, counts: np.ndarray, empty: float
) -> np.ndarray:
    """reduceat that is correct for empty segments (they get `empty`)."""
    out = np.full(len(counts), empty, dtype="float64")
    has = counts > 0
    if values.size and has.any():
        out[has] = ufunc.reduceat(values, starts[:-1][has])
    return out


def zonal_stats(
    index: ZoneIndex,
    values: np.ndarray,
    *,
    nodata: float | None = None,
    threshold: float | None = None,
    weights: np.ndarray | None = None,
    engine: Literal["auto", "numba", "numpy"] = "auto",
) -> pd.DataFrame:
    """mean, min, max, valid and total cell counts, share of valid cells above `threshold`
    (strictly greater), and `exposed` = sum of weights over those cells, per union."""
    if values.shape != index.shape:
        raise BoundaryError(f"raster shape {values.shape} does not match the index {index.shape}")
    if engine in ("auto", "numba"):
        fused = fused_stats(values, index.zone, len(index.pcodes), nodata, threshold, weights)
        if fused is not None:
            _add_fallback_cells(index, values, nodata, threshold, weights, fused)
            return _frame(index, *fused, threshold=threshold, weights=weights)
        if engine == "numba":
            raise BoundaryError("engine='numba' asked for but numba is not installed")
    gathered = values.ravel()[index.order].astype("float64", copy=False)
    valid = np.isfinite(gathered)
    if nodata is not None and not np.isnan(nodata):
        valid &= gathered != nodata
    counts = index.counts
    starts = index.starts
    n_valid = _reduce(np.add, valid.astype("float64"), starts, counts, 0.0)
    total = _reduce(np.add, np.where(valid, gathered, 0.0), starts, counts, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_valid > 0, total / n_valid, np.nan)
    vmax = _reduce(np.maximum, np.where(valid, gathered, -np.inf), starts, counts, -np.inf)
    vmin = _reduce(np.minimum, np.where(valid, gathered, np.inf), starts, counts, np.inf)
    frame = pd.DataFrame(
        {
            "mean": mean,
            "min": np.where(n_valid > 0, vmin, np.nan),
            "max": np.where(n_valid > 0, vmax, np.nan),
            "count_valid": n_valid.astype(int),
            "count_cells": counts.astype(int),
            "fallback": index.fallback,
        },
        index=pd.Index(index.pcodes, name="adm4_pcode"),
    )
    if threshold is not None:
        above = valid & (gathered > threshold)
        hits = _reduce(np.add, above.astype("float64"), starts, counts, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["frac_above"] = np.where(n_valid > 0, hits / n_valid, np.nan)
        if weights is not None:
            w = weights.ravel()[index.order].astype("float64")
            frame["exposed"] = _reduce(np.add, np.where(above, w, 0.0), starts, counts, 0.0)
    return frame


def _frame(
    index: ZoneIndex,
    total: np.ndarray,
    n_valid: np.ndarray,
    vmax: np.ndarray,
    vmin: np.ndarray,
    above: np.ndarray,
    exposed: np.ndarray,
    *,
    threshold: float | None,
    weights: np.ndarray | None,
) -> pd.DataFrame:
    has = n_valid > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame(
            {
                "mean": np.where(has, total / n_valid, np.nan),
                "min": np.where(has, vmin, np.nan),
                "max": np.where(has, vmax, np.nan),
                "count_valid": n_valid.astype(int),
                "count_cells": index.counts.astype(int),
                "fallback": index.fallback,
            },
            index=pd.Index(index.pcodes, name="adm4_pcode"),
        )
        if threshold is not None:
            frame["frac_above"] = np.where(has, above / n_valid, np.nan)
            if weights is not None:
                frame["exposed"] = exposed
    return frame


def _add_fallback_cells(
    index: ZoneIndex,
    values: np.ndarray,
    nodata: float | None,
    threshold: float | None,
    weights: np.ndarray | None,
    acc: tuple[np.ndarray, ...],
) -> None:
    """Unions too small for any cell centre take the cell under their representative point
    (it belongs to a neighbour in the zone grid, so the streaming pass cannot see it)."""
    total, count, vmax, vmin, above, exposed = acc
    for zone in np.flatnonzero(index.fallback):
        cell = int(index.order[index.starts[zone + 1] - 1])
        value = float(values.ravel()[cell])
        if np.isnan(value) or (nodata is not None and value == nodata):
            continue
        total[zone], count[zone], vmax[zone], vmin[zone] = value, 1.0, value, value
        hit = threshold is not None and value > threshold
        above[zone] = float(hit)
        if hit and weights is not None:
            exposed[zone] = float(weights.ravel()[cell])
