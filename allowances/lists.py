"""Proposed lists: for a district alert, the qualifying households of its affected unions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from agam.core.errors import NotFound
from allowances.policy import AllowancePolicy
from allowances.targeting import household_lines
from store import audit, list_repo
from store.models import AllowanceList
from store.user_repo import Principal

log = logging.getLogger(__name__)


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
) -> AllowanceList:
    """Create the next draft revision for (alert, district) from the evaluation whose unions it
    covers; idempotent while a list exists, except that a system draft nobody has touched yet
    is replaced when the alert moved to a newer evaluation (its unions changed)."""
    district_unions = sorted(u for u in union_codes if u.startswith(district_pcode))
    current = list_repo.latest_revision(session, alert_id, district_pcode)
    if current is not None and current.status in ("draft", "submitted", "approved", "exported"):
        if not _stale_system_draft(current, prepared_by, evaluation_id):
            return current
        _supersede_system_draft(session, current, evaluation_id, at)
    beneficiaries = list_repo.beneficiaries_for_unions(session, district_unions)
    paid = list_repo.paid_households(session, alert_id)
    lines = household_lines(
        beneficiaries,
        union_intensity,
        policy,
        at.year,
        already_paid=paid,
        intensity_evidence=intensity_evidence,
    )
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
    )
    row.evaluation_id = evaluation_id
    session.flush()
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
        and prepared_by == "system"
        and evaluation_id is not None
        and current.evaluation_id is not None
        and current.evaluation_id != evaluation_id
    )


def _supersede_system_draft(
    session: Session, current: AllowanceList, evaluation_id: int | None, at: datetime
) -> None:
    """The system's own untouched draft gives way to one built on the newer evaluation."""
    current.status = "superseded"
    audit.append(
        session,
        at=at,
        actor="system",
        action="list.superseded",
        entity="allowance_list",
        entity_id=current.id,
        payload={
            "reason": "the alert moved to a newer evaluation",
            "evaluation_id": evaluation_id,
            "previous_evaluation_id": current.evaluation_id,
        },
    )
    session.flush()


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
    lines = list_repo.lines_frame(session, list_id).drop(columns=["id", "list_id"])
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
    )
