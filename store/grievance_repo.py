"""Grievances and their append-only history. Rules (who, which status move) live in
allowances/grievances.py; the database enforces the status table and the history itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agam.core.errors import NotFound
from store.models import Beneficiary, Grievance, GrievanceEvent
from store.row_locks import reread_locked


def add(session: Session, *, actor: str, role: str, **fields: Any) -> Grievance:
    """Insert a grievance with its first history row ('record', status open)."""
    row = Grievance(**fields)
    session.add(row)
    session.flush()
    add_event(
        session,
        grievance_id=row.id,
        at=row.recorded_at,
        actor=actor,
        role=role,
        action="record",
        from_status=None,
        to_status=row.status,
        assigned_to=row.assigned_to,
        note=None,
    )
    return row


def get(session: Session, grievance_id: int, *, for_update: bool = False) -> Grievance:
    """The grievance; `for_update` reads it again with its row locked (PostgreSQL) to act on
    it: another handler's move committed since it was read is then seen and named."""
    if for_update:
        row = reread_locked(session, Grievance, grievance_id)
    else:
        row = session.get(Grievance, grievance_id)
    if row is None:
        raise NotFound(f"no grievance {grievance_id}")
    return row


def add_event(session: Session, **fields: Any) -> GrievanceEvent:
    row = GrievanceEvent(**fields)
    session.add(row)
    session.flush()
    return row


def events(session: Session, grievance_id: int) -> list[GrievanceEvent]:
    stmt = (
        select(GrievanceEvent)
        .where(GrievanceEvent.grievance_id == grievance_id)
        .order_by(GrievanceEvent.id)
    )
    return list(session.scalars(stmt))


def rows(
    session: Session,
    *,
    districts: list[str] | None = None,
    statuses: list[str] | None = None,
    categories: list[str] | None = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
    ids: list[int] | None = None,
) -> list[Grievance]:
    """Grievances matching every given filter, newest first."""
    stmt = select(Grievance)
    if districts is not None:
        stmt = stmt.where(Grievance.district_pcode.in_(districts))
    if statuses:
        stmt = stmt.where(Grievance.status.in_(statuses))
    if categories:
        stmt = stmt.where(Grievance.category.in_(categories))
    if received_from is not None:
        stmt = stmt.where(Grievance.received_at >= received_from)
    if received_to is not None:
        stmt = stmt.where(Grievance.received_at < received_to)
    if ids is not None:
        stmt = stmt.where(Grievance.id.in_(ids))
    return list(session.scalars(stmt.order_by(Grievance.received_at.desc(), Grievance.id.desc())))


def household_unions(session: Session, household_id: str) -> set[str]:
    """Union P-codes the registry holds for a household (empty if it is not on the rolls)."""
    stmt = select(Beneficiary.adm4_pcode).where(Beneficiary.household_id == household_id)
    return set(session.scalars(stmt))


def household_records(session: Session, household_ids: list[str]) -> list[Beneficiary]:
    """Current registry rows of these households (for correction templates)."""
    if not household_ids:
        return []
    stmt = (
        select(Beneficiary)
        .where(Beneficiary.household_id.in_(sorted(set(household_ids))))
        .order_by(Beneficiary.household_id, Beneficiary.beneficiary_id)
    )
    return list(session.scalars(stmt))
