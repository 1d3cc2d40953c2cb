"""BMD bulletins and model winds. BMD publishes no machine feed, so officers drop a structured
bulletin (JSON, or two-column CSV with dotted keys) into a folder or enter it in the dashboard;
both go through this one parser. Winds keep their averaging period (BMD/IMD 3-min, JTWC 1-min).

JSON is typed: a number where a number belongs (not `true`, not `"149"`), each key once per
object; CSV cells are text and read as the field needs. Either way a model has one wind per
valid time, no wind is older than [bmd] max_wind_before_issue_hours, a landfall before the issue
time comes only with the observed landfall winds, and free text has no control character.
A leading UTF-8 byte-order mark is ignored.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
from datetime import datetime, timedelta
from typing import Annotated, Any

import numpy as np
import xarray as xr
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from agam.core.errors import FeedError
from agam.core.reference import ModelName, PortName, SignalNumber, SystemName, vocabulary
from agam.core.timeutil import ensure_utc, iso_utc, utc_now
from agam.core.typed_text import hidden_characters
from hazard_feeds.checks import a_kind, check_bytes, check_count, refuse
from hazard_feeds.contract import HazardForecast, RawArtifact
from hazard_feeds.dropped_files import newest, read_dropped
from hazard_feeds.feed_configs import BmdConfig
from hazard_feeds.guard import guarded_parse
from hazard_feeds.limits import current
from hazard_feeds.safe_json import load_json

# The shared vocabularies (agam/core/data/vocabulary.toml), named here for the bulletin form.
SYSTEM_ORDER: tuple[str, ...] = vocabulary().systems.order
MODELS: tuple[str, ...] = vocabulary().models.names


def _utc_in_range(value: datetime) -> datetime:
    """An aware time in UTC within the years a bulletin can have (naive is refused)."""
    try:
        out = ensure_utc(value)
    except OverflowError:
        raise ValueError("time out of range") from None
    span = current().time
    if not span.min_year <= out.year <= span.max_year:
        raise ValueError(f"year {out.year} is outside {span.min_year}..{span.max_year}")
    return out


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _plain(text: str) -> str:
    """A bulletin's own words (serial, system name, port names) carry no control or
    text-direction character."""
    if hidden_characters(text):
        raise ValueError("holds a control or text-direction character")
    return text


PlainText = Annotated[str, AfterValidator(_plain)]


class SystemState(_Model):
    type: SystemName
    name: PlainText | None = None
    lat: float = Field(ge=0, le=30)
    lon: float = Field(ge=75, le=100)
    in_bay_of_bengal: bool = True


class Landfall(_Model):
    lat: float = Field(ge=18, le=27)
    lon: float = Field(ge=86, le=93)
    time: datetime

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return _utc_in_range(value)


class ModelWind(_Model):
    model: ModelName
    max_wind_kmh: float = Field(ge=0, le=400)
    averaging_minutes: int = Field(ge=1, le=10)
    valid_time: datetime

    @field_validator("valid_time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return _utc_in_range(value)


class ObservedLandfall(_Model):
    max_wind_kmh: float = Field(ge=0, le=400)
    source: ModelName


class Bulletin(_Model):
    issued_at: datetime
    serial: Annotated[PlainText, Field(min_length=1, max_length=256)]
    system: SystemState
    port_signals: dict[PortName, SignalNumber] = Field(default_factory=dict)
    landfall: Landfall | None = None
    model_winds: list[ModelWind] = Field(default_factory=list)
    observed_landfall: list[ObservedLandfall] = Field(default_factory=list)

    @field_validator("issued_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return _utc_in_range(value)

    @field_validator("port_signals", mode="before")
    @classmethod
    def _plain_ports(cls, value: Any) -> Any:
        """Ports as typed: the vocabulary match strips, and so hides, newlines and tabs."""
        for port in value if isinstance(value, dict) else ():
            if isinstance(port, str) and hidden_characters(port):
                raise ValueError(
                    f"port {_one_line(port)} holds a control or text-direction character"
                )
        return value


def _index(key: str, where: str) -> int:
    """A list position in a dotted key, no larger than limits.toml [bmd] max_list_index."""
    limit = current().bmd.max_list_index
    if not (key.isascii() and key.isdigit()):  # "¹" is a digit to isdigit, not to int
        raise refuse("bmd", where, f"{key[:20]!r} is not a list position")
    if len(key) > 6 or int(key) > limit:
        raise refuse("bmd", where, f"list position {key[:20]} is over the limit of {limit}")
    return int(key)


def _child(node: Any, key: str, empty: Any, where: str) -> Any:
    """The group `key` under `node` (created empty), which must be a group of the same kind."""
    if isinstance(node, list):
        index = _index(key, where)
        while len(node) <= index:
            node.append(type(empty)())
        child = node[index]
    else:
        child = node.setdefault(key, empty)
    if not isinstance(child, type(empty)):
        raise refuse("bmd", where, f"{key!r} is both a value and a group of values")
    return child


def _set(node: Any, leaf: str, value: str, where: str) -> None:
    if isinstance(node, list):
        index = _index(leaf, where)
        while len(node) <= index:
            node.append(None)
        node[index] = value
        return
    if leaf in node:
        raise refuse("bmd", where, "given twice (or both a value and a group of values)")
    node[leaf] = value


def _from_csv(text: str) -> dict[str, Any]:
    """Rows `key,value` with dotted keys: system.type, port_signals.Mongla, model_winds.0.model…
    Row count, key depth and list positions are limited ([bmd] in limits.toml)."""
    limits = current().bmd
    doc: dict[str, Any] = {}
    reader = csv.reader(io.StringIO(text))
    try:
        for number, row in enumerate(reader, 1):
            check_count(number, limits.max_csv_rows, "bmd", "CSV", "rows")
            if not row or row[0].startswith("#") or row[0] == "key":
                continue
            if len(row) != 2:
                raise refuse("bmd", f"CSV row {number}", "expected key,value")
            name = row[0].strip()
            where = f"CSV row {number} key {name[:60]!r}"
            keys = name.split(".")
            if len(keys) > limits.max_key_depth or not all(keys):
                raise refuse("bmd", where, f"not a dotted key of at most {limits.max_key_depth}")
            node: Any = doc
            for key, after in itertools.pairwise(keys):
                node = _child(node, key, [] if after.isascii() and after.isdigit() else {}, where)
            _set(node, keys[-1], row[1].strip(), where)
    except csv.Error as exc:
        raise refuse("bmd", f"CSV row {reader.line_num}", f"unreadable ({exc})") from None
    return doc


def _one_line(field: str) -> str:
    """A field path from the document for a one-line message: escaped unless printable."""
    shown = field if field.isprintable() else json.dumps(field, ensure_ascii=True)
    return shown if len(shown) <= 120 else shown[:117] + "..."


def _message(error: Any) -> str:
    """Pydantic's message, with the value shown where its type is wrong (`true`, `"149"`)."""
    if not str(error["type"]).endswith("_type"):
        return str(error["msg"])
    value = error.get("input")
    shown = json.dumps(value, ensure_ascii=True) if not isinstance(value, dict | list) else ""
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{error['msg']}, not {shown or a_kind(value)}"


def _recent_winds(bulletin: Bulletin, name: str) -> None:
    """Refuse a wind valid more than [bmd] max_wind_before_issue_hours before the issue time:
    a bulletin forecasts or reports recent observations, a wind decades old is a typo."""
    limit = current().bmd.max_wind_before_issue_hours
    for index, wind in enumerate(bulletin.model_winds):
        if wind.valid_time < bulletin.issued_at - timedelta(hours=limit):
            hours = (bulletin.issued_at - wind.valid_time).total_seconds() / 3600
            raise refuse(
                "bmd",
                f"{name}: field model_winds.{index}.valid_time",
                f"{iso_utc(wind.valid_time)} is {hours:,.0f} h before issued_at "
                f"{iso_utc(bulletin.issued_at)}, more than the {limit:g} h a bulletin reports "
                "back (a date typed wrong?)",
            )


def _consistent(bulletin: Bulletin, name: str) -> Bulletin:
    """What a bulletin's fields must agree on, beyond each field's own check."""
    first: dict[tuple[str, datetime], int] = {}
    for index, wind in enumerate(bulletin.model_winds):
        earlier = first.setdefault((wind.model, wind.valid_time), index)
        if earlier != index:
            raise refuse(
                "bmd",
                f"{name}: field model_winds.{index}.valid_time",
                f"a second {wind.model} wind for {iso_utc(wind.valid_time)} (the first is "
                f"model_winds.{earlier}): one wind per model and valid time",
            )
    _recent_winds(bulletin, name)
    landfall = bulletin.landfall
    if landfall and landfall.time < bulletin.issued_at and not bulletin.observed_landfall:
        raise refuse(
            "bmd",
            f"{name}: field landfall.time",
            f"{iso_utc(landfall.time)} is before issued_at {iso_utc(bulletin.issued_at)} and "
            "no observed_landfall is reported (a date typed wrong?)",
        )
    return bulletin


def parse_bulletin(content: bytes, name: str = "bulletin") -> Bulletin:
    check_bytes(content, current().bmd.max_bytes, "bmd", name)
    try:
        text = content.decode("utf-8-sig")  # a byte-order mark (Windows editors) is dropped
    except UnicodeDecodeError:
        raise FeedError(f"bmd: {name} is not UTF-8 text") from None
    try:
        if text.lstrip().startswith(("{", "[")):
            load_json(text, "bmd", name)  # size, depth, NaN, huge numbers, keys given twice
            bulletin = Bulletin.model_validate_json(text, strict=True)
        else:
            bulletin = Bulletin.model_validate(_from_csv(text))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _one_line(".".join(str(p) for p in first["loc"])) or "(top)"
        raise FeedError(f"bmd: {name}: field {where}: {_message(first)}") from None
    return _consistent(bulletin, name)


def bulletin_forecast(bulletin: Bulletin, raw: RawArtifact | None = None) -> HazardForecast:
    winds = sorted(bulletin.model_winds, key=lambda w: (w.model, w.valid_time))
    models = sorted({w.model for w in winds})
    times = sorted({w.valid_time for w in winds})
    cube = np.full((len(models), len(times)), np.nan)
    for w in winds:
        cube[models.index(w.model), times.index(w.valid_time)] = w.max_wind_kmh
    data = xr.Dataset(
        {"max_wind_kmh": (("model", "valid_time"), cube)},
        coords={
            "model": models,
            "valid_time": np.array([t.replace(tzinfo=None) for t in times], dtype="datetime64[ns]"),
        },
    )
    return HazardForecast(
        "bmd",
        "bulletin",
        bulletin.issued_at,
        data=data,
        payload=bulletin.model_dump(mode="python"),
        source_uri=raw.source_uri if raw else None,
        raw_sha256=raw.sha256 if raw else None,
    )


class BmdFeed:
    feed_id = "bmd"

    def __init__(self, config: BmdConfig) -> None:
        self.config = config

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        """The newest bulletin file in the drop folder (no network)."""
        del http
        folder = self.config.drop_folder
        bulletin = newest(folder, (".json", ".csv")) if folder.is_dir() else None
        if bulletin is None:
            raise FeedError(f"bmd: no bulletin (.json/.csv) in {folder}")
        content = read_dropped(self.feed_id, bulletin, current().bmd.max_bytes)
        digest = hashlib.sha256(content).hexdigest()
        if since is not None and since.sha256 == digest:
            return RawArtifact(
                self.feed_id, bulletin.as_uri(), b"", "", utc_now(), not_modified=True
            )
        return RawArtifact(
            self.feed_id,
            bulletin.as_uri(),
            content,
            digest,
            utc_now(),
            content_type=f"application/{bulletin.suffix.lstrip('.').lower()}",
        )

    @guarded_parse
    def parse(self, raw: RawArtifact) -> HazardForecast:
        return bulletin_forecast(parse_bulletin(raw.content), raw)  # the guard names the file

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]:
        bulletin = Bulletin.model_validate(forecast.payload)
        return {"feed": "bmd", "issued_at": iso_utc(bulletin.issued_at)} | bulletin.model_dump(
            mode="json"
        )
