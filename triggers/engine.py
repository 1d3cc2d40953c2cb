"""Rule sets from TOML, and the engine: every stage of every rule set, judged purely.

`evaluate(rule_sets, forecasts, unions, as_of)` reads no clock and no files: the same inputs
give the same, identically ordered results whatever the order of the inputs.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agam.core.errors import RuleError
from agam.core.reference import vocabulary
from agam.core.strict import validate_strict
from agam.core.timeutil import ensure_utc
from hazard_feeds.contract import HazardForecast
from triggers.bounds import MAX_DEPTH
from triggers.intensity import UnionIntensity, stage_intensity
from triggers.model import (
    EnsembleExceedance,
    Rule,
    RuleSet,
    StageSpec,
    WaterLevelCrossing,
    walk,
)
from triggers.results import (
    VERDICT,
    EvalContext,
    ForecastRef,
    RuleResult,
    State,
    UnionContext,
    kleene_all,
)
from triggers.results import sentence as capitalised


@dataclass(frozen=True)
class StageEvaluation:
    rule_set_id: str
    rule_set_version: str
    stage_id: str  # e.g. FLOOD_JAMUNA_READINESS
    stage: str  # readiness | action | observational
    track: str
    state: State
    explanation: str  # one sentence, shown verbatim in the UI
    rule_results: tuple[RuleResult, ...]  # the rule tree depth-first, then targeting
    inputs: tuple[ForecastRef, ...]
    target_districts: tuple[str, ...]
    affected_districts: tuple[str, ...]  # empty unless met
    affected_unions: tuple[str, ...]  # empty unless met
    as_of: datetime
    suppressed_by: str | None = None  # the earlier stage whose firing made this one not apply
    intensity: UnionIntensity | None = None  # hazard intensity per union (evidence, targeting)

    @property
    def result(self) -> RuleResult:
        return self.rule_results[0]

    # -- the names the pipeline and CLI were first written against ------------------------
    @property
    def trigger_id(self) -> str:
        return self.stage_id

    @property
    def districts(self) -> tuple[str, ...]:
        """Affected districts when met, else the districts the stage watches."""
        return self.affected_districts if self.state == "met" else self.target_districts

    @property
    def unions(self) -> tuple[str, ...]:
        return self.affected_unions

    @property
    def observed(self) -> dict[str, Any]:
        """Each rule's observed values by rule id, and the stage's hazard intensity."""
        out: dict[str, Any] = {r.rule_id: r.observed for r in self.rule_results}
        if self.intensity is not None:
            out["intensity"] = self.intensity.as_observed()
        return out

    @property
    def window_end(self) -> datetime | None:
        ends = [r.window_end for r in self.rule_results if r.window_end is not None]
        return max(ends, default=None)

    @property
    def input_key(self) -> str:
        """Same rule set version, stage, inputs and state -> same key (idempotent storage)."""
        body = json.dumps(
            [self.rule_set_id, self.rule_set_version, self.stage_id, self.inputs, self.state]
        )
        return hashlib.sha256(body.encode()).hexdigest()


TriggerEvaluation = StageEvaluation


def builtin_rule_set_dir() -> Path:
    return Path(str(resources.files("triggers").joinpath("rulesets")))


def _paths(dir_or_paths: str | Path | Iterable[str | Path] | None) -> list[Path]:
    if dir_or_paths is None:
        items: list[Path] = [builtin_rule_set_dir()]
    elif isinstance(dir_or_paths, str | Path):
        items = [Path(dir_or_paths)]
    else:
        items = [Path(p) for p in dir_or_paths]
    out: list[Path] = []
    for item in items:
        if item.is_dir():
            out.extend(sorted(item.glob("*.toml")))
        elif item.is_file():
            out.append(item)
        else:
            raise RuleError(f"{item}: no such rule set file or folder")
    return sorted(set(out))


def _loc(parts: Sequence[int | str]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_rule_set(path: str | Path) -> RuleSet:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise RuleError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    try:
        return validate_strict(RuleSet, RuleSet._fill(data))
    except RecursionError:
        raise RuleError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    except ValidationError as exc:
        problems = [f"{_loc(e['loc'])}: {e['msg']}" for e in exc.errors()[:3]]
        more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        raise RuleError(f"{path}: " + "; ".join(problems) + more) from None
    except ValueError as exc:  # from _fill: nesting, threshold references
        raise RuleError(f"{path}: {exc}") from None


def load_rule_sets(dir_or_paths: str | Path | Iterable[str | Path] | None = None) -> list[RuleSet]:
    """Rule sets from a folder, a file or a list of either (default: the shipped ones),
    sorted by (id, version); a repeated (id, version) is an error naming both files."""
    seen: dict[tuple[str, str], Path] = {}
    sets: list[RuleSet] = []
    for path in _paths(dir_or_paths):
        rule_set = load_rule_set(path)
        key = (rule_set.id, rule_set.version)
        if key in seen:
            raise RuleError(f"{path}: rule set {key[0]} {key[1]} is also in {seen[key]}")
        seen[key] = path
        sets.append(rule_set)
    return sorted(sets, key=lambda s: (s.id, s.version))


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    """ "2025.10" > "2025.9": numeric parts compare as numbers, others as text."""
    parts = version.replace("-", ".").split(".")
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in parts)


def newest_versions(rule_sets: Iterable[RuleSet]) -> list[RuleSet]:
    """One rule set per id: the highest version (a draft file may supersede a shipped one)."""
    best: dict[str, RuleSet] = {}
    for s in rule_sets:
        if s.id not in best or _version_key(s.version) > _version_key(best[s.id].version):
            best[s.id] = s
    return sorted(best.values(), key=lambda s: s.id)


def in_force(rule_sets: Iterable[RuleSet], on: date) -> list[RuleSet]:
    return [s for s in rule_sets if s.in_force(on)]


def active(
    rule_sets: Iterable[RuleSet], on: date, enabled: Collection[str] | None = None
) -> list[RuleSet]:
    """Rule sets in force on a date; `enabled` (ids) overrides enabled_by_default."""
    return [
        s
        for s in rule_sets
        if s.in_force(on) and (s.id in enabled if enabled is not None else s.enabled_by_default)
    ]


def station_rules(rule_sets: Iterable[RuleSet]) -> dict[str, list[Rule]]:
    """The station-series rules (ensemble exceedance, water-level crossing) of the given rule
    sets, by station, in rule-set and stage order: what the Stations page shows the engine's
    own numbers for (triggers.exceedance.station_exceedance)."""
    out: dict[str, list[Rule]] = {}
    for rule_set in sorted(rule_sets, key=lambda s: (s.id, s.version)):
        for stage in rule_set.stages:
            for rule in walk(stage.rule):
                if isinstance(rule, EnsembleExceedance | WaterLevelCrossing):
                    out.setdefault(rule.station, []).append(rule)
    return out


def district_stages(
    results: Iterable[StageEvaluation],
) -> dict[tuple[str, str], tuple[str | None, bool, list[StageEvaluation]]]:
    """(rule set, district) -> (highest met stage, any unknown, the evaluations behind it)."""
    grouped: dict[tuple[str, str], list[StageEvaluation]] = {}
    for r in results:
        for district in r.districts:
            grouped.setdefault((r.rule_set_id, district), []).append(r)
    out: dict[tuple[str, str], tuple[str | None, bool, list[StageEvaluation]]] = {}
    for key, items in sorted(grouped.items()):
        met = [r for r in items if r.state == "met"]
        top = max(met, key=lambda r: vocabulary().stage_rank(r.stage), default=None)
        out[key] = (top.stage if top else None, any(r.state == "unknown" for r in items), items)
    return out


def _affected(
    rule_set: RuleSet, stage: StageSpec, state: State, area: tuple[str, ...], picked: RuleResult
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    districts, _ = rule_set.stage_area(stage)
    if state != "met":
        return (), ()
    unions = area if picked.unions is None else tuple(u for u in area if u in set(picked.unions))
    if not area:
        return districts, ()
    hit = tuple(d for d in districts if any(u.startswith(d) for u in unions))
    return hit, unions


def _evaluate_set(
    rule_set: RuleSet,
    forecasts: Mapping[str, HazardForecast],
    unions: UnionContext,
    as_of: datetime,
    already_fired: Collection[str],
) -> list[StageEvaluation]:
    states: dict[str, State] = {}
    out: list[StageEvaluation] = []
    for stage in rule_set.stages:
        districts, upazilas = rule_set.stage_area(stage)
        area = tuple(sorted(set(unions.district_unions(districts, upazilas))))
        ctx = EvalContext(forecasts, unions, as_of, area, stage.id)
        main = stage.rule.evaluate(ctx)
        targeting = None
        if stage.targeting is not None:
            targeting = stage.targeting.evaluate(replace(ctx, rule_path=f"{stage.id}.targeting"))
        state = main.state
        fired = [s for s in stage.unless_fired if s in already_fired or states.get(s) == "met"]
        pending = [s for s in stage.unless_fired if s not in fired and states.get(s) == "unknown"]
        if fired:
            state = "not_met"
        elif pending:
            state = kleene_all([state, "unknown"])  # "not fired" is itself unknown
        states[stage.id] = state
        picked = targeting if targeting is not None and targeting.state == "met" else main
        hit_districts, hit_unions = _affected(rule_set, stage, state, area, picked)
        clause = main.summary
        if targeting is not None:
            clause += f"; {targeting.summary}"
        if fired:
            sentence = f"{clause}: {stage.stage} does not apply because {fired[0]} fired."
        elif pending and main.state == "met":
            sentence = f"{clause}: {stage.stage} unknown until {pending[0]} is known."
        else:
            sentence = f"{clause}: {stage.stage} {VERDICT[state]}."
        results = main.flatten() + (targeting.flatten() if targeting is not None else ())
        inputs = tuple(sorted({ref for r in results for ref in r.inputs}))
        intensity = stage_intensity(stage.intensity, ctx, results, rule_set.ensemble_rule)
        out.append(
            StageEvaluation(
                rule_set.id,
                rule_set.version,
                stage.id,
                stage.stage,
                stage.track,
                state,
                capitalised(sentence),
                results,
                inputs,
                districts,
                hit_districts,
                hit_unions,
                as_of,
                fired[0] if fired else None,
                intensity,
            )
        )
    return out


def evaluate(
    rule_sets: Iterable[RuleSet],
    forecasts: Mapping[str, HazardForecast],
    unions: UnionContext,
    as_of: datetime,
    *,
    already_fired: Mapping[str, Collection[str]] | None = None,
) -> list[StageEvaluation]:
    """Every stage of every rule set at `as_of`, sorted by (rule set, version, stage order).

    `forecasts` holds the latest forecast per feed id; one issued after `as_of` is ignored
    (unknown), one older than a rule's max_age_hours makes that rule unknown.
    `already_fired` maps a rule set id to stage ids that fired earlier in the current
    activation (from the alert store), so `unless_fired` also covers earlier runs.
    """
    as_of = ensure_utc(as_of)
    context = unions
    visible = {feed: forecasts[feed] for feed in sorted(forecasts)}
    fired = already_fired or {}
    out: list[StageEvaluation] = []
    for rule_set in sorted(rule_sets, key=lambda s: (s.id, s.version)):
        out.extend(_evaluate_set(rule_set, visible, context, as_of, fired.get(rule_set.id, ())))
    return out


def explain(rule: Rule | StageSpec | RuleSet, stage_id: str | None = None) -> str:
    """Plain-English description of a rule, a stage or a whole rule set (for the CLI).
    `explain(rule_set, stage_id)` describes one stage, then its full definition as JSON."""
    if isinstance(rule, RuleSet) and stage_id is not None:
        stage = next((s for s in rule.stages if s.id == stage_id), None)
        if stage is None:
            raise RuleError(f"no stage {stage_id!r} in rule set {rule.id}")
        definition = {
            "rule_set": rule.id,
            "version": rule.version,
            "source": rule.source_document.model_dump(),
            "stage": stage.model_dump(mode="json", exclude_none=True),
        }
        return explain(stage) + "\n" + json.dumps(definition, indent=2, ensure_ascii=False)
    if isinstance(rule, RuleSet):
        lines = [
            f"{rule.title} ({rule.id} {rule.version}, {rule.hazard}, from {rule.effective_from}"
            + (f" to {rule.effective_to}" if rule.effective_to else "")
            + f"; {'on' if rule.enabled_by_default else 'off'} by default)",
            f"Source: {rule.source_document.title} <{rule.source_document.url}>",
        ]
        lines += [explain(stage) for stage in rule.stages]
        return "\n".join(lines)
    if isinstance(rule, StageSpec):
        text = f"{rule.id} [{rule.stage}, {rule.track}]: {rule.title}."
        text += f" Met when {rule.rule.describe()}."
        if rule.targeting is not None:
            text += f" Affected unions: where {rule.targeting.describe()}."
        if rule.unless_fired:
            text += f" Does not apply if {', '.join(rule.unless_fired)} fired."
        return text + f" Hazard intensity: {rule.intensity.describe()}."
    return rule.describe()
