"""Zonal statistics, footprints and distances on hand-checkable grids and real unions."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from rasterio.features import rasterize
from shapely.geometry import box

from boundaries.layer import UnionLayer
from boundaries.overlay import (
    distance_to_boundary_km,
    footprint_shares,
    max_band_per_union,
    union_wind_decay,
)
from boundaries.zonal import build_zone_index, zonal_stats


@pytest.fixture
def squares() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"adm4_pcode": ["BD01", "BD02", "BD03"]},
        geometry=[box(0, 0, 2, 2), box(2, 0, 4, 2), box(10, 10, 11, 11)],
        crs="EPSG:32646",
    )


def test_zonal_stats_by_hand(squares: gpd.GeoDataFrame, tmp_path: Path) -> None:
    transform = Affine(1, 0, 0, 0, -1, 2)  # 4 x 2 grid of 1 m cells over both squares
    values = np.array([[1.0, 2.0, 5.0, np.nan], [3.0, -9.0, 0.5, 0.7]])
    index = build_zone_index(squares, (2, 4), transform, "EPSG:32646", cache_dir=tmp_path)
    stats = zonal_stats(index, values, nodata=-9.0, threshold=1.5, weights=np.full((2, 4), 10.0))
    a, b, c = (stats.loc[code] for code in ("BD01", "BD02", "BD03"))
    assert (a["mean"], a["max"], a["min"]) == (2.0, 3.0, 1.0)  # -9 is nodata
    assert (a["count_valid"], a["count_cells"]) == (3, 4)
    assert a["frac_above"] == pytest.approx(2 / 3)  # 2 and 3 are > 1.5
    assert a["exposed"] == 20.0
    assert b["mean"] == pytest.approx((5.0 + 0.5 + 0.7) / 3)  # NaN cell excluded
    assert np.isnan(c["mean"])  # outside the grid: unknown, never 0
    assert c["count_cells"] == 0
    again = build_zone_index(squares, (2, 4), transform, "EPSG:32646", cache_dir=tmp_path)
    (cached,) = (tmp_path / "zones").iterdir()  # one folder per grid, nothing half-written
    assert isinstance(np.load(cached / "zone.npy", mmap_mode="r"), np.memmap)
    assert np.array_equal(again.order, index.order)
    assert np.array_equal(again.zone, index.zone)
    assert again.shape == index.shape
    assert zonal_stats(again, values, nodata=-9.0, threshold=1.5).equals(
        zonal_stats(index, values, nodata=-9.0, threshold=1.5)
    )


def test_a_damaged_zone_index_cache_is_rebuilt(squares: gpd.GeoDataFrame, tmp_path: Path) -> None:
    transform = Affine(1, 0, 0, 0, -1, 2)
    index = build_zone_index(squares, (2, 4), transform, "EPSG:32646", cache_dir=tmp_path)
    (cached,) = (tmp_path / "zones").iterdir()
    (cached / "order.npy").write_bytes(b"not an array")  # e.g. a disk that filled up
    again = build_zone_index(squares, (2, 4), transform, "EPSG:32646", cache_dir=tmp_path)
    assert np.array_equal(again.order, index.order)
    assert np.array_equal(np.load(cached / "order.npy"), index.order)  # written afresh


def test_unions_are_brought_to_the_raster_crs(union_layer: UnionLayer) -> None:
    part = union_layer.unions_in(["BD554909"])  # Chilmari, in EPSG:4326
    minx, miny, maxx, maxy = part.to_crs("EPSG:32646").total_bounds
    transform = Affine(500, 0, minx, 0, -500, maxy)
    shape = (int((maxy - miny) // 500) + 1, int((maxx - minx) // 500) + 1)
    values = np.random.default_rng(1).random(shape)
    stats = zonal_stats(build_zone_index(part, shape, transform, "EPSG:32646"), values)
    zone = rasterize(
        ((g, i + 1) for i, g in enumerate(part.to_crs("EPSG:32646").geometry)),
        out_shape=shape,
        transform=transform,
    )
    for i, code in enumerate(part["adm4_pcode"]):  # brute force, cell by cell
        cells = values[zone == i + 1]
        if len(cells):
            assert stats.loc[code, "mean"] == pytest.approx(cells.mean())


def test_distance_and_wind_decay(union_layer: UnionLayer) -> None:
    coast = union_layer.unions_in(["BD1004"])  # Barguna
    inside = coast.iloc[0].geometry.representative_point()
    code = coast.iloc[0]["adm4_pcode"]
    # OCHA's tool: to the boundary line, so the containing union gets its own edge's distance.
    distance = distance_to_boundary_km(coast, inside.x, inside.y)
    assert distance.loc[code] > 0.0
    assert distance.loc[code] == distance.min()  # still the nearest union
    assert (distance >= 0).all()
    polygon = distance_to_boundary_km(coast, inside.x, inside.y, "polygon")
    assert polygon.loc[code] == 0.0  # the "0 inside" reading
    others = polygon.index != code
    assert (polygon[others] == distance[others]).all()  # outside, both readings agree
    decay = union_wind_decay(coast, 89.6, 21.8, 150.0, 0.9807, 0.003)
    assert decay["distance_km"].is_monotonic_increasing
    assert decay["wind_kmh"].is_monotonic_decreasing
    nearest = decay.iloc[0]
    assert nearest["wind_kmh"] == pytest.approx(
        150 * 0.9807 * np.exp(-0.003 * nearest["distance_km"]), abs=0.1
    )


def test_footprint_share_of_union_area(squares: gpd.GeoDataFrame) -> None:
    bands = gpd.GeoDataFrame(
        {"wind_kmh": [60.0, 120.0]}, geometry=[box(-1, -1, 3, 3), box(0, 0, 1, 2)], crs="EPSG:32646"
    )
    shares = footprint_shares(
        squares.to_crs("EPSG:4326"), bands.to_crs("EPSG:4326"), carry=["wind_kmh"]
    )
    got = {(r.adm4_pcode, r.wind_kmh): round(r.share_of_union_area, 3) for r in shares.itertuples()}
    assert got == {("BD01", 60.0): 1.0, ("BD01", 120.0): 0.5, ("BD02", 60.0): 0.5}
    assert max_band_per_union(shares, 0.49).to_dict() == {"BD01": 120.0, "BD02": 60.0}
    assert max_band_per_union(shares, 0.6).to_dict() == {"BD01": 60.0}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numba_and_numpy_engines_agree(union_layer: UnionLayer, dtype: str) -> None:
    pytest.importorskip("numba")
    part = union_layer.unions_in(["BD5549"])
    minx, miny, maxx, maxy = part.total_bounds
    transform = Affine(0.01, 0, minx, 0, -0.01, maxy)
    shape = (int((maxy - miny) / 0.01) + 1, int((maxx - minx) / 0.01) + 1)
    rng = np.random.default_rng(3)
    values = rng.random(shape).astype(dtype) * 3
    values[rng.random(shape) < 0.05] = np.nan
    values[0, :5] = -1
    weights = rng.random(shape)
    index = build_zone_index(part, shape, transform, "EPSG:4326")
    fast = zonal_stats(index, values, nodata=-1, threshold=1.5, weights=weights, engine="numba")
    slow = zonal_stats(index, values, nodata=-1, threshold=1.5, weights=weights, engine="numpy")
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-6)
    assert index.fallback.any() or (index.counts > 0).all()


def test_raster_share_compares_as_the_rule_says(union_layer: UnionLayer) -> None:
    """Share of a union's cells deeper than (gt) or at least (ge) the value; exactly at the
    value counts only for ge."""
    import xarray as xr

    from boundaries.context import LayerUnionContext

    ctx = LayerUnionContext(union_layer)
    codes = list(union_layer.unions_in(["BD5549"])["adm4_pcode"])[:5]  # Kurigram
    west, south, east, north = union_layer.unions_in(["BD5549"]).total_bounds
    step = 0.005
    cols, rows = int((east - west) / step) + 2, int((north - south) / step) + 2
    depth = np.full((1, rows, cols), 0.5)
    depth[:, :, : cols // 2] = 0.2  # the western half is shallow
    grid = xr.Dataset(
        {"flood_depth_m": (("valid_time", "y", "x"), depth)},
        coords={"valid_time": [np.datetime64("2026-07-01T00:00", "ns")]},
        attrs={"crs": "EPSG:4326", "transform": (step, 0.0, west - step, 0.0, -step, north + step)},
    )
    strict = ctx.raster_share(grid, codes, "flood_depth_m", 0.5, "gt")
    inclusive = ctx.raster_share(grid, codes, "flood_depth_m", 0.5, "ge")
    assert set(strict) == set(codes)
    assert all(v == 0.0 for v in strict.values())  # 0.5 is not deeper than 0.5
    assert all(0.0 <= v <= 1.0 for v in inclusive.values())
    assert max(inclusive.values()) > 0.0  # ... but it is at least 0.5
