"""FFWC (BWDB) water levels: station list with danger levels, observed and 5/7-day forecasts.

The api.ffwc.gov.bd/data_load/ endpoints are undocumented and vary, so an adapter accepts the
field variants seen in the wild (`dl`/`dangerlevel`, `station`/`name`, `lat`/`long`, numbers as
strings) and rejects anything else naming the endpoint, record and field. The danger level is
read from the feed and kept with every forecast (DOMAIN.md §2.2: never hard-code it).
FFWC times are read as UTC when they carry an offset, else as Asia/Dhaka (UTC+6).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict

from agam.core.errors import FeedError
from agam.core.timeutil import iso_utc, utc_now
from hazard_feeds.bundle import Part, is_bundle, load_json, make_bundle, read_bundle
from hazard_feeds.config import FeedConfig
from hazard_feeds.contract import HazardForecast, QualityIssue, RawArtifact

DHAKA = ZoneInfo("Asia/Dhaka")
ID_FIELDS = ("id", "st_id", "station_id")
NAME_FIELDS = ("station", "name", "station_name")
DL_FIELDS = ("dl", "dangerlevel", "danger_level")
LAT_FIELDS = ("lat", "latitude")
LON_FIELDS = ("long", "lon", "lng", "longitude")
LEVEL_FIELDS = ("waterlevel", "wl", "water_level")
TIME_FIELDS = ("fc_date", "wl_date", "date", "datetime")


class StationRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str  # BWDB station code, e.g. SW46.9L
    name: str  # as FFWC spells it in the station list


class FfwcConfig(FeedConfig):
    base_url: str = "https://api.ffwc.gov.bd/data_load/"
    stations_path: str = "stations-2025/?format=json"
    observed_path: str = "observed/"
    forecast_path: str = "seven-days-forecast-waterlevel-by-station/{station_id}/"
    max_age_hours: float = 30.0
    stations: tuple[StationRef, ...] = (
        StationRef(code="SW46.9L", name="Bahadurabad"),
        StationRef(code="SW91.9R", name="Goalondo"),
        StationRef(code="SW93.5L", name="Mawa"),
    )


def _pick(
    record: dict[str, Any], fields: tuple[str, ...], where: str, index: int, required: bool = True
) -> Any:
    for name in fields:
        if name in record and record[name] not in (None, ""):
            return record[name]
    if required:
        raise FeedError(f"ffwc: {where} record {index} has none of the fields {'/'.join(fields)}")
    return None


def _number(value: Any, where: str, index: int, field: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise FeedError(
            f"ffwc: {where} record {index} field {field}: {value!r} is not a number"
        ) from None
    if not math.isfinite(number):
        raise FeedError(f"ffwc: {where} record {index} field {field}: not a finite number")
    return number


def _time(value: Any, where: str, index: int) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise FeedError(f"ffwc: {where} record {index}: time {value!r} is not ISO-8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=DHAKA)
    return parsed.astimezone(ZoneInfo("UTC"))


def _records(body: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        for key in ("results", "data", "stations", "forecast"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
    if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        raise FeedError(f"ffwc: {where} has an unknown schema (expected a list of records)")
    return body


def normalise_stations(body: Any) -> dict[str, dict[str, Any]]:
    """Station list -> {name_lower: {id, name, river, danger_level_m, lat, lon}}."""
    out = {}
    for i, rec in enumerate(_records(body, "station list")):
        name = str(_pick(rec, NAME_FIELDS, "station list", i)).strip()
        lat = _pick(rec, LAT_FIELDS, "station list", i, required=False)
        lon = _pick(rec, LON_FIELDS, "station list", i, required=False)
        out[name.lower()] = {
            "ffwc_id": str(_pick(rec, ID_FIELDS, "station list", i)).strip(),
            "name": name,
            "river": rec.get("river"),
            "danger_level_m": _number(
                _pick(rec, DL_FIELDS, "station list", i), "station list", i, "dl"
            ),
            "lat": _number(lat, "station list", i, "lat") if lat is not None else None,
            "lon": _number(lon, "station list", i, "long") if lon is not None else None,
        }
    return out


def normalise_series(body: Any, where: str) -> list[tuple[datetime, float]]:
    series = []
    for i, rec in enumerate(_records(body, where)):
        when = _time(_pick(rec, TIME_FIELDS, where, i), where, i)
        series.append((when, _number(_pick(rec, LEVEL_FIELDS, where, i), where, i, "waterlevel")))
    return sorted(series)


class FfwcFeed:
    feed_id = "ffwc"

    def __init__(self, config: FfwcConfig) -> None:
        self.config = config

    def _url(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + "/" + path.lstrip("/")

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        listing = http.get(self._url(self.config.stations_path), feed_id=self.feed_id)
        stations = normalise_stations(load_json(listing.content, self.feed_id, "station list"))
        parts = [Part("stations", listing.source_uri, listing.content.decode("utf-8"))]
        observed = http.get(self._url(self.config.observed_path), feed_id=self.feed_id)
        parts.append(Part("observed", observed.source_uri, observed.content.decode("utf-8")))
        for ref in self.config.stations:
            station = stations.get(ref.name.lower())
            if station is None:
                continue  # reported as a missing station by parse
            url = self._url(self.config.forecast_path.format(station_id=station["ffwc_id"]))
            forecast = http.get(url, feed_id=self.feed_id)
            parts.append(
                Part(f"forecast-{ref.code}", forecast.source_uri, forecast.content.decode("utf-8"))
            )
        return make_bundle(self.feed_id, parts, utc_now())

    def parse(self, raw: RawArtifact) -> HazardForecast:
        if not is_bundle(raw.content):
            raise FeedError(
                "ffwc: expected an Agam bundle of station list, observed and "
                "forecast responses (use `ffwc_logsheet` for FFWC log sheets)"
            )
        parts = {p.name: p for p in read_bundle(raw.content, self.feed_id)}
        if "stations" not in parts:
            raise FeedError("ffwc: bundle has no station list")
        stations = normalise_stations(load_json(parts["stations"].body, "ffwc", "station list"))
        observed_by_name = _observed(parts.get("observed"))
        quality: list[QualityIssue] = []
        series: dict[str, list[tuple[datetime, float]]] = {}
        meta: dict[str, dict[str, Any]] = {}
        for ref in self.config.stations:
            station = stations.get(ref.name.lower())
            part = parts.get(f"forecast-{ref.code}")
            if station is None or part is None:
                quality.append(
                    QualityIssue(
                        "missing_station", f"{ref.name} ({ref.code}) not in this FFWC run", ref.code
                    )
                )
                continue
            points = normalise_series(
                load_json(part.body, "ffwc", part.name), f"forecast for {ref.name}"
            )
            if not points:
                quality.append(
                    QualityIssue("missing_timestep", f"no forecast for {ref.name}", ref.code)
                )
            series[ref.code] = points
            meta[ref.code] = station | {
                "code": ref.code,
                "observed": observed_by_name.get(ref.name.lower(), []),
            }
        return _to_forecast(series, meta, quality, raw)

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        data = forecast.data
        stations: dict[str, Any] = {}
        for code, info in forecast.payload["stations"].items():
            levels = data["water_level_m"].sel(station=code, member=0).to_series().dropna()
            stations[code] = {
                "name": info["name"],
                "river": info.get("river"),
                "ffwc_id": info["ffwc_id"],
                "danger_level_m": info["danger_level_m"],
                "observed": [{"time": iso_utc(t), "water_level_m": v} for t, v in info["observed"]],
                "forecast": [
                    {
                        "valid_time": iso_utc(t.to_pydatetime().replace(tzinfo=ZoneInfo("UTC"))),
                        "water_level_m": round(float(v), 3),
                    }
                    for t, v in levels.items()
                ],
            }
        return {
            "feed": "ffwc",
            "issued_at": iso_utc(forecast.issued_at),
            "stations": stations,
            "quality": [q.__dict__ for q in forecast.quality],
        }


def _observed(part: Part | None) -> dict[str, list[tuple[datetime, float]]]:
    if part is None:
        return {}
    out: dict[str, list[tuple[datetime, float]]] = {}
    for i, rec in enumerate(_records(load_json(part.body, "ffwc", "observed"), "observed")):
        name = str(_pick(rec, NAME_FIELDS, "observed", i)).strip().lower()
        when = _time(_pick(rec, TIME_FIELDS, "observed", i), "observed", i)
        level = _number(_pick(rec, LEVEL_FIELDS, "observed", i), "observed", i, "waterlevel")
        out.setdefault(name, []).append((when, level))
    return {k: sorted(v) for k, v in out.items()}


def _to_forecast(
    series: dict[str, list[tuple[datetime, float]]],
    meta: dict[str, Any],
    quality: list[QualityIssue],
    raw: RawArtifact,
) -> HazardForecast:
    codes = sorted(series)
    times = sorted({t for points in series.values() for t, _ in points})
    values = np.full((1, len(times), len(codes)), np.nan)
    index = {t: i for i, t in enumerate(times)}
    for j, code in enumerate(codes):
        for when, level in series[code]:
            values[0, index[when], j] = level
    observed_times = [t for info in meta.values() for t, _ in info["observed"]]
    issued = max(observed_times) if observed_times else (min(times) if times else raw.fetched_at)
    data = xr.Dataset(
        {"water_level_m": (("member", "valid_time", "station"), values)},
        coords={
            "member": [0],
            "station": codes,
            "valid_time": np.array([t.replace(tzinfo=None) for t in times], dtype="datetime64[ns]"),
            "danger_level_m": ("station", [meta[c]["danger_level_m"] for c in codes]),
            "name": ("station", [meta[c]["name"] for c in codes]),
        },
    )
    return HazardForecast(
        "ffwc",
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
