"""The map page through Streamlit's AppTest, and the pure map builders."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from streamlit.testing.v1 import AppTest

from boundaries.layer import UnionLayer
from dashboard.geojson import light_geojson
from dashboard.maps import union_map

VIEWS = Path(__file__).resolve().parents[2] / "dashboard" / "views"


@pytest.fixture
def map_page(config_path: Path) -> AppTest:
    at = AppTest.from_file(str(VIEWS / "map.py"), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


def test_map_page_shows_the_national_layer(map_page: AppTest) -> None:
    assert map_page.header[0].value == "Union map"
    captions = " ".join(c.value for c in map_page.caption)
    assert "5,160 unions" in captions
    assert "bgd_adm_bbs_20201113" in captions  # data version in the sidebar


def test_district_picker_zooms(map_page: AppTest) -> None:
    picker = map_page.selectbox(key="district")
    assert "BD4539" in picker.options or any("Jamalpur" in o for o in picker.options)
    picker.select("BD4539").run()
    assert not map_page.exception
    assert "showing Jamalpur" in " ".join(c.value for c in map_page.caption)


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
        light_geojson(part, 0.0, 5), focus_bounds=[[24.6, 89.6], [25.4, 90.2]], tiles=None
    )
    html = fmap.get_root().render()
    assert "adm3_en" in html
    assert "Upazila" in html
    assert "fitBounds" in html
