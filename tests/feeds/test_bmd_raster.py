"""BMD structured bulletins (constructed, modelled on Remal) and GeoTIFF rasters (written here)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from agam.core.errors import FeedError
from hazard_feeds.bmd import BmdConfig, BmdFeed, parse_bulletin
from hazard_feeds.contract import RawArtifact
from hazard_feeds.raster import RasterConfig, RasterFeed

BMD_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "bmd"
BMD = BmdFeed(BmdConfig(interval_minutes=10))


@pytest.mark.parametrize("name", ["bulletin_remal_like.json", "bulletin_remal_like.csv"])
def test_bulletins(name: str, raw_of: Callable[..., RawArtifact]) -> None:
    forecast = BMD.parse(raw_of("bmd", (BMD_DIR / name).read_bytes()))
    assert forecast.kind == "bulletin"
    assert forecast.issued_at.isoformat() == "2024-05-25T09:00:00+00:00"  # 15:00 BST
    assert forecast.payload["port_signals"]["Mongla"] == 10
    assert float(forecast.data["max_wind_kmh"].sel(model="JTWC").max()) == 130
    out = BMD.to_json(forecast)
    assert out["landfall"]["time"] == "2024-05-26T15:00:00Z"
    assert out["system"]["type"] == "severe_cyclonic_storm"
    assert {w["averaging_minutes"] for w in out["model_winds"]} >= {1, 3}


def test_bad_bulletin_names_the_field() -> None:
    doc = json.loads((BMD_DIR / "bulletin_remal_like.json").read_text())
    doc["port_signals"]["Mongla"] = 12
    with pytest.raises(FeedError, match="port_signals"):
        parse_bulletin(json.dumps(doc).encode())
    doc["port_signals"]["Mongla"] = 10
    doc["model_winds"][0]["model"] = "NAVGEM"
    with pytest.raises(FeedError, match=r"model_winds\.0\.model"):
        parse_bulletin(json.dumps(doc).encode())
    doc["model_winds"][0]["model"] = "BMD"
    doc["issued_at"] = "2024-05-25T15:00:00"  # no zone: rejected, not guessed
    with pytest.raises(FeedError, match="issued_at"):
        parse_bulletin(json.dumps(doc).encode())


def test_bmd_fetch_newest_file_in_drop_folder(tmp_path: Path) -> None:
    old, new = tmp_path / "a.json", tmp_path / "b.csv"
    old.write_bytes((BMD_DIR / "bulletin_remal_like.json").read_bytes())
    new.write_bytes((BMD_DIR / "bulletin_remal_like.csv").read_bytes())
    os.utime(old, (1_000_000_000, 1_000_000_000))
    feed = BmdFeed(BmdConfig(interval_minutes=10, drop_folder=tmp_path.as_uri()))
    raw = feed.fetch(None, None)
    assert raw.source_uri.endswith("b.csv")
    assert feed.fetch(None, raw).not_modified


def test_bmd_empty_drop_folder(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="no bulletin"):
        BmdFeed(BmdConfig(interval_minutes=10, drop_folder=tmp_path)).fetch(None, None)


def _geotiff(
    path: Path,
    *,
    crs: str = "EPSG:32646",
    west: float = 100_000,
    fill: float | None = None,
    tag: str = "2024:07:04 00:00:00",
    transform: Affine | None = None,
) -> str:
    """A 200 x 150 UTM flood-depth grid over Bangladesh with one nodata row (or every cell
    `fill`)."""
    data = np.arange(200 * 150, dtype="float32").reshape(200, 150) / 10000
    if fill is None:
        data[100, :] = -9999  # one nodata row, well inside Bangladesh
    else:
        data[...] = fill
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=200,
        width=150,
        count=1,
        dtype="float32",
        crs=crs,
        nodata=-9999,
        transform=transform or Affine(5_000, 0, west, 0, -5_000, 2_980_000),
    ) as dst:
        dst.write(data, 1)
        dst.update_tags(TIFFTAG_DATETIME=tag)
    return str(path)


def test_raster_nodata_crs_and_window(tmp_path: Path) -> None:
    path = tmp_path / "depth.tif"
    _geotiff(path)
    feed = RasterFeed(RasterConfig(interval_minutes=60, url=str(path)))
    forecast = feed.parse(feed.fetch(None, None))
    grid = forecast.data["flood_depth_m"]
    assert forecast.kind == "grid"
    assert grid.dims == ("valid_time", "y", "x")
    assert forecast.issued_at.isoformat() == "2024-07-04T00:00:00+00:00"
    assert "UTM zone 46N" in forecast.data.attrs["crs"]
    assert grid.shape[1] < 200
    assert grid.shape[2] < 150
    assert np.isnan(grid.values).all(axis=2).sum() == 1  # the nodata row became NaN
    assert not (grid.values == -9999).any()
    assert forecast.data.attrs["transform"][0] == 5_000
    out = feed.to_json(forecast)
    assert out["valid_cells"] > 0
    assert math.isfinite(out["max"])


def test_raster_outside_bangladesh(tmp_path: Path) -> None:
    path = tmp_path / "far.tif"
    _geotiff(path, west=5_000_000)
    feed = RasterFeed(RasterConfig(interval_minutes=60, url=f"file://{path}"))
    with pytest.raises(FeedError, match="does not cover Bangladesh"):
        feed.parse(feed.fetch(None, None))


def test_raster_garbage(raw_of: Callable[..., RawArtifact]) -> None:
    feed = RasterFeed(RasterConfig(interval_minutes=60, url="x.tif"))
    with pytest.raises(FeedError, match="not a readable GeoTIFF"):
        feed.parse(raw_of("raster", b"II*\x00garbage"))


# --- red-team findings ------------------------------------------------------------------------


def test_bmd_csv_list_position_in_other_digits_is_refused() -> None:
    text = (BMD_DIR / "bulletin_remal_like.csv").read_text()
    text = text.replace("model_winds.1.", "model_winds.\u00b9.")  # "¹".isdigit(), int("¹") fails
    with pytest.raises(FeedError, match=r"CSV row 18 key 'model_winds\.¹\.model'"):
        parse_bulletin(text.encode())  # was a ValueError (the guard's "parser fault")


def _raster(path: str) -> RasterFeed:
    return RasterFeed(RasterConfig(interval_minutes=60, url=path))


def test_raster_with_no_value_over_bangladesh_says_so(tmp_path: Path) -> None:
    feed = _raster(_geotiff(tmp_path / "nodata.tif", fill=-9999))
    forecast = feed.parse(feed.fetch(None, None))
    [issue] = forecast.quality
    assert issue.message.startswith("no cell over Bangladesh has a value")
    assert not forecast.complete


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"tag": "0001:07:04 00:00:00"}, "TIFFTAG_DATETIME: year 1 is outside 1950..2200"),
        (
            {"transform": Affine(5_000, 1_000, 100_000, 1_000, -5_000, 2_980_000)},
            "header geotransform: rotated or sheared grids are not read",
        ),
        (
            {"crs": "+proj=ortho +lat_0=-60 +lon_0=-90 +datum=WGS84"},
            "header CRS: Bangladesh has no position in it",
        ),
    ],
)
def test_raster_header_faults_are_named(
    tmp_path: Path, kw: dict[str, object], message: str
) -> None:
    feed = _raster(_geotiff(tmp_path / "x.tif", **kw))
    with pytest.raises(FeedError) as caught:
        feed.parse(feed.fetch(None, None))
    assert message in str(caught.value)
    assert "parser fault" not in str(caught.value)


def _lonlat_grid(path: Path, width: int, height: int, transform: Affine) -> str:
    """A flood-depth grid of 0.5 m in EPSG:4326 (lon/lat degrees)."""
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=height,
        width=width,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=transform,
    ) as dst:
        dst.write(np.full((height, width), 0.5, dtype="float32"), 1)
    return str(path)


@pytest.mark.parametrize(
    ("size", "transform", "extent"),
    [
        ((1, 1), Affine(1e10, 0, -5e9, 0, -1e10, 5e9), "-5e+09..5e+09 °E, -5e+09..5e+09 °N"),
        ((150, 200), Affine(1, 0, 0, 0, -1, 100), "0..150 °E, -100..100 °N"),
        ((150, 100), Affine(3, 0, -180, 0, -1, 60), "-180..270 °E, -40..60 °N"),
    ],
    ids=["1e10-degree pixels", "past the poles", "more than one turn"],
)
def test_a_geographic_raster_past_the_globe_is_refused(
    tmp_path: Path, size: tuple[int, int], transform: Affine, extent: str
) -> None:
    """Each covers Bangladesh: a 1 x 1 grid of 1e10-degree pixels gives it one value."""
    feed = _raster(_lonlat_grid(tmp_path / "x.tif", *size, transform))
    with pytest.raises(FeedError) as caught:
        feed.parse(feed.fetch(None, None))
    message = str(caught.value)
    assert f"header geotransform: extent {extent} in a geographic CRS goes past the globe" in (
        message
    )
    assert message.startswith("raster: file:///")  # the file, then the field


@pytest.mark.parametrize(
    ("size", "transform"),
    [
        ((361, 181), Affine(1, 0, -180.5, 0, -1, 90.5)),  # cell centres on ±180 and the poles
        ((360, 180), Affine(1, 0, 0, 0, -1, 90)),  # longitudes 0..360
    ],
)
def test_global_lonlat_grids_are_read(
    tmp_path: Path, size: tuple[int, int], transform: Affine
) -> None:
    feed = _raster(_lonlat_grid(tmp_path / "x.tif", *size, transform))
    grid = feed.parse(feed.fetch(None, None)).data["flood_depth_m"]
    assert float(grid.max()) == 0.5
