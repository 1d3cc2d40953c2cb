"""The COD-AB loader on a small real extract, in every format, and each validation failure."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from agam.core.errors import BoundaryError
from boundaries.layer import load_union_layer

EXTRACT = (
    Path(__file__).resolve().parents[1] / "fixtures" / "codab" / "bgd_admbnda_adm4_extract.geojson"
)


@pytest.fixture
def extract() -> gpd.GeoDataFrame:
    return gpd.read_file(EXTRACT)


def _load(path: Path, cache: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return load_union_layer(source="cod-ab", path=path, cache_dir=cache, **kwargs)


def _nothing_cached(cache: Path) -> bool:
    return not any((cache / "boundaries").glob("*")) if (cache / "boundaries").exists() else True


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "parquet"])
def test_loads_every_gdal_format(extract: gpd.GeoDataFrame, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"bgd_admbnda_adm4_bbs_20201113.{fmt}"
    if fmt == "parquet":
        extract.to_parquet(path)
    elif fmt == "gpkg":
        extract.to_file(path, layer="bgd_admbnda_adm4_bbs_20201113", driver="GPKG")
        extract.dissolve("ADM3_PCODE").reset_index().to_file(
            path, layer="bgd_admbnda_adm3_bbs_20201113", driver="GPKG"
        )
    elif fmt == "shp":
        extract.to_file(path, driver="ESRI Shapefile")
    else:
        extract.to_file(path, driver="GeoJSON")
    layer = _load(path, tmp_path / "cache")
    assert len(layer) == len(extract) == 19
    assert layer.source.kind == "cod-ab"
    assert set(layer.frame.adm3_en) == {"Chilmari", "Islampur"}
    assert layer.find(89.67, 25.11) is not None or layer.find(89.70, 25.50) is not None
    assert (layer.frame.area_km2 > 0).all()


def test_reprojected_input_is_brought_to_4326(extract: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "utm.gpkg"
    extract.to_crs("EPSG:32646").to_file(path, driver="GPKG")
    layer = _load(path, tmp_path / "cache")
    assert layer.frame.crs.to_epsg() == 4326
    assert layer.report["reprojected_from"] == "EPSG:32646"


def test_missing_code_column(extract: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "missing.geojson"
    extract.drop(columns="ADM4_PCODE").to_file(path, driver="GeoJSON")
    with pytest.raises(
        BoundaryError, match=r"missing\.geojson: missing required field\(s\) ADM4_PCODE"
    ):
        _load(path, tmp_path / "cache")
    assert _nothing_cached(tmp_path / "cache")


def test_duplicate_code_names_both_features(extract: gpd.GeoDataFrame, tmp_path: Path) -> None:
    bad = extract.copy()
    bad.loc[4, "ADM4_PCODE"] = bad.loc[2, "ADM4_PCODE"]
    path = tmp_path / "dup.geojson"
    bad.to_file(path, driver="GeoJSON")
    code = bad.loc[2, "ADM4_PCODE"]
    with pytest.raises(
        BoundaryError,
        match=rf"dup\.geojson: duplicate ADM4_PCODE '{code}' in feature 3 .* feature 5",
    ):
        _load(path, tmp_path / "cache")
    assert _nothing_cached(tmp_path / "cache")


def test_self_intersecting_polygon(extract: gpd.GeoDataFrame, tmp_path: Path) -> None:
    bad = extract.copy()
    minx, miny, maxx, maxy = bad.geometry.iloc[6].bounds
    bowtie = Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy), (minx, miny)])
    bad.loc[6, "geometry"] = bowtie
    path = tmp_path / "bowtie.geojson"
    bad.to_file(path, driver="GeoJSON")
    code = bad.loc[6, "ADM4_PCODE"]
    with pytest.raises(
        BoundaryError,
        match=rf"bowtie\.geojson: feature 7 \(ADM4_PCODE='{code}'\) "
        r"has an invalid polygon \(Self-intersection",
    ):
        _load(path, tmp_path / "cache")
    assert _nothing_cached(tmp_path / "cache")
    repaired = _load(path, tmp_path / "cache2", repair_invalid=True)
    assert repaired.report["repaired_pcodes"] == [code]
    assert repaired.frame.is_valid.all()


def test_child_outside_parent_code(extract: gpd.GeoDataFrame, tmp_path: Path) -> None:
    bad = extract.copy()
    bad.loc[1, "ADM3_PCODE"] = "BD999999"
    path = tmp_path / "orphan.geojson"
    bad.to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError, match=r"orphan\.geojson: feature 2 .* not inside its parent"):
        _load(path, tmp_path / "cache")


def test_no_crs_is_refused(extract: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "nocrs.parquet"
    extract.set_crs(None, allow_override=True).to_parquet(path)
    with pytest.raises(BoundaryError, match="no coordinate reference system"):
        _load(path, tmp_path / "cache")


def test_swapped_axes_are_caught(extract: gpd.GeoDataFrame, tmp_path: Path) -> None:
    import shapely

    bad = extract.copy()
    bad["geometry"] = shapely.transform(bad.geometry.to_numpy(), lambda xy: xy[:, ::-1])
    path = tmp_path / "swapped.geojson"
    bad.to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError, match=r"swapped\.geojson: feature 1 .* outside Bangladesh"):
        _load(path, tmp_path / "cache")


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.geojson"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(BoundaryError, match=r"garbage\.geojson: cannot read"):
        _load(path, tmp_path / "cache")
    with pytest.raises(BoundaryError, match="file not found"):
        _load(tmp_path / "absent.gpkg", tmp_path / "cache")


def test_union_outside_its_parent_polygon(extract: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "bgd_adm_bbs_20201113.gpkg"
    extract.to_file(path, layer="bgd_admbnda_adm4_bbs_20201113", driver="GPKG")
    parents = extract.dissolve("ADM3_PCODE").reset_index()
    chilmari = parents.loc[parents.ADM3_PCODE == "BD554909", "geometry"].iloc[0]
    parents.loc[parents.ADM3_PCODE == "BD453929", "geometry"] = chilmari  # Islampur misplaced
    parents.to_file(path, layer="bgd_admbnda_adm3_bbs_20201113", driver="GPKG")
    with pytest.raises(
        BoundaryError, match=r"lies only 0% inside its parent ADM3_PCODE 'BD453929'"
    ):
        _load(path, tmp_path / "cache")
    assert _nothing_cached(tmp_path / "cache")
