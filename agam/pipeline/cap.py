"""Common Alerting Protocol 1.2 messages for alert changes. Pure: a `CapInput` (what the
store and the union layer say about one alert change) in, CAP XML bytes out.

One message per alert event: raised -> Alert; escalated -> Update; stood down -> Update
(urgency Past, AllClear); closed -> Cancel. Every later message references all earlier
messages of the same alert ("sender,identifier,sent", space separated) and shares its
<incidents> id. Two <info> blocks: en-US and bn-BD. Areas: the affected unions' outline
(dissolved, simplified polygons, "lat,lon" pairs with first = last) and one geocode per union
P-code. Times carry the Dhaka offset (+06:00); CAP forbids "Z". Anything built from
SYNTHETIC scenario data is status Exercise (replays: Test), labelled in headline and note.
Mapping of stages to urgency / severity / certainty: agam/data/cap_mapping.toml.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Literal
from xml.etree import ElementTree as ET

from pydantic import BaseModel, ConfigDict, Field

from agam.core.bengali import digits
from agam.core.settings import CapSettings
from agam.core.timeutil import to_dhaka

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
Status = Literal["Actual", "Exercise", "Test"]
MsgType = Literal["Alert", "Update", "Cancel"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
Response = Literal[
    "Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None"
]
CapCategory = Literal[
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport",
    "Infra", "CBRNE", "Other",
]  # fmt: skip
Change = Literal["raised", "escalated", "stood_down", "closed"]
ENDED: tuple[Change, ...] = ("stood_down", "closed")


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class _Level(_Data):
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    response_types: list[Response] = Field(min_length=1)
    instruction_en: str
    instruction_bn: str


class StageMapping(_Level):
    expires_hours: int = Field(ge=1, le=24 * 30)
    title_en: str
    title_bn: str


class HazardMapping(_Data):
    category: CapCategory
    event_en: str
    event_bn: str


class Label(_Data):
    headline_en: str
    headline_bn: str
    note: str


class CapMapping(_Data):
    schema_version: int = Field(ge=1, le=1)
    version: str
    geocode_value_name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    ended_expires_hours: int = Field(ge=1, le=24 * 30)
    area_names_listed: int = Field(ge=1, le=500)
    message_types: dict[Change, MsgType]
    stages: dict[str, StageMapping]
    ended: _Level
    hazards: dict[str, HazardMapping]
    labels: dict[Literal["Exercise", "Test"], Label]


@cache
def load_mapping() -> CapMapping:
    text = resources.files("agam").joinpath("data", "cap_mapping.toml").read_text("utf-8")
    return CapMapping.model_validate(tomllib.loads(text))


@dataclass(frozen=True)
class MessageRef:
    identifier: str
    sent: datetime


@dataclass(frozen=True)
class CapInput:
    """One alert change, as the message needs it."""

    alert_id: int
    identifier: str
    sent: datetime
    change: Change
    stage: str  # the alert's stage at this change (for ended alerts: the last stage)
    hazard: str
    rule_set_id: str
    rule_set_version: str
    status: Status
    explanation: str
    district_en: str
    district_bn: str
    union_codes: tuple[str, ...]
    union_names_en: tuple[str, ...]
    union_names_bn: tuple[str, ...]
    rings: tuple[tuple[tuple[float, float], ...], ...]  # (lat, lon), closed
    window_end: datetime | None = None
    earlier: tuple[MessageRef, ...] = ()


def cap_time(value: datetime) -> str:
    """CAP dateTime: seconds, a numeric offset (Dhaka, +06:00), never 'Z'."""
    return to_dhaka(value).isoformat(timespec="seconds")


def incident_id(prefix: str, alert_id: int) -> str:
    return f"{prefix}.alert-{alert_id}"


def message_identifier(prefix: str, alert_id: int, event_id: int) -> str:
    return f"{incident_id(prefix, alert_id)}.{event_id}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _pair(parent: ET.Element, tag: str, name: str, value: str) -> None:
    element = _sub(parent, tag)
    _sub(element, "valueName", name)
    _sub(element, "value", value)


def _names(names: tuple[str, ...], listed: int, more: str, lang: str) -> str:
    shown = ", ".join(names[:listed])
    rest = len(names) - listed
    return shown + (more.format(n=digits(str(rest), lang)) if rest > 0 else "")


def _expires(msg: CapInput, mapping: CapMapping) -> datetime:
    if msg.change in ENDED:
        return msg.sent + timedelta(hours=mapping.ended_expires_hours)
    if msg.window_end is not None and msg.window_end > msg.sent:
        return msg.window_end
    return msg.sent + timedelta(hours=mapping.stages[msg.stage].expires_hours)


def texts(msg: CapInput, mapping: CapMapping, lang: str) -> tuple[str, str]:
    """(headline, description) in English or Bangla."""
    hazard, stage = mapping.hazards[msg.hazard], mapping.stages[msg.stage]
    n = len(msg.union_codes)
    if lang == "en":
        what = f"{hazard.event_en} {stage.title_en} alert"
        headline = {
            "stood_down": f"{hazard.event_en} alert stood down: {msg.district_en} district",
            "closed": f"{hazard.event_en} alert closed: {msg.district_en} district",
        }.get(msg.change, f"{what}: {msg.district_en} district")
        description = f"{msg.explanation} Affected unions: {n}."
    else:
        what = f"{hazard.event_bn} সতর্কতা ({stage.title_bn} পর্যায়)"
        headline = {
            "stood_down": f"{msg.district_bn} জেলা: {hazard.event_bn} সতর্কতা প্রত্যাহার",
            "closed": f"{msg.district_bn} জেলা: {hazard.event_bn} সতর্কতা বন্ধ",
        }.get(msg.change, f"{msg.district_bn} জেলা: {what}")
        count = digits(str(n), "bn")
        description = f"{msg.district_bn} জেলার {count}টি ইউনিয়নে {what}।"
    if msg.status != "Actual":
        label = mapping.labels[msg.status]
        headline = f"{label.headline_en if lang == 'en' else label.headline_bn}: {headline}"
    return headline, description


def build_cap(msg: CapInput, settings: CapSettings, mapping: CapMapping | None = None) -> bytes:
    """The CAP 1.2 XML document (UTF-8) for one alert change."""
    mapping = mapping or load_mapping()
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(alert, "identifier", msg.identifier)
    _sub(alert, "sender", settings.sender)
    _sub(alert, "sent", cap_time(msg.sent))
    _sub(alert, "status", msg.status)
    _sub(alert, "msgType", mapping.message_types[msg.change])
    _sub(alert, "scope", "Public")
    if msg.status != "Actual":
        _sub(alert, "note", mapping.labels[msg.status].note)
    if msg.earlier:
        refs = [f"{settings.sender},{r.identifier},{cap_time(r.sent)}" for r in msg.earlier]
        _sub(alert, "references", " ".join(refs))
    _sub(alert, "incidents", incident_id(settings.identifier_prefix, msg.alert_id))
    level: _Level = mapping.ended if msg.change in ENDED else mapping.stages[msg.stage]
    hazard = mapping.hazards[msg.hazard]
    for lang, language in (("en", "en-US"), ("bn", "bn-BD")):
        info = _sub(alert, "info")
        _sub(info, "language", language)
        _sub(info, "category", hazard.category)
        _sub(info, "event", hazard.event_en if lang == "en" else hazard.event_bn)
        for response in level.response_types:
            _sub(info, "responseType", response)
        _sub(info, "urgency", level.urgency)
        _sub(info, "severity", level.severity)
        _sub(info, "certainty", level.certainty)
        _pair(info, "eventCode", "AGAM_RULE_SET", msg.rule_set_id)
        _pair(info, "eventCode", "AGAM_STAGE", msg.stage)
        _sub(info, "effective", cap_time(msg.sent))
        _sub(info, "expires", cap_time(_expires(msg, mapping)))
        _sub(info, "senderName", settings.sender_name if lang == "en" else settings.sender_name_bn)
        headline, description = texts(msg, mapping, lang)
        _sub(info, "headline", headline)
        _sub(info, "description", description)
        _sub(info, "instruction", level.instruction_en if lang == "en" else level.instruction_bn)
        _sub(info, "web", settings.web)
        _pair(info, "parameter", "AGAM_RULE_SET_VERSION", msg.rule_set_version)
        _pair(info, "parameter", "AGAM_MAPPING_VERSION", mapping.version)
        area = _sub(info, "area")
        names = msg.union_names_en if lang == "en" else msg.union_names_bn
        more = " and {n} more" if lang == "en" else " এবং আরও {n}টি"
        district = msg.district_en if lang == "en" else msg.district_bn
        listed = _names(names, mapping.area_names_listed, more, lang)
        _sub(area, "areaDesc", f"{district}: {listed}")
        for ring in msg.rings:
            _sub(area, "polygon", " ".join(f"{lat},{lon}" for lat, lon in ring))
        for code in msg.union_codes:
            _pair(area, "geocode", mapping.geocode_value_name, code)
    ET.indent(alert, space="  ")
    document: bytes = ET.tostring(
        alert, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS
    )
    return document
