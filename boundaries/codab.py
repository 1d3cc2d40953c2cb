"""Reader for the official OCHA COD-AB release `bgd_adm_bbs_20201113` in any GDAL format."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pyogrio

from agam.core.errors import BoundaryError
from boundaries.schema import LEVELS, name_bn, name_en, pcode

log = logging.getLogger(__name__)

ADM4_LAYER = "bgd_admbnda_adm4_bbs_20201113"
REQUIRED_FIELDS = [f"ADM{lv}_{kind}" for lv in LEVELS for kind in ("PCODE", "EN")]


def read_codab(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read the ADM4 layer and rename COD-AB fields to the union-layer schema."""
    if not path.exists():
        raise BoundaryError(f"{path}: file not found")
    try:
        if path.suffix.lower() == ".parquet":
            frame = gpd.read_parquet(path)
        else:
            frame = gpd.read_file(path, layer=layer or _default_layer(path), engine="pyogrio")
    except BoundaryError:
        raise
    except Exception as exc:  # GDAL/arrow errors come in many types
        raise BoundaryError(f"{path}: cannot read boundary file ({exc})") from exc
    missing = [f for f in REQUIRED_FIELDS if f not in frame.columns]
    if missing:
        raise BoundaryError(f"{path}: missing required field(s) {', '.join(missing)}")
    renamed = {}
    for lv in LEVELS:
        renamed[f"ADM{lv}_PCODE"] = pcode(lv)
        renamed[f"ADM{lv}_EN"] = name_en(lv)
        if f"ADM{lv}_BN" in frame.columns:
            renamed[f"ADM{lv}_BN"] = name_bn(lv)
    out = frame.rename(columns=renamed)
    for lv in LEVELS:
        if name_bn(lv) not in out.columns:
            out[name_bn(lv)] = None
    # Row numbers of the source file, so errors can name the feature.
    out["source_row"] = range(1, len(out) + 1)
    return out


def read_parent_layer(path: Path, level: int) -> gpd.GeoDataFrame | None:
    """The ADM<level> layer of a multi-layer COD-AB file (GeoPackage), if it has one."""
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception:  # a single-layer format has no parent layers
        return None
    names = [n for n in layers if f"adm{level}" in n.lower()]
    if not names:
        return None
    frame = gpd.read_file(path, layer=names[0], engine="pyogrio")
    if f"ADM{level}_PCODE" not in frame.columns:
        raise BoundaryError(f"{path}: layer {names[0]} lacks ADM{level}_PCODE")
    frame = frame.rename(columns={f"ADM{level}_PCODE": pcode(level)})
    return frame.to_crs("EPSG:4326") if frame.crs is not None else frame


def _default_layer(path: Path) -> str | None:
    """Pick the ADM4 layer of a multi-layer file (GeoPackage, FileGDB)."""
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception:  # not a multi-layer source
        return None
    if len(layers) <= 1:
        return None
    adm4 = [name for name in layers if "adm4" in name.lower()]
    if not adm4:
        raise BoundaryError(
            f"{path}: no ADM4 layer among {', '.join(layers)}; set boundaries.layer"
        )
    return adm4[0]
