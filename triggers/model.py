"""Rule kinds and rule sets as data (pydantic, frozen, extra fields refused).

Every threshold, window and comparison lives in the versioned TOML rule sets; the code only
knows how to evaluate each kind. Comparisons are explicit: "gt" (strictly above) or "ge".
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Comparison = Literal["gt", "ge"]
Stage = Literal["readiness", "action", "observational"]
ModelName = Literal["BMD", "IMD", "ECMWF", "GFS", "JTWC"]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    max_age_hours: float = Field(default=36.0, gt=0)


class EnsembleExceedance(_Rule):
    """P(members cmp threshold) cmp min_probability on N consecutive days in a lead window."""

    kind: Literal["ensemble_exceedance"]
    feed: str = "glofas"
    station: str
    threshold_m3s: float = Field(gt=0)
    threshold_source: str
    comparison: Comparison
    min_probability: float = Field(gt=0, lt=1)
    probability_comparison: Comparison
    consecutive_days: int = Field(ge=1)
    min_lead_days: int = Field(ge=0)
    max_lead_days: int = Field(ge=1)
    min_members: int = Field(ge=1)


class Trend(BaseModel):
    """Ensemble-median discharge sustained or increasing over N days from the crossing day
    (that day and the N-1 after it): each day's median >= (1 - tolerance_fraction) x the
    median of the day before it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    feed: str = "glofas"
    station: str
    days: int = Field(ge=1)
    tolerance_fraction: float = Field(ge=0, lt=1)
    min_members: int = Field(ge=1)


class WaterLevelCrossing(_Rule):
    """Deterministic forecast level cmp danger level (read from the feed) + offset."""

    kind: Literal["water_level_crossing"]
    feed: str = "ffwc"
    station: str
    offset_m: float
    comparison: Comparison
    min_lead_days: float = Field(ge=0)
    max_lead_days: float = Field(gt=0)
    trend: Trend | None = None


class ModelAgreement(_Rule):
    """At least k of the listed models forecast wind cmp threshold within a lead window."""

    kind: Literal["model_agreement"]
    feed: str = "bmd"
    models: tuple[ModelName, ...]
    min_models: int = Field(ge=1)
    threshold_kmh: float = Field(gt=0)
    comparison: Comparison
    min_lead_hours: float = Field(ge=0)
    max_lead_hours: float = Field(gt=0)
    requires_system_at_least: str | None = None  # e.g. "depression" in the Bay of Bengal


class ObservedLandfall(_Rule):
    kind: Literal["observed_landfall"]
    feed: str = "bmd"
    threshold_kmh: float = Field(gt=0)
    comparison: Comparison
    any_of_sources: tuple[ModelName, ...]
    or_at_least: int = Field(ge=1)
    of_sources: tuple[ModelName, ...]


class UnionWindDecay(_Rule):
    """Landfall wind x factor_a x exp(-decay_b_per_km x distance to the union boundary)."""

    kind: Literal["union_wind_decay"]
    feed: str = "bmd"
    models: tuple[ModelName, ...]
    landfall_wind: Literal["max_of_models", "median_of_models"]
    factor_a: float = Field(gt=0)
    decay_b_per_km: float = Field(ge=0)
    threshold_kmh: float = Field(gt=0)
    comparison: Comparison


class FootprintExposure(_Rule):
    kind: Literal["footprint_exposure"]
    feed: str = "gdacs"
    min_wind_kmh: float = Field(gt=0)
    min_share: float = Field(ge=0, le=1)


class BmdSignal(_Rule):
    kind: Literal["bmd_signal"]
    feed: str = "bmd"
    min_signal: int = Field(ge=1, le=11)
    ports: tuple[str, ...] = ()


class AllOf(_Rule):
    kind: Literal["all_of"]
    rules: tuple[Rule, ...] = Field(min_length=1)


class AnyOf(_Rule):
    kind: Literal["any_of"]
    rules: tuple[Rule, ...] = Field(min_length=1)


Rule = Annotated[
    EnsembleExceedance
    | WaterLevelCrossing
    | ModelAgreement
    | ObservedLandfall
    | UnionWindDecay
    | FootprintExposure
    | BmdSignal
    | AllOf
    | AnyOf,
    Field(discriminator="kind"),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()


class Trigger(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    stage: Stage
    title: str
    districts: tuple[str, ...] = Field(min_length=1)  # ADM2 P-codes
    upazilas: tuple[str, ...] = ()  # ADM3 P-codes (2020 or 2025 scheme); empty = whole district
    only_if_not_reached: tuple[Stage, ...] = ()
    rule: Rule


class SourceDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    title: str
    url: str


class RuleSet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    version: str
    effective_from: date
    effective_to: date | None = None
    hazard: Literal["flood", "cyclone"]
    enabled_by_default: bool
    code_scheme: Literal["BBS2020", "CODAB2025"]
    source_document: SourceDocument
    triggers: tuple[Trigger, ...] = Field(min_length=1)
