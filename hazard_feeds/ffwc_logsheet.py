"""FFWC forecast log sheets (CSV exports of FFWC's "Flood Forecast Log Sheet"), for backtests.

Layout of the real 2020 sheet (OCHA-DAP/pa-bangladesh-aa): a title line, then a header whose
quoted cells span lines ("Danger Level\\n(mPWD)"), then one row per 3-hourly time
`dd/mm/yyyy HH:MM` in Bangladesh time with the observed level, the forecast level for that
time, the danger level, the FbF danger level, the record high, "Station, River", a notification
and the team. The sheet is a snapshot: observed values stop at the time it was issued; forecast
values after that are the live 5-day forecast, those before it are earlier forecasts (kept in
the payload as `forecast_log`). A station whose (FbF) danger level is unusable is a missing
station of the run, which fails only when no station is left.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from datetime import UTC, datetime
from typing import Any

from agam.core.errors import FeedError
from agam.core.timeutil import DHAKA, utc_now
from hazard_feeds.checks import (
    bounded_number,
    check_bytes,
    check_count,
    check_year,
    observed_by_fetch,
)
from hazard_feeds.contract import HazardForecast, QualityIssue, RawArtifact
from hazard_feeds.dropped_files import newest, read_dropped
from hazard_feeds.feed_configs import FfwcLogsheetConfig
from hazard_feeds.ffwc import water_level_forecast, water_level_json
from hazard_feeds.guard import guarded_parse
from hazard_feeds.limits import current

log = logging.getLogger(__name__)

COLUMNS = {  # our key -> how the header cell starts (whitespace collapsed, lower case)
    "time": "date",
    "observed": "observed water level",
    "forecast": "forecast water level",
    "danger": "danger level",
    "fbf_danger": "fbf danger level",
    "record_high": "recorded highest water level",
    "station": "station",
    "notification": "notification",
}
DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})")
REQUIRED = ("time", "observed", "forecast", "danger", "station")
DANGER_KEYS = ("danger", "fbf_danger")  # bounded as danger levels, the rest as water levels


def _header(row: list[str]) -> dict[str, int]:
    cells = [" ".join(c.split()).lower() for c in row]
    found = {}
    for key, start in COLUMNS.items():
        # "danger level" must not match "fbf danger level": match on the start of the cell.
        index = next((i for i, c in enumerate(cells) if c.startswith(start)), None)
        if index is not None:
            found[key] = index
    missing = [COLUMNS[k] for k in REQUIRED if k not in found]
    if missing:
        raise FeedError(f"ffwc_logsheet: header lacks column(s): {', '.join(missing)}")
    return found


def _float(text: str, line: int, column: str, quantity: str = "water_level_m") -> float | None:
    """A level in m PWD (empty = none), finite and inside the physical bounds."""
    text = text.strip()
    if not text:
        return None
    field = f"row {line} column {column!r}"
    return bounded_number(text, quantity, "ffwc_logsheet", field)


def _time(text: str, line: int) -> datetime:
    """dd/mm/yyyy HH:MM in Asia/Dhaka -> UTC, within the years a forecast can have."""
    match = DATE.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        day, month, year, hour, minute = (int(g) for g in match.groups())
        local = datetime(year, month, day, hour, minute, tzinfo=DHAKA).astimezone(UTC)
    except (ValueError, OverflowError):
        raise FeedError(
            f"ffwc_logsheet: row {line} column 'Date': {text[:40]!r} is not dd/mm/yyyy HH:MM"
        ) from None
    return check_year(local, "ffwc_logsheet", f"row {line} column 'Date'")


def _once(
    firsts: dict[tuple[Any, ...], tuple[float, int]],
    what: tuple[Any, ...],
    value: float,
    line: int,
    column: str,
) -> None:
    """Refuse a second, different value for one station's danger level, or for one time's
    level: the last row would otherwise win silently."""
    first, row = firsts.setdefault(what, (value, line))
    if first != value:
        subject = f"{what[0]} at {what[2]:%d/%m/%Y %H:%M} UTC" if len(what) > 2 else what[0]
        raise FeedError(
            f"ffwc_logsheet: row {line} column {column!r}: {value:g} for {subject}, but row "
            f"{row} gives {first:g}"
        )


def _rows(content: bytes) -> list[list[str]]:
    """The CSV rows, within the byte, row and field-size limits of limits.toml [csv]."""
    limits = current().csv
    check_bytes(content, limits.max_bytes, "ffwc_logsheet", "file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FeedError("ffwc_logsheet: the file is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    rows: list[list[str]] = []
    try:
        for row in reader:
            check_count(len(rows) + 1, limits.max_rows, "ffwc_logsheet", "file", "rows")
            if any(len(cell) > limits.max_field_chars for cell in row):
                raise FeedError(
                    f"ffwc_logsheet: row {reader.line_num}: a cell is longer than "
                    f"{limits.max_field_chars:,} characters"
                )
            rows.append(row)
    except csv.Error as exc:
        raise FeedError(f"ffwc_logsheet: row {reader.line_num}: unreadable CSV ({exc})") from None
    return rows


def _danger(
    info: dict[str, Any],
    firsts: dict[tuple[Any, ...], tuple[float, int]],
    what: tuple[str, str],
    text: str,
    line: int,
    column: str,
) -> None:
    """A (FbF) danger level of a station; an unusable one makes the station `unusable`."""
    try:
        value = _float(text, line, column, "danger_level_m")
    except FeedError as exc:
        info.setdefault("unusable", str(exc))
        return
    if value is not None:
        _once(firsts, what, value, line, column)
        info[what[1]] = value


def read_logsheet(content: bytes) -> dict[str, dict[str, Any]]:
    """Station name -> {river, observed, forecast_log, danger levels, notifications}."""
    rows = _rows(content)
    start = next((i for i, r in enumerate(rows) if r and r[0].strip().lower() == "date"), None)
    if start is None:
        raise FeedError("ffwc_logsheet: no header row starting with 'Date' (not a log sheet?)")
    cols = _header(rows[start])
    stations: dict[str, dict[str, Any]] = {}
    firsts: dict[tuple[Any, ...], tuple[float, int]] = {}
    for line, row in enumerate(rows[start + 1 :], start + 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) <= max(cols.values()):
            row = row + [""] * (max(cols.values()) + 1 - len(row))
        when = _time(row[cols["time"]], line)
        name, _, river = row[cols["station"]].partition(",")
        name = name.strip() or "unknown"
        info = stations.setdefault(
            name,
            {"river": river.strip() or None, "observed": [], "forecast_log": [], "notes": []},
        )
        for key, target in (("observed", "observed"), ("forecast", "forecast_log")):
            value = _float(row[cols[key]], line, COLUMNS[key])
            if value is not None:
                _once(firsts, (name, key, when), value, line, COLUMNS[key])
                info[target].append((when, value))
        for key in DANGER_KEYS:
            if key in cols:
                _danger(info, firsts, (name, key), row[cols[key]], line, COLUMNS[key])
        if "record_high" in cols:  # it may rise during the season: no _once
            high = _float(row[cols["record_high"]], line, COLUMNS["record_high"])
            info["record_high"] = info.get("record_high") if high is None else high
        if "notification" in cols and row[cols["notification"]].strip():
            info["notes"].append((when, " ".join(row[cols["notification"]].split())))
    if not stations:
        raise FeedError("ffwc_logsheet: the sheet has a header but no rows")
    return stations


def _usable(
    stations: dict[str, dict[str, Any]], codes: dict[str, str], quality: list[QualityIssue]
) -> dict[str, dict[str, Any]]:
    """The stations whose danger levels are usable; the others noted as missing stations."""
    for name, info in stations.items():
        if "unusable" in info:
            code = codes.get(name, name)
            why = f"{name} ({code}): its danger level is unusable ({info['unusable']})"
            quality.append(QualityIssue("missing_station", why, code))
    usable = {name: info for name, info in stations.items() if "unusable" not in info}
    if not usable:
        reasons = "; ".join(q.message for q in quality)
        raise FeedError(f"ffwc_logsheet: no station in the sheet is usable ({reasons})")
    return usable


def logsheet_forecast(
    content: bytes, raw: RawArtifact, station_codes: dict[str, str]
) -> HazardForecast:
    quality: list[QualityIssue] = []
    stations = _usable(read_logsheet(content), station_codes, quality)
    for name, info in stations.items():
        label = (name, station_codes.get(name, name))
        info["observed"], dropped = observed_by_fetch(
            info["observed"], raw.fetched_at, "ffwc_logsheet", label
        )
        quality += [dropped] if dropped else []
    observed_times = [t for s in stations.values() for t, _ in s["observed"]]
    if not observed_times:
        raise FeedError("ffwc_logsheet: no observed water level: cannot tell when it was issued")
    issued = max(observed_times)
    series: dict[str, list[tuple[datetime, float]]] = {}
    meta: dict[str, dict[str, Any]] = {}
    for name, info in stations.items():
        code = station_codes.get(name, name)
        if "danger" not in info:
            raise FeedError(f"ffwc_logsheet: {name} has no danger level in any row")
        series[code] = [(t, v) for t, v in info["forecast_log"] if t >= issued]
        if not series[code]:
            quality.append(
                QualityIssue("missing_timestep", f"no forecast after issue for {name}", code)
            )
        meta[code] = {
            "code": code,
            "name": name,
            "river": info["river"],
            "danger_level_m": info["danger"],
            "fbf_danger_level_m": info.get("fbf_danger"),
            "record_high_m": info.get("record_high"),
            "observed": info["observed"],
            "forecast_log": info["forecast_log"],
            "notifications": info["notes"],
        }
    return water_level_forecast("ffwc_logsheet", series, meta, quality, raw, issued)


class FfwcLogsheetFeed:
    feed_id = "ffwc_logsheet"

    def __init__(self, config: FfwcLogsheetConfig) -> None:
        self.config = config

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        """The configured sheet, or the newest *.csv in the configured folder (no network)."""
        del http
        path = self.config.path
        if path.is_dir():
            sheet = newest(path, (".csv",))
            if sheet is None:
                raise FeedError(f"ffwc_logsheet: no *.csv log sheet in {path}")
            path = sheet
        if not path.exists() and not path.is_symlink():
            raise FeedError(f"ffwc_logsheet: {path} not found")
        content = read_dropped(self.feed_id, path, current().csv.max_bytes)
        digest = hashlib.sha256(content).hexdigest()
        if since is not None and since.sha256 == digest:
            return RawArtifact(self.feed_id, path.as_uri(), b"", "", utc_now(), not_modified=True)
        return RawArtifact(
            self.feed_id,
            path.resolve().as_uri(),
            content,
            digest,
            utc_now(),
            content_type="text/csv",
        )

    @guarded_parse
    def parse(self, raw: RawArtifact) -> HazardForecast:
        return logsheet_forecast(raw.content, raw, self.config.station_codes)

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        return water_level_json(forecast)
