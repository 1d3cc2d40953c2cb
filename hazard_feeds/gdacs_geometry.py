"""GDACS `polygons/getgeometry` for one tropical-cyclone episode -> bands, cone and track.

What the real payloads say (tests/fixtures/feeds/gdacs: GENEVIEVE-26 live, MOCHA-23 archived):
- The episode's advisory (issue) time is `polygondate` on its track features. `datemodified` is
  the last edit of the event record (weeks later for archived events), never an issue time.
- Point_Polygon_Point_N (featuretype PointRadii): small circles at the track points; the time
  is in `key` (MMDDHHMM, year from `fromdate`) and `polygonlabel` ("24/07 15:00 UTC").
- Line_Line_N: track segments. Their `forecast` flag and category (`polygonlabel`: TD / TS /
  HU …) describe the segment's END point: the segment ending at the advisory position says
  false, the next one true. Segments are not always listed in time order.
- Poly_Green / Poly_Orange / Poly_Red: 60 / 90 / 120 km/h wind bands. A polygon with a `key`
  is one timestep (valid at its `polygondate`); one without (labelled "60 km/h") is the swath
  of the whole track, valid from the advisory to the last forecast time. Archived episodes
  carry only swaths. Zero-area polygons mean the band does not reach; they are dropped.
  Poly_Cones: the uncertainty cone (advisory to last forecast time).
- Every feature repeats the event fields (eventid, episodeid, eventname, alertlevel,
  episodealertscore, severitydata = the episode's maximum wind in km/h).
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from agam.core.errors import FeedError

BAND_KMH = {"Poly_Green": 60.0, "Poly_Orange": 90.0, "Poly_Red": 120.0}
POINT_CLASS = "Point_Polygon_Point_"
SEGMENT_CLASS = "Line_Line_"
# Per-point wind, when a GDACS variant carries it (the getgeometry payloads seen so far do not).
WIND_KEYS = ("wind_kmh", "windspeed_kmh", "maxwind_kmh")
# A segment end and a track point are the same position within this many degrees (segments
# carry 0.1° coordinates, points are small circles whose centroid we take).
SAME_POINT_DEG = 0.05
# GeoJSON splits a shape at the antimeridian (RFC 7946 3.1.9): a polygon wider than half the
# globe is drawn the wrong way round (-179..179 instead of 179..181), not a cyclone's band.
MAX_POLYGON_SPAN_DEG = 180.0


def naive_utc(text: Any) -> datetime | None:
    """GDACS times carry no zone and are UTC; an unreadable one is a FeedError."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise FeedError(f"gdacs: time {str(text)[:40]!r} is not ISO-8601") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _point_time(key: str, year: int) -> datetime:
    return datetime(year, int(key[0:2]), int(key[2:4]), int(key[4:6]), int(key[6:8]), tzinfo=UTC)


def _wind(props: dict[str, Any]) -> float | None:
    """An explicit per-point wind (km/h) when GDACS sends one; None otherwise."""
    for key in WIND_KEYS:
        value = props.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return None


def _checked_features(doc: Any) -> list[dict[str, Any]]:
    features = doc.get("features") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(features, list)
    ):
        raise FeedError("gdacs: getgeometry response is not a FeatureCollection with features")
    if not features:
        raise FeedError("gdacs: getgeometry response has no features")
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            raise FeedError(f"gdacs: getgeometry feature {index} has no properties object")
    return features


def is_event_list(doc: Any) -> bool:
    """An events/geteventlist response (every feature an event's Point_Centroid), not the
    geometry of one episode (which has track points, segments or bands)."""
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list) or not features:
        return False
    classes = {
        str(f.get("properties", {}).get("Class", "")) for f in features if isinstance(f, dict)
    }
    return classes == {"Point_Centroid"}


def advisory_time(features: list[dict[str, Any]]) -> datetime:
    """The episode's advisory time: `polygondate` of its track features (the most frequent
    value, should a payload disagree with itself)."""
    stamps = [
        naive_utc(f["properties"].get("polygondate"))
        for f in features
        if str(f["properties"].get("Class", "")).startswith((POINT_CLASS, SEGMENT_CLASS))
    ]
    counted = Counter(s for s in stamps if s is not None)
    if not counted:
        raise FeedError(
            "gdacs: getgeometry response has no advisory time (no polygondate on its track)"
        )
    return max(counted.items(), key=lambda kv: (kv[1], kv[0]))[0]


def _geometry(feature: dict[str, Any], cls: str) -> Any:
    try:
        return shapely.geometry.shape(feature["geometry"])
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise FeedError(f"gdacs: {cls or 'a feature'} has an invalid geometry ({exc})") from None


def _track_point(props: dict[str, Any], geom: Any, start: datetime) -> dict[str, Any]:
    when = _point_time(str(props["key"]), start.year)
    if when < start - timedelta(days=180):  # the track crossed New Year
        when = when.replace(year=start.year + 1)
    point = geom.centroid
    return {
        "valid_time": when,
        "lat": round(point.y, 4),
        "lon": round(point.x, 4),
        "max_wind_kmh": _wind(props),
        "category": None,
        "forecast": None,
    }


def polygonal(geom: Any) -> Any:
    """The polygons of a repaired shape (make_valid may add the lines a bowtie crossed at)."""
    parts = getattr(geom, "geoms", [geom])
    polygons = [g for g in parts if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.unary_union(polygons) if polygons else shapely.Polygon()


def _within_half_globe(geom: Any, index: int, cls: str) -> None:
    """Refuse a band or cone with a polygon spanning more than MAX_POLYGON_SPAN_DEG of
    longitude: it covers the far side of the globe (Bangladesh included)."""
    for part in getattr(geom, "geoms", [geom]):
        west, _, east, _ = part.bounds
        if east - west > MAX_POLYGON_SPAN_DEG:
            raise FeedError(
                f"gdacs: getgeometry features[{index}].geometry ({cls}): a polygon spans "
                f"{east - west:g}° of longitude ({west:g}..{east:g}), more than "
                f"{MAX_POLYGON_SPAN_DEG:g}°: drawn the wrong way round across the antimeridian"
            )


def _one_point_per_time(track: list[dict[str, Any]], point: dict[str, Any], index: int) -> None:
    """Add a track point unless its time is taken by another position (which would win
    depends on the order of the features)."""
    same = next((p for p in track if p["valid_time"] == point["valid_time"]), None)
    if same is None:
        track.append(point)
    elif (same["lat"], same["lon"]) != (point["lat"], point["lon"]):
        raise FeedError(
            f"gdacs: getgeometry features[{index}].properties.key: a second track position for "
            f"{point['valid_time']:%Y-%m-%d %H:%M} UTC"
        )


def _band_row(
    head: dict[str, Any], cls: str, props: dict[str, Any], geom: Any, issued: datetime
) -> dict[str, Any]:
    """A timestep band (it has a `key`), a whole-track swath (it has none) or the cone."""
    timestep = cls in BAND_KMH and str(props.get("key", "")).isdigit()
    kind = "cone" if cls == "Poly_Cones" else "wind_band" if timestep else "wind_swath"
    at = naive_utc(props.get("polygondate")) if timestep else issued
    return {
        "event_id": head.get("eventid"),
        "kind": kind,
        "wind_kmh": BAND_KMH.get(cls, np.nan),
        "valid_time": at,
        "valid_to": at if timestep else None,  # swath and cone: set to the last track time
        "label": str(props.get("polygonlabel", "")),
        "geometry": geom,
    }


def parse_event(doc: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    """One getgeometry FeatureCollection -> event fields, footprint rows and track points."""
    del fetched_at  # the advisory time comes from the payload, never from the clock
    features = _checked_features(doc)
    head = next(
        (f["properties"] for f in features if f["properties"].get("Class") == "Point_Centroid"),
        features[0]["properties"],
    )
    issued = advisory_time(features)
    start = naive_utc(head.get("fromdate")) or issued
    rows: list[dict[str, Any]] = []
    track: list[dict[str, Any]] = []
    segments: list[tuple[tuple[float, float], dict[str, Any]]] = []
    dropped = 0
    repaired: list[str] = []  # bands whose ring crosses itself: repaired, never dropped
    for index, feature in enumerate(features):
        props, cls = feature["properties"], str(feature["properties"].get("Class", ""))
        if not feature.get("geometry"):
            continue
        geom = _geometry(feature, cls)
        if cls in BAND_KMH or cls == "Poly_Cones":
            if not geom.is_empty and not geom.is_valid:
                reason = shapely.is_valid_reason(geom)
                geom = polygonal(shapely.make_valid(geom))
                if geom.area > 0:  # GDACS draws bands of no area too: those are dropped below
                    repaired.append(f"features[{index}] ({cls}: {reason[:80]})")
            if geom.is_empty or geom.area <= 0:
                dropped += 1  # the band does not reach there
                continue
            _within_half_globe(geom, index, cls)
            rows.append(_band_row(head, cls, props, geom, issued))
        elif cls.startswith(POINT_CLASS) and str(props.get("key", "")).isdigit():
            _one_point_per_time(track, _track_point(props, geom, start), index)
        elif cls.startswith(SEGMENT_CLASS) and geom.geom_type == "LineString":
            x, y = geom.coords[-1][:2]
            segments.append(((x, y), props))
    _attach_segments(track, segments, issued)
    track.sort(key=lambda p: p["valid_time"])
    last = track[-1]["valid_time"] if track else issued
    for row in rows:
        row["valid_to"] = row["valid_to"] or last
    severity = (head.get("severitydata") or {}).get("severity")
    return {
        "event_id": head.get("eventid"),
        "episode_id": head.get("episodeid"),
        "name": head.get("eventname") or head.get("name"),
        "issued_at": issued,
        "alert_level": head.get("episodealertlevel") or head.get("alertlevel"),
        "alert_score": head.get("episodealertscore") or head.get("alertscore"),
        "max_wind_kmh": float(severity) if isinstance(severity, int | float) else None,
        "source": head.get("source"),
        "affected_iso3": [
            c.get("iso3") for c in head.get("affectedcountries") or [] if isinstance(c, dict)
        ],
        "track": track,
        "dropped_zero_area": dropped,
        "repaired_bands": repaired,
        "rows": rows,
    }


def _attach_segments(
    track: list[dict[str, Any]],
    segments: list[tuple[tuple[float, float], dict[str, Any]]],
    issued: datetime,
) -> None:
    """Each Line_Line_N segment ENDS at a track point: its category and forecast flag are that
    point's. A point no segment ends at (the first) is observed up to the advisory time."""
    for (x, y), props in segments:
        point = min(track, key=lambda p: abs(p["lon"] - x) + abs(p["lat"] - y), default=None)
        if point is None or max(abs(point["lon"] - x), abs(point["lat"] - y)) > SAME_POINT_DEG:
            continue
        label = str(props.get("polygonlabel") or "").strip()
        point["category"] = label or None
        flag = props.get("forecast")
        if isinstance(flag, bool) or str(flag).lower() in ("true", "false"):
            point["forecast"] = flag is True or str(flag).lower() == "true"
        if point["max_wind_kmh"] is None:
            point["max_wind_kmh"] = _wind(props)
    for point in track:
        if point["forecast"] is None:
            point["forecast"] = point["valid_time"] > issued
