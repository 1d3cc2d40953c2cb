"""Where the union layer comes from and where its prepared copy is cached: the fingerprint
of the source files and the cache paths, without geopandas (a point lookup reads the cached
GeoParquet with pyarrow and shapely alone)."""

from __future__ import annotations

import hashlib
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

CACHE_SCHEMA = "1"
EMBEDDED_FILE = "unions_bbs2020.parquet"


def embedded_path() -> Path:
    return Path(str(resources.files("boundaries").joinpath("data", EMBEDDED_FILE)))


def file_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256(CACHE_SCHEMA.encode())
    for path in paths:
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def source_files(path: Path) -> list[Path]:
    if path.suffix.lower() != ".shp":
        return [path]
    sidecars = [path.with_suffix(ext) for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")]
    return [p for p in sidecars if p.exists()]


def layer_fingerprint(src_path: Path, layer: str | None, repair_invalid: bool) -> str:
    """What the prepared layer depends on: the source bytes, the layer name, the repair flag."""
    digest = file_digest(source_files(src_path))
    return hashlib.sha256(f"{digest}:{layer}:{repair_invalid}".encode()).hexdigest()


def cache_paths(cache_dir: Path, fingerprint: str) -> tuple[Path, Path]:
    base = cache_dir / "boundaries"
    return base / f"unions-{fingerprint[:24]}.parquet", base / f"unions-{fingerprint[:24]}.json"


def find_in_cache(data: Path, lon: float, lat: float) -> dict[str, Any] | None:
    """`UnionLayer.find` on the prepared GeoParquet (rows sorted by P-code, as cached):
    the union containing the point, the lowest P-code on a shared boundary. The first
    lookup writes the point index beside the cache; later ones read only that."""
    from boundaries.point_index import find_in_point_index, index_path

    index = index_path(data)
    if not index.exists():
        try:
            _write_index(data, index)
        except OSError:  # a read-only cache folder: an index in a temporary folder, used once
            with tempfile.TemporaryDirectory() as folder:
                spare = Path(folder) / index.name
                _write_index(data, spare)
                return find_in_point_index(spare, lon, lat)
    try:
        return find_in_point_index(index, lon, lat)
    except (OSError, ValueError, KeyError):  # a damaged index: written again from the cache
        index.unlink(missing_ok=True)
        _write_index(data, index)
        return find_in_point_index(index, lon, lat)


def _write_index(data: Path, index: Path) -> None:
    import pyarrow.parquet as pq

    from boundaries.point_index import write_point_index

    levels = (4, 3, 2, 1)
    names = [f"adm{lv}_{part}" for lv in levels for part in ("pcode", "en", "bn")]
    table = pq.ParquetFile(data).read(columns=[*names, "area_km2", "geometry"])
    rows = table.select([*names, "area_km2"]).to_pylist()
    records = [
        {
            f"adm{lv}": {
                "pcode": row[f"adm{lv}_pcode"],
                "name_en": row[f"adm{lv}_en"],
                "name_bn": row[f"adm{lv}_bn"] or None,
            }
            for lv in levels
        }
        | {"area_km2": float(row["area_km2"])}
        for row in rows
    ]
    write_point_index(index, table.column("geometry").to_pylist(), records)
