"""The versioned limits (hazard_feeds/limits.toml) and the guard around every parser."""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import tomllib
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from pydantic import ValidationError

from agam.core.errors import FeedError
from hazard_feeds.contract import HazardForecast, RawArtifact, raw_from_file
from hazard_feeds.guard import PARSER_FAULT, check_forecast, guarded_parse, json_ready
from hazard_feeds.limits import LIMITS_FILE, FeedLimits, current, use_limits, with_section
from hazard_feeds.registry import build_feed
from hazard_feeds.safe_json import load_json

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
FETCHED = datetime(2026, 7, 28, 6, 0, tzinfo=UTC)


def _raw(feed: str, content: bytes, uri: str = "file:///in/x") -> RawArtifact:
    return RawArtifact(feed, uri, content, hashlib.sha256(content).hexdigest(), FETCHED)


def test_shipped_limits_load_with_units_and_bounds() -> None:
    limits = current()
    assert limits.version >= 1
    assert limits.bound("discharge_m3s").max >= 370_000  # above the Amazon's record flow
    assert limits.bound("discharge_m3s").min == 0
    assert limits.bound_for_field("rp20_m3s") == ("discharge_m3s", limits.bound("discharge_m3s"))
    assert limits.bound_for_field("danger_level_m") == (
        "danger_level_m",
        limits.bound("danger_level_m"),
    )
    assert limits.bound("danger_level_m").min > 0  # a height above the datum, never at it
    assert limits.bound_for_field("station") is None
    assert not limits.bound("latitude_deg").missing_allowed
    assert limits.in_box("bangladesh", 89.70, 25.15)  # Bahadurabad
    assert not limits.in_box("bangladesh", 0, 0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["bounds"]["wind_kmh"].update(min=600.0), "min < max"),
        (lambda d: d["fields"].update(speed="velocity_ms"), "unknown bounds: velocity_ms"),
        (lambda d: d["gdacs"].update(max_features=0), "greater than 0"),
        (lambda d: d["csv"].update(max_rowz=5), "Extra inputs are not permitted"),
        (lambda d: d["time"].update(max_year=3000), "less than or equal to 2261"),
    ],
)
def test_a_bad_limits_file_is_refused(change: Any, message: str) -> None:
    doc = tomllib.loads(LIMITS_FILE.read_text())
    change(doc)
    with pytest.raises(ValidationError, match=message):
        FeedLimits.model_validate(doc)


def test_use_limits_applies_inside_the_block_only() -> None:
    geometry = (HOSTILE / "gdacs" / "geometry_trimmed_control.json").read_bytes()
    feed = build_feed("gdacs", None)
    with (
        use_limits(with_section("gdacs", max_vertices_total=50)),
        pytest.raises(FeedError, match="vertices in the document, over the limit of 50"),
    ):
        feed.parse(_raw("gdacs", geometry))
    assert feed.parse(_raw("gdacs", geometry)).payload["name"] == "GENEVIEVE-26"
    with (
        use_limits(with_section("gdacs", max_vertices_per_geometry=10)),
        pytest.raises(FeedError, match=r"features\[\d+\]\.geometry: \d+ vertices, over"),
    ):
        feed.parse(_raw("gdacs", geometry))
    with (
        use_limits(with_section("gdacs", max_features=3)),
        pytest.raises(FeedError, match="features: 11 features, over the limit of 3"),
    ):
        feed.parse(_raw("gdacs", geometry))


def test_json_limits() -> None:
    with (
        use_limits(with_section("json", max_bytes=100)),
        pytest.raises(FeedError, match="getgeometry: 121 bytes, over the 100-byte limit"),
    ):
        load_json(b"[" + b"0," * 59 + b"0]", "gdacs", "getgeometry")
    with pytest.raises(FeedError, match=r"x a\.b\[0\]: a number too large for a double"):
        load_json('{"a": {"b": [1e999]}}', "gdacs", "x")
    with pytest.raises(FeedError, match=r"not valid JSON \(-Infinity is not JSON\)"):
        load_json("[-Infinity]", "gdacs", "x")


def test_counts_and_rows_are_limited() -> None:
    bundle = (HOSTILE / "ffwc" / "control.json").read_bytes()
    with (
        use_limits(with_section("ffwc", max_records=10)),
        pytest.raises(FeedError, match="by-station/46/: 21 records, over the limit of 10"),
    ):
        build_feed("ffwc", None).parse(_raw("ffwc", bundle))
    sheet = (HOSTILE / "ffwc_logsheet" / "control.csv").read_bytes()
    with (
        use_limits(with_section("csv", max_rows=10)),
        pytest.raises(FeedError, match="file: 11 rows, over the limit of 10"),
    ):
        build_feed("ffwc_logsheet", None).parse(_raw("ffwc_logsheet", sheet))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for n in range(3):
            z.writestr(f"part{n}.nc", b"x")
    with (
        use_limits(with_section("netcdf", max_zip_entries=2)),
        pytest.raises(FeedError, match="zip: 3 netCDF files, over the limit of 2"),
    ):
        build_feed("glofas", None).parse(_raw("glofas", archive.getvalue()))


def _depth_tiff(rows: int, cols: int) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.tif"
        with rasterio.open(
            path, "w", driver="GTiff", height=rows, width=cols, count=1, dtype="float32",
            crs="EPSG:32646", transform=Affine(5_000, 0, 100_000, 0, -5_000, 2_980_000),
        ) as dst:  # fmt: skip
            dst.write(np.full((rows, cols), 0.5, dtype="float32"), 1)
        return path.read_bytes()


def test_a_large_raster_window_is_read_through_overviews() -> None:
    feed = build_feed("raster", None)
    content = _depth_tiff(200, 150)
    full = feed.parse(_raw("raster", content))
    rows, cols = full.data["flood_depth_m"].shape[1:]
    with use_limits(with_section("raster", max_read_cells=rows * cols // 4)):
        coarse = feed.parse(_raw("raster", content))
    assert coarse.data.attrs["decimation"] == 2
    assert coarse.data["flood_depth_m"].shape[1:] == (-(-rows // 2), -(-cols // 2))
    assert coarse.data.attrs["transform"][0] == pytest.approx(10_000, rel=0.05)  # 2 x 5 km
    assert feed.to_json(coarse)["decimation"] == 2
    with (
        use_limits(with_section("raster", max_read_cells=10, max_decimation=4)),
        pytest.raises(FeedError, match=r"would need reading at 1/.*limit 1/4"),
    ):
        feed.parse(_raw("raster", content))


def test_raw_from_file_refuses_an_oversized_file_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2048)
    small = current()
    for name in ("json_limits", "csv", "netcdf", "raster", "bmd", "atcf"):
        part = getattr(small, name).model_copy(update={"max_bytes": 1024})
        small = small.model_copy(update={name: part})
    with use_limits(small), pytest.raises(FeedError, match="2,048 bytes, over the 1,024-byte"):
        raw_from_file("gdacs", path)


class _Broken:
    feed_id = "demo"

    def __init__(self, result: Any) -> None:
        self.result = result

    @guarded_parse
    def parse(self, raw: RawArtifact) -> HazardForecast:
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result  # type: ignore[no-any-return]


def _forecast(**data: Any) -> HazardForecast:
    import xarray as xr

    dataset = xr.Dataset({k: ("station", v) for k, v in data.items()})
    return HazardForecast("demo", "station_series", FETCHED, data=dataset)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (KeyError("features"), f"demo: file:///in/x: cannot be parsed ({PARSER_FAULT}: KeyError"),
        (RecursionError("deep"), f"({PARSER_FAULT}: RecursionError: deep)"),
        (FeedError("demo: features[3]: bad"), "demo: file:///in/x: features[3]: bad"),
        (_forecast(water_level_m=[17.2, np.inf]), "forecast water_level_m: an infinite value"),
        (_forecast(discharge_m3s=[-500_000.0]), "discharge_m3s: -500000 is outside 0..1e+06"),
        (_forecast(lat=[np.nan]), "forecast lat: a missing (NaN) value where one is required"),
    ],
)
def test_the_guard_turns_everything_into_one_feed_error(result: Any, message: str) -> None:
    with pytest.raises(FeedError) as caught:
        _Broken(result).parse(_raw("demo", b"{}"))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_values_stay_allowed_where_the_contract_says_so() -> None:
    forecast = _forecast(water_level_m=[17.2, np.nan], danger_level_m=[19.5, 19.5])
    check_forecast(forecast)  # NaN = missing, listed in quality elsewhere


def test_json_ready_never_prints_infinity() -> None:
    assert json_ready({"a": float("nan"), "t": FETCHED, "n": np.float32(1.5)}) == {
        "a": None,
        "t": "2026-07-28T06:00:00Z",
        "n": 1.5,
    }
    with pytest.raises(FeedError, match="infinite"):
        json_ready({"a": [1.0, float("inf")]})
    json.dumps(json_ready({"x": [np.int64(3)]}), allow_nan=False)
