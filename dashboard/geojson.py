"""Pure builders: union layer -> light GeoJSON for the browser (escaped, simplified, rounded)."""

from __future__ import annotations

import html
import json
from typing import Any

import geopandas as gpd
import shapely

TOOLTIP_FIELDS = ("adm4_en", "adm3_en", "adm2_en")


def light_geojson(
    frame: gpd.GeoDataFrame,
    tolerance_deg: float,
    decimals: int,
    extra_columns: tuple[str, ...] = (),
) -> str:
    """Simplified (topology kept per polygon), rounded, with HTML-escaped label properties."""
    geoms = frame.geometry.to_numpy()
    if tolerance_deg > 0:
        geoms = shapely.simplify(geoms, tolerance_deg, preserve_topology=True)
    geoms = shapely.set_precision(geoms, 10.0**-decimals, mode="pointwise")
    features: list[dict[str, Any]] = []
    columns = ("adm4_pcode", *TOOLTIP_FIELDS, *extra_columns)
    records = frame[list(columns)].to_dict("records")
    for props, geom in zip(records, geoms, strict=True):
        if geom is None or shapely.is_empty(geom):
            continue
        clean = {k: html.escape(str(v)) if isinstance(v, str) else v for k, v in props.items()}
        features.append(
            {
                "type": "Feature",
                "properties": clean,
                "geometry": json.loads(shapely.to_geojson(geom)),
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))


def bounds_of(frame: gpd.GeoDataFrame) -> list[list[float]]:
    """Leaflet bounds [[south, west], [north, east]]."""
    minx, miny, maxx, maxy = frame.total_bounds
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]
