"""FFWC (BWDB) water levels: station list with danger levels, observed and 5/7-day forecasts.

Records are read by hazard_feeds.ffwc_records (field variants, bounds, times). The danger level
is read from the feed and kept with every forecast (never hard-coded: FFWC revises it).
A run is partial rather than failed when one followed station's forecast is unavailable (HTTP
error, bad data, a bad station-list record) or the observed levels are: that station becomes
missing ("unknown" to the triggers) and the rest proceeds. Only a run with no usable followed
station fails, so the last good forecast stays in place.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from agam.core.errors import FeedError
from agam.core.timeutil import iso_utc, utc_now
from hazard_feeds.bundle import Part, is_bundle, load_json, make_bundle, read_bundle
from hazard_feeds.checks import observed_by_fetch
from hazard_feeds.contract import HazardForecast, QualityIssue, RawArtifact
from hazard_feeds.feed_configs import FfwcConfig, StationRef
from hazard_feeds.ffwc_records import (
    RejectedStation,
    Series,
    normalise_series,
    observed_levels,
    station_list,
)
from hazard_feeds.guard import guarded_parse

log = logging.getLogger(__name__)


def _endpoint(part: Part) -> str:
    """How an error names the endpoint: the URL path below data_load/, else the part name."""
    return part.url.split("data_load/", 1)[-1] if "data_load/" in part.url else part.name


def find_station(stations: list[dict[str, Any]], ref: StationRef) -> dict[str, Any] | None:
    if ref.ffwc_id is not None:
        hit = next((s for s in stations if s["ffwc_id"] == str(ref.ffwc_id)), None)
        if hit is not None:
            return hit
    return next((s for s in stations if ref.matches(s["name"])), None)


def _why_missing(ref: StationRef, rejected: list[RejectedStation], part: Part | None) -> str:
    """Why a followed station has no forecast in this run, in one line."""
    bad = next(
        (
            r
            for r in rejected
            if (ref.ffwc_id is not None and r.ffwc_id == str(ref.ffwc_id))
            or (r.name is not None and ref.matches(r.name))
        ),
        None,
    )
    if bad is not None:
        return f"its station-list record is unusable ({bad.reason})"
    if part is not None and part.error:
        return f"its forecast could not be fetched ({part.error})"
    return "not in this FFWC run"


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

    def _get_or_note(self, http: Any, path: str, name: str) -> Part:
        """One endpoint of the run; its failure is kept in the bundle instead of raised."""
        try:
            return self._get(http, path, name)
        except FeedError as exc:
            log.warning("ffwc: %s unavailable, the run continues without it: %s", name, exc)
            return Part(name, self._url(path), "", error=str(exc))

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        """Station list + observed + one forecast per followed station, as one bundle. Only the
        station list is required; any other response that fails is kept as a failed part."""
        del since  # FFWC sends no validators; the pipeline dedupes on the bundle's sha256
        listing = self._get(http, self.config.stations_path, "stations")
        where = self.config.stations_path
        stations, _ = station_list(load_json(listing.body, self.feed_id, where), where)
        parts = [listing, self._get_or_note(http, self.config.observed_path, "observed")]
        for ref in self.config.stations:
            station = find_station(stations, ref)
            if station is None:
                log.warning("ffwc: %s (%s) is not in the station list", ref.name, ref.code)
                continue  # parse reports it as a missing station
            path = self.config.forecast_path.format(station_id=station["ffwc_id"])
            parts.append(self._get_or_note(http, path, f"forecast-{ref.code}"))
        base = self.config.base_url
        return make_bundle(self.feed_id, parts, utc_now(), source_uri=base)

    @guarded_parse
    def parse(self, raw: RawArtifact) -> HazardForecast:
        if not is_bundle(raw.content):
            raise FeedError(
                "ffwc: expected an Agam bundle of station list, observed and forecast "
                "responses (use the `ffwc_logsheet` feed for FFWC log-sheet CSV files)"
            )
        parts = {p.name: p for p in read_bundle(raw.content, self.feed_id)}
        if "stations" not in parts or parts["stations"].error:
            raise FeedError("ffwc: bundle has no station list")
        where = _endpoint(parts["stations"])
        stations, rejected = station_list(load_json(parts["stations"].body, "ffwc", where), where)
        if rejected:
            log.warning(
                "ffwc: %d station-list record(s) unusable, first: %s",
                len(rejected),
                rejected[0].reason,
            )
        quality: list[QualityIssue] = []
        observed = _observed_or_note(parts.get("observed"), quality)
        series: dict[str, Series] = {}
        meta: dict[str, dict[str, Any]] = {}
        for ref in self.config.stations:
            station = find_station(stations, ref)
            part = parts.get(f"forecast-{ref.code}")
            if station is None or part is None or part.error:
                why = _why_missing(ref, rejected, part)
                quality.append(
                    QualityIssue("missing_station", f"{ref.name} ({ref.code}): {why}", ref.code)
                )
                continue
            where = _endpoint(part)
            try:
                points = normalise_series(load_json(part.body, "ffwc", where), where)
            except FeedError as exc:
                text = f"{ref.name} ({ref.code}): forecast unusable ({exc})"
                quality.append(QualityIssue("missing_station", text, ref.code))
                continue
            if not points:
                quality.append(
                    QualityIssue("missing_timestep", f"no forecast for {ref.name}", ref.code)
                )
            series[ref.code] = points
            listed = next((v for k, v in observed.items() if ref.matches(k)), [])
            seen, dropped = observed_by_fetch(
                listed, raw.fetched_at, self.feed_id, (ref.name, ref.code)
            )
            quality += [dropped] if dropped else []
            meta[ref.code] = station | {"code": ref.code, "observed": seen}
        if not meta:
            reasons = "; ".join(q.message for q in quality if q.code == "missing_station")
            raise FeedError(f"ffwc: no followed station is usable in this run ({reasons})")
        return water_level_forecast(self.feed_id, series, meta, quality, raw)

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        return water_level_json(forecast)


def _observed_or_note(part: Part | None, quality: list[QualityIssue]) -> dict[str, Series]:
    """Observed levels by station; when they are unavailable the run goes on without them."""
    if part is None:
        return {}
    where = _endpoint(part)
    try:
        if part.error:
            raise FeedError(part.error)
        return observed_levels(load_json(part.body, "ffwc", where), where)
    except FeedError as exc:
        quality.append(QualityIssue("partial", f"observed levels unavailable ({exc})", "observed"))
        return {}


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
