"""ATCF best-track b-deck files (JTWC `b<basin><nn><yyyy>.dat`) -> one row per 6-hourly fix.

Format: comma-separated, fields BASIN, CY, YYYYMMDDHH, TECHNUM, TECH, TAU, LatN/S (tenths,
"95N"), LonE/W (tenths, "875E"), VMAX (kt, 1-min), MSLP (hPa), TY, RAD, … Each fix repeats
once per wind-radius threshold (34/50/64 kt) with the same position and intensity: every row
is checked, one fix is kept per time, and a time whose rows disagree on position, wind,
pressure or kind is refused, naming both lines (keeping either would be a guess). Positions,
winds and pressures must be physically possible (limits.toml), a pressure of 0 means "not
given".
https://www.metoc.navy.mil/jtwc/jtwc.html?best-tracks (format: ATCF "b-deck").

There is no ATCF feed to schedule: `AtcfParser` lets `agam feeds parse atcf FILE` read one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from agam.core.errors import FeedError
from agam.core.timeutil import iso_utc
from hazard_feeds.checks import check_bytes, check_count, check_year, in_bounds
from hazard_feeds.contract import HazardForecast, RawArtifact
from hazard_feeds.guard import guarded_parse
from hazard_feeds.limits import current

KNOT_KMH = 1.852


@dataclass(frozen=True)
class BestTrackFix:
    time: datetime  # UTC
    lat: float
    lon: float
    max_wind_kt: int  # 1-minute sustained
    pressure_hpa: int | None
    kind: str  # TD, TS, TY, ST, DB, …

    @property
    def max_wind_kmh(self) -> float:
        return self.max_wind_kt * KNOT_KMH


def _coordinate(text: str, where: str, field: str, quantity: str) -> float:
    text = text.strip()
    if not (2 <= len(text) <= 6) or text[-1] not in "NSEW" or not text[:-1].isdigit():
        raise FeedError(f"{where}: field {field}: {text[:20]!r} is not an ATCF coordinate")
    if (text[-1] in "NS") != (field == "Lat"):
        raise FeedError(f"{where}: field {field}: {text!r} has the wrong hemisphere letter")
    value = int(text[:-1]) / 10.0
    value = -value if text[-1] in "SW" else value
    return in_bounds(value, quantity, "atcf", f"{where}: field {field}")


def _integer(text: str, where: str, field: str, unit: str) -> int:
    if not (text.isdigit() and len(text) <= 5):
        raise FeedError(f"{where}: field {field}: {text[:20]!r} is not {unit}")
    return int(text)


def _fix(cols: list[str], time: datetime, where: str) -> BestTrackFix:
    wind_kt = _integer(cols[8], where, "VMAX", "knots")
    in_bounds(wind_kt * KNOT_KMH, "wind_kmh", "atcf", f"{where}: field VMAX")
    pressure = _integer(cols[9], where, "MSLP", "hPa") if cols[9] else 0
    if pressure:
        in_bounds(pressure, "pressure_hpa", "atcf", f"{where}: field MSLP")
    return BestTrackFix(
        time=time,
        lat=_coordinate(cols[6], where, "Lat", "latitude_deg"),
        lon=_coordinate(cols[7], where, "Lon", "longitude_deg"),
        max_wind_kt=wind_kt,
        pressure_hpa=pressure or None,  # 0 = not given
        kind=cols[10],
    )


def parse_bdeck(content: bytes, name: str) -> list[BestTrackFix]:
    """Parse b-deck bytes; errors name the file, line and field."""
    limits = current().atcf
    check_bytes(content, limits.max_bytes, "atcf", name)
    try:
        lines = content.decode("ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise FeedError(f"{name}: cannot read b-deck ({exc})") from None
    check_count(len(lines), limits.max_lines, "atcf", name, "lines")
    fixes: dict[datetime, tuple[BestTrackFix, int]] = {}  # the fix, its first line
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cols = [c.strip() for c in line.split(",")]
        where = f"{name} line {number}"
        if len(cols) < 11 or cols[4] != "BEST":
            raise FeedError(f"{where}: not a BEST track record ({len(cols)} fields)")
        try:
            time = datetime.strptime(cols[2], "%Y%m%d%H").replace(tzinfo=UTC)
        except ValueError:
            raise FeedError(f"{where}: field YYYYMMDDHH: {cols[2][:20]!r} is not a time") from None
        check_year(time, "atcf", f"{where}: field YYYYMMDDHH")
        fix = _fix(cols, time, where)
        first = fixes.setdefault(time, (fix, number))
        if first[0] != fix:
            raise FeedError(
                f"{where}: the fix of {cols[2]} differs from line {first[1]}'s "
                f"({_described(fix)} against {_described(first[0])}); one time, one fix"
            )
    if not fixes:
        raise FeedError(f"{name}: no best-track fixes")
    return [fixes[t][0] for t in sorted(fixes)]


def _described(fix: BestTrackFix) -> str:
    pressure = f"{fix.pressure_hpa} hPa" if fix.pressure_hpa else "no pressure"
    return f"{fix.lat:.1f}, {fix.lon:.1f}, {fix.max_wind_kt} kt, {pressure}, {fix.kind}"


def read_bdeck(path: Path) -> list[BestTrackFix]:
    """Parse a b-deck file; errors name the file, line and field."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"{path}: cannot read b-deck ({exc.strerror})") from None
    return parse_bdeck(content, path.name)


class AtcfParser:
    """Offline only (no fetch, no schedule): a b-deck as a "track" forecast for inspection."""

    feed_id = "atcf"

    @guarded_parse
    def parse(self, raw: RawArtifact) -> HazardForecast:
        name = raw.source_uri.rsplit("/", 1)[-1] or "b-deck"
        fixes = parse_bdeck(raw.content, name)
        data = xr.Dataset(
            {
                "lat": (("model", "valid_time"), [[f.lat for f in fixes]]),
                "lon": (("model", "valid_time"), [[f.lon for f in fixes]]),
                "max_wind_kmh": (("model", "valid_time"), [[f.max_wind_kmh for f in fixes]]),
                "pressure_hpa": (
                    ("model", "valid_time"),
                    [[np.nan if f.pressure_hpa is None else f.pressure_hpa for f in fixes]],
                ),
            },
            coords={
                "model": ["BEST"],
                "valid_time": np.array(
                    [f.time.replace(tzinfo=None) for f in fixes], dtype="datetime64[ns]"
                ),
            },
        )
        return HazardForecast(
            self.feed_id,
            "track",
            fixes[-1].time,
            data=data,
            payload={"fixes": fixes},
            source_uri=raw.source_uri,
            raw_sha256=raw.sha256,
        )

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        return {
            "feed": self.feed_id,
            "issued_at": iso_utc(forecast.issued_at),
            "track": [
                {
                    "time": iso_utc(f.time),
                    "lat": f.lat,
                    "lon": f.lon,
                    "max_wind_kt": f.max_wind_kt,
                    "max_wind_kmh": round(f.max_wind_kmh, 1),
                    "pressure_hpa": f.pressure_hpa,
                    "kind": f.kind,
                }
                for f in forecast.payload["fixes"]
            ],
        }
