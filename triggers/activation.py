"""What one activation is (rule-set data) and which hazard event the forecasts describe.

An activation is one hazard event grouping its alerts: a cyclone by its identity (the GDACS
event, its name and year in GDACS or BMD bulletins), a flood season per basin (the stage's
track and the year). One payment per household per activation; stages fired in it are the
engine's `already_fired`. Pure: the store side is agam/pipeline/activation.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hazard_feeds.contract import HazardForecast


class ActivationSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # "cyclone": one storm, by its identity; "flood_season": one monsoon season per track.
    event: Literal["cyclone", "flood_season"]
    # A storm is named only once it is a cyclonic storm. Until the forecasts name it, a stage
    # met within this many hours of an activation's last activity belongs to that activation.
    unnamed_gap_hours: float = Field(default=96.0, gt=0)
    # How old a forecast may be to lend the event its identity.
    identity_max_age_hours: float = Field(default=24.0, gt=0)


class LifecycleSpec(BaseModel):
    """When an open alert with nothing met stands down."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Hours after the newest qualifying forecast's window end (cyclone: the forecast landfall).
    stand_down_after_hours: float = Field(default=0.0, ge=0)
    # True: stand down even when the inputs are now unknown (a storm past landfall stops being
    # forecast; its bulletins going stale must not hold the alert open for ever).
    stand_down_when_unknown: bool = False


@dataclass(frozen=True)
class EventIdentity:
    keys: tuple[str, ...]  # e.g. ("gdacs:1000970", "storm:MOCHA-2023"); empty: not named yet
    label: str


def _fresh(forecast: HazardForecast | None, as_of: datetime, max_age_h: float) -> bool:
    if forecast is None or forecast.issued_at > as_of:
        return False
    return (as_of - forecast.issued_at).total_seconds() / 3600 <= max_age_h


def _storm(name: Any, year: int) -> str | None:
    text = re.sub(r"[^A-Z0-9]", "", str(name or "").upper())
    return f"storm:{text}-{year}" if text else None


def _gdacs_keys(forecast: HazardForecast) -> list[str]:
    events = forecast.payload.get("events") or []
    main = events[0] if events else {}
    if main.get("event_id") is None:
        return []
    keys = [f"gdacs:{int(main['event_id'])}"]
    match = re.fullmatch(r"\s*([A-Za-z0-9]+)-(\d{2})\s*", str(main.get("name") or ""))
    if match:  # GDACS names an event "MOCHA-23": the name and the two-digit year
        keys.append(f"storm:{match.group(1).upper()}-{2000 + int(match.group(2))}")
    return keys


def event_identity(
    spec: ActivationSpec, track: str, forecasts: Mapping[str, HazardForecast], as_of: datetime
) -> EventIdentity:
    """The identity of the hazard event the current forecasts describe, for one stage track."""
    if spec.event == "flood_season":
        return EventIdentity((f"flood:{track}:{as_of.year}",), f"{track} flood season {as_of.year}")
    keys: list[str] = []
    gdacs, bmd = forecasts.get("gdacs"), forecasts.get("bmd")
    if gdacs is not None and _fresh(gdacs, as_of, spec.identity_max_age_hours):
        keys += _gdacs_keys(gdacs)
    if bmd is not None and _fresh(bmd, as_of, spec.identity_max_age_hours):
        system = bmd.payload.get("system") or {}
        name = _storm(system.get("name") if isinstance(system, Mapping) else None, as_of.year)
        keys += [name] if name else []
    keys = sorted(set(keys))
    named = [k.split(":", 1)[1] for k in keys if k.startswith("storm:")]
    label = named[0] if named else f"unnamed cyclone of {as_of:%d %b %Y}"
    return EventIdentity(tuple(keys), label)


def compatible(current: tuple[str, ...], known: tuple[str, ...]) -> bool:
    """Keys describe the same event unless, for some kind (gdacs, storm), both sides have
    keys of that kind and none in common."""
    for kind in {k.split(":", 1)[0] for k in current} & {k.split(":", 1)[0] for k in known}:
        ours = {k for k in current if k.startswith(kind + ":")}
        theirs = {k for k in known if k.startswith(kind + ":")}
        if not ours & theirs:
            return False
    return True
