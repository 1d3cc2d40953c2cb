"""Scenario definitions: versioned TOML under agam/scenarios/data (SYNTHETIC values, labelled)."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agam.core.errors import ConfigError, NotFound

DATA = Path(__file__).resolve().parent / "data"
SCENARIOS = {"flood": "flood_jamuna.toml", "cyclone": "cyclone_amphan.toml"}


class Frozen(BaseModel):
    """A validated, immutable table of a scenario TOML."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ScenarioSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    schema_version: int = Field(ge=1, le=1)
    id: str
    title: str
    modelled_on: str
    hazard: str
    play_from: datetime
    play_to: datetime
    seed: int = 0
    # [feeds.<id>] tables replacing config.toml's during the play; "{base}" = local server.
    feeds: dict[str, dict[str, Any]]
    expect: dict[str, Any] = Field(default_factory=dict)

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def feed_tables(self, base_url: str, drop_folder: Path) -> dict[str, dict[str, Any]]:
        """The feeds this scenario schedules, pointed at the local server / drop folder."""
        out: dict[str, dict[str, Any]] = {}
        for feed_id, table in self.feeds.items():
            fixed = {
                k: v.replace("{base}", base_url) if isinstance(v, str) else v
                for k, v in table.items()
            }
            if feed_id == "bmd":
                fixed["drop_folder"] = str(drop_folder)
            out[feed_id] = fixed
        return out


def load_scenario(name: str) -> ScenarioSpec:
    if name not in SCENARIOS:
        raise NotFound(f"no scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
    path = DATA / SCENARIOS[name]
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        return ScenarioSpec.model_validate(doc)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: [{key}] {first['msg']}") from None


def scenario_names(choice: str) -> list[str]:
    """`--scenario flood|cyclone|both`."""
    if choice == "both":
        return ["flood", "cyclone"]
    if choice not in SCENARIOS:
        raise ConfigError(f"--scenario must be flood, cyclone or both, not {choice!r}")
    return [choice]
