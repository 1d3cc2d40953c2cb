"""Rule sets as data: the discriminated union of rule kinds, combinators, stages, rule sets.

Every threshold, window and comparison lives in the versioned TOML under triggers/rulesets/;
the code only knows how to evaluate each kind. Comparisons are explicit: "gt" or "ge".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agam.core.reference import StageName, StationThreshold, station_thresholds, vocabulary
from triggers.activation import ActivationSpec, LifecycleSpec
from triggers.bounds import MAX_DEPTH, DischargeM3s, ReturnPeriodYears, deepest
from triggers.intensity import DecayedWind, ExceedanceProbability, IntensitySpec
from triggers.results import (
    EvalContext,
    RuleBase,
    RuleResult,
    kleene_all,
    kleene_any,
    result,
)
from triggers.rules_cyclone import (
    BmdSignal,
    FootprintExposure,
    ModelAgreement,
    ObservedLandfall,
    UnionWindDecay,
)
from triggers.rules_flood import EnsembleExceedance, WaterLevelCrossing

__all__ = [
    "AllOf",
    "AnyOf",
    "BmdSignal",
    "EnsembleExceedance",
    "FootprintExposure",
    "ModelAgreement",
    "ObservedLandfall",
    "Rule",
    "RuleSet",
    "SourceDocument",
    "StageSpec",
    "ThresholdSpec",
    "UnionWindDecay",
    "WaterLevelCrossing",
    "walk",
]

DISTRICT_CODE = re.compile(r"^BD\d{4}$")
UPAZILA_CODE = {"bbs2020": re.compile(r"^BD\d{6}$"), "codab2025": re.compile(r"^BD\d{8}$")}


class _Combinator(RuleBase):
    kind: str
    rules: tuple[Rule, ...] = Field(min_length=1)

    def _parts(self, ctx: EvalContext) -> list[RuleResult]:
        return [rule.evaluate(ctx.child(i)) for i, rule in enumerate(self.rules)]


class AllOf(_Combinator):
    """Met when every part is met; not met when any part is not met; else unknown. Unions:
    the intersection over the parts that single out unions."""

    kind: Literal["all_of"]

    def describe(self) -> str:
        return "all of: (" + "; ".join(r.describe() for r in self.rules) + ")"

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        parts = self._parts(ctx)
        sets = [set(p.unions) for p in parts if p.unions is not None]
        unions = set.intersection(*sets) if sets else None
        return _combined(self, ctx, parts, kleene_all(p.state for p in parts), unions, "and")


class AnyOf(_Combinator):
    """Met when any part is met; not met when every part is not met; else unknown. Unions:
    the union over the met parts that single out unions."""

    kind: Literal["any_of"]

    def describe(self) -> str:
        return "any of: (" + "; ".join(r.describe() for r in self.rules) + ")"

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        parts = self._parts(ctx)
        met = [p for p in parts if p.state == "met"]
        sets = [set(p.unions) for p in met if p.unions is not None]
        unions = set.union(*sets) if sets else None
        return _combined(self, ctx, parts, kleene_any(p.state for p in parts), unions, "or")


def _combined(
    rule: _Combinator,
    ctx: EvalContext,
    parts: list[RuleResult],
    state: Literal["met", "not_met", "unknown"],
    unions: set[str] | None,
    joiner: str,
) -> RuleResult:
    summary = f"; {joiner} ".join(p.summary for p in parts)
    observed = {"parts": {p.rule_id: p.state for p in parts}}
    inputs = [ref for p in parts for ref in p.inputs]
    ends = [p.window_end for p in parts if p.window_end is not None]
    out = result(rule.rule_id(ctx), rule.kind, state, summary, observed, inputs, unions)
    return replace(out, children=tuple(parts), window_end=max(ends, default=None))


Rule = Annotated[
    EnsembleExceedance
    | WaterLevelCrossing
    | ModelAgreement
    | UnionWindDecay
    | FootprintExposure
    | BmdSignal
    | ObservedLandfall
    | AllOf
    | AnyOf,
    Field(discriminator="kind"),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()


def walk(rule: Rule) -> Iterator[Rule]:
    yield rule
    if isinstance(rule, AllOf | AnyOf):
        for child in rule.rules:
            yield from walk(child)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceDocument(_Frozen):
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")


class ThresholdSpec(StationThreshold):
    """A station threshold rules reference by id (`threshold_ref`), its numbers within the
    plausible bounds of triggers/limits.toml (a site's own value is checked like any rule)."""

    value: DischargeM3s = Field(gt=0)
    return_period_years: ReturnPeriodYears | None = Field(default=None, gt=1)


class StageSpec(_Frozen):
    """One trigger stage: its rule tree, its geography (defaults to the rule set's), an
    optional targeting rule that picks the affected unions, and suppression."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    stage: StageName
    track: str = Field(min_length=1)  # stages of one track follow readiness -> action -> obs.
    title: str = Field(min_length=1)
    districts: tuple[str, ...] = ()
    upazilas: tuple[str, ...] = ()
    # Ids of earlier stages: if one of them fired (now or earlier in this activation), this
    # stage does not apply (e.g. observational only if action did not fire).
    unless_fired: tuple[str, ...] = ()
    rule: Rule
    targeting: Rule | None = None
    # How hazard intensity (0-1) per affected union is measured, for the list's priority score.
    intensity: IntensitySpec


class RuleSet(_Frozen):
    schema_version: Literal[1]
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    hazard: Literal["flood", "cyclone"]
    effective_from: date
    effective_to: date | None = None
    enabled_by_default: bool
    code_scheme: Literal["bbs2020", "codab2025"]
    source_document: SourceDocument
    districts: tuple[str, ...] = Field(min_length=1)  # ADM2 P-codes
    upazilas: tuple[str, ...] = ()  # ADM3 P-codes in code_scheme; empty = whole districts
    # Thresholds of this rule set only (a draft's own values). The shared ones live in
    # agam/core/data/station_thresholds.toml; an id there cannot be redefined here.
    thresholds: dict[str, ThresholdSpec] = Field(default_factory=dict)
    # What one activation (hazard event) is, and when an open alert stands down.
    activation: ActivationSpec
    lifecycle: LifecycleSpec = LifecycleSpec()
    stages: tuple[StageSpec, ...] = Field(min_length=1)

    @classmethod
    def _fill(cls, data: Any) -> Any:
        """Before validation (engine.load_rule_set): stages without districts take the rule
        set's; threshold_ref is resolved into the rule (value, source, provisional flag) so
        every loaded rule is self-contained. Not a "before" validator: that would take the
        strict TOML validation out of JSON mode."""
        where = deepest(data)
        if where is not None:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels at {where}")
        if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
            return data
        thresholds = _thresholds(data.get("thresholds"))
        stages: list[Any] = []
        for i, stage in enumerate(data["stages"]):
            if isinstance(stage, dict):
                stage = dict(stage)
                if not stage.get("districts") and "districts" in data:
                    stage["districts"] = data["districts"]
                for key in ("rule", "targeting"):
                    if key in stage:
                        stage[key] = _resolve(stage[key], thresholds, f"stages[{i}].{key}")
            stages.append(stage)
        return data | {"stages": stages}

    @property
    def triggers(self) -> tuple[StageSpec, ...]:
        """The stages (earlier name, kept for callers written against it)."""
        return self.stages

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        bad = [d for d in self.districts if not DISTRICT_CODE.match(d)]
        bad += [u for u in self.upazilas if not UPAZILA_CODE[self.code_scheme].match(u)]
        if bad:
            raise ValueError(f"P-codes not valid for {self.code_scheme}: {bad}")
        strays = [u for u in self.upazilas if u[:6] not in self.districts]
        if strays:
            raise ValueError(f"upazilas outside the listed districts: {strays}")
        seen: dict[str, StageSpec] = {}
        for i, stage in enumerate(self.stages):
            self._check_stage(i, stage, seen)
            seen[stage.id] = stage
        return self

    def _check_stage(self, i: int, stage: StageSpec, seen: dict[str, StageSpec]) -> None:
        where = f"stages[{i}] ({stage.id})"
        if stage.id in seen:
            raise ValueError(f"{where}: duplicate stage id")
        outside = set(stage.districts) - set(self.districts)
        outside |= set(stage.upazilas) - set(self.upazilas)
        if outside:
            raise ValueError(f"{where}: codes not in the rule set's area: {sorted(outside)}")
        for earlier in seen.values():
            order = vocabulary().stages.order
            if earlier.track == stage.track and order.index(earlier.stage) > order.index(
                stage.stage
            ):
                raise ValueError(f"{where}: {stage.stage} listed after {earlier.stage}")
        unknown = [s for s in stage.unless_fired if s not in seen]
        if unknown:
            raise ValueError(f"{where}.unless_fired: not an earlier stage: {unknown}")
        self._check_intensity(where, stage)

    def _check_intensity(self, where: str, stage: StageSpec) -> None:
        spec = stage.intensity
        own = [*walk(stage.rule), *(walk(stage.targeting) if stage.targeting else ())]
        if isinstance(spec, DecayedWind) and not any(isinstance(r, UnionWindDecay) for r in own):
            raise ValueError(f"{where}.intensity: decayed_wind needs a union_wind_decay rule")
        if isinstance(spec, ExceedanceProbability) and self.ensemble_rule(spec.stage) is None:
            raise ValueError(
                f"{where}.intensity.stage: {spec.stage!r} is not a stage of this rule set with "
                "an ensemble_exceedance rule"
            )

    def ensemble_rule(self, stage_id: str) -> EnsembleExceedance | None:
        """The ensemble exceedance rule of a stage (for intensity and the Stations page)."""
        stage = next((s for s in self.stages if s.id == stage_id), None)
        if stage is None:
            return None
        return next((r for r in walk(stage.rule) if isinstance(r, EnsembleExceedance)), None)

    def stage_area(self, stage: StageSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(districts, upazilas) of a stage: its own upazilas, else the rule set's upazilas
        that lie in the stage's districts (none listed: whole districts)."""
        districts = set(stage.districts or self.districts)
        upazilas = stage.upazilas or tuple(u for u in self.upazilas if u[:6] in districts)
        return tuple(sorted(districts)), tuple(sorted(upazilas))

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


def _thresholds(own: Any) -> dict[str, Any]:
    """The shared station thresholds plus the rule set's own; redefining a shared id fails."""
    shared = {k: t.model_dump() for k, t in station_thresholds().thresholds.items()}
    own = own if isinstance(own, dict) else {}
    clash = sorted(set(own) & set(shared))
    if clash:
        raise ValueError(
            f"thresholds {clash} are shared (agam/core/data/station_thresholds.toml): "
            "name a new threshold id instead of redefining one"
        )
    merged: dict[str, Any] = shared | own
    return merged


def _resolve(rule: Any, thresholds: Any, where: str) -> Any:
    if not isinstance(rule, dict):
        return rule
    rule = dict(rule)
    if isinstance(rule.get("rules"), list):
        rule["rules"] = [
            _resolve(r, thresholds, f"{where}.rules[{i}]") for i, r in enumerate(rule["rules"])
        ]
    ref = rule.get("threshold_ref")
    if ref is None:
        return rule
    if "threshold_m3s" in rule:
        raise ValueError(f"{where}: give threshold_m3s or threshold_ref, not both")
    entry = thresholds.get(ref) if isinstance(thresholds, dict) else None
    if not isinstance(entry, dict):
        raise ValueError(f"{where}.threshold_ref: {ref!r} is not a known threshold id")
    if entry.get("station") != rule.get("station"):
        raise ValueError(f"{where}.threshold_ref: {ref!r} is for station {entry.get('station')!r}")
    return rule | {
        "threshold_m3s": entry.get("value"),
        "threshold_source": entry.get("source"),
        "threshold_provisional": entry.get("provisional"),
    }
