"""Shape and range checks for GDACS documents, run before gdacs / gdacs_geometry read them.

Every problem is a FeedError naming the document and the field, e.g.
"gdacs: getgeometry features[3].geometry.coordinates: empty LineString". Limits (features,
vertices) and bounds (coordinates, wind) come from hazard_feeds/limits.toml. The semantics
(what a band, a track point or a segment means) stay in gdacs.py and gdacs_geometry.py.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from hazard_feeds.checks import a_kind, bounded_number, check_count, check_year, refuse
from hazard_feeds.limits import current

FEED = "gdacs"
MAX_ID_DIGITS = 18  # an event or episode id fits a signed 64-bit integer
TIME_KEYS = ("datemodified", "fromdate", "todate", "polygondate")
WIND_KEYS = ("wind_kmh", "windspeed_kmh", "maxwind_kmh")
# GeoJSON type -> nesting of positions in `coordinates` and the fewest positions per part.
SHAPES: dict[str, tuple[int, int]] = {
    "Point": (0, 1),
    "MultiPoint": (1, 0),
    "LineString": (1, 2),
    "MultiLineString": (2, 2),
    "Polygon": (2, 4),
    "MultiPolygon": (3, 4),
}


def check_eventlist(doc: Any, what: str = "event list") -> dict[str, Any]:
    """An events/geteventlist FeatureCollection whose every read field is usable."""
    features = _features(doc, what)
    for index, feature in enumerate(features):
        where = f"{what} features[{index}]"
        props = _properties(feature, where)
        _times(props, where)
        geometry = feature.get("geometry")
        if geometry is not None:
            _geometry(geometry, f"{where}.geometry", [0])
        bbox = feature.get("bbox")
        if bbox is not None:
            _bbox(bbox, f"{where}.bbox")
        _countries(props, where)
    return doc  # type: ignore[no-any-return]


def check_geometry_doc(doc: Any, fallback_year: int, what: str = "getgeometry") -> Any:
    """A polygons/getgeometry FeatureCollection: geometry types, positions, vertex counts,
    times, track-point keys and winds. An empty feature list is left for the caller.
    `fallback_year` dates track-point keys when the episode has no dates (parse uses the
    fetch time then)."""
    features = _features(doc, what)
    props = [_properties(f, f"{what} features[{i}]") for i, f in enumerate(features)]
    for index, p in enumerate(props):
        _times(p, f"{what} features[{index}]")
    year = _episode_year(props, fallback_year) if props else fallback_year
    vertices = [0]
    for index, (feature, p) in enumerate(zip(features, props, strict=True)):
        where = f"{what} features[{index}]"
        _countries(p, where)
        _ids(p, where)
        _winds(p, where)
        geometry = feature.get("geometry")
        if geometry:
            _geometry(geometry, f"{where}.geometry", vertices)
        _track_key(p, geometry, year, where)
    return doc


def _features(doc: Any, what: str) -> list[Any]:
    if not isinstance(doc, dict):
        raise refuse(FEED, what, f"{a_kind(doc)}, not a GeoJSON object")
    features = doc.get("features")
    if not isinstance(features, list):
        raise refuse(FEED, f"{what} features", "missing or not a list (unknown schema)")
    check_count(len(features), current().gdacs.max_features, FEED, f"{what} features", "features")
    return features


def _properties(feature: Any, where: str) -> dict[str, Any]:
    if not isinstance(feature, dict):
        raise refuse(FEED, where, f"{a_kind(feature)}, not a feature object")
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise refuse(FEED, f"{where}.properties", "missing or not an object")
    return props


def _time(value: Any, field: str) -> None:
    if not isinstance(value, str):
        raise refuse(FEED, field, f"{value!r:.40} is not an ISO-8601 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise refuse(FEED, field, f"{value[:40]!r} is not an ISO-8601 time") from None
    check_year(parsed, FEED, field)


def _times(props: dict[str, Any], where: str) -> None:
    for key in TIME_KEYS:
        if props.get(key):
            _time(props[key], f"{where}.properties.{key}")


def _countries(props: dict[str, Any], where: str) -> None:
    countries = props.get("affectedcountries")
    if countries is not None and not isinstance(countries, list):
        raise refuse(FEED, f"{where}.properties.affectedcountries", "not a list")
    for i, country in enumerate(countries or []):
        iso3 = country.get("iso3") if isinstance(country, dict) else None
        if iso3 is not None and not isinstance(iso3, str):
            field = f"{where}.properties.affectedcountries[{i}].iso3"
            raise refuse(FEED, field, f"{a_kind(iso3)}, not a country code")


def _ids(props: dict[str, Any], where: str) -> None:
    """eventid / episodeid, where given: a whole number (GDACS sends ints; digits in text are
    read too), short enough to be one."""
    for key in ("eventid", "episodeid"):
        value = props.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            continue
        if not (isinstance(value, str) and value.isascii() and value.isdigit()):
            raise refuse(FEED, f"{where}.properties.{key}", f"{value!r:.40} is not a number")
        if len(value) > MAX_ID_DIGITS:
            raise refuse(FEED, f"{where}.properties.{key}", f"{value[:20]!r}... is not an id")


def _winds(props: dict[str, Any], where: str) -> None:
    severity = props.get("severitydata")
    if severity is not None and not isinstance(severity, dict):
        raise refuse(FEED, f"{where}.properties.severitydata", "not an object")
    value = (severity or {}).get("severity")
    if isinstance(value, int | float) and not isinstance(value, bool):
        bounded_number(value, "wind_kmh", FEED, f"{where}.properties.severitydata.severity")
    for key in WIND_KEYS:
        if isinstance(props.get(key), int | float):
            bounded_number(props[key], "wind_kmh", FEED, f"{where}.properties.{key}")


def _bbox(bbox: Any, field: str) -> None:
    if not isinstance(bbox, list) or len(bbox) not in (4, 6):
        raise refuse(FEED, field, "not a list of 4 numbers")
    for i, value in enumerate(bbox):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise refuse(FEED, f"{field}[{i}]", f"{value!r:.40} is not a number")


def _geometry(geometry: Any, field: str, vertices: list[int]) -> None:
    """A GeoJSON geometry whose positions are finite, in range and within the vertex limits."""
    if not isinstance(geometry, dict):
        raise refuse(FEED, field, f"{a_kind(geometry)}, not a geometry object")
    kind = geometry.get("type")
    if kind not in SHAPES:
        known = ", ".join(SHAPES)
        raise refuse(FEED, f"{field}.type", f"unknown geometry type {kind!r:.40} ({known})")
    depth, fewest = SHAPES[str(kind)]
    coords = geometry.get("coordinates")
    before = vertices[0]
    _nested(coords, depth, fewest, str(kind), f"{field}.coordinates", vertices)
    limits = current().gdacs
    check_count(vertices[0] - before, limits.max_vertices_per_geometry, FEED, field, "vertices")
    check_count(vertices[0], limits.max_vertices_total, FEED, field, "vertices in the document")


def _nested(
    coords: Any, depth: int, fewest: int, kind: str, field: str, vertices: list[int]
) -> None:
    if depth == 0:
        _position(coords, field)
        vertices[0] += 1
        return
    if not isinstance(coords, list):
        raise refuse(FEED, field, f"{a_kind(coords)} where {kind} needs a list")
    if depth == 1 and fewest and len(coords) < fewest:  # one LineString or one ring
        part = "LineString" if "Line" in kind else "ring"
        problem = f"empty {part}" if not coords else f"a {part} needs {fewest} or more positions"
        raise refuse(FEED, field, problem)
    limit = current().gdacs.max_vertices_total
    for i, item in enumerate(coords):
        _nested(item, depth - 1, fewest, kind, f"{field}[{i}]", vertices)
        check_count(vertices[0], limit, FEED, field, "vertices in the document")


def _position(value: Any, field: str) -> None:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise refuse(FEED, field, "a position must be [lon, lat] (or [lon, lat, z])")
    for i, number in enumerate(value):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise refuse(FEED, f"{field}[{i}]", f"{number!r:.40} is not a number")
        if not math.isfinite(number):
            raise refuse(FEED, f"{field}[{i}]", "not a finite number")
    bounded_number(value[0], "longitude_deg", FEED, f"{field}[0]")
    bounded_number(value[1], "latitude_deg", FEED, f"{field}[1]")


def _track_key(props: dict[str, Any], geometry: Any, year: int, where: str) -> None:
    """Track points carry their time as MMDDHHMM in `key` (year from the episode): it must be a
    real time, and the point needs a geometry to give it a position."""
    cls, key = str(props.get("Class", "")), str(props.get("key", ""))
    if not (cls.startswith("Point_Polygon_Point_") and key.isdigit()):
        return
    if len(key) != 8:
        raise refuse(FEED, f"{where}.properties.key", f"{key[:20]!r} is not MMDDHHMM")
    if geometry and not _has_positions(geometry.get("coordinates")):  # null: point skipped
        raise refuse(FEED, f"{where}.geometry", "a track point without a position")
    try:
        datetime(year, int(key[0:2]), int(key[2:4]), int(key[4:6]), int(key[6:8]), tzinfo=UTC)
    except ValueError:
        raise refuse(FEED, f"{where}.properties.key", f"{key!r} is not a time in {year}") from None


def _has_positions(coords: Any) -> bool:
    while isinstance(coords, list) and coords:
        if not isinstance(coords[0], list):
            return True
        coords = coords[0]
    return False


def _episode_year(props: list[dict[str, Any]], fallback: int) -> int:
    """The year track-point keys belong to: the episode's fromdate, else its datemodified
    (UTC, as gdacs_geometry reads them), else the fallback."""
    head = next((p for p in props if p.get("Class") == "Point_Centroid"), props[0])
    text = head.get("fromdate") or head.get("datemodified")
    if not text:
        return fallback
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))  # checked by _times
    return (value if value.tzinfo is None else value.astimezone(UTC)).year
