"""Allowance lists: creation, the status table, role and district checks, content hashes.

Every decision is checked here, in the same transaction that writes it, whatever the caller
(CLI, dashboard, tests): the UI hiding a button is a convenience, not the control.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agam.core.errors import InvalidTransition, NotFound, PermissionDenied
from store import audit
from store.models import Alert, AllowanceLine, AllowanceList, Decision
from store.user_repo import Principal

# (status, action) -> new status. Anything else is refused.
LIST_TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "submit"): "submitted",
    ("submitted", "approve"): "approved",
    ("submitted", "reject"): "rejected",
    ("approved", "export"): "exported",
    ("exported", "export"): "exported",
    # An edit makes a new revision; the old one is kept, marked superseded. Never after approval.
    ("draft", "edit"): "superseded",
    ("submitted", "edit"): "superseded",
    ("rejected", "edit"): "superseded",
}
# Which roles may take each action (district scope is checked as well).
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "submit": ("officer", "admin"),
    "approve": ("district_admin",),
    "reject": ("district_admin",),
    "export": ("district_admin",),
    "edit": ("officer", "admin"),
}
INSERT_CHUNK = 50_000


def content_hash(lines: Iterable[tuple[Any, ...]]) -> str:
    """sha256 over the canonical lines (rank order, fixed fields, UTF-8)."""
    digest = hashlib.sha256()
    for rank, household, beneficiary, union, amount, included in lines:
        digest.update(
            f"{rank}|{household}|{beneficiary}|{union}|{amount}|{int(included)}\n".encode()
        )
    return digest.hexdigest()


def create_list(
    session: Session,
    *,
    alert_id: int,
    district_pcode: str,
    lines: pd.DataFrame,
    policy: dict[str, Any],
    amount_per_household_bdt: int,
    prepared_by: str,
    at: datetime,
    synthetic: bool = False,
    supersedes: AllowanceList | None = None,
    edit_reason: str | None = None,
) -> AllowanceList:
    revision = 1
    if supersedes is not None:
        revision = supersedes.revision + 1
    included = lines.loc[lines["included"].astype(bool)]
    row = AllowanceList(
        alert_id=alert_id,
        district_pcode=district_pcode,
        revision=revision,
        status="draft",
        policy=policy,
        amount_per_household_bdt=amount_per_household_bdt,
        households=len(included),
        total_bdt=int(included["amount_bdt"].sum()),
        prepared_by=prepared_by,
        created_at=at,
        synthetic=synthetic,
        supersedes_id=supersedes.id if supersedes is not None else None,
        edit_reason=edit_reason,
    )
    session.add(row)
    session.flush()
    records: list[dict[str, Any]] = lines.assign(list_id=row.id).to_dict("records")  # type: ignore[assignment]
    for start in range(0, len(records), INSERT_CHUNK):
        session.execute(insert(AllowanceLine), records[start : start + INSERT_CHUNK])
    audit.append(
        session,
        at=at,
        actor=prepared_by,
        action="list.propose",
        entity="allowance_list",
        entity_id=row.id,
        payload={
            "alert_id": alert_id,
            "district": district_pcode,
            "revision": revision,
            "households": row.households,
            "total_bdt": row.total_bdt,
            "supersedes": row.supersedes_id,
            "reason": edit_reason,
        },
    )
    return row


def get_list(session: Session, list_id: int) -> AllowanceList:
    row = session.get(AllowanceList, list_id)
    if row is None:
        raise NotFound(f"no allowance list {list_id}")
    return row


def lines_frame(session: Session, list_id: int) -> pd.DataFrame:
    stmt = (
        select(AllowanceLine).where(AllowanceLine.list_id == list_id).order_by(AllowanceLine.rank)
    )
    conn = session.connection()
    return pd.read_sql(stmt, conn)


def list_hash(session: Session, list_id: int) -> str:
    stmt = (
        select(
            AllowanceLine.rank,
            AllowanceLine.household_id,
            AllowanceLine.beneficiary_id,
            AllowanceLine.adm4_pcode,
            AllowanceLine.amount_bdt,
            AllowanceLine.included,
        )
        .where(AllowanceLine.list_id == list_id)
        .order_by(AllowanceLine.rank)
    )
    return content_hash(tuple(r) for r in session.execute(stmt))


def authorise(principal: Principal, action: str, row: AllowanceList) -> None:
    if principal.role not in ACTION_ROLES.get(action, ()):
        raise PermissionDenied(f"{principal.username} ({principal.role}) may not {action} lists")
    if principal.role != "admin" and not principal.covers(row.district_pcode):
        raise PermissionDenied(
            f"{principal.username} may not {action} lists of district {row.district_pcode}"
        )


def decide(
    session: Session,
    list_id: int,
    principal: Principal,
    action: str,
    at: datetime,
    reason: str | None = None,
    *,
    second_approval: bool = False,
) -> AllowanceList:
    """submit / approve / reject / export, checked against role, district and four-eyes.

    With `second_approval`, a list needs two different district administrators: the first
    approval is recorded and the list stays submitted until the second."""
    row = get_list(session, list_id)
    authorise(principal, action, row)
    new_status = LIST_TRANSITIONS.get((row.status, action))
    if new_status is None:
        raise InvalidTransition(f"list {list_id} is {row.status}; cannot {action}")
    if action in ("reject", "edit") and not (reason or "").strip():
        raise InvalidTransition(f"to {action} a list needs a reason")
    digest = list_hash(session, list_id)
    if action == "submit":
        row.submitted_by = principal.username
        row.content_sha256 = digest
    elif action in ("approve", "reject"):
        if principal.username in (row.submitted_by, row.prepared_by):
            raise PermissionDenied("the person who prepared or submitted a list cannot decide it")
        if digest != row.content_sha256:
            raise InvalidTransition(f"list {list_id} changed after submission; resubmit it")
        if action == "approve" and second_approval and row.approved_by is None:
            row.approved_by = principal.username  # first of two approvals
            new_status = "submitted"
            action = "approve_first"
        elif action == "approve" and second_approval:
            if principal.username == row.approved_by:
                raise PermissionDenied("the second approval must come from another administrator")
            row.second_approved_by = principal.username
            row.decided_at = at
        else:
            row.approved_by = principal.username if action == "approve" else None
            row.second_approved_by = None
            row.decided_at = at
    elif action == "export" and digest != row.content_sha256:
        raise InvalidTransition(f"list {list_id} does not match its approved hash; not exported")
    row.status = new_status
    session.add(
        Decision(
            list_id=list_id,
            action=action,
            username=principal.username,
            role=principal.role,
            reason=reason,
            content_sha256=digest,
            at=at,
        )
    )
    audit.append(
        session,
        at=at,
        actor=principal.username,
        action=f"list.{action}",
        entity="allowance_list",
        entity_id=list_id,
        payload={
            "status": new_status,
            "content_sha256": digest,
            "reason": reason,
            "district": row.district_pcode,
        },
    )
    session.flush()
    return row


def paid_households(session: Session, alert_id: int, exclude_list: int | None = None) -> set[str]:
    """Households already on an approved or exported list of this alert's activation (the
    hazard event: every alert it grouped across stage changes, stand-downs and re-raises);
    of this alert alone when it has no activation (alerts stored before activations)."""
    activation = select(Alert.activation_id).where(Alert.id == alert_id).scalar_subquery()
    alerts = select(Alert.id).where(
        (Alert.id == alert_id) | ((Alert.activation_id == activation) & activation.is_not(None))
    )
    stmt = (
        select(AllowanceLine.household_id)
        .join(AllowanceList)
        .where(
            AllowanceList.alert_id.in_(alerts),
            AllowanceList.status.in_(("approved", "exported")),
            AllowanceLine.included.is_(True),
        )
    )
    if exclude_list is not None:
        stmt = stmt.where(AllowanceList.id != exclude_list)
    return set(session.scalars(stmt))


def latest_revision(session: Session, alert_id: int, district: str) -> AllowanceList | None:
    stmt = (
        select(AllowanceList)
        .where(AllowanceList.alert_id == alert_id, AllowanceList.district_pcode == district)
        .order_by(AllowanceList.revision.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


TARGETING_COLUMNS = (
    "beneficiary_id",
    "household_id",
    "programme",
    "sex",
    "birth_year",
    "disability",
    "female_headed",
    "pregnant_lactating",
    "children_under5",
    "char_resident",
    "adm4_pcode",
    "payment_channel",
)


def beneficiaries_for_unions(session: Session, union_codes: Iterable[str]) -> pd.DataFrame:
    """What targeting needs and nothing more: no names, NID or wallet numbers."""
    from store.models import Beneficiary

    codes = sorted(set(union_codes))
    columns = [getattr(Beneficiary, c) for c in TARGETING_COLUMNS]
    frames = []
    for start in range(0, len(codes), 500):
        stmt = select(*columns).where(Beneficiary.adm4_pcode.in_(codes[start : start + 500]))
        frames.append(pd.read_sql(stmt, session.connection()))
    if not frames:
        return pd.DataFrame(columns=list(TARGETING_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def registry_is_synthetic(session: Session) -> bool:
    """True when every imported registry batch was synthetic (lists are labelled so)."""
    from store.models import RegistryImport

    flags = set(session.scalars(select(RegistryImport.synthetic)))
    return flags == {True}


def lists_for(session: Session, district_pcodes: list[str] | None = None) -> list[AllowanceList]:
    stmt = select(AllowanceList)
    if district_pcodes is not None:
        stmt = stmt.where(AllowanceList.district_pcode.in_(district_pcodes))
    return list(session.scalars(stmt.order_by(AllowanceList.id.desc())))
