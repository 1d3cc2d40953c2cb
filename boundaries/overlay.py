"""Hazard footprints x unions: distances, wind decay from a landfall point, polygon shares.

Distances and areas are computed in UTM 46N (EPSG:32646). A landfall's distance to a union is
measured as OCHA's cyclone monitoring tool (ds-aa-bgd-cyclone-monitoring, app.R) measures it,
`st_distance(st_boundary(unions), point)`: to the union's boundary LINE, so the union that
contains the point gets the distance to its own edge, not 0 ("boundary_line"). The other
reading, 0 inside the union ("polygon"), is kept for rule sets that choose it (ADR 0007).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from agam.core.errors import BoundaryError
from boundaries.schema import DISTANCE_CRS

M_PER_KM = 1000.0
DistanceMeasure = Literal["boundary_line", "polygon"]


def _projected(unions: gpd.GeoDataFrame) -> gpd.GeoSeries:
    if unions.crs is None:
        raise BoundaryError("union layer has no CRS")
    return unions.geometry.to_crs(DISTANCE_CRS)


def distance_to_boundary_km(
    unions: gpd.GeoDataFrame, lon: float, lat: float, measure: DistanceMeasure = "boundary_line"
) -> pd.Series:
    """Distance from a point to each union, km, indexed by ADM4 P-code: to its boundary line
    (OCHA's tool; the containing union too) or to its polygon (0 inside)."""
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326").to_crs(DISTANCE_CRS)[0]
    shapes = _projected(unions).to_numpy()
    if measure == "boundary_line":
        shapes = shapely.boundary(shapes)
    distance = shapely.distance(shapes, point) / M_PER_KM
    return pd.Series(
        np.round(distance, 3), index=unions["adm4_pcode"].to_numpy(), name="distance_km"
    )


def union_wind_decay(
    unions: gpd.GeoDataFrame,
    lon: float,
    lat: float,
    landfall_wind_kmh: float,
    factor_a: float,
    decay_b_per_km: float,
    measure: DistanceMeasure = "boundary_line",
) -> pd.DataFrame:
    """wind_union = landfall_wind x a x exp(-b x d_km); coefficients come from rule data."""
    distance = distance_to_boundary_km(unions, lon, lat, measure)
    factor = factor_a * np.exp(-decay_b_per_km * distance.to_numpy())
    frame = pd.DataFrame(
        {
            "adm4_pcode": distance.index,
            "distance_km": distance.to_numpy(),
            "wind_reduction_factor": np.round(factor, 4),
            "wind_kmh": np.round(landfall_wind_kmh * factor, 1),
        }
    )
    names = unions.set_index("adm4_pcode")
    for col in ("adm4_en", "adm3_pcode", "adm3_en", "adm2_pcode", "adm2_en", "adm1_en"):
        if col in names.columns:
            frame[col] = frame["adm4_pcode"].map(names[col])
    return frame.sort_values(["distance_km", "adm4_pcode"]).reset_index(drop=True)


def footprint_shares(
    unions: gpd.GeoDataFrame,
    footprints: gpd.GeoDataFrame,
    carry: Iterable[str] = (),
    min_share: float = 0.0,
) -> pd.DataFrame:
    """Each (union, footprint) pair that overlaps, with the share of the union's area inside."""
    carry = list(carry)
    if footprints is None or len(footprints) == 0:
        return pd.DataFrame(columns=["adm4_pcode", "share_of_union_area", *carry])
    union_geoms = _projected(unions).to_numpy()
    foot = footprints.to_crs(DISTANCE_CRS)
    tree = shapely.STRtree(union_geoms)
    foot_idx, union_idx = tree.query(foot.geometry.to_numpy(), predicate="intersects")
    if len(union_idx) == 0:
        return pd.DataFrame(columns=["adm4_pcode", "share_of_union_area", *carry])
    pieces = shapely.intersection(union_geoms[union_idx], foot.geometry.to_numpy()[foot_idx])
    share = shapely.area(pieces) / shapely.area(union_geoms[union_idx])
    frame = pd.DataFrame(
        {
            "adm4_pcode": unions["adm4_pcode"].to_numpy()[union_idx],
            "share_of_union_area": np.clip(share, 0.0, 1.0),
        }
    )
    for col in carry:
        frame[col] = footprints[col].to_numpy()[foot_idx]
    frame = frame[frame["share_of_union_area"] >= min_share]
    return frame.sort_values(["adm4_pcode", *carry]).reset_index(drop=True)


def max_band_per_union(shares: pd.DataFrame, min_share: float) -> pd.Series:
    """The strongest wind band (km/h) covering at least `min_share` of each union."""
    hit = shares[shares["share_of_union_area"] >= min_share]
    return hit.groupby("adm4_pcode")["wind_kmh"].max()
