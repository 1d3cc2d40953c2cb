"""Render the cyclone scenario: the REAL JTWC best track of Amphan (2020), moved to 2026, as
SYNTHETIC GDACS episodes (event list + getgeometry, the real payload layout) and SYNTHETIC BMD
special bulletins (Agam's bulletin JSON) with model landfall winds and port signals."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path

from agam.core.timeutil import DHAKA, iso_utc
from agam.scenarios.gdacs_render import Episode, episode_geometry, event_list
from agam.scenarios.manifest import Manifest
from agam.scenarios.spec import DATA, Frozen, ScenarioSpec
from hazard_feeds.atcf import KNOT_KMH, BestTrackFix, read_bdeck

LABEL = "SYNTHETIC scenario data on the REAL JTWC best track of Amphan (2020), moved to 2026"
# 1-min best-track wind (kt) -> the BMD/IMD system class it corresponds to (lower bounds).
SYSTEM_CLASSES = (
    (120, "super_cyclonic_storm"),
    (90, "extremely_severe_cyclonic_storm"),
    (64, "very_severe_cyclonic_storm"),
    (48, "severe_cyclonic_storm"),
    (34, "cyclonic_storm"),
    (28, "deep_depression"),
    (17, "depression"),
    (0, "well_marked_low"),
)


class TrackPart(Frozen):
    file: str
    name: str
    year_shift: int
    coast_lat: float


class GdacsPart(Frozen):
    event_id: int
    episode_every_hours: int
    published_after_hours: int
    forecast_hours: int
    min_wind_kt: int


class ModelPart(Frozen):
    factor: float
    averaging_minutes: int


class BmdPart(Frozen):
    every_hours: int
    published_after_hours: int
    first_bulletin: datetime
    lead_underforecast_per_day: float
    ports: list[str]
    models: dict[str, ModelPart]


def shifted_track(part: TrackPart) -> list[BestTrackFix]:
    fixes = read_bdeck(DATA / part.file)
    return [
        BestTrackFix(
            f.time.replace(year=f.time.year + part.year_shift),
            f.lat,
            f.lon,
            f.max_wind_kt,
            f.pressure_hpa,
            f.kind,
        )
        for f in fixes
    ]


def at_time(track: list[BestTrackFix], when: datetime) -> BestTrackFix:
    """The best-track state at `when`, linear between fixes (clamped at the ends)."""
    if when <= track[0].time:
        return track[0]
    for a, b in itertools.pairwise(track):
        if a.time <= when <= b.time:
            w = (when - a.time) / (b.time - a.time)
            wind = round(a.max_wind_kt + w * (b.max_wind_kt - a.max_wind_kt))
            return BestTrackFix(
                when,
                a.lat + w * (b.lat - a.lat),
                a.lon + w * (b.lon - a.lon),
                wind,
                None,
                a.kind if w < 0.5 else b.kind,
            )
    return track[-1]


def landfall(track: list[BestTrackFix], coast_lat: float) -> BestTrackFix:
    for a, b in itertools.pairwise(track):
        if a.lat < coast_lat <= b.lat:
            share = (coast_lat - a.lat) / (b.lat - a.lat)
            when = a.time + (b.time - a.time) * share
            return at_time(track, when.replace(second=0, microsecond=0))
    raise ValueError(f"the track never crosses {coast_lat}°N")


def system_type(fix: BestTrackFix) -> str:
    return next(name for floor, name in SYSTEM_CLASSES if fix.max_wind_kt >= floor)


def port_signals(hours_to_landfall: float, fix: BestTrackFix, ports: list[str]) -> dict[str, int]:
    """BMD maritime signals as they escalate: distant (2, 4), danger (7), great danger (10)."""
    near = {"Mongla", "Payra"}
    if hours_to_landfall > 72:
        level = {p: 2 for p in ports}
    elif hours_to_landfall > 36:
        level = {p: 4 for p in ports}
    elif hours_to_landfall > 18 or fix.max_wind_kt < 64:
        level = {p: 7 if p in near else 6 for p in ports}
    else:
        level = {p: 10 if p in near else 9 for p in ports}
    return level


def bulletin(
    part: BmdPart,
    serial: int,
    at: datetime,
    track: list[BestTrackFix],
    land: BestTrackFix,
    name: str,
) -> dict[str, object]:
    fix = at_time(track, at)
    lead_h = (land.time - at).total_seconds() / 3600
    doc: dict[str, object] = {
        "issued_at": (at + timedelta(hours=part.published_after_hours))
        .astimezone(DHAKA)
        .isoformat(),
        "serial": f"SL. NO. {serial} (SYNTHETIC SCENARIO BULLETIN, {LABEL})",
        "system": {
            "type": system_type(fix),
            "name": name if fix.max_wind_kt >= 34 else None,
            "lat": round(fix.lat, 1),
            "lon": round(fix.lon, 1),
            "in_bay_of_bengal": lead_h > 0,
        },
        "port_signals": port_signals(lead_h, fix, part.ports) if lead_h > 0 else {},
    }
    if 0 < lead_h <= 120:
        doc["landfall"] = {
            "lat": round(land.lat, 2),
            "lon": round(land.lon, 2),
            "time": land.time.astimezone(DHAKA).isoformat(),
        }
        shrink = 1.0 - part.lead_underforecast_per_day * lead_h / 24
        doc["model_winds"] = [
            {
                "model": model,
                "averaging_minutes": m.averaging_minutes,
                "max_wind_kmh": round(land.max_wind_kt * KNOT_KMH * m.factor * shrink),
                "valid_time": land.time.astimezone(DHAKA).isoformat(),
            }
            for model, m in part.models.items()
        ]
    return doc


def render(spec: ScenarioSpec, folder: Path) -> Manifest:
    extra = spec.extra
    track_part = TrackPart.model_validate(extra["track"])
    gdacs = GdacsPart.model_validate(extra["gdacs"])
    bmd = BmdPart.model_validate(extra["bmd"])
    track = shifted_track(track_part)
    land = landfall(track, track_part.coast_lat)
    manifest = Manifest(folder, spec.id, LABEL)
    api = "/gdacs/gdacsapi/api/"
    empty = json.dumps({"type": "FeatureCollection", "features": []}).encode()
    manifest.publish(
        f"{api}events/geteventlist/EVENTS4APP",
        spec.play_from - timedelta(days=1),
        "gdacs/eventlist-empty.json",
        empty,
        "application/json",
    )
    at, episode = track[0].time, 0
    while at <= track[-1].time:
        fix = at_time(track, at)
        if fix.max_wind_kt >= gdacs.min_wind_kt or episode:
            episode += 1
            shown = at + timedelta(hours=gdacs.published_after_hours)
            ep = Episode(track, at, episode, gdacs, track_part.name, LABEL, at_time)
            geo, listing = episode_geometry(ep), event_list(ep)
            query = f"eventtype=TC&eventid={gdacs.event_id}&episodeid={episode}"
            manifest.publish(
                f"{api}polygons/getgeometry?{query}",
                shown,
                f"gdacs/geometry-{episode:03d}.json",
                geo,
                "application/json",
            )
            manifest.publish(
                f"{api}events/geteventlist/EVENTS4APP",
                shown,
                f"gdacs/eventlist-{episode:03d}.json",
                listing,
                "application/json",
            )
        at += timedelta(hours=gdacs.episode_every_hours)
    at, serial = bmd.first_bulletin, 1
    while at <= land.time + timedelta(hours=bmd.every_hours):
        doc = bulletin(bmd, serial, at, track, land, track_part.name)
        name = f"bmd/bulletin-{iso_utc(at).replace(':', '')}.json"
        manifest.publish(
            "drop/bmd",
            at + timedelta(hours=bmd.published_after_hours),
            name,
            json.dumps(doc, indent=1, ensure_ascii=False).encode(),
            "application/json",
        )
        at += timedelta(hours=bmd.every_hours)
        serial += 1
    manifest.save()
    return manifest
