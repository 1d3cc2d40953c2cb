"""Outlines of a set of unions for alert messages: dissolved, simplified to a vertex budget,
as closed (lat, lon) rings. Pure geometry in EPSG:4326."""

from __future__ import annotations

from collections.abc import Iterable

import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

FIRST_TOLERANCE_DEG = 0.0005  # ~50 m
MAX_ROUNDS = 16


def _parts(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    return [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon)]


def _within_budget(part: Polygon, max_vertices: int) -> Polygon:
    """The part's exterior with at most `max_vertices` distinct vertices (ring closed on top)."""
    shape = Polygon(part.exterior)
    tolerance = FIRST_TOLERANCE_DEG
    for _ in range(MAX_ROUNDS):
        if len(shape.exterior.coords) - 1 <= max_vertices:
            return shape
        simpler = shape.simplify(tolerance, preserve_topology=True)
        if isinstance(simpler, Polygon) and not simpler.is_empty:
            shape = simpler
        tolerance *= 2
    hull = shape.convex_hull  # still too detailed: fall back to a coarser cover
    hull = hull.simplify(tolerance, preserve_topology=False) if not hull.is_empty else hull
    if not isinstance(hull, Polygon) or len(hull.exterior.coords) - 1 > max_vertices:
        hull = shape.minimum_rotated_rectangle
    return hull if isinstance(hull, Polygon) else shape.envelope


def outline_rings(
    geometries: Iterable[BaseGeometry], max_vertices: int, decimals: int = 4
) -> list[list[tuple[float, float]]]:
    """One closed ring of (lat, lon) per separate part of the dissolved area, largest first;
    each has at least 4 pairs (first = last) and at most `max_vertices` + 1."""
    merged = shapely.union_all([g for g in geometries if g is not None and not g.is_empty])
    rings = []
    for part in sorted(_parts(merged), key=lambda p: p.area, reverse=True):
        shape = _within_budget(part, max_vertices)
        coords = [(round(y, decimals), round(x, decimals)) for x, y in shape.exterior.coords]
        deduped = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
        if deduped[0] != deduped[-1]:
            deduped.append(deduped[0])
        if len(deduped) >= 4:  # a sliver that rounds to a line is covered by its geocode
            rings.append(deduped)
    return rings
