"""GDACS tropical cyclones: event list + polygons/getgeometry per episode.

Wind bands: Poly_Green = 60, Poly_Orange = 90, Poly_Red = 120 km/h, one polygon per
timestep (`polygondate`); zero-area bands are dropped. Poly_Cones is the uncertainty cone.
Track points are the Point_Polygon_Point_N circles (time in `key` = MMDDHHMM). GDACS gives
the episode's maximum wind, not per point, so per-point wind stays unknown (NaN). Use GDACS
for display and cross-checks, not as a trigger (DOMAIN.md §2.3).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr
from pydantic import Field

from agam.core.errors import FeedError
from agam.core.timeutil import iso_utc, utc_now
from hazard_feeds.bundle import Part, is_bundle, load_json, make_bundle, read_bundle
from hazard_feeds.config import FeedConfig
from hazard_feeds.contract import HazardForecast, QualityIssue, RawArtifact

BAND_KMH = {"Poly_Green": 60.0, "Poly_Orange": 90.0, "Poly_Red": 120.0}


class GdacsConfig(FeedConfig):
    base_url: str = "https://www.gdacs.org/gdacsapi/api/"
    event_list_path: str = "events/geteventlist/EVENTS4APP"
    max_age_hours: float = 6.0
    countries_iso3: tuple[str, ...] = ("BGD",)
    # Bay of Bengal and its approaches: lon_min, lat_min, lon_max, lat_max.
    bay_of_bengal_box: tuple[float, float, float, float] = (78.0, 5.0, 100.0, 25.0)
    max_events: int = Field(default=3, ge=1)


def _naive_utc(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def relevant_events(eventlist: dict[str, Any], cfg: GdacsConfig) -> list[dict[str, Any]]:
    """TC events touching Bangladesh or inside the Bay of Bengal box, newest first."""
    if not isinstance(eventlist, dict) or not isinstance(eventlist.get("features"), list):
        raise FeedError("gdacs: event list has an unknown schema (no `features` list)")
    west, south, east, north = cfg.bay_of_bengal_box
    hits = []
    for feature in eventlist.get("features", []):
        props = feature.get("properties", {})
        if props.get("eventtype") != "TC":
            continue
        iso3 = {c.get("iso3") for c in props.get("affectedcountries") or []}
        lon, lat = (feature.get("geometry") or {}).get("coordinates", [None, None])[:2]
        in_box = lon is not None and west <= lon <= east and south <= lat <= north
        if iso3 & set(cfg.countries_iso3) or in_box:
            hits.append(props)
    hits.sort(key=lambda p: (p.get("iscurrent") == "true", p.get("datemodified", "")), reverse=True)
    return hits[: cfg.max_events]


class GdacsFeed:
    feed_id = "gdacs"

    def __init__(self, config: GdacsConfig) -> None:
        self.config = config

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        url = self.config.base_url.rstrip("/") + "/" + self.config.event_list_path
        listing = http.get(url, feed_id=self.feed_id, since=since, accept="application/json")
        if listing.not_modified:
            return listing  # type: ignore[no-any-return]
        eventlist = load_json(listing.content, self.feed_id, "event list")
        parts = [Part("eventlist", listing.source_uri, listing.content.decode("utf-8"))]
        for props in relevant_events(eventlist, self.config):
            # Built from our own base URL: never follow URLs found inside feed content.
            geo_url = (
                self.config.base_url.rstrip("/") + "/polygons/getgeometry?eventtype=TC"
                f"&eventid={int(props['eventid'])}&episodeid={int(props['episodeid'])}"
            )
            geo = http.get(geo_url, feed_id=self.feed_id, accept="application/json")
            parts.append(
                Part(
                    f"geometry-{props['eventid']}-{props['episodeid']}",
                    geo.source_uri,
                    geo.content.decode("utf-8"),
                )
            )
        return make_bundle(self.feed_id, parts, utc_now(), listing.etag, listing.last_modified)

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        return gdacs_json(forecast)

    def parse(self, raw: RawArtifact) -> HazardForecast:
        if is_bundle(raw.content):
            parts = read_bundle(raw.content, self.feed_id)
            geometries = [
                load_json(p.body, self.feed_id, p.name)
                for p in parts
                if p.name.startswith("geometry-")
            ]
            listing: dict[str, Any] = next(
                (
                    load_json(p.body, self.feed_id, "event list")
                    for p in parts
                    if p.name == "eventlist"
                ),
                {"features": []},
            )
        else:
            doc = load_json(raw.content, self.feed_id, "getgeometry response")
            geometries, listing = [doc], {"features": []}
        if not geometries:
            times = [_naive_utc(f["properties"].get("datemodified")) for f in listing["features"]]
            issued = max(
                [t for t in times if t is not None],
                default=raw.fetched_at,
            )
            return HazardForecast(
                self.feed_id,
                "footprint",
                issued or raw.fetched_at,
                footprints=_empty_footprints(),
                payload={"events": [], "event_id": None},
                source_uri=raw.source_uri,
                raw_sha256=raw.sha256,
            )
        return parse_geometry(geometries[0], raw)


def _empty_footprints() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"kind": [], "wind_kmh": [], "valid_time": [], "label": []}, geometry=[], crs="EPSG:4326"
    )


def _point_time(key: str, year: int) -> datetime:
    return datetime(year, int(key[0:2]), int(key[2:4]), int(key[4:6]), int(key[6:8]), tzinfo=UTC)


def parse_geometry(doc: dict[str, Any], raw: RawArtifact) -> HazardForecast:
    """A getgeometry FeatureCollection -> footprint forecast with track."""
    features = doc.get("features")
    if doc.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise FeedError("gdacs: getgeometry response is not a FeatureCollection with features")
    centroid = next(
        (f for f in features if f["properties"].get("Class") == "Point_Centroid"),
        features[0] if features else None,
    )
    if centroid is None:
        raise FeedError("gdacs: getgeometry response has no features")
    head = centroid["properties"]
    issued = _naive_utc(head.get("datemodified")) or raw.fetched_at
    start = _naive_utc(head.get("fromdate")) or issued
    rows: list[dict[str, Any]] = []
    track: list[dict[str, Any]] = []
    dropped = 0
    for feature in features:
        props, cls = feature["properties"], feature["properties"].get("Class", "")
        geom = shapely.geometry.shape(feature["geometry"]) if feature.get("geometry") else None
        if geom is None:
            continue
        if cls in BAND_KMH or cls == "Poly_Cones":
            if geom.area <= 0:
                dropped += 1
                continue
            rows.append(
                {
                    "kind": "cone" if cls == "Poly_Cones" else "wind_band",
                    "wind_kmh": BAND_KMH.get(cls, np.nan),
                    "valid_time": _naive_utc(props.get("polygondate")),
                    "label": str(props.get("polygonlabel", "")),
                    "geometry": geom,
                }
            )
        elif cls.startswith("Point_Polygon_Point_") and props.get("key"):
            when = _point_time(str(props["key"]), start.year)
            if when < start.replace(month=1, day=1):
                when = when.replace(year=start.year + 1)
            point = geom.centroid
            track.append(
                {
                    "valid_time": when,
                    "lat": round(point.y, 4),
                    "lon": round(point.x, 4),
                    "max_wind_kmh": None,
                    "forecast": when > issued,
                }
            )
    track.sort(key=lambda p: p["valid_time"])
    footprints = (
        gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        if rows
        else _empty_footprints()
    )
    severity = (head.get("severitydata") or {}).get("severity")
    quality: list[QualityIssue] = []
    if track:
        quality.append(
            QualityIssue(
                "partial",
                "GDACS gives the episode maximum wind only; per-point wind is unknown",
                "track",
            )
        )
    data = xr.Dataset(
        {
            "lat": (("model", "valid_time"), [[p["lat"] for p in track]]),
            "lon": (("model", "valid_time"), [[p["lon"] for p in track]]),
            "max_wind_kmh": (("model", "valid_time"), np.full((1, len(track)), np.nan)),
        },
        coords={
            "model": ["GDACS"],
            "valid_time": np.array(
                [p["valid_time"].replace(tzinfo=None) for p in track], dtype="datetime64[ns]"
            ),
        },
    )
    payload = {
        "event_id": head.get("eventid"),
        "episode_id": head.get("episodeid"),
        "name": head.get("eventname") or head.get("name"),
        "issued_at": issued,
        "alert_level": head.get("episodealertlevel") or head.get("alertlevel"),
        "alert_score": head.get("episodealertscore") or head.get("alertscore"),
        "max_wind_kmh": float(severity) if severity is not None else None,
        "source": head.get("source"),
        "track": track,
        "dropped_zero_area": dropped,
    }
    return HazardForecast(
        "gdacs",
        "footprint",
        issued,
        data=data,
        footprints=footprints,
        payload=payload,
        quality=tuple(quality),
        source_uri=raw.source_uri,
        raw_sha256=raw.sha256,
    )


def gdacs_json(forecast: HazardForecast) -> dict[str, Any]:
    p = dict(forecast.payload)
    bands = forecast.footprints
    wind = bands[bands["kind"] == "wind_band"] if bands is not None and len(bands) else bands
    cone = bands[bands["kind"] == "cone"] if bands is not None and len(bands) else bands
    return {
        "feed": "gdacs",
        "event_id": p.get("event_id"),
        "episode_id": p.get("episode_id"),
        "name": p.get("name"),
        "issued_at": iso_utc(forecast.issued_at),
        "alert_level": p.get("alert_level"),
        "alert_score": p.get("alert_score"),
        "max_wind_kmh": p.get("max_wind_kmh"),
        "track": [
            {
                "valid_time": iso_utc(t["valid_time"]),
                "lat": t["lat"],
                "lon": t["lon"],
                "max_wind_kmh": t["max_wind_kmh"],
                "forecast": t["forecast"],
            }
            for t in p.get("track", [])
        ],
        "wind_bands": [
            {
                "wind_kmh": r.wind_kmh,
                "label": r.label,
                "valid_time": iso_utc(r.valid_time) if r.valid_time else None,
                "geometry": shapely.geometry.mapping(r.geometry),
            }
            for r in (wind.itertuples() if wind is not None else [])
        ],
        "cone": [
            shapely.geometry.mapping(r.geometry)
            for r in (cone.itertuples() if cone is not None else [])
        ],
        "quality": [q.__dict__ for q in forecast.quality],
    }
