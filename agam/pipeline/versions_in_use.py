"""The rule set and policy versions this process would use, checked against the versions the
store has recorded (`store.config_versions`): the scheduler refuses to start with a version
whose content differs from the one it was first used with."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError
from sqlalchemy.orm import Session

from agam.core.strict import validate_strict
from agam.pipeline.context import AppContext
from allowances.policy import AllowancePolicy, load_policy, policy_fingerprint
from store import config_versions
from store.config_versions import Fingerprint
from triggers.model import RuleSet


def rule_set_fingerprints(rule_sets: Iterable[RuleSet]) -> list[Fingerprint]:
    """Each loaded rule set, its shared thresholds resolved into its rules."""
    return [
        config_versions.fingerprint("rule_set", s.id, s.version, s.model_dump(mode="json"))
        for s in rule_sets
    ]


def fingerprints(
    rule_sets: Iterable[RuleSet], policy: AllowancePolicy | None = None
) -> list[Fingerprint]:
    """The rule sets' and the allowance policy's (default: the shipped one)."""
    return [*rule_set_fingerprints(rule_sets), policy_fingerprint(policy or load_policy())]


def configured_fingerprints(
    ctx: AppContext, policy: AllowancePolicy | None = None
) -> list[Fingerprint]:
    return fingerprints(ctx.rule_sets(), policy)


def check_configured(ctx: AppContext) -> None:
    """ConfigError naming every configured rule set or policy version the store knows with
    other content."""
    with ctx.store.read() as session:
        config_versions.check(session, configured_fingerprints(ctx))


def recorded_rule_sets(session: Session) -> list[RuleSet]:
    """Every rule set version as the store recorded it at its first use: what each stored
    evaluation of that version was judged with, also once its file is gone or replaced."""
    out = []
    for content in config_versions.recorded_contents(session, "rule_set"):
        try:
            out.append(validate_strict(RuleSet, content))
        except (ValidationError, ValueError):  # recorded by a version of Agam with other rules
            continue
    return out
