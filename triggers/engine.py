"""Rule sets from TOML, and the engine: every trigger of every active rule set, judged."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agam.core.errors import RuleError
from hazard_feeds.contract import HazardForecast
from triggers.evaluate import Ctx, RuleResult, State, UnionContext, evaluate_rule
from triggers.model import RuleSet, Trigger

STAGE_RANK = {"readiness": 1, "action": 2, "observational": 2}


@dataclass(frozen=True)
class TriggerEvaluation:
    rule_set_id: str
    rule_set_version: str
    trigger_id: str
    stage: str
    state: State
    explanation: str
    observed: dict[str, Any]
    inputs: tuple[tuple[str, str, str | None], ...]
    districts: tuple[str, ...]
    unions: tuple[str, ...]
    as_of: datetime
    window_end: datetime | None

    @property
    def input_key(self) -> str:
        """Same rule set version, trigger and inputs -> same key (idempotent storage)."""
        body = json.dumps(
            [
                self.rule_set_id,
                self.rule_set_version,
                self.trigger_id,
                sorted(self.inputs),
                self.state,
            ],
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()


def builtin_rule_set_paths() -> list[Path]:
    folder = Path(str(resources.files("triggers").joinpath("rulesets")))
    return sorted(folder.glob("*.toml"))


def load_rule_set(path: Path) -> RuleSet:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        return RuleSet.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: not valid TOML ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RuleError(f"{path}: [{where}] {first['msg']}") from None


def load_rule_sets(paths: Sequence[Path] | None = None) -> list[RuleSet]:
    sets = [load_rule_set(p) for p in (paths or builtin_rule_set_paths())]
    ids = [s.id for s in sets]
    if len(ids) != len(set(ids)):
        raise RuleError(f"duplicate rule set ids: {sorted(ids)}")
    return sorted(sets, key=lambda s: s.id)


def active(
    rule_sets: Sequence[RuleSet], on: date, enabled: Sequence[str] | None = None
) -> list[RuleSet]:
    """Rule sets in force on a date; `enabled` (ids) overrides enabled_by_default."""
    out = []
    for s in rule_sets:
        wanted = s.id in enabled if enabled is not None else s.enabled_by_default
        in_force = s.effective_from <= on and (s.effective_to is None or on <= s.effective_to)
        if wanted and in_force:
            out.append(s)
    return out


def _one(
    rule_set: RuleSet,
    trigger: Trigger,
    forecasts: Mapping[str, HazardForecast],
    unions: UnionContext,
    as_of: datetime,
) -> TriggerEvaluation:
    area = tuple(sorted(unions.unions_of(trigger.districts, trigger.upazilas)))
    result: RuleResult = evaluate_rule(trigger.rule, Ctx(forecasts, unions, as_of, area))
    hit = area if result.unions is None else tuple(u for u in result.unions if u in set(area))
    affected = hit if result.state == "met" else ()
    districts = tuple(
        sorted(
            {d for d in trigger.districts if not affected or any(u.startswith(d) for u in affected)}
        )
    )
    return TriggerEvaluation(
        rule_set.id,
        rule_set.version,
        trigger.id,
        trigger.stage,
        result.state,
        f"{trigger.title}: {result.explanation}",
        result.observed,
        tuple(sorted(result.inputs)),
        districts,
        affected,
        as_of,
        result.window_end,
    )


def evaluate(
    rule_sets: Sequence[RuleSet],
    forecasts: Mapping[str, HazardForecast],
    unions: UnionContext,
    as_of: datetime,
) -> list[TriggerEvaluation]:
    """Pure: the same inputs give the same, identically ordered, results."""
    out: list[TriggerEvaluation] = []
    for rule_set in sorted(rule_sets, key=lambda s: s.id):
        results = [
            _one(rule_set, t, forecasts, unions, as_of)
            for t in sorted(rule_set.triggers, key=lambda t: t.id)
        ]
        met_stages = {(r.stage, d) for r in results if r.state == "met" for d in r.districts}
        for trigger, result in zip(
            sorted(rule_set.triggers, key=lambda t: t.id), results, strict=True
        ):
            blocked = [
                s
                for s in trigger.only_if_not_reached
                if any((s, d) in met_stages for d in result.districts)
            ]
            if blocked and result.state == "met":
                result = TriggerEvaluation(
                    result.rule_set_id,
                    result.rule_set_version,
                    result.trigger_id,
                    result.stage,
                    "not_met",
                    f"{result.explanation} Not applied: the {blocked[0]} stage fired.",
                    result.observed,
                    result.inputs,
                    result.districts,
                    (),
                    result.as_of,
                    result.window_end,
                )
            out.append(result)
    return out


def district_stages(
    results: Sequence[TriggerEvaluation],
) -> dict[tuple[str, str], tuple[str | None, bool, list[TriggerEvaluation]]]:
    """(rule set, district) -> (highest met stage, any unknown, the evaluations behind it)."""
    grouped: dict[tuple[str, str], list[TriggerEvaluation]] = {}
    for r in results:
        for district in r.districts:
            grouped.setdefault((r.rule_set_id, district), []).append(r)
    out = {}
    for key, items in sorted(grouped.items()):
        met = [r for r in items if r.state == "met"]
        top = max(met, key=lambda r: (STAGE_RANK[r.stage], r.stage == "action"), default=None)
        out[key] = (top.stage if top else None, any(r.state == "unknown" for r in items), items)
    return out


def explain(rule_set: RuleSet, trigger_id: str) -> str:
    for trigger in rule_set.triggers:
        if trigger.id == trigger_id:
            return json.dumps(
                {
                    "rule_set": rule_set.id,
                    "version": rule_set.version,
                    "source": rule_set.source_document.model_dump(),
                    "trigger": trigger.model_dump(mode="json"),
                },
                indent=2,
                ensure_ascii=False,
            )
    raise RuleError(f"no trigger {trigger_id!r} in rule set {rule_set.id}")
