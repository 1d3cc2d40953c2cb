"""Validation on load: unique codes, nested hierarchy, valid polygons, CRS and extent.

Every failure raises BoundaryError naming the file and the feature (1-based source row and
P-code). Invalid polygons are an error unless repair is asked for; repairs are reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from agam.core.errors import BoundaryError
from boundaries.schema import BANGLADESH_BOUNDS, EQUAL_AREA_CRS, LEVELS, STORAGE_CRS, name_en, pcode

log = logging.getLogger(__name__)


@dataclass
class ValidationReport:
    source: str
    features: int = 0
    reprojected_from: str | None = None
    repaired: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "features": self.features,
            "reprojected_from": self.reprojected_from,
            "repaired_geometries": len(self.repaired),
            "repaired_pcodes": self.repaired[:20],
        }


def _feature(frame: pd.DataFrame, idx: int) -> str:
    row = frame.iloc[idx]
    number = int(row["source_row"]) if "source_row" in frame.columns else idx + 1
    return f"feature {number} (ADM4_PCODE={row.get(pcode(4))!r})"


def validate_unions(
    frame: gpd.GeoDataFrame, source: str, *, repair: bool = False
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Check a union frame in the layer schema; return it in EPSG:4326 sorted by P-code."""
    report = ValidationReport(source=source, features=len(frame))
    if len(frame) == 0:
        raise BoundaryError(f"{source}: no features")
    frame = _check_crs(frame, source, report)
    _check_codes(frame, source)
    frame = _check_geometries(frame, source, repair, report)
    _check_extent(frame, source)
    if "area_km2" not in frame.columns or frame["area_km2"].isna().any():
        frame = frame.copy()
        frame["area_km2"] = (frame.geometry.to_crs(EQUAL_AREA_CRS).area / 1e6).round(3)
    return frame.sort_values(pcode(4)).reset_index(drop=True), report


def _check_crs(frame: gpd.GeoDataFrame, source: str, report: ValidationReport) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise BoundaryError(f"{source}: no coordinate reference system; expected {STORAGE_CRS}")
    if frame.crs.to_string() != STORAGE_CRS and frame.crs.to_epsg() != 4326:
        report.reprojected_from = frame.crs.to_string()
        log.info("%s: reprojecting boundaries from %s", source, frame.crs.to_string())
        return frame.to_crs(STORAGE_CRS)
    return frame


def _check_codes(frame: gpd.GeoDataFrame, source: str) -> None:
    for lv in LEVELS:
        codes = frame[pcode(lv)]
        blank = codes.isna() | (codes.astype("string").str.strip() == "")
        if blank.any():
            idx = int(np.flatnonzero(blank.to_numpy())[0])
            raise BoundaryError(f"{source}: {_feature(frame, idx)} has no ADM{lv}_PCODE")
    codes4 = frame[pcode(4)].astype(str)
    dup = codes4.duplicated(keep=False)
    if dup.any():
        rows = np.flatnonzero(dup.to_numpy())[:2]
        raise BoundaryError(
            f"{source}: duplicate ADM4_PCODE {codes4.iloc[rows[0]]!r} in "
            f"{_feature(frame, int(rows[0]))} and {_feature(frame, int(rows[1]))}"
        )
    for child, parent in ((4, 3), (3, 2), (2, 1)):
        ok = [
            str(c).startswith(str(p))
            for c, p in zip(frame[pcode(child)], frame[pcode(parent)], strict=True)
        ]
        if not all(ok):
            idx = ok.index(False)
            raise BoundaryError(
                f"{source}: {_feature(frame, idx)}: ADM{child}_PCODE "
                f"{frame[pcode(child)].iloc[idx]!r} is not inside its parent ADM{parent}_PCODE "
                f"{frame[pcode(parent)].iloc[idx]!r}"
            )
    for lv in (3, 2, 1):
        names = frame.groupby(pcode(lv))[name_en(lv)].nunique()
        bad = names[names > 1]
        if len(bad):
            code = bad.index[0]
            idx = int(np.flatnonzero((frame[pcode(lv)] == code).to_numpy())[0])
            raise BoundaryError(
                f"{source}: ADM{lv}_PCODE {code!r} carries several names "
                f"(first at {_feature(frame, idx)})"
            )


def _check_geometries(
    frame: gpd.GeoDataFrame, source: str, repair: bool, report: ValidationReport
) -> gpd.GeoDataFrame:
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        idx = int(np.flatnonzero(missing)[0])
        raise BoundaryError(f"{source}: {_feature(frame, idx)} has no geometry")
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, [3, 6])  # Polygon, MultiPolygon
    if not polygonal.all():
        idx = int(np.flatnonzero(~polygonal)[0])
        kind = shapely.get_type_id(geoms[idx])
        raise BoundaryError(f"{source}: {_feature(frame, idx)} is not a polygon (type id {kind})")
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return frame
    if not repair:
        idx = int(np.flatnonzero(invalid)[0])
        reason = shapely.is_valid_reason(geoms[idx])
        raise BoundaryError(
            f"{source}: {_feature(frame, idx)} has an invalid polygon ({reason}); "
            f"{int(invalid.sum())} invalid in all. Fix the file or set boundaries.repair_invalid"
        )
    fixed = geoms.copy()
    for bad in np.flatnonzero(invalid):
        made = shapely.make_valid(geoms[bad])
        parts = [g for g in shapely.get_parts(made) if shapely.get_type_id(g) in (3, 6)]
        fixed[bad] = shapely.multipolygons(parts) if parts else made
        report.repaired.append(str(frame[pcode(4)].iloc[bad]))
    log.warning("%s: repaired %d invalid geometries with make_valid", source, len(report.repaired))
    out = frame.copy()
    out.geometry = gpd.GeoSeries(fixed, index=frame.index, crs=frame.crs)
    return out


def _check_extent(frame: gpd.GeoDataFrame, source: str) -> None:
    minx, miny, maxx, maxy = BANGLADESH_BOUNDS
    bounds = frame.geometry.bounds
    outside = (
        (bounds.minx < minx) | (bounds.maxx > maxx) | (bounds.miny < miny) | (bounds.maxy > maxy)
    )
    if outside.any():
        idx = int(np.flatnonzero(outside.to_numpy())[0])
        raise BoundaryError(
            f"{source}: {_feature(frame, idx)} lies outside Bangladesh "
            f"(bounds {tuple(round(v, 3) for v in bounds.iloc[idx])}); wrong CRS or axis order?"
        )


def check_containment(
    children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame, level: int, min_share: float, source: str
) -> None:
    """Each child unit must lie (mostly) inside the parent polygon its code names."""
    parent_geom = parents.set_index(pcode(level)).geometry
    projected_children = children.to_crs(EQUAL_AREA_CRS)
    projected_parents = parent_geom.to_crs(EQUAL_AREA_CRS)
    for idx, (code, geom) in enumerate(
        zip(children[pcode(level)], projected_children.geometry, strict=True)
    ):
        if code not in projected_parents.index:
            raise BoundaryError(f"{source}: {_feature(children, idx)}: parent {code!r} not found")
        share = geom.intersection(projected_parents.loc[code]).area / max(geom.area, 1e-9)
        if share < min_share:
            raise BoundaryError(
                f"{source}: {_feature(children, idx)} lies only {share:.0%} inside its parent "
                f"ADM{level}_PCODE {code!r}"
            )
