"""Shared reference data: station thresholds and vocabularies (stage order and rank, BMD port
signals, system classes, forecast models), read from versioned TOML in agam/core/data/.

Feeds, the trigger engine and the dashboard all read them from here, so a threshold or a rank
exists once. Loading fails loudly on a malformed file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from agam.core.errors import ConfigError

StageName = Literal["readiness", "action", "observational"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StationThreshold(_Frozen):
    """A threshold at one station, with how it was obtained."""

    station: str = Field(min_length=1)
    variable: Literal["discharge_m3s"]
    value: float = Field(gt=0)
    return_period_years: float | None = Field(default=None, gt=1)
    method: str = Field(min_length=3)
    source: str = Field(min_length=1)
    provisional: bool  # True: a placeholder until recomputed; shown with every use


class Thresholds(_Frozen):
    version: str = Field(min_length=1)
    thresholds: dict[str, StationThreshold]

    def for_station(self, station: str) -> dict[str, StationThreshold]:
        return {k: t for k, t in sorted(self.thresholds.items()) if t.station == station}


class _Stages(_Frozen):
    order: tuple[StageName, ...]
    rank: dict[StageName, int]

    @model_validator(mode="after")
    def _complete(self) -> _Stages:
        if set(self.order) != set(StageName.__args__) or set(self.rank) != set(self.order):  # type: ignore[attr-defined]
            raise ValueError(f"stages.order and stages.rank must name {StageName.__args__}")  # type: ignore[attr-defined]
        return self


class _Signals(_Frozen):
    none: int = Field(ge=0)
    names: tuple[str, ...] = Field(min_length=1)

    @property
    def highest(self) -> int:
        return len(self.names)


class _Systems(_Frozen):
    order: tuple[str, ...] = Field(min_length=1)
    floor_kmh: tuple[float, ...]

    @model_validator(mode="after")
    def _aligned(self) -> _Systems:
        if len(self.order) != len(self.floor_kmh) or list(self.floor_kmh) != sorted(self.floor_kmh):
            raise ValueError("systems.floor_kmh needs one ascending value per class")
        return self


class _Models(_Frozen):
    names: tuple[str, ...] = Field(min_length=1)


class _Ports(_Frozen):
    names: tuple[str, ...] = Field(min_length=1)


class Vocabulary(_Frozen):
    version: str = Field(min_length=1)
    stages: _Stages
    bmd_signals: _Signals
    systems: _Systems
    models: _Models
    ports: _Ports

    def stage_rank(self, stage: str) -> int:
        return self.stages.rank[stage]  # type: ignore[index]

    def signal_name(self, number: int) -> str:
        return "none" if number == self.bmd_signals.none else self.bmd_signals.names[number - 1]


def _load(name: str, model: type[Any]) -> Any:
    path = resources.files("agam.core").joinpath("data", name)
    try:
        return model.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"agam/core/data/{name}: {exc}") from None


@cache
def vocabulary() -> Vocabulary:
    return _load("vocabulary.toml", Vocabulary)  # type: ignore[no-any-return]


@cache
def station_thresholds() -> Thresholds:
    return _load("station_thresholds.toml", Thresholds)  # type: ignore[no-any-return]


def _one_of(what: str, known: Callable[[], tuple[str, ...]]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in known():
            raise ValueError(f"unknown {what} {value!r} (known: {', '.join(known())})")
        return value

    return check


def _signal(value: int) -> int:
    signals = vocabulary().bmd_signals
    if not signals.none < value <= signals.highest:
        raise ValueError(f"BMD port signals run {signals.none + 1}-{signals.highest}, not {value}")
    return value


# Field types for pydantic models elsewhere: validated against the vocabulary at load time.
SystemName = Annotated[
    str, AfterValidator(_one_of("system class", lambda: vocabulary().systems.order))
]
ModelName = Annotated[
    str, AfterValidator(_one_of("forecast model", lambda: vocabulary().models.names))
]
SignalNumber = Annotated[int, AfterValidator(_signal)]


def _port(value: str) -> str:
    """A BMD maritime port, in any letter case; its name as the vocabulary spells it."""
    known = vocabulary().ports.names
    by_case = {name.casefold(): name for name in known}
    name = by_case.get(value.strip().casefold())
    if name is None:
        raise ValueError(f"unknown BMD maritime port {value!r} (known: {', '.join(known)})")
    return name


PortName = Annotated[str, AfterValidator(_port)]
