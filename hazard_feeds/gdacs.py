"""GDACS tropical cyclones: event list + polygons/getgeometry per episode.

The payload semantics (advisory time, segment flags, timestep bands vs whole-track swaths)
are described in hazard_feeds/gdacs_geometry.py. An event list given on its own (a saved
`geteventlist` response) yields the Bay of Bengal events touching Bangladesh, without
geometry; never the first event in the world. GDACS gives the episode's maximum wind
(`severitydata`), not a wind per point, so per-point wind stays unknown (None/NaN) unless a
payload carries one in km/h. Use GDACS for display and cross-checks, not as a trigger.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr

from agam.core.errors import FeedError
from agam.core.timeutil import iso_utc, utc_now
from hazard_feeds.bundle import Part, is_bundle, load_json, make_bundle, read_bundle
from hazard_feeds.checks import latest_issue_time
from hazard_feeds.contract import HazardForecast, QualityIssue, RawArtifact
from hazard_feeds.feed_configs import GdacsConfig
from hazard_feeds.gdacs_checks import MAX_ID_DIGITS, check_eventlist, check_geometry_doc
from hazard_feeds.gdacs_episodes import EpisodeBehind, episodes_behind
from hazard_feeds.gdacs_geometry import is_event_list, naive_utc, parse_event
from hazard_feeds.guard import guarded_parse

log = logging.getLogger(__name__)


def _overlaps(bbox: list[float] | None, box: tuple[float, float, float, float]) -> bool:
    if not bbox or len(bbox) < 4:
        return False
    west, south, east, north = box
    return bbox[0] <= east and bbox[2] >= west and bbox[1] <= north and bbox[3] >= south


def relevant_events(eventlist: dict[str, Any], cfg: GdacsConfig) -> list[dict[str, Any]]:
    """TC events touching Bangladesh or the Bay of Bengal box, current and newest first."""
    if not isinstance(eventlist, dict) or not isinstance(eventlist.get("features"), list):
        raise FeedError("gdacs: event list has an unknown schema (no `features` list)")
    check_eventlist(eventlist)
    west, south, east, north = cfg.bay_of_bengal_box
    hits = []
    for index, feature in enumerate(eventlist["features"]):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            raise FeedError(f"gdacs: event list feature {index} has no properties object")
        if props.get("eventtype") != "TC":
            continue
        for key in ("eventid", "episodeid"):
            text = str(props.get(key, ""))
            if not (text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS):
                raise FeedError(f"gdacs: event list feature {index} field {key} is not a number")
        iso3 = {c.get("iso3") for c in props.get("affectedcountries") or [] if isinstance(c, dict)}
        geometry = feature.get("geometry") or {}
        point = geometry.get("type") == "Point"  # an event's position is its centroid point
        lon, lat = geometry["coordinates"][:2] if point else (None, None)
        in_box = (
            isinstance(lon, int | float)
            and isinstance(lat, int | float)
            and west <= lon <= east
            and south <= lat <= north
        )
        if (
            iso3 & set(cfg.countries_iso3)
            or in_box
            or _overlaps(feature.get("bbox"), cfg.bay_of_bengal_box)
        ):
            hits.append(props)
    hits.sort(  # current first, then the newest advisory (`todate`), never the record's edit
        key=lambda p: (str(p.get("iscurrent")).lower() == "true", str(p.get("todate") or "")),
        reverse=True,
    )
    return hits[: cfg.max_events]


class GdacsFeed:
    feed_id = "gdacs"

    def __init__(self, config: GdacsConfig) -> None:
        self.config = config

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        """Event list (conditional GET) + getgeometry for each relevant event, as one bundle."""
        base = self.config.base_url.rstrip("/")
        url = base + "/" + self.config.event_list_path.lstrip("/")
        listing = http.get(url, feed_id=self.feed_id, since=since, accept="application/json")
        if listing.not_modified:
            return listing  # type: ignore[no-any-return]
        eventlist = load_json(listing.content, self.feed_id, "event list")
        parts = [Part("eventlist", listing.source_uri, _text(listing.content, "event list"))]
        for props in relevant_events(eventlist, self.config):
            # Built from our own base URL: never follow URLs found inside feed content.
            event_id, episode_id = int(props["eventid"]), int(props["episodeid"])
            geo_url = (
                f"{base}/polygons/getgeometry?eventtype=TC&eventid={event_id}"
                f"&episodeid={episode_id}"
            )
            geo = http.get(geo_url, feed_id=self.feed_id, accept="application/json")
            name = f"geometry-{event_id}-{episode_id}"
            parts.append(Part(name, geo.source_uri, _text(geo.content, name)))
        log.info("gdacs: %d relevant TC event(s)", len(parts) - 1)
        return make_bundle(self.feed_id, parts, utc_now(), listing.etag, listing.last_modified)

    def behind_in_force(
        self, fetched: HazardForecast, in_force: HazardForecast
    ) -> list[EpisodeBehind]:
        """Cyclones `fetched` carries at an earlier episode than the list in force."""
        return episodes_behind(fetched.payload, in_force.payload)

    @guarded_parse
    def parse(self, raw: RawArtifact) -> HazardForecast:
        listing: dict[str, Any] = {"features": []}
        if is_bundle(raw.content):
            parts = read_bundle(raw.content, self.feed_id)
            geo_parts = [p for p in parts if p.name.startswith("geometry-")]
            docs = [_geometry_doc(p.body, p.name, raw) for p in geo_parts]
            parts_names = [p.name for p in geo_parts]
            for p in parts:
                if p.name == "eventlist":
                    listing = check_eventlist(load_json(p.body, self.feed_id, "event list"))
        else:
            doc = _geometry_doc(raw.content, "getgeometry response", raw)
            if is_event_list(doc):
                return _listed_only(doc, raw, self.config)
            docs, parts_names = [doc], ["getgeometry"]
        usable = [d for d in docs if not (isinstance(d, dict) and d.get("features") == [])]
        if not usable:
            return _no_event(listing, raw)
        events = [parse_event(doc, raw.fetched_at) for doc in usable]
        return _forecast(events, raw, _without_geometry(parts_names, docs))

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        return gdacs_json(forecast)


def _geometry_doc(body: str | bytes, what: str, raw: RawArtifact) -> Any:
    """A getgeometry document, its shape and ranges checked (hazard_feeds.gdacs_checks)."""
    return check_geometry_doc(load_json(body, "gdacs", what), raw.fetched_at.year, what)


def _text(content: bytes, what: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise FeedError(f"gdacs: {what} is not UTF-8 text") from None


def _empty_footprints() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"event_id": [], "kind": [], "wind_kmh": [], "valid_time": [], "valid_to": [], "label": []},
        geometry=[],
        crs="EPSG:4326",
    )


def _listed_time(props: dict[str, Any]) -> datetime | None:
    """An event's latest advisory as the list gives it (`todate`), never `datemodified`."""
    return naive_utc(props.get("todate")) or naive_utc(props.get("fromdate"))


def _no_event(listing: dict[str, Any], raw: RawArtifact) -> HazardForecast:
    """No relevant cyclone: an empty footprint, as of the newest advisory GDACS lists. An
    event dated after the fetch (any hazard, anywhere) does not date the list: it would make
    the whole list "issued after it was fetched", refused at every run."""
    latest = latest_issue_time(raw.fetched_at)
    times = [_listed_time(f.get("properties") or {}) for f in listing["features"]]
    issued = max((t for t in times if t is not None and t <= latest), default=raw.fetched_at)
    return HazardForecast(
        "gdacs",
        "footprint",
        issued,
        footprints=_empty_footprints(),
        payload={"events": [], "event_id": None, "track": []},
        source_uri=raw.source_uri,
        raw_sha256=raw.sha256,
    )


def _listed_only(listing: dict[str, Any], raw: RawArtifact, cfg: GdacsConfig) -> HazardForecast:
    """A saved event list: the Bay of Bengal events touching Bangladesh, without geometry."""
    hits = relevant_events(listing, cfg)
    if not hits:
        return _no_event(listing, raw)
    events: list[dict[str, Any]] = [
        {
            "event_id": int(p["eventid"]),
            "episode_id": int(p["episodeid"]),
            "name": p.get("eventname") or p.get("name"),
            "issued_at": _listed_time(p) or raw.fetched_at,
            "alert_level": p.get("episodealertlevel") or p.get("alertlevel"),
            "alert_score": p.get("episodealertscore") or p.get("alertscore"),
            "max_wind_kmh": (p.get("severitydata") or {}).get("severity"),
            "affected_iso3": [
                c.get("iso3") for c in p.get("affectedcountries") or [] if isinstance(c, dict)
            ],
            "track": [],
        }
        for p in hits
    ]
    issue = QualityIssue(
        "partial",
        "an event list carries no geometry: fetch polygons/getgeometry for "
        + ", ".join(
            f"{e['name']} (event {e['event_id']}, episode {e['episode_id']})" for e in events
        ),
        "track",
    )
    payload = dict(events[0]) | {"events": events, "dropped_zero_area": 0}
    return HazardForecast(
        "gdacs",
        "footprint",
        max(_listed_time(p) or raw.fetched_at for p in hits),
        footprints=_empty_footprints(),
        payload=payload,
        quality=(issue,),
        source_uri=raw.source_uri,
        raw_sha256=raw.sha256,
    )


def _without_geometry(names: list[str], docs: list[Any]) -> list[QualityIssue]:
    """Events GDACS listed but whose geometry came back empty: reported, not dropped."""
    return [
        QualityIssue(
            "partial", f"GDACS returned no geometry for {n}", n.split("-")[1 if "-" in n else 0]
        )
        for n, d in zip(names, docs, strict=True)
        if isinstance(d, dict) and d.get("features") == []
    ]


def _forecast(
    events: list[dict[str, Any]], raw: RawArtifact, extra: list[QualityIssue] | None = None
) -> HazardForecast:
    main = events[0]
    rows = [r for e in events for r in e["rows"]]
    footprints = (
        gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        if rows
        else _empty_footprints()
    )
    track = main["track"]
    quality: list[QualityIssue] = []
    if any(p["max_wind_kmh"] is None for p in track):
        quality.append(
            QualityIssue(
                "partial",
                "GDACS gives the episode maximum wind and a category per segment; "
                "per-point wind is unknown",
                "track",
            )
        )
    quality += [
        QualityIssue(
            "repaired",
            f"GDACS event {e['event_id']}: a wind band crossing itself was repaired: {where}",
            "footprints",
        )
        for e in events
        for where in e.get("repaired_bands", [])
    ]
    quality += extra or []
    winds = [np.nan if p["max_wind_kmh"] is None else p["max_wind_kmh"] for p in track]
    data = xr.Dataset(
        {
            "lat": (("model", "valid_time"), [[p["lat"] for p in track]]),
            "lon": (("model", "valid_time"), [[p["lon"] for p in track]]),
            "max_wind_kmh": (("model", "valid_time"), np.asarray([winds], dtype="float64")),
        },
        coords={
            "model": ["GDACS"],
            "valid_time": np.array(
                [p["valid_time"].replace(tzinfo=None) for p in track], dtype="datetime64[ns]"
            ),
        },
    )
    payload = {k: v for k, v in main.items() if k != "rows"}
    payload["events"] = [{k: v for k, v in e.items() if k != "rows"} for e in events]
    return HazardForecast(
        "gdacs",
        "footprint",
        main["issued_at"],
        data=data,
        footprints=footprints,
        payload=payload,
        quality=tuple(quality),
        source_uri=raw.source_uri,
        raw_sha256=raw.sha256,
    )


def _event_json(event: dict[str, Any], bands: Any) -> dict[str, Any]:
    mine = bands[bands["event_id"] == event["event_id"]] if len(bands) else bands
    wind = mine[mine["kind"].isin(["wind_band", "wind_swath"])] if len(mine) else mine
    cone = mine[mine["kind"] == "cone"] if len(mine) else mine
    return {
        "event_id": event.get("event_id"),
        "episode_id": event.get("episode_id"),
        "name": event.get("name"),
        "issued_at": iso_utc(event["issued_at"]) if event.get("issued_at") else None,
        "alert_level": event.get("alert_level"),
        "alert_score": event.get("alert_score"),
        "max_wind_kmh": event.get("max_wind_kmh"),
        "affected_iso3": event.get("affected_iso3", []),
        "track": [
            {
                "valid_time": iso_utc(t["valid_time"]),
                "lat": t["lat"],
                "lon": t["lon"],
                "max_wind_kmh": t["max_wind_kmh"],
                "category": t.get("category"),
                "forecast": t["forecast"],
            }
            for t in event.get("track", [])
        ],
        "wind_bands": [
            {
                "wind_kmh": float(r.wind_kmh),
                "label": r.label,
                "kind": r.kind,
                "valid_time": iso_utc(r.valid_time) if isinstance(r.valid_time, datetime) else None,
                "valid_to": iso_utc(r.valid_to) if isinstance(r.valid_to, datetime) else None,
                "geometry": shapely.geometry.mapping(r.geometry),
            }
            for r in wind.itertuples()
        ],
        "cone": [shapely.geometry.mapping(r.geometry) for r in cone.itertuples()],
    }


def gdacs_json(forecast: HazardForecast) -> dict[str, Any]:
    """The main event's fields at the top level, every relevant event under `events`."""
    p = forecast.payload
    bands = forecast.footprints if forecast.footprints is not None else _empty_footprints()
    events = [_event_json(e, bands) for e in p.get("events", [])]
    top = events[0] if events else {"event_id": None, "name": None, "track": [], "wind_bands": []}
    return {
        "feed": "gdacs",
        **top,
        "issued_at": iso_utc(forecast.issued_at),
        "dropped_zero_area": p.get("dropped_zero_area", 0),
        "events": events,
        "quality": [
            {"code": q.code, "message": q.message, "subject": q.subject} for q in forecast.quality
        ],
    }
