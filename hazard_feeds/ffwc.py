"""FFWC (BWDB) water levels: station list with danger levels, observed and 5/7-day forecasts.

The api.ffwc.gov.bd/data_load/ endpoints are undocumented and vary, so an adapter accepts the
field variants seen in the wild (`dl`/`dangerlevel`, `station`/`name`, `lat`/`long`/`latitude`,
`fc_date`/`date`, `waterlevel`/`wl`, numbers as strings) and rejects anything else with a
FeedError naming the endpoint, the record index and the field. The danger level is read from the
feed and kept with every forecast (DOMAIN.md §2.2: never hard-code it). Times with an offset or
Z are honoured; times without one are Bangladesh time (UTC+6), as FFWC writes them.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from agam.core.errors import FeedError
from agam.core.timeutil import DHAKA, iso_utc, utc_now
from hazard_feeds.bundle import Part, is_bundle, load_json, make_bundle, read_bundle
from hazard_feeds.config import FeedConfig
from hazard_feeds.contract import HazardForecast, QualityIssue, RawArtifact

log = logging.getLogger(__name__)

ID_FIELDS = ("id", "st_id", "station_id")
NAME_FIELDS = ("station", "name", "station_name")
DL_FIELDS = ("dl", "dangerlevel", "danger_level")
LAT_FIELDS = ("lat", "latitude")
LON_FIELDS = ("long", "lon", "lng", "longitude")
LEVEL_FIELDS = ("waterlevel", "wl", "water_level")
TIME_FIELDS = ("fc_date", "wl_date", "date", "datetime")

Series = list[tuple[datetime, float]]


class StationRef(BaseModel):
    """A station we follow: BWDB code, FFWC's spelling, optional FFWC numeric id."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(min_length=2)  # BWDB station code, e.g. SW46.9L
    name: str = Field(min_length=2)  # as FFWC spells it in the station list
    ffwc_id: int | None = None  # FFWC's numeric `id`; None = look it up by name
    aliases: tuple[str, ...] = ()  # other spellings (Goalundo / Goalondo / Goalanda)

    def matches(self, name: str) -> bool:
        wanted = {self.name.lower(), *(a.lower() for a in self.aliases)}
        return name.strip().lower() in wanted


DEFAULT_STATIONS = (
    StationRef(code="SW46.9L", name="Bahadurabad"),
    StationRef(code="SW91.9R", name="Goalundo", aliases=("Goalondo", "Goalanda")),
    StationRef(code="SW93.5L", name="Mawa"),
)


class FfwcConfig(FeedConfig):
    base_url: str = "https://api.ffwc.gov.bd/data_load/"
    stations_path: str = "stations-2025/?format=json"
    observed_path: str = "observed/"
    forecast_path: str = "seven-days-forecast-waterlevel-by-station/{station_id}/"
    max_age_hours: float = 30.0
    stations: tuple[StationRef, ...] = DEFAULT_STATIONS


def _pick(record: dict[str, Any], fields: tuple[str, ...], where: str, index: int) -> Any:
    for name in fields:
        if record.get(name) not in (None, ""):
            return record[name]
    also = ", ".join(fields[1:])
    raise FeedError(
        f"ffwc: {where} record {index}: missing field {fields[0]} (also accepted: {also})"
    )


def _optional(record: dict[str, Any], fields: tuple[str, ...]) -> tuple[str, Any] | None:
    return next(((f, record[f]) for f in fields if record.get(f) not in (None, "")), None)


def _number(value: Any, where: str, index: int, field: str) -> float:
    if isinstance(value, bool):
        value = "bool"
    try:
        number = float(str(value).strip())
    except ValueError:
        raise FeedError(
            f"ffwc: {where} record {index} field {field}: {value!r} is not a number"
        ) from None
    if not math.isfinite(number):
        raise FeedError(f"ffwc: {where} record {index} field {field}: not a finite number")
    return number


def parse_time(value: Any, where: str, index: int, field: str = "date") -> datetime:
    """ISO-8601 with Z/offset as given; without one it is Bangladesh time (UTC+6)."""
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise FeedError(
            f"ffwc: {where} record {index} field {field}: {value!r} is not ISO-8601"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=DHAKA)
    return parsed.astimezone(UTC)


def _records(body: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        for key in ("results", "data", "stations", "forecast"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
    if not isinstance(body, list):
        raise FeedError(f"ffwc: {where} has an unknown schema (expected a list of records)")
    for i, record in enumerate(body):
        if not isinstance(record, dict):
            raise FeedError(f"ffwc: {where} record {i} is a {type(record).__name__}, not an object")
    return body


def normalise_stations(body: Any, where: str = "station list") -> list[dict[str, Any]]:
    """Station list -> [{ffwc_id, name, river, danger_level_m, lat, lon}]."""
    out = []
    for i, rec in enumerate(_records(body, where)):
        lat, lon = _optional(rec, LAT_FIELDS), _optional(rec, LON_FIELDS)
        dl_field = next((f for f in DL_FIELDS if rec.get(f) not in (None, "")), DL_FIELDS[0])
        out.append(
            {
                "ffwc_id": str(_pick(rec, ID_FIELDS, where, i)).strip(),
                "name": str(_pick(rec, NAME_FIELDS, where, i)).strip(),
                "river": rec.get("river"),
                "danger_level_m": _number(_pick(rec, DL_FIELDS, where, i), where, i, dl_field),
                "lat": _number(lat[1], where, i, lat[0]) if lat else None,
                "lon": _number(lon[1], where, i, lon[0]) if lon else None,
            }
        )
    return out


def normalise_series(body: Any, where: str) -> Series:
    """[{fc_date|wl_date|date, waterlevel|wl}] -> sorted [(utc time, metres)]."""
    series = []
    for i, rec in enumerate(_records(body, where)):
        t_field = next((f for f in TIME_FIELDS if rec.get(f) not in (None, "")), TIME_FIELDS[0])
        l_field = next((f for f in LEVEL_FIELDS if rec.get(f) not in (None, "")), LEVEL_FIELDS[0])
        when = parse_time(_pick(rec, TIME_FIELDS, where, i), where, i, t_field)
        series.append((when, _number(_pick(rec, LEVEL_FIELDS, where, i), where, i, l_field)))
    return sorted(series)


def _observed(body: Any, where: str) -> dict[str, Series]:
    out: dict[str, Series] = {}
    for i, rec in enumerate(_records(body, where)):
        name = str(_pick(rec, NAME_FIELDS, where, i)).strip().lower()
        out.setdefault(name, []).extend(normalise_series([rec], where))
    return {k: sorted(v) for k, v in out.items()}


def _endpoint(part: Part) -> str:
    """How an error names the endpoint: the URL path below data_load/, else the part name."""
    return part.url.split("data_load/", 1)[-1] if "data_load/" in part.url else part.name


def find_station(stations: list[dict[str, Any]], ref: StationRef) -> dict[str, Any] | None:
    if ref.ffwc_id is not None:
        hit = next((s for s in stations if s["ffwc_id"] == str(ref.ffwc_id)), None)
        if hit is not None:
            return hit
    return next((s for s in stations if ref.matches(s["name"])), None)


class FfwcFeed:
    feed_id = "ffwc"

    def __init__(self, config: FfwcConfig) -> None:
        self.config = config

    def _url(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + "/" + path.lstrip("/")

    def _get(self, http: Any, path: str, name: str) -> Part:
        raw: RawArtifact = http.get(
            self._url(path), feed_id=self.feed_id, accept="application/json"
        )
        try:
            body = raw.content.decode("utf-8")
        except UnicodeDecodeError:
            raise FeedError(f"ffwc: {path} is not UTF-8 text") from None
        return Part(name, raw.source_uri, body)

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        """Station list + observed + one forecast per configured station, as one bundle."""
        del since  # FFWC sends no validators; the pipeline dedupes on the bundle's sha256
        listing = self._get(http, self.config.stations_path, "stations")
        stations = normalise_stations(
            load_json(listing.body, self.feed_id, self.config.stations_path),
            self.config.stations_path,
        )
        parts = [listing, self._get(http, self.config.observed_path, "observed")]
        for ref in self.config.stations:
            station = find_station(stations, ref)
            if station is None:
                log.warning("ffwc: %s (%s) is not in the station list", ref.name, ref.code)
                continue  # parse reports it as a missing station
            path = self.config.forecast_path.format(station_id=station["ffwc_id"])
            parts.append(self._get(http, path, f"forecast-{ref.code}"))
        return make_bundle(self.feed_id, parts, utc_now())

    def parse(self, raw: RawArtifact) -> HazardForecast:
        if not is_bundle(raw.content):
            raise FeedError(
                "ffwc: expected an Agam bundle of station list, observed and forecast "
                "responses (use the `ffwc_logsheet` feed for FFWC log-sheet CSV files)"
            )
        parts = {p.name: p for p in read_bundle(raw.content, self.feed_id)}
        if "stations" not in parts:
            raise FeedError("ffwc: bundle has no station list")
        where = _endpoint(parts["stations"])
        stations = normalise_stations(load_json(parts["stations"].body, "ffwc", where), where)
        observed: dict[str, Series] = {}
        if "observed" in parts:
            where = _endpoint(parts["observed"])
            observed = _observed(load_json(parts["observed"].body, "ffwc", where), where)
        quality: list[QualityIssue] = []
        series: dict[str, Series] = {}
        meta: dict[str, dict[str, Any]] = {}
        for ref in self.config.stations:
            station = find_station(stations, ref)
            part = parts.get(f"forecast-{ref.code}")
            if station is None or part is None:
                quality.append(
                    QualityIssue(
                        "missing_station", f"{ref.name} ({ref.code}) not in this FFWC run", ref.code
                    )
                )
                continue
            where = _endpoint(part)
            points = normalise_series(load_json(part.body, "ffwc", where), where)
            if not points:
                quality.append(
                    QualityIssue("missing_timestep", f"no forecast for {ref.name}", ref.code)
                )
            series[ref.code] = points
            seen = next((v for k, v in observed.items() if ref.matches(k)), [])
            meta[ref.code] = station | {"code": ref.code, "observed": seen}
        return water_level_forecast(self.feed_id, series, meta, quality, raw)

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        return water_level_json(forecast)


def water_level_forecast(
    feed_id: str,
    series: dict[str, Series],
    meta: dict[str, dict[str, Any]],
    quality: list[QualityIssue],
    raw: RawArtifact,
    issued_at: datetime | None = None,
) -> HazardForecast:
    """station_series with water_level_m (member 0) and danger_level_m as a station coordinate."""
    codes = list(series)
    times = sorted({t for points in series.values() for t, _ in points})
    values = np.full((1, len(times), len(codes)), np.nan)
    index = {t: i for i, t in enumerate(times)}
    for j, code in enumerate(codes):
        for when, level in series[code]:
            values[0, index[when], j] = level
    observed_times = [t for info in meta.values() for t, _ in info["observed"]]
    issued = issued_at or (
        max(observed_times) if observed_times else (min(times) if times else raw.fetched_at)
    )
    data = xr.Dataset(
        {"water_level_m": (("member", "valid_time", "station"), values)},
        coords={
            "member": [0],
            "station": codes,
            "valid_time": np.array([t.replace(tzinfo=None) for t in times], dtype="datetime64[ns]"),
            "danger_level_m": ("station", [meta[c]["danger_level_m"] for c in codes]),
            "name": ("station", [meta[c]["name"] for c in codes]),
        },
        attrs={"source": feed_id, "units": "m PWD"},
    )
    return HazardForecast(
        feed_id,
        "station_series",
        issued,
        data=data,
        payload={
            "stations": meta,
            "danger_levels_m": {c: meta[c]["danger_level_m"] for c in codes},
        },
        quality=tuple(quality),
        source_uri=raw.source_uri,
        raw_sha256=raw.sha256,
    )


def water_level_json(forecast: HazardForecast) -> dict[str, Any]:
    """stations {code: {name, danger_level_m, observed, forecast}}, quality, issued_at."""
    data = forecast.data
    stations: dict[str, Any] = {}
    for code, info in forecast.payload["stations"].items():
        levels = data["water_level_m"].sel(station=code, member=0).to_series().dropna()
        extra = {k: info[k] for k in ("river", "ffwc_id", "fbf_danger_level_m") if k in info}
        stations[code] = {
            "name": info["name"],
            "danger_level_m": info["danger_level_m"],
            **extra,
            "observed": [
                {"time": iso_utc(t), "water_level_m": round(v, 3)} for t, v in info["observed"]
            ],
            "forecast": [
                {
                    "valid_time": iso_utc(pd.Timestamp(t).to_pydatetime().replace(tzinfo=UTC)),
                    "water_level_m": round(float(v), 3),
                }
                for t, v in levels.items()
            ],
        }
    return {
        "feed": forecast.feed_id,
        "issued_at": iso_utc(forecast.issued_at),
        "stations": stations,
        "quality": [
            {"code": q.code, "message": q.message, "subject": q.subject} for q in forecast.quality
        ],
    }
