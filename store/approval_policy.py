"""How many district administrators approve a list, kept in the store (migration 0023).

A config that asks for two approvals raises the store's number on its first decision; only
an admin lowers it, audited. The store's number is what counts, whatever the config of the
person deciding says, and the database refuses an approval that skips the first of two.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agam.core.errors import StoreError
from agam.core.transitions import SYSTEM_ACTOR
from store import audit
from store.identity import Principal, require_active
from store.models import ApprovalPolicy

POLICY_ROW = 1
ADMIN_ROLES = ("admin",)


def _row(session: Session, lock: bool = False) -> ApprovalPolicy:
    stmt = select(ApprovalPolicy).where(ApprovalPolicy.id == POLICY_ROW)
    row = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if row is None:  # the migration writes it and a guard keeps it
        raise StoreError("the store has no approval policy; run `agam db upgrade`")
    return row


def approvals_required(session: Session) -> int:
    return int(_row(session).approvals_required)


def require_at_least(session: Session, approvals: int, at: datetime) -> int:
    """Raise the store's number to `approvals` (the config asks for it); never lower it.
    Returns the number in force."""
    row = _row(session)
    if approvals > row.approvals_required:
        row = _row(session, lock=True)  # re-read: another process may have raised it
        if approvals > row.approvals_required:
            _set(session, row, approvals, SYSTEM_ACTOR, at, "config")
    return int(row.approvals_required)


def set_approvals(session: Session, principal: Principal, approvals: int, at: datetime) -> None:
    """An admin sets the number (1 or 2), audited."""
    if approvals not in (1, 2):
        raise StoreError("a list is approved by one or two district administrators")
    user = require_active(session, principal, ADMIN_ROLES, doing="set the approval policy")
    row = _row(session, lock=True)
    if approvals != row.approvals_required:
        _set(session, row, approvals, user.username, at, "admin")


def _set(
    session: Session, row: ApprovalPolicy, approvals: int, actor: str, at: datetime, via: str
) -> None:
    before = row.approvals_required
    row.approvals_required, row.set_by, row.set_at = approvals, actor, at
    audit.append(
        session,
        at=at,
        actor=actor,
        action="approvals.set",
        entity="approval_policy",
        entity_id=POLICY_ROW,
        payload={"from": before, "to": approvals, "via": via},
    )
