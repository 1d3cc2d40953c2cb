"""The map page through Streamlit's AppTest, and the pure map builders."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
from streamlit.testing.v1 import AppTest

from boundaries.layer import UnionLayer
from dashboard.geojson import light_geojson
from dashboard.maps import union_map


def test_map_page_shows_the_national_layer(view: Callable[..., AppTest]) -> None:
    at = view("map.py", "committee")
    assert not at.exception, at.exception
    assert at.header[0].value == "Union map"
    captions = " ".join(c.value for c in at.caption)
    assert "5,160 unions" in captions
    assert "bgd_adm_bbs_20201113" in captions  # data version in the sidebar


def test_map_page_in_bangla(view: Callable[..., AppTest]) -> None:
    at = view("map.py", "officer", lang="bn")
    assert not at.exception, at.exception
    assert at.header[0].value == "ইউনিয়ন মানচিত্র"
    assert "৫,১৬০টি ইউনিয়ন" in " ".join(c.value for c in at.caption)


def test_map_page_needs_sign_in(view: Callable[..., AppTest]) -> None:
    at = view("map.py", None)
    assert not at.header
    assert "sign in" in at.warning[0].value


def test_district_picker_zooms(view: Callable[..., AppTest]) -> None:
    at = view("map.py", "district_admin")
    picker = at.selectbox(key="district")
    assert "Jamalpur (Mymensingh)" in picker.options
    picker.select("BD4539").run()
    assert not at.exception
    assert "showing Jamalpur" in " ".join(c.value for c in at.caption)


def test_light_geojson_escapes_and_simplifies(union_layer: UnionLayer) -> None:
    part = union_layer.frame.head(3).copy()
    part.loc[part.index[0], "adm4_en"] = '<img src=x onerror="alert(1)">'
    text = light_geojson(gpd.GeoDataFrame(part), 0.005, 4)
    assert "<img" not in text
    assert "&lt;img" in text
    full = light_geojson(union_layer.frame, 0.0, 7)
    light = light_geojson(union_layer.frame, 0.005, 4)
    assert len(light) < 0.5 * len(full)
    assert len(json.loads(light)["features"]) == len(union_layer)


def test_union_map_has_hover_fields_and_zoom(union_layer: UnionLayer) -> None:
    part = union_layer.frame[union_layer.frame.adm2_pcode == "BD4539"]
    fmap = union_map(
        light_geojson(part, 0.0, 5),
        focus_bounds=[[24.6, 89.6], [25.4, 90.2]],
        tiles=None,
        lang="bn",
    )
    html = fmap.get_root().render()
    assert "adm3_en" in html
    assert "উপজেলা" in html or json.dumps("উপজেলা")[1:-1] in html
    assert "fitBounds" in html


def test_gdacs_and_station_layers(union_layer: UnionLayer) -> None:
    import hashlib
    from datetime import UTC, datetime
    from pathlib import Path

    from dashboard.hazard_layers import add_gdacs, add_stations
    from hazard_feeds.contract import RawArtifact
    from hazard_feeds.gdacs import GdacsConfig, GdacsFeed

    content = (
        Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "gdacs" / "geometry-TC.json"
    ).read_bytes()
    raw = RawArtifact(
        "gdacs", "file://x", content, hashlib.sha256(content).hexdigest(), datetime.now(UTC)
    )
    forecast = GdacsFeed(GdacsConfig(interval_minutes=30)).parse(raw)
    fmap = union_map(
        light_geojson(union_layer.frame.head(5), 0.0, 5),
        tiles=None,
        overlays=[
            lambda m: add_gdacs(m, forecast, "GDACS"),
            lambda m: add_stations(
                m, [{"name": "<Bahadurabad>", "lat": 25.15, "lon": 89.65}], "Stations"
            ),
        ],
    )
    html = fmap.get_root().render()
    assert "L.polyline" in html  # the track
    assert "#dc2626" in html  # the 120 km/h band
    assert "&lt;Bahadurabad&gt;" in html
    # every overlay is defined before the layer control that lists it
    assert html.index("L.control.layers") > html.rindex("L.polyline")


def test_national_layer_payload_stays_under_2_mb(union_layer: UnionLayer) -> None:
    from agam.core.settings import load_settings

    cfg = load_settings(Path(__file__).resolve().parents[2] / "config.toml").dashboard
    payload = light_geojson(union_layer.frame, cfg.simplify_tolerance_deg, cfg.coordinate_decimals)
    assert len(payload.encode()) <= 2_000_000
    assert len(json.loads(payload)["features"]) == len(union_layer)


def test_density_layer_from_the_registry(
    view: object, accounts: object, union_layer: UnionLayer, tmp_path: Path
) -> None:
    from allowances.registry_import import import_registry
    from allowances.synthetic import generate_registry
    from dashboard.hazard_layers import add_density

    generated = generate_registry(union_layer, 2_000, 5, tmp_path / "syn.parquet", year=2025)
    report = import_registry(accounts, generated.path, union_layer)  # type: ignore[arg-type]
    assert report.status == "imported"
    at = view("map.py", "officer")  # type: ignore[operator]
    assert not at.exception, at.exception
    frame = union_layer.frame.head(20).assign(households_per_km2=[0.5, 3.0, 60.0] + [1.0] * 17)
    fmap = union_map(
        light_geojson(union_layer.frame.head(2), 0.0, 5),
        tiles=None,
        overlays=[
            lambda m: add_density(
                m,
                light_geojson(frame, 0.0, 5, extra_columns=("households_per_km2",)),
                "Density",
                "Union|Households per km²",
            )
        ],
    )
    html = fmap.get_root().render()
    assert "#1e3a8a" in html  # the darkest class for 60 households/km²
    assert "households_per_km2" in html


def test_flood_raster_layer(
    view: object, config_path: Path, tmp_path: Path, union_layer: UnionLayer
) -> None:
    import numpy as np
    import rasterio
    from affine import Affine

    from agam.core.settings import load_settings
    from agam.pipeline.context import AppContext
    from agam.pipeline.ingest import ingest
    from dashboard.hazard_layers import add_raster_unions

    path = tmp_path / "depth.tif"
    depth = np.full((120, 100), 1.2, dtype="float32")  # 89.5-90.5E, 24.6-25.8N (Jamalpur)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=120,
        width=100,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        nodata=-9999,
        transform=Affine(0.01, 0, 89.5, 0, -0.01, 25.8),
    ) as dst:
        dst.write(depth, 1)
        dst.update_tags(TIFFTAG_DATETIME="2026:07:04 00:00:00")
    config_path.write_text(
        config_path.read_text()
        + (f"\n[feeds.raster]\ninterval_minutes = 60\nmax_age_hours = 48\nurl = '{path}'\n"),
        encoding="utf-8",
    )
    ctx = AppContext(load_settings(config_path))
    ctx.store.upgrade()
    assert ingest(ctx, "raster").outcome == "success"
    at = view("map.py", "officer")  # type: ignore[operator]
    assert not at.exception, at.exception
    part = union_layer.frame.head(3).assign(
        hazard_mean=[0.05, 0.7, 2.5], hazard_max=1.0, share_above=0.5
    )
    fmap = union_map(
        light_geojson(union_layer.frame.head(2), 0.0, 5),
        tiles=None,
        overlays=[
            lambda m: add_raster_unions(
                m,
                light_geojson(
                    part, 0.0, 5, extra_columns=("hazard_mean", "hazard_max", "share_above")
                ),
                "Flood depth",
                ["Union", "Mean", "Max", "Share"],
            )
        ],
    )
    html = fmap.get_root().render()
    assert "#0c4a6e" in html
    assert "hazard_mean" in html
