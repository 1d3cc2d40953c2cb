"""The national union layer: loaded once, validated, cached as GeoParquet."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import shapely

from agam.core.errors import BoundaryError
from boundaries.codab import read_codab, read_parent_layer
from boundaries.layer_files import cache_paths, embedded_path, layer_fingerprint
from boundaries.schema import LEVEL_NAMES, LEVELS, UNION_COLUMNS, name_bn, name_en, pcode
from boundaries.validate import check_containment, validate_unions

log = logging.getLogger(__name__)

EMBEDDED_NAME = (
    "OCHA COD-AB Bangladesh bgd_adm_bbs_20201113 P-codes, simplified geometry "
    "from the R package 'bangladesh' 1.0.0 (MIT)"
)
EMBEDDED_VERSION = "BBS 2020 (COD-AB 2020-11-13)"
CODAB_NAME = "OCHA COD-AB Bangladesh bgd_adm_bbs_20201113 (official file)"


@dataclass(frozen=True)
class LayerSource:
    kind: Literal["embedded", "cod-ab"]
    name: str
    version: str
    path: str
    fingerprint: str


class UnionLayer:
    """Validated ADM4 GeoDataFrame (EPSG:4326, sorted by P-code) with its provenance."""

    def __init__(self, frame: gpd.GeoDataFrame, source: LayerSource, report: dict[str, Any]):
        missing = [c for c in UNION_COLUMNS if c not in frame.columns]
        if missing:
            raise BoundaryError(f"{source.path}: union layer lacks columns {missing}")
        self.frame = frame
        self.source = source
        self.report = report

    def __len__(self) -> int:
        return len(self.frame)

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.frame.geometry.to_numpy())

    def level_counts(self) -> dict[str, int]:
        return {LEVEL_NAMES[lv]: int(self.frame[pcode(lv)].nunique()) for lv in LEVELS}

    def info(self) -> dict[str, Any]:
        frame = self.frame
        complete = frame[[pcode(lv) for lv in LEVELS]].notna().all(axis=1)
        bangla = {
            LEVEL_NAMES[lv]: round(
                float(frame.drop_duplicates(pcode(lv))[name_bn(lv)].notna().mean()), 4
            )
            for lv in LEVELS
        }
        return {
            "source": {
                "kind": self.source.kind,
                "name": self.source.name,
                "version": self.source.version,
                "path": self.source.path,
                "fingerprint": self.source.fingerprint[:16],
            },
            "counts": self.level_counts(),
            "adm4_with_all_parents": int(complete.sum()),
            "adm4_total": len(frame),
            "official_codes": {
                "adm1_adm4": "OCHA COD-AB BBS 2020 P-codes (bgd_adm_bbs_20201113)",
                "adm3_2025": "COD-AB 2025 v03 ADM3 codes via crosswalk (agam boundaries crosswalk)",
            },
            "bangla_name_share": bangla,
            "area_km2_total": round(float(frame["area_km2"].sum()), 1),
            "validation": self.report,
        }

    def find(self, lon: float, lat: float) -> dict[str, Any] | None:
        """The union containing the point (boundary points go to the lowest P-code)."""
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        row = self.frame.iloc[int(min(hits))]
        return {
            f"adm{lv}": {
                "pcode": row[pcode(lv)],
                "name_en": row[name_en(lv)],
                "name_bn": row[name_bn(lv)] if pd.notna(row[name_bn(lv)]) else None,
            }
            for lv in (4, 3, 2, 1)
        } | {"area_km2": float(row["area_km2"])}

    def units(self, level: int) -> gpd.GeoDataFrame:
        """Units of one level; parents are dissolved from their unions."""
        if level not in LEVELS:
            raise BoundaryError(f"level must be one of {LEVELS}, not {level}")
        cols = [c for lv in range(level, 0, -1) for c in (pcode(lv), name_en(lv), name_bn(lv))]
        if level == 4:
            return self.frame[[*cols, "area_km2", "geometry"]].copy()
        grouped = self.frame[[*cols, "area_km2", "geometry"]].dissolve(
            by=pcode(level),
            aggfunc={c: "first" for c in cols if c != pcode(level)} | {"area_km2": "sum"},
        )
        return grouped.reset_index()[[*cols, "area_km2", "geometry"]]

    def unions_in(self, codes: list[str]) -> gpd.GeoDataFrame:
        """Unions whose P-code at any level starts with one of `codes` (district, upazila…)."""
        mask = pd.Series(False, index=self.frame.index)
        for code in codes:
            mask |= self.frame[pcode(4)].str.startswith(code)
        return self.frame[mask]


def load_union_layer(
    *,
    source: Literal["embedded", "cod-ab"] = "embedded",
    path: Path | None = None,
    layer: str | None = None,
    cache_dir: Path | None = None,
    repair_invalid: bool = False,
    parent_min_share: float = 0.5,
) -> UnionLayer:
    """Load the configured layer; a warm load reads the prepared GeoParquet from the cache."""
    if source == "embedded":
        src_path, name, version = embedded_path(), EMBEDDED_NAME, EMBEDDED_VERSION
    else:
        if path is None:
            raise BoundaryError("boundaries.path is required for source 'cod-ab'")
        src_path, name, version = Path(path), CODAB_NAME, "BBS 2020 (COD-AB 2020-11-13)"
    if not src_path.exists():
        raise BoundaryError(f"{src_path}: file not found")
    fingerprint = layer_fingerprint(src_path, layer, repair_invalid)
    info = LayerSource(source, name, version, str(src_path), fingerprint)
    cached = _read_cache(cache_dir, fingerprint) if cache_dir else None
    if cached is not None:
        return UnionLayer(cached[0], info, cached[1])
    if source == "embedded":
        frame = gpd.read_parquet(src_path)
        frame["source_row"] = range(1, len(frame) + 1)
    else:
        frame = read_codab(src_path, layer)
    valid, report = validate_unions(frame, str(src_path), repair=repair_invalid)
    if source == "cod-ab":  # the official release ships parent layers: check nesting in space
        parents = read_parent_layer(src_path, 3)
        if parents is not None:
            check_containment(valid, parents, 3, parent_min_share, str(src_path))
    valid = valid[UNION_COLUMNS]
    if cache_dir:
        _write_cache(cache_dir, fingerprint, valid, report.as_dict())
    return UnionLayer(valid, info, report.as_dict())


def _read_cache(
    cache_dir: Path, fingerprint: str
) -> tuple[gpd.GeoDataFrame, dict[str, Any]] | None:
    data, meta = cache_paths(cache_dir, fingerprint)
    if not (data.exists() and meta.exists()):
        return None
    try:
        return gpd.read_parquet(data), json.loads(meta.read_text("utf-8"))
    except Exception as exc:  # a corrupt cache is rebuilt, never trusted
        log.warning("ignoring unreadable boundary cache %s: %s", data, exc)
        return None


def _write_cache(
    cache_dir: Path, fingerprint: str, frame: gpd.GeoDataFrame, report: dict[str, Any]
) -> None:
    data, meta = cache_paths(cache_dir, fingerprint)
    data.parent.mkdir(parents=True, exist_ok=True)
    _atomic(data, lambda tmp: frame.to_parquet(tmp, compression="zstd"))
    _atomic(meta, lambda tmp: tmp.write_text(json.dumps(report), "utf-8"))


def _atomic(target: Path, write: Any) -> None:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
