"""The embedded national layer: counts, hierarchy, find, dissolve, cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from agam.core.errors import BoundaryError
from boundaries.layer import UnionLayer, load_union_layer
from boundaries.schema import UNION_COLUMNS


def test_national_counts_and_hierarchy(union_layer: UnionLayer) -> None:
    counts = union_layer.level_counts()
    assert counts["union"] >= 5000
    assert counts["upazila"] >= 507
    assert counts["district"] == 64
    assert counts["division"] == 8
    info = union_layer.info()
    assert info["adm4_with_all_parents"] == info["adm4_total"] == counts["union"]
    assert union_layer.frame.crs.to_epsg() == 4326
    assert list(union_layer.frame.columns) == UNION_COLUMNS
    assert union_layer.frame["adm4_pcode"].is_unique
    assert union_layer.frame["adm4_pcode"].is_monotonic_increasing
    assert (union_layer.frame["area_km2"] > 0).all()


def test_source_and_version_are_named(union_layer: UnionLayer) -> None:
    source = union_layer.info()["source"]
    assert source["kind"] == "embedded"
    assert "bgd_adm_bbs_20201113" in source["name"]
    assert "2020" in source["version"]


def test_bangla_names_present_for_every_district(union_layer: UnionLayer) -> None:
    share = union_layer.info()["bangla_name_share"]
    assert share["district"] == 1.0
    assert 0.5 < share["union"] <= 1.0
    row = union_layer.frame[union_layer.frame.adm2_pcode == "BD4539"].iloc[0]
    assert row["adm2_bn"] == "জামালপুর"


def test_find_answers_a_jamalpur_union(union_layer: UnionLayer) -> None:
    hit = union_layer.find(89.67, 25.11)
    assert hit is not None
    assert hit["adm2"]["pcode"] == "BD4539"
    assert hit["adm2"]["name_en"] == "Jamalpur"
    assert hit["adm4"]["pcode"].startswith(hit["adm3"]["pcode"])
    assert hit["adm1"]["pcode"] == "BD45"


def test_find_outside_bangladesh_is_none(union_layer: UnionLayer) -> None:
    assert union_layer.find(90.0, 21.0) is None  # Bay of Bengal
    assert union_layer.find(77.2, 28.6) is None  # Delhi


def test_units_dissolve_parents(union_layer: UnionLayer) -> None:
    districts = union_layer.units(2)
    assert len(districts) == 64
    assert set(districts.columns) >= {"adm2_pcode", "adm2_en", "adm1_pcode", "area_km2"}
    total = union_layer.frame["area_km2"].sum()
    assert districts["area_km2"].sum() == pytest.approx(total)
    with pytest.raises(BoundaryError):
        union_layer.units(5)


def test_unions_in_selects_by_code_prefix(union_layer: UnionLayer) -> None:
    chilmari = union_layer.unions_in(["BD554909"])
    assert len(chilmari) > 0
    assert set(chilmari.adm3_en) == {"Chilmari"}


def test_warm_load_reads_the_cache(tmp_path: Path) -> None:
    cold = load_union_layer(cache_dir=tmp_path)
    cached = list((tmp_path / "boundaries").glob("*.parquet"))
    assert len(cached) == 1
    warm = load_union_layer(cache_dir=tmp_path)
    assert warm.source.fingerprint == cold.source.fingerprint
    assert warm.frame.equals(cold.frame)


def test_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    load_union_layer(cache_dir=tmp_path)
    cached = next((tmp_path / "boundaries").glob("*.parquet"))
    cached.write_bytes(b"not parquet")
    layer = load_union_layer(cache_dir=tmp_path)
    assert len(layer) >= 5000
    assert isinstance(gpd.read_parquet(cached), gpd.GeoDataFrame)


def test_lookup_from_the_cache_answers_as_the_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`agam boundaries find` reads the prepared GeoParquet without geopandas: the same answer
    as `UnionLayer.find` at union centres, on shared edges and vertices, and outside."""
    import shapely

    from boundaries import point_index
    from boundaries.layer_files import cache_paths, find_in_cache
    from boundaries.point_index import index_path

    layer = load_union_layer(cache_dir=tmp_path)
    data, _ = cache_paths(tmp_path, layer.source.fingerprint)
    assert data.exists()
    frame = layer.frame
    inside = shapely.point_on_surface(frame.geometry.to_numpy()[::97])
    # a vertex of a union's ring lies on its boundary, usually shared with a neighbour
    vertices = [shapely.get_coordinates(g.boundary)[0] for g in frame.geometry.to_numpy()[::211]]
    points = [(p.x, p.y) for p in inside] + [tuple(v) for v in vertices]
    points += [(90.0, 21.0), (77.2, 28.6)]  # the Bay of Bengal; Delhi
    for lon, lat in points:
        assert find_in_cache(data, float(lon), float(lat)) == layer.find(lon, lat), (lon, lat)
    index = index_path(data)
    assert index.exists()  # written by the first lookup, read by the others
    index.write_bytes(b"damaged")
    lon, lat = points[0]
    assert find_in_cache(data, float(lon), float(lat)) == layer.find(lon, lat)
    assert index.stat().st_size > 1000  # written again
    index.unlink()
    write = point_index.write_point_index

    def read_only_cache(path: Path, *args: Any) -> None:
        if path.parent == data.parent:
            raise PermissionError(13, "Read-only file system", str(path))
        write(path, *args)

    monkeypatch.setattr(point_index, "write_point_index", read_only_cache)
    assert find_in_cache(data, float(lon), float(lat)) == layer.find(lon, lat)
    assert not index.exists()  # answered from an index in a temporary folder
