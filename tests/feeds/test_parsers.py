"""Parsers on real upstream files (GDACS) and constructed ones in the real formats."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from agam.core.errors import FeedError
from hazard_feeds.bmd import BmdConfig, BmdFeed, parse_bulletin
from hazard_feeds.contract import RawArtifact
from hazard_feeds.ffwc import FfwcConfig, FfwcFeed
from hazard_feeds.gdacs import GdacsConfig, GdacsFeed, relevant_events
from hazard_feeds.glofas import GlofasConfig, GlofasFeed
from hazard_feeds.raster import RasterConfig, RasterFeed

FEEDS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def _raw_of(feed: str, content: bytes) -> RawArtifact:
    return RawArtifact(
        feed,
        "file://fixture",
        content,
        hashlib.sha256(content).hexdigest(),
        datetime(2020, 6, 7, 4, tzinfo=UTC),
    )


GDACS = GdacsFeed(GdacsConfig(interval_minutes=30))
_raw = _raw_of


def test_gdacs_real_geometry(gdacs_geometry: bytes) -> None:
    from hazard_feeds.gdacs import gdacs_json

    from_raw = GDACS.parse(_raw("gdacs", gdacs_geometry))
    out = gdacs_json(from_raw)
    assert (out["event_id"], out["name"]) == (1001296, "GENEVIEVE-26")
    assert out["issued_at"] == "2026-07-28T03:23:23Z"
    assert len(out["track"]) == 23
    assert out["track"][0]["valid_time"] == "2026-07-24T15:00:00Z"
    assert {b["wind_kmh"] for b in out["wind_bands"]} == {60.0, 90.0, 120.0}
    assert from_raw.payload["dropped_zero_area"] == 5  # 30 bands, 5 of zero area
    assert len(out["wind_bands"]) == 25
    assert all(b["geometry"]["type"] in ("Polygon", "MultiPolygon") for b in out["wind_bands"])
    assert len(out["cone"]) == 1
    assert out["track"][0]["max_wind_kmh"] is None  # unknown per point, never invented
    assert any(q["code"] == "partial" for q in out["quality"])


def test_gdacs_filters_bay_of_bengal(gdacs_eventlist: dict[str, object]) -> None:
    names = [e["eventname"] for e in relevant_events(gdacs_eventlist, GDACS.config)]
    assert "DITWAH-25" in names
    assert "GENEVIEVE-26" not in names  # eastern Pacific


def test_gdacs_unknown_schema() -> None:
    with pytest.raises(FeedError, match="not a FeatureCollection"):
        GDACS.parse(_raw("gdacs", b'{"type": "Feature"}'))
    with pytest.raises(FeedError, match="not valid JSON"):
        GDACS.parse(_raw("gdacs", b'{"type": "FeatureCollection", "features": [}'))


def test_ffwc_bundle_and_danger_level_from_feed(ffwc_bundle: Callable[..., Any]) -> None:
    feed = FfwcFeed(FfwcConfig(interval_minutes=60))
    forecast = feed.parse(ffwc_bundle())
    out = feed.to_json(forecast)
    bahadurabad = out["stations"]["SW46.9L"]
    assert bahadurabad["danger_level_m"] == 19.5
    assert bahadurabad["observed"][0] == {"time": "2020-06-07T00:00:00Z", "water_level_m": 17.19}
    assert bahadurabad["forecast"][1] == {
        "valid_time": "2020-06-07T03:00:00Z",
        "water_level_m": 17.21,
    }
    assert out["issued_at"] == "2020-06-07T00:00:00Z"
    missing = {q["subject"] for q in out["quality"] if q["code"] == "missing_station"}
    assert missing == {"SW91.9R", "SW93.5L"}
    assert float(forecast.data["danger_level_m"].sel(station="SW46.9L")) == 19.5


def test_ffwc_accepts_field_variants(ffwc_bundle: Callable[..., Any]) -> None:
    feed = FfwcFeed(FfwcConfig(interval_minutes=60))
    forecast = feed.parse(ffwc_bundle("stations-legacy.json"))
    assert forecast.payload["danger_levels_m"] == {"SW46.9L": 19.5}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"stations": '[{"id": 46, "station": "Bahadurabad", "danger": "19.5"}]'},
            "station list record 0 has none of the fields dl/dangerlevel/danger_level",
        ),
        (
            {"stations": '[{"id": 46, "station": "Bahadurabad", "dl": "high"}]'},
            "station list record 0 field dl: 'high' is not a number",
        ),
        ({"forecast": '[{"fc_date": "07/06/2020", "waterlevel": "17.2"}]'}, "is not ISO-8601"),
        ({"forecast": '{"unexpected": true}'}, "unknown schema"),
        ({"observed": "[{"}, "observed is not valid JSON"),
    ],
)
def test_ffwc_rejects_the_rest(
    override: dict[str, str], message: str, ffwc_bundle: Callable[..., Any]
) -> None:
    with pytest.raises(FeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        FfwcFeed(FfwcConfig(interval_minutes=60)).parse(ffwc_bundle(**override))


def test_glofas_members_days_stations() -> None:
    feed = GlofasFeed(GlofasConfig(interval_minutes=60))
    content = (FEEDS_DIR / "glofas" / "glofas_fc_20200625.nc").read_bytes()
    forecast = feed.parse(_raw("glofas", content))
    data = forecast.data["discharge_m3s"]
    assert dict(data.sizes) == {"member": 51, "valid_time": 15, "station": 3}
    assert forecast.issued_at.isoformat() == "2020-06-25T00:00:00+00:00"
    median = float(data.sel(station="Bahadurabad").isel(valid_time=6).median())
    assert 80_000 < median < 90_000  # the real 2020 reanalysis on 2 Jul
    assert not any(q.code == "missing_member" for q in forecast.quality)
    out = feed.to_json(forecast)
    assert len(out["stations"]["Bahadurabad"]["discharge_m3s"][0]) == 51


def test_glofas_partial_ensemble_is_reported_not_filled() -> None:
    feed = GlofasFeed(GlofasConfig(interval_minutes=60))
    content = (FEEDS_DIR / "glofas" / "glofas_fc_20200625_40members.nc").read_bytes()
    forecast = feed.parse(_raw("glofas", content))
    assert forecast.data.sizes["member"] == 40
    assert [q.message for q in forecast.quality if q.code == "missing_member"] == [
        "40 of 51 ensemble members present"
    ]
    assert not (forecast.data["discharge_m3s"].values == 0).any()


def test_glofas_rejects_garbage() -> None:
    feed = GlofasFeed(GlofasConfig(interval_minutes=60))
    with pytest.raises(FeedError, match="not a readable netCDF/GRIB"):
        feed.parse(_raw("glofas", b"<html>maintenance</html>"))


@pytest.mark.parametrize("name", ["bulletin_remal_like.json", "bulletin_remal_like.csv"])
def test_bmd_bulletins(name: str) -> None:
    feed = BmdFeed(BmdConfig(interval_minutes=10))
    forecast = feed.parse(_raw("bmd", (FEEDS_DIR / "bmd" / name).read_bytes()))
    assert forecast.issued_at.isoformat() == "2024-05-25T09:00:00+00:00"
    assert forecast.payload["port_signals"]["Mongla"] == 10
    wind = forecast.data["max_wind_kmh"]
    assert float(wind.sel(model="JTWC").max()) == 130
    out = feed.to_json(forecast)
    assert out["landfall"]["time"] == "2024-05-26T15:00:00Z"


def test_bmd_bad_bulletin_names_the_field() -> None:
    doc = json.loads((FEEDS_DIR / "bmd" / "bulletin_remal_like.json").read_text())
    doc["port_signals"]["Mongla"] = 12
    with pytest.raises(FeedError, match="port_signals"):
        parse_bulletin(json.dumps(doc).encode())
    doc["port_signals"]["Mongla"] = 10
    doc["model_winds"][0]["model"] = "NAVGEM"
    with pytest.raises(FeedError, match=r"model_winds\.0\.model"):
        parse_bulletin(json.dumps(doc).encode())


def test_raster_nodata_crs_and_window(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "depth.tif"
    data = np.arange(200 * 150, dtype="float32").reshape(200, 150) / 10000
    data[0, 0] = -9999
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=200,
        width=150,
        count=1,
        dtype="float32",
        crs="EPSG:32646",
        nodata=-9999,
        transform=Affine(5_000, 0, 100_000, 0, -5_000, 2_900_000),
    ) as dst:
        dst.write(data, 1)
        dst.update_tags(TIFFTAG_DATETIME="2024:07:04 00:00:00")
    feed = RasterFeed(RasterConfig(interval_minutes=60, url=str(path)))
    forecast = feed.parse(feed.fetch(None, None))
    grid = forecast.data["flood_depth_m"]
    assert forecast.issued_at.isoformat() == "2024-07-04T00:00:00+00:00"
    assert "32646" in forecast.data.attrs["crs"] or "UTM zone 46N" in forecast.data.attrs["crs"]
    assert grid.shape[1] < 200  # windowed to Bangladesh
    assert math.isnan(float(grid.values[0, 0, 0])) or np.isnan(grid.values).sum() >= 0
    assert not (grid.values == -9999).any()
