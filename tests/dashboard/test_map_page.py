"""The map page through Streamlit's AppTest: what it sends to the browser component stays
small (no geometry), the geometry files, and the layers (alerts, density, raster, GDACS)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from streamlit.testing.v1 import AppTest

from agam.core.settings import Settings
from boundaries.layer import UnionLayer
from boundaries.topology import asset_folder, ensure_district, ensure_national, union_topology
from dashboard import geo_routes, map_data

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def map_args(at: AppTest) -> dict[str, Any]:
    (component,) = at.get("component_instance")
    return json.loads(component.proto.json_args)  # type: ignore[attr-defined]


def test_map_page_sends_urls_not_geometry(view: Callable[..., AppTest], settings: Settings) -> None:
    at = view("map.py", "committee")
    assert not at.exception, at.exception
    assert at.header[0].value == "Union map"
    captions = " ".join(c.value for c in at.caption)
    assert "5,160 unions" in captions
    assert "bgd_adm_bbs_20201113" in captions  # data version in the sidebar
    args = map_args(at)
    assert len(json.dumps(args)) < 20_000  # the old page sent 5.7 MB per view
    assert args["geo"].startswith("../../agam/geo/")
    assert args["geo"].endswith("/national.json")
    assert args["tiles"] is None  # offline basemap by default
    assert args["basemap"].endswith("basemap/neighbours.json")
    folder = settings.cache_dir / "geo" / args["geo"].split("/")[-2]
    national = json.loads((folder / "national.json").read_text("utf-8"))
    assert national["agam"]["features"] == 5160


def test_map_page_in_bangla(view: Callable[..., AppTest]) -> None:
    at = view("map.py", "officer", lang="bn")
    assert not at.exception, at.exception
    assert at.header[0].value == "ইউনিয়ন মানচিত্র"
    assert "৫,১৬০টি ইউনিয়ন" in " ".join(c.value for c in at.caption)
    args = map_args(at)
    assert args["lang"] == "bn"
    assert args["labels"]["upazila"] == "উপজেলা"
    assert args["labels"]["unions"] == "ইউনিয়ন"


def test_map_page_needs_sign_in(view: Callable[..., AppTest]) -> None:
    at = view("map.py", None)
    assert not at.header
    assert "sign in" in at.warning[0].value


def test_district_pick_sends_a_small_focus(view: Callable[..., AppTest]) -> None:
    at = view("map.py", "district_admin")
    national = map_args(at)["geo"]
    picker = at.selectbox(key="district")
    assert "Jamalpur (Mymensingh)" in picker.options
    picker.select("BD4539").run()
    assert not at.exception
    assert "showing Jamalpur" in " ".join(c.value for c in at.caption)
    args = map_args(at)
    assert args["geo"] == national  # the national layer is not sent again
    assert args["focus"]["code"] == "BD4539"
    assert args["focus"]["detail"].endswith("/district-BD4539.json")
    (south, west), (north, east) = args["focus"]["bounds"]
    assert 24.0 < south < north < 26.0
    assert 89.0 < west < east < 91.0


def test_union_topology_shares_edges(union_layer: UnionLayer) -> None:
    part = union_layer.frame[union_layer.frame["adm2_pcode"] == "BD4539"]
    doc = union_topology(part, 0.002, 1e5, with_names=True)
    geometries = doc["objects"]["unions"]["geometries"]
    assert len(geometries) == len(part)
    arcs = [abs(a) for g in geometries for ring in _rings(g) for a in ring]
    # neighbours reference the same arc: many arcs are used twice
    assert len(arcs) > len(set(arcs)) > 0
    first = geometries[0]["properties"]
    assert set(first) == {"c", "n", "b", "u"}
    assert doc["names"]["BD4539"][1] == "Jamalpur"
    assert doc["names"][first["u"]][0] == "BD4539"  # upazila -> district


def _rings(geometry: dict[str, Any]) -> list[list[int]]:
    if geometry["type"] == "Polygon":
        return [list(r) for r in geometry["arcs"]]
    return [list(r) for polygon in geometry["arcs"] for r in polygon]


@pytest.mark.slow
def test_national_topojson_stays_small(union_layer: UnionLayer, tmp_path: Path) -> None:
    folder = asset_folder(tmp_path, union_layer.source.fingerprint, 0.006)
    path = ensure_national(union_layer.frame, folder, 0.006)
    body = path.read_bytes()
    assert len(json.loads(body)["objects"]["unions"]["geometries"]) == 5160
    assert len(gzip.compress(body)) < 600_000  # what the browser receives, gzipped
    district = ensure_district(union_layer.frame, folder, "BD5549")
    assert district is not None
    assert len(gzip.compress(district.read_bytes())) < 150_000
    assert ensure_district(union_layer.frame, folder, "BD9999") is None
    assert ensure_district(union_layer.frame, folder, "../etc") is None


def test_geo_route_serves_only_named_files(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = settings.cache_dir / "geo"
    key = "ab" * 12
    (root / key).mkdir(parents=True)
    (root / key / "national.json").write_text('{"type":"Topology"}', encoding="utf-8")
    (root / "secret.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(geo_routes, "_geo_root", lambda: root.resolve())

    def get(folder: str, name: str) -> Any:
        scope = {"type": "http", "method": "GET", "headers": [], "path_params": {}}
        scope["path_params"] = {"key": folder, "name": name}
        return asyncio.run(geo_routes.geo_file(Request(scope)))

    ok = get(key, "national.json")
    assert ok.status_code == 200
    assert ok.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert ok.headers["content-type"].startswith("application/json")
    for folder, name in (
        (key, "../secret.json"),
        (key, "secret.json"),
        ("..", "secret.json"),
        (key.upper(), "national.json"),
        (key, "district-BD0000.json"),  # well-formed but absent
    ):
        assert get(folder, name).status_code == 404, (folder, name)


def test_classes_and_stages() -> None:
    codes = ["BD1", "BD2", "BD3", "BD4"]
    assert map_data.classes(codes, {"BD1": 0.5, "BD2": 3.0, "BD4": 60.0}, (1, 5, 20, 50)) == (
        "01-4"
    )
    alerts = [
        {"status": "open", "stage": "readiness", "union_codes": ["BD1", "BD2"]},
        {"status": "open", "stage": "action", "union_codes": ["BD2"]},
        {"status": "closed", "stage": "action", "union_codes": ["BD1"]},
    ]
    assert map_data.union_stages(alerts) == {"BD1": "readiness", "BD2": "action"}


def test_gdacs_overlay_is_a_cached_file_and_past_events_are_off(
    view: Callable[..., AppTest], accounts: Any, settings: Settings, config_path: Path
) -> None:
    from hazard_feeds.contract import RawArtifact
    from hazard_feeds.gdacs import GdacsConfig, GdacsFeed

    content = (FIXTURES / "feeds" / "gdacs" / "geometry-TC.json").read_bytes()
    raw = RawArtifact(
        "gdacs", "file://x", content, hashlib.sha256(content).hexdigest(), datetime.now(UTC)
    )
    forecast = GdacsFeed(GdacsConfig(interval_minutes=30)).parse(raw)
    doc = map_data.gdacs_document(forecast, {"cone": "cone", "wind_band": "{wind} km/h"})
    kinds = {f["geometry"]["type"] for f in doc["features"]}
    assert "LineString" in kinds  # the track
    assert any(f["properties"]["style"]["color"] == "#dc2626" for f in doc["features"])
    name = map_data.write_hazard(settings.cache_dir / "geo" / ("cd" * 12), doc)
    assert geo_routes.ASSET_NAME.match(name)
    assert map_data.write_hazard(settings.cache_dir / "geo" / ("cd" * 12), doc) == name
    first, last = map_data.gdacs_window(forecast)
    assert first is not None
    assert last is not None
    assert first <= last


def test_density_layer_from_the_registry(
    view: Callable[..., AppTest], accounts: Any, union_layer: UnionLayer, tmp_path: Path
) -> None:
    from allowances.registry_import import import_registry
    from allowances.synthetic import generate_registry

    generated = generate_registry(union_layer, 2_000, 5, tmp_path / "syn.parquet", year=2025)
    report = import_registry(accounts, generated.path, union_layer)
    assert report.status == "imported"
    at = view("map.py", "officer")
    assert not at.exception, at.exception
    (density,) = [o for o in map_args(at)["overlays"] if o["id"] == "density"]
    assert density["show"] is False  # context, not a current hazard
    assert len(density["classes"]) == 5160
    assert set(density["classes"]) <= set("01234-")
    assert len(density["legend"]) == len(density["colours"]) == 5


def test_flood_raster_layer(
    view: Callable[..., AppTest], config_path: Path, tmp_path: Path
) -> None:
    import numpy as np
    import rasterio
    from affine import Affine

    from agam.core.settings import load_settings
    from agam.pipeline.context import AppContext
    from agam.pipeline.ingest import ingest

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
    at = view("map.py", "officer")
    assert not at.exception, at.exception
    (raster,) = [o for o in map_args(at)["overlays"] if o["id"] == "raster"]
    assert raster["show"] is True
    assert "3" in raster["classes"]  # 1.2 m falls in the 1-2 class
    assert "-" in raster["classes"]  # unions outside the raster have no value
