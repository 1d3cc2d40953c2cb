"""ATCF best-track b-deck files (JTWC `b<basin><nn><yyyy>.dat`) -> one row per 6-hourly fix.

Format: comma-separated, fields BASIN, CY, YYYYMMDDHH, TECHNUM, TECH, TAU, LatN/S (tenths,
"95N"), LonE/W (tenths, "875E"), VMAX (kt, 1-min), MSLP (hPa), TY, RAD, … Each fix repeats
once per wind-radius threshold (34/50/64 kt); the position and intensity are the same, so
the first row of each time is kept.
https://www.metoc.navy.mil/jtwc/jtwc.html?best-tracks (format: ATCF "b-deck").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agam.core.errors import FeedError

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


def _coordinate(text: str, where: str, field: str) -> float:
    text = text.strip()
    if len(text) < 2 or text[-1] not in "NSEW" or not text[:-1].isdigit():
        raise FeedError(f"{where}: field {field}: {text!r} is not an ATCF coordinate")
    value = int(text[:-1]) / 10.0
    return -value if text[-1] in "SW" else value


def read_bdeck(path: Path) -> list[BestTrackFix]:
    """Parse a b-deck; errors name the file, line and field."""
    try:
        lines = path.read_text(encoding="ascii", errors="strict").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedError(f"{path}: cannot read b-deck ({exc})") from None
    fixes: dict[datetime, BestTrackFix] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cols = [c.strip() for c in line.split(",")]
        where = f"{path.name} line {number}"
        if len(cols) < 11 or cols[4] != "BEST":
            raise FeedError(f"{where}: not a BEST track record ({len(cols)} fields)")
        try:
            time = datetime.strptime(cols[2], "%Y%m%d%H").replace(tzinfo=UTC)
        except ValueError:
            raise FeedError(f"{where}: field YYYYMMDDHH: {cols[2]!r} is not a time") from None
        if time in fixes:
            continue
        if not cols[8].isdigit():
            raise FeedError(f"{where}: field VMAX: {cols[8]!r} is not knots")
        fixes[time] = BestTrackFix(
            time=time,
            lat=_coordinate(cols[6], where, "Lat"),
            lon=_coordinate(cols[7], where, "Lon"),
            max_wind_kt=int(cols[8]),
            pressure_hpa=int(cols[9]) if cols[9].isdigit() else None,
            kind=cols[10],
        )
    if not fixes:
        raise FeedError(f"{path}: no best-track fixes")
    return [fixes[t] for t in sorted(fixes)]
