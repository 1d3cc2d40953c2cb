"""GDACS tropical-cyclone payloads for a scenario episode, in the layout and with the meaning
of the real `events/geteventlist` and `polygons/getgeometry` responses (tests/fixtures/feeds/
gdacs): Point_Centroid, Point_Polygon_Point_N track circles, Line_Line_N segments whose
`forecast` flag and category describe their END point, Poly_Green / Poly_Orange / Poly_Red wind
bands (60 / 90 / 120 km/h) per timestep from the advisory on (with `key`) plus one whole-track
swath per colour (without), and Poly_Cones. Every track feature's `polygondate` is the advisory
time. SYNTHETIC content."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import shapely
from shapely import affinity
from shapely.geometry import LineString, Point, mapping

from hazard_feeds.atcf import KNOT_KMH, BestTrackFix

BANDS = (("Poly_Green", 60.0), ("Poly_Orange", 90.0), ("Poly_Red", 120.0))
SAFFIR_SIMPSON_KT = (
    (137, "Cat. 5"),
    (113, "Cat. 4"),
    (96, "Cat. 3"),
    (83, "Cat. 2"),
    (64, "Cat. 1"),
    (34, "TS"),
    (0, "TD"),
)
AtTime = Callable[[list[BestTrackFix], datetime], BestTrackFix]


@dataclass(frozen=True)
class Episode:
    """One GDACS episode of the scenario storm: the track as known at `at`."""

    track: list[BestTrackFix]
    at: datetime
    number: int
    part: Any  # the scenario's [gdacs] table (event_id, forecast_hours)
    name: str
    label: str
    at_time: AtTime

    def points(self) -> list[tuple[BestTrackFix, bool]]:
        """Past fixes, the storm now, and the forecast fixes ahead (flag True)."""
        return _points(self.track, self.at, self.part.forecast_hours, self.at_time)

    def now(self) -> BestTrackFix:
        return self.at_time(self.track, self.at)

    def props(self, points: list[tuple[BestTrackFix, bool]]) -> dict[str, Any]:
        """The event fields every feature of the episode repeats."""
        return _props(
            self.track, self.at, self.number, self.part.event_id, self.name, self.label,
            _peak(points),
        )  # fmt: skip


def _gdacs_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")  # GDACS writes UTC without a zone


def _circle(lon: float, lat: float, radius_km: float) -> Any:
    disc = Point(lon, lat).buffer(radius_km / 111.32, 24)
    return affinity.scale(disc, xfact=1 / math.cos(math.radians(lat)), yfact=1.0)


def _band_radius_km(wind_kmh: float, band_kmh: float) -> float:
    """SYNTHETIC wind-band radius: grows with how far the storm exceeds the band."""
    return 0.0 if wind_kmh < band_kmh else 150.0 * math.log(wind_kmh / band_kmh) + 30.0


def _band_disc(fix: BestTrackFix, band_kmh: float) -> Any:
    radius = _band_radius_km(fix.max_wind_kt * KNOT_KMH, band_kmh)
    return _circle(fix.lon, fix.lat, radius).simplify(0.01) if radius > 0 else None


def _swath(discs: list[Any]) -> Any:
    """The area a band covers along the whole track: hulls of consecutive discs, merged."""
    hulls = [
        shapely.union(p, q).convex_hull if p is not None and q is not None else (p or q)
        for p, q in itertools.pairwise(discs)
    ]
    kept = [h for h in hulls if h is not None] or [d for d in discs if d is not None]
    return shapely.union_all(kept).simplify(0.01) if kept else None


def _alert(wind_kmh: float) -> tuple[str, float]:
    if wind_kmh >= 178:
        return "Red", 3.0
    return ("Orange", 2.0) if wind_kmh >= 119 else ("Green", 1.0)


def _points(
    track: list[BestTrackFix], at: datetime, ahead_h: int, at_time: AtTime
) -> list[tuple[BestTrackFix, bool]]:
    past = [(f, False) for f in track if f.time < at]
    future = [(f, True) for f in track if at < f.time <= at + timedelta(hours=ahead_h)]
    return [*past, (at_time(track, at), False), *future]


def _props(
    track: list[BestTrackFix],
    at: datetime,
    episode: int,
    event_id: int,
    name: str,
    label: str,
    peak_kmh: float,
) -> dict[str, Any]:
    level, score = _alert(peak_kmh)
    event = f"{name}-{at.year % 100:02d}"
    base = "https://www.gdacs.org/gdacsapi/api"
    query = f"eventtype=TC&eventid={event_id}&episodeid={episode}"
    return {
        "eventtype": "TC",
        "eventid": event_id,
        "episodeid": episode,
        "eventname": event,
        "glide": "",
        "name": f"Tropical Cyclone {event}",
        "description": f"Tropical Cyclone {event} ({label})",
        "htmldescription": f"{level} Tropical Cyclone {event} ({label})",
        "icon": f"https://www.gdacs.org/images/gdacs_icons/maps/{level}/TC.png",
        "iconoverall": f"https://www.gdacs.org/images/gdacs_icons/maps/{level}/TC.png",
        "url": {
            "geometry": f"{base}/polygons/getgeometry?{query}",
            "report": f"https://www.gdacs.org/report.aspx?{query}",
            "details": f"{base}/events/geteventdata?eventtype=TC&eventid={event_id}",
        },
        "alertlevel": level,
        "alertscore": score,
        "episodealertlevel": level,
        "episodealertscore": score,
        "istemporary": "false",
        "iscurrent": "true",
        "country": "Bangladesh, India",
        "fromdate": _gdacs_time(track[0].time),
        "todate": _gdacs_time(at),
        "datemodified": _gdacs_time(at + timedelta(minutes=20)),
        "iso3": "BGD",
        "source": "JTWC",
        "sourceid": "",
        "polygonlabel": "Centroid",
        "Class": "Point_Centroid",
        "countryonland": "",
        "affectedcountries": [
            {"iso3": "BGD", "countryname": "Bangladesh"},
            {"iso3": "IND", "countryname": "India"},
        ],
        "severitydata": {
            "severity": round(peak_kmh, 4),
            "severitytext": f"maximum wind speed of {peak_kmh:.0f} km/h",
            "severityunit": "km/h",
        },
    }


def _peak(points: list[tuple[BestTrackFix, bool]]) -> float:
    return max(f.max_wind_kt for f, _ in points) * KNOT_KMH


def episode_geometry(ep: Episode) -> bytes:
    at, points, now = ep.at, ep.points(), ep.now()
    head = ep.props(points)
    features: list[dict[str, Any]] = [
        {"type": "Feature", "geometry": mapping(Point(now.lon, now.lat)), "properties": head}
    ]

    def feature(geom: Any, cls: str, when: datetime, text: str, **more: Any) -> None:
        props = (
            head
            | {
                "Class": cls,
                "polygondate": _gdacs_time(when),
                "polygonlabel": text,
            }
            | more
        )
        features.append({"type": "Feature", "geometry": mapping(geom), "properties": props})

    for n, (fix, _) in enumerate(points):
        feature(
            _circle(fix.lon, fix.lat, 5.0),
            f"Point_Polygon_Point_{n}",
            at,
            fix.time.strftime("%d/%m %H:%M UTC"),
            key=fix.time.strftime("%m%d%H%M"),
        )
    for n, ((a, _), (b, forecast)) in enumerate(itertools.pairwise(points)):
        # A segment describes its END point: the one ending at the advisory says "observed".
        category = next(c for floor, c in SAFFIR_SIMPSON_KT if b.max_wind_kt >= floor)
        feature(
            LineString([(a.lon, a.lat), (b.lon, b.lat)]),
            f"Line_Line_{n}",
            at,
            category,
            forecast=forecast,
        )
    for cls, band in BANDS:
        discs = [(fix, _band_disc(fix, band)) for fix, _ in points]
        for fix, disc in discs:
            if disc is not None and fix.time >= at:  # timesteps from the advisory on
                stamp = fix.time.strftime("%d/%m %H:%M")
                feature(disc, cls, fix.time, stamp, key=fix.time.strftime("%m%d%H%M"))
        swath = _swath([d for _, d in discs])
        if swath is not None:  # the whole track, one polygon per colour, without a key
            feature(swath, cls, at, f"{band:g} km/h")
    ahead = [f for f, forecast in points if forecast]
    if ahead:
        discs = [_circle(now.lon, now.lat, 30.0)] + [
            _circle(f.lon, f.lat, 30.0 + 2.5 * (f.time - at).total_seconds() / 3600) for f in ahead
        ]
        cone = shapely.union_all(
            [shapely.union(p, q).convex_hull for p, q in itertools.pairwise(discs)]
        )
        feature(cone.simplify(0.01), "Poly_Cones", at, "Uncertainty Cones")
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def event_list(ep: Episode) -> bytes:
    points, now = ep.points(), ep.now()
    lons = [f.lon for f, _ in points]
    lats = [f.lat for f, _ in points]
    feature = {
        "type": "Feature",
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "geometry": {"type": "Point", "coordinates": [round(now.lon, 2), round(now.lat, 2)]},
        "properties": ep.props(points),
    }
    doc = {"type": "FeatureCollection", "features": [feature]}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")
