"""Proposed lists: for a district alert, the qualifying households of its affected unions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from agam.core.errors import NotFound
from allowances.policy import AllowancePolicy
from allowances.targeting import household_lines
from store import list_repo
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
) -> AllowanceList:
    """Create the next draft revision for (alert, district); idempotent while a draft exists."""
    district_unions = sorted(u for u in union_codes if u.startswith(district_pcode))
    current = list_repo.latest_revision(session, alert_id, district_pcode)
    if current is not None and current.status in ("draft", "submitted", "approved", "exported"):
        return current
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
    log.info(
        "proposed list %d for alert %d district %s: %d households",
        row.id,
        alert_id,
        district_pcode,
        row.households,
    )
    return row


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
