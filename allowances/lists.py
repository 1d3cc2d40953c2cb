"""Proposed lists: for a district alert, the qualifying households of its affected unions;
edits (a new revision), amendments (payees changed after approval) and decisions.

`decide_list` is what the CLI and the dashboard call: one transaction for the decision and, if
it is refused, another that audits the refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy.orm import Session

from agam.core.errors import InvalidTransition, NotFound
from agam.core.transitions import LIST_ACTION_ROLES
from allowances import payment_rows
from allowances.policy import AllowancePolicy, policy_fingerprint
from allowances.targeting import household_lines
from store import audit, config_versions, frames, list_repo, payee_repo
from store.db import Store
from store.identity import Principal, require_active
from store.models import AllowanceList

LIVE = ("draft", "submitted", "approved", "exported")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A district's lines read and scored ahead of the transaction that writes them (a tick
    prepares the next district's while it writes this one), with what they were computed
    from. `propose` uses them only if all of that is unchanged when it writes."""

    inputs: tuple[object, ...]  # alert, unions, intensity and evidence, policy, year
    registry: tuple[int, int, int]  # frames.registry_version when the rows were read
    paid: frozenset[str]  # households already paid in the activation
    lines: pd.DataFrame


@dataclass(frozen=True)
class Scope:
    """What a district's lines are computed from (the keyword arguments of `propose` that
    are not about the list row)."""

    alert_id: int
    district_pcode: str
    union_codes: list[str]
    union_intensity: Mapping[str, float]
    policy: AllowancePolicy
    at: datetime
    intensity_evidence: Mapping[str, str] | None = None


def prepare(session: Session, scope: Scope) -> Prepared:
    """The lines `propose` would write now, from one read of the registry (any session)."""
    unions = _district_unions(scope.union_codes, scope.district_pcode)
    registry = frames.registry_version(session)  # first: the rows are then at least as new
    paid = frozenset(list_repo.paid_households(session, scope.alert_id))
    lines = _scored(session, unions, scope, paid)
    return Prepared(_inputs(scope, unions), registry, paid, lines)


def _district_unions(union_codes: list[str], district_pcode: str) -> list[str]:
    return sorted(u for u in union_codes if u.startswith(district_pcode))


def _inputs(scope: Scope, unions: list[str]) -> tuple[object, ...]:
    return (scope.alert_id, tuple(unions), dict(scope.union_intensity), scope.policy,
            scope.at.year, dict(scope.intensity_evidence or {}))  # fmt: skip


def _scored(
    session: Session, unions: list[str], scope: Scope, paid: frozenset[str]
) -> pd.DataFrame:
    beneficiaries = frames.beneficiaries_for_unions(session, unions)
    evidence = scope.intensity_evidence
    return household_lines(beneficiaries, scope.union_intensity, scope.policy, scope.at.year,
                           already_paid=paid, intensity_evidence=evidence)  # fmt: skip


def _lines(
    session: Session, scope: Scope, unions: list[str], ahead: Prepared | None
) -> pd.DataFrame:
    """The lines prepared ahead if nothing they depend on has changed since, else read and
    scored now, in this transaction."""
    paid = frozenset(list_repo.paid_households(session, scope.alert_id))
    if ahead is not None and (ahead.inputs, ahead.paid, ahead.registry) == (
        _inputs(scope, unions),
        paid,
        frames.registry_version(session),
    ):
        return ahead.lines
    return _scored(session, unions, scope, paid)


def propose(
    session: Session,
    *,
    alert_id: int,
    district_pcode: str,
    union_codes: list[str],
    union_intensity: Mapping[str, float],
    policy: AllowancePolicy,
    prepared_by: str,
    at: datetime,
    synthetic: bool = False,
    intensity_evidence: Mapping[str, str] | None = None,
    evaluation_id: int | None = None,
    ahead: Prepared | None = None,
) -> AllowanceList:
    """Create the next draft revision for (alert, district) from the evaluation whose unions it
    covers; idempotent while a list exists, except that a system draft nobody has touched yet
    is replaced when the alert moved to a newer evaluation (its unions changed). `ahead`: the
    same lines prepared earlier (`prepare`), used if still current."""
    district_unions = _district_unions(union_codes, district_pcode)
    current = list_repo.latest_revision(session, alert_id, district_pcode)
    if current is not None and _stale_system_draft(current, prepared_by, evaluation_id):
        current = list_repo.get_list(session, current.id, for_update=True)  # decided since?
    if current is not None and current.status in ("draft", "submitted", "approved", "exported"):
        if not _stale_system_draft(current, prepared_by, evaluation_id):
            return current
        _supersede_system_draft(session, current, evaluation_id, at)
    scope = Scope(alert_id, district_pcode, union_codes, union_intensity, policy, at,
                  intensity_evidence)  # fmt: skip
    config_versions.record(session, [policy_fingerprint(policy)], at)  # refused if edited
    lines = _lines(session, scope, district_unions, ahead)
    row = list_repo.create_list(
        session,
        alert_id=alert_id,
        district_pcode=district_pcode,
        lines=lines,
        policy={"id": policy.id, "version": policy.version},
        prepared_by=prepared_by,
        at=at,
        amount_per_household_bdt=policy.amount_per_household_bdt,
        synthetic=synthetic,
        supersedes=current,
        evaluation_id=evaluation_id,
    )
    log.info(
        "proposed list %d for alert %d district %s: %d households",
        row.id,
        alert_id,
        district_pcode,
        row.households,
    )
    return row


def _stale_system_draft(
    current: AllowanceList, prepared_by: str, evaluation_id: int | None
) -> bool:
    """A draft the system proposed (an officer's edit is prepared by the officer) from an
    older evaluation than the one asked for."""
    return (
        current.status == "draft"
        and current.prepared_by == "system"
        and current.last_decision_id is None
        and prepared_by == "system"
        and evaluation_id is not None
        and current.evaluation_id is not None
        and current.evaluation_id != evaluation_id
    )


def _supersede_system_draft(
    session: Session, current: AllowanceList, evaluation_id: int | None, at: datetime
) -> None:
    """The system's own untouched draft gives way to one built on the newer evaluation."""
    list_repo.withdraw_system_draft(
        session,
        current,
        at,
        {
            "reason": "the alert moved to a newer evaluation",
            "evaluation_id": evaluation_id,
            "previous_evaluation_id": current.evaluation_id,
        },
    )


def edit(
    session: Session,
    *,
    list_id: int,
    principal: Principal,
    exclude: dict[str, str],
    reason: str,
    at: datetime,
) -> AllowanceList:
    """Exclude households (id -> why) in a new revision; the old revision is superseded."""
    old = list_repo.decide(session, list_id, principal, "edit", at, reason)
    lines = list_repo.raw_lines(session, list_id).drop(columns=["id", "list_id"])
    unknown = sorted(set(exclude) - set(lines["household_id"]))
    if unknown:
        raise NotFound(f"households not on list {list_id}: {', '.join(unknown[:5])}")
    hit = lines["household_id"].isin(exclude)
    lines.loc[hit, "included"] = False
    lines.loc[hit, "amount_bdt"] = 0
    lines.loc[hit, "exclusion_reason"] = lines.loc[hit, "household_id"].map(
        lambda h: f"excluded by {principal.username}: {exclude[h]}"
    )
    return list_repo.create_list(
        session,
        alert_id=old.alert_id,
        district_pcode=old.district_pcode,
        lines=lines,
        policy=old.policy,
        amount_per_household_bdt=old.amount_per_household_bdt,
        prepared_by=principal.username,
        at=at,
        synthetic=old.synthetic,
        supersedes=old,
        edit_reason=reason,
        payees_from=old,
    )


def amend(session: Session, *, list_id: int, principal: Principal, at: datetime) -> AllowanceList:
    """A draft amendment of an approved list: the lines whose pinned payee the registry has
    changed since, each with the registry's payee as it is now. It is submitted and approved
    like any list; once approved, the original's payment file leaves those lines out. The
    original is held locked meanwhile, so an export cannot pay it with this draft unseen."""
    original = list_repo.get_list(session, list_id, for_update=True)
    user = require_active(
        session,
        principal,
        LIST_ACTION_ROLES["submit"],
        district=original.district_pcode,
        doing="propose amendments",
    )
    if original.status != "approved":
        raise InvalidTransition(
            f"list {list_id} is {original.status}; only an approved list not yet exported "
            "can be amended"
        )
    changed = payee_repo.changes_since_pinning(session, list_id)
    taken = list_repo.amended_refs(session, list_id, LIVE)
    changed = changed[~changed["line_ref"].isin(taken) & (changed["changed"] != payee_repo.REMOVED)]
    if changed.empty:
        raise InvalidTransition(f"no payee of list {list_id} changed without an amendment")
    lines = list_repo.raw_lines(session, list_id)
    lines = lines[lines["rank"].isin(changed["rank"]) & lines["included"].astype(bool)]
    lines = lines.assign(amends_line_ref=lines["line_ref"]).drop(columns=["id", "list_id"])
    row = list_repo.create_list(
        session,
        alert_id=original.alert_id,
        district_pcode=original.district_pcode,
        lines=lines,
        policy=original.policy,
        amount_per_household_bdt=original.amount_per_household_bdt,
        prepared_by=user.username,
        at=at,
        synthetic=original.synthetic,
        edit_reason=f"payees changed in the registry after list {list_id} was approved",
        amends=original,
    )
    log.info("amendment %d of list %d: %d lines", row.id, list_id, row.households)
    return row


def decide_list(
    store: Store,
    list_id: int,
    principal: Principal,
    action: str,
    at: datetime,
    reason: str | None = None,
    *,
    second_approval: bool = False,
) -> AllowanceList:
    """One decision in its own transaction; a refusal is audited, then raised."""
    with (
        audit.refusals_recorded(
            store,
            at=at,
            actor=principal.username,
            action=f"list.{action}",
            entity="allowance_list",
            entity_id=list_id,
        ),
        store.session() as session,
    ):
        return list_repo.decide(
            session,
            list_id,
            principal,
            action,
            at,
            reason,
            second_approval=second_approval,
            payable=lambda columns: payment_rows.payable(list_id, columns),
        )
