"""FFWC API records -> normalised stations and water-level series, every field checked.

The api.ffwc.gov.bd/data_load/ endpoints are undocumented and vary, so this accepts the field
variants seen in the wild (`dl`/`dangerlevel`, `station`/`name`, `lat`/`long`/`latitude`,
`fc_date`/`date`, `waterlevel`/`wl`, numbers as strings) and rejects anything else with a
FeedError naming the endpoint, the record index and the field. Levels must lie inside the
physical bounds of `water_level_m`, danger levels inside those of `danger_level_m`, stations
inside the Bangladesh box (limits.toml). Times with an offset or Z are honoured; times without
one are Bangladesh time (UTC+6), as FFWC writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agam.core.errors import FeedError
from agam.core.timeutil import DHAKA, iso_utc
from hazard_feeds.checks import bounded_number, check_count, check_year, in_box
from hazard_feeds.limits import current

ID_FIELDS = ("id", "st_id", "station_id")
NAME_FIELDS = ("station", "name", "station_name")
DL_FIELDS = ("dl", "dangerlevel", "danger_level")
LAT_FIELDS = ("lat", "latitude")
LON_FIELDS = ("long", "lon", "lng", "longitude")
LEVEL_FIELDS = ("waterlevel", "wl", "water_level")
TIME_FIELDS = ("fc_date", "wl_date", "date", "datetime")

Series = list[tuple[datetime, float]]


@dataclass(frozen=True)
class RejectedStation:
    """A station-list record that failed its checks, kept so a followed station can say why."""

    index: int
    ffwc_id: str | None
    name: str | None
    reason: str


def _where(where: str, index: int, field: str | None = None) -> str:
    return f"{where} record {index}" + (f" field {field}" if field else "")


def _pick(record: dict[str, Any], fields: tuple[str, ...], where: str, index: int) -> Any:
    for name in fields:
        if record.get(name) not in (None, ""):
            return record[name]
    also = ", ".join(fields[1:])
    raise FeedError(
        f"ffwc: {_where(where, index)}: missing field {fields[0]} (also accepted: {also})"
    )


def _field(record: dict[str, Any], fields: tuple[str, ...]) -> str:
    """The variant this record uses (for messages), the canonical name when none is present."""
    return next((f for f in fields if record.get(f) not in (None, "")), fields[0])


def _text(value: Any, where: str, index: int, field: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise FeedError(f"ffwc: {_where(where, index, field)}: {value!r:.40} is not text")
    return str(value).strip()


def level(value: Any, where: str, index: int, field: str) -> float:
    """A water level in m PWD, finite and inside the physical bounds."""
    return bounded_number(value, "water_level_m", "ffwc", _where(where, index, field))


def danger_level(value: Any, where: str, index: int, field: str) -> float:
    """A danger level in m PWD: a height above the datum, never at or below it."""
    return bounded_number(value, "danger_level_m", "ffwc", _where(where, index, field))


def parse_time(value: Any, where: str, index: int, field: str = "date") -> datetime:
    """ISO-8601 with Z/offset as given; without one it is Bangladesh time (UTC+6)."""
    label = _where(where, index, field)
    if not isinstance(value, str):
        raise FeedError(f"ffwc: {label}: {value!r:.40} is not ISO-8601")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=DHAKA)
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise FeedError(f"ffwc: {label}: {value!r:.40} is not ISO-8601") from None
    return check_year(parsed, "ffwc", label)


def records(body: Any, where: str) -> list[dict[str, Any]]:
    """The list of record objects in a response (bare, or under results/data/stations/…)."""
    if isinstance(body, dict):
        for key in ("results", "data", "stations", "forecast"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
    if not isinstance(body, list):
        raise FeedError(f"ffwc: {where} has an unknown schema (expected a list of records)")
    check_count(len(body), current().ffwc.max_records, "ffwc", where, "records")
    for i, record in enumerate(body):
        if not isinstance(record, dict):
            raise FeedError(f"ffwc: {where} record {i} is a {type(record).__name__}, not an object")
    return body


def _station(rec: dict[str, Any], where: str, i: int) -> dict[str, Any]:
    lat_field, lon_field = _field(rec, LAT_FIELDS), _field(rec, LON_FIELDS)
    lat = _coordinate(rec, lat_field, "latitude_deg", where, i)
    lon = _coordinate(rec, lon_field, "longitude_deg", where, i)
    if lat is not None and lon is not None:
        in_box(lon, lat, "bangladesh", "ffwc", _where(where, i, f"{lat_field}/{lon_field}"))
    return {
        "ffwc_id": _text(_pick(rec, ID_FIELDS, where, i), where, i, _field(rec, ID_FIELDS)),
        "name": _text(_pick(rec, NAME_FIELDS, where, i), where, i, _field(rec, NAME_FIELDS)),
        "river": rec["river"] if isinstance(rec.get("river"), str) else None,
        "danger_level_m": danger_level(
            _pick(rec, DL_FIELDS, where, i), where, i, _field(rec, DL_FIELDS)
        ),
        "lat": lat,
        "lon": lon,
    }


def _coordinate(rec: dict[str, Any], field: str, quantity: str, where: str, i: int) -> float | None:
    if rec.get(field) in (None, ""):
        return None
    return bounded_number(rec[field], quantity, "ffwc", _where(where, i, field))


def station_list(body: Any, where: str) -> tuple[list[dict[str, Any]], list[RejectedStation]]:
    """Station list -> ([{ffwc_id, name, river, danger_level_m, lat, lon}], rejected records).
    One bad record does not sink the list: a followed station it concerns becomes missing."""
    good: list[tuple[int, dict[str, Any]]] = []
    bad: list[RejectedStation] = []
    for i, rec in enumerate(records(body, where)):
        try:
            good.append((i, _station(rec, where, i)))
        except FeedError as exc:
            ident, name = rec.get(ID_FIELDS[0]), rec.get(NAME_FIELDS[0]) or rec.get("name")
            bad.append(
                RejectedStation(
                    i,
                    str(ident).strip() if isinstance(ident, str | int) else None,
                    name.strip() if isinstance(name, str) else None,
                    str(exc),
                )
            )
    return _without_conflicts(good, bad, where)


def _without_conflicts(
    good: list[tuple[int, dict[str, Any]]], bad: list[RejectedStation], where: str
) -> tuple[list[dict[str, Any]], list[RejectedStation]]:
    """Stations whose id is listed once (or repeated identically). An id listed with different
    values is rejected in every record: which one holds the danger level cannot be told."""
    by_id: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, station in good:
        by_id.setdefault(station["ffwc_id"], []).append((index, station))
    kept = []
    for ident, listed in by_id.items():
        if all(station == listed[0][1] for _, station in listed):
            kept.append(listed[0][1])
            continue
        records = ", ".join(str(i) for i, _ in listed)
        reason = (
            f"ffwc: {where} records {records} field id: station {ident!r:.40} is listed "
            f"{len(listed)} times with different values"
        )
        bad += [RejectedStation(i, ident, s["name"], reason) for i, s in listed]
    return kept, bad


def normalise_stations(body: Any, where: str = "station list") -> list[dict[str, Any]]:
    """Station list, every record valid (the first bad one is the FeedError)."""
    good, bad = station_list(body, where)
    if bad:
        raise FeedError(bad[0].reason)
    return good


def normalise_series(body: Any, where: str) -> Series:
    """[{fc_date|wl_date|date, waterlevel|wl}] -> sorted [(utc time, metres)]."""
    series: list[tuple[datetime, float, int]] = []
    for i, rec in enumerate(records(body, where)):
        when = parse_time(_pick(rec, TIME_FIELDS, where, i), where, i, _field(rec, TIME_FIELDS))
        value = level(_pick(rec, LEVEL_FIELDS, where, i), where, i, _field(rec, LEVEL_FIELDS))
        series.append((when, value, i))
    return _once_per_time(series, where)


def observed_levels(body: Any, where: str) -> dict[str, Series]:
    """Observed endpoint -> {lower-case station name: sorted [(utc time, metres)]}."""
    out: dict[str, list[tuple[datetime, float, int]]] = {}
    for i, rec in enumerate(records(body, where)):
        name = _text(_pick(rec, NAME_FIELDS, where, i), where, i, _field(rec, NAME_FIELDS))
        when = parse_time(_pick(rec, TIME_FIELDS, where, i), where, i, _field(rec, TIME_FIELDS))
        value = level(_pick(rec, LEVEL_FIELDS, where, i), where, i, _field(rec, LEVEL_FIELDS))
        out.setdefault(name.lower(), []).append((when, value, i))
    return {k: _once_per_time(v, where) for k, v in out.items()}


def _once_per_time(points: list[tuple[datetime, float, int]], where: str) -> Series:
    """Sorted (time, level), one level per time: a time given twice with two levels is refused
    (the grid would keep whichever came last)."""
    first: dict[datetime, tuple[float, int]] = {}
    for when, value, index in points:
        level_, earlier = first.setdefault(when, (value, index))
        if level_ != value:
            raise FeedError(
                f"ffwc: {_where(where, index, LEVEL_FIELDS[0])}: {iso_utc(when)} is given "
                f"twice, as {level_:g} m in record {earlier} and {value:g} m here"
            )
    return sorted((when, value) for when, (value, _) in first.items())
