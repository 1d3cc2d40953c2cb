"""GDACS `polygons/getgeometry` for one tropical-cyclone episode -> bands, cone and track.

Where things live in the real payload (tests/fixtures/feeds/gdacs/geometry-TC.json):
- Poly_Green / Poly_Orange / Poly_Red (featuretype WindRadii): 60 / 90 / 120 km/h wind bands,
  one polygon per forecast time in `polygondate`; zero-area polygons mean the band does not
  reach that time and are dropped. Poly_Cones: the uncertainty cone.
- Point_Polygon_Point_N (featuretype PointRadii): small circles at the track points; the time
  is in `key` (MMDDHHMM, year from `fromdate`) and `polygonlabel` ("24/07 15:00 UTC"); their
  `polygondate` is the episode time, not the point's.
- Line_Line_N: track segments starting at a track point, with the category in `polygonlabel`
  (TD / TS / HU …) and a boolean `forecast`.
- Every feature repeats the event fields (eventid, episodeid, eventname, alertlevel,
  episodealertscore, datemodified, severitydata = the episode's maximum wind in km/h).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from agam.core.errors import FeedError

BAND_KMH = {"Poly_Green": 60.0, "Poly_Orange": 90.0, "Poly_Red": 120.0}
# Per-point wind, when a GDACS variant carries it (the getgeometry payloads seen so far do not).
WIND_KEYS = ("wind_kmh", "windspeed_kmh", "maxwind_kmh")


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


def parse_event(doc: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    """One getgeometry FeatureCollection -> event fields, footprint rows and track points."""
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
    head = next(
        (f["properties"] for f in features if f["properties"].get("Class") == "Point_Centroid"),
        features[0]["properties"],
    )
    issued = naive_utc(head.get("datemodified")) or fetched_at
    start = naive_utc(head.get("fromdate")) or issued
    rows: list[dict[str, Any]] = []
    track: list[dict[str, Any]] = []
    segments: list[tuple[tuple[float, float], dict[str, Any]]] = []
    dropped = 0
    for feature in features:
        props, cls = feature["properties"], str(feature["properties"].get("Class", ""))
        if not feature.get("geometry"):
            continue
        try:
            geom = shapely.geometry.shape(feature["geometry"])
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise FeedError(
                f"gdacs: {cls or 'a feature'} has an invalid geometry ({exc})"
            ) from None
        if cls in BAND_KMH or cls == "Poly_Cones":
            if geom.is_empty or geom.area <= 0:
                dropped += 1  # the band does not reach that timestep
                continue
            rows.append(
                {
                    "event_id": head.get("eventid"),
                    "kind": "cone" if cls == "Poly_Cones" else "wind_band",
                    "wind_kmh": BAND_KMH.get(cls, np.nan),
                    "valid_time": naive_utc(props.get("polygondate")),
                    "label": str(props.get("polygonlabel", "")),
                    "geometry": geom,
                }
            )
        elif cls.startswith("Point_Polygon_Point_") and str(props.get("key", "")).isdigit():
            when = _point_time(str(props["key"]), start.year)
            if when < start - timedelta(days=180):  # the track crossed New Year
                when = when.replace(year=start.year + 1)
            point = geom.centroid
            track.append(
                {
                    "valid_time": when,
                    "lat": round(point.y, 4),
                    "lon": round(point.x, 4),
                    "max_wind_kmh": _wind(props),
                    "category": None,
                    "forecast": when > issued,
                }
            )
        elif cls.startswith("Line_Line_") and geom.geom_type == "LineString":
            x, y = geom.coords[0][:2]
            segments.append(((x, y), props))
    _attach_segments(track, segments)
    track.sort(key=lambda p: p["valid_time"])
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
        "rows": rows,
    }


def _attach_segments(
    track: list[dict[str, Any]], segments: list[tuple[tuple[float, float], dict[str, Any]]]
) -> None:
    """Each Line_Line_N segment starts at a track point: copy its category and forecast flag."""
    for (x, y), props in segments:
        point = min(track, key=lambda p: abs(p["lon"] - x) + abs(p["lat"] - y), default=None)
        if point is None or abs(point["lon"] - x) + abs(point["lat"] - y) > 0.05:
            continue
        label = str(props.get("polygonlabel") or "").strip()
        point["category"] = label or None
        flag = props.get("forecast")
        if isinstance(flag, bool) or str(flag).lower() in ("true", "false"):
            point["forecast"] = flag is True or str(flag).lower() == "true"
        if point["max_wind_kmh"] is None:
            point["max_wind_kmh"] = _wind(props)
