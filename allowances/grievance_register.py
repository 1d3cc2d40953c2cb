"""Record, update and list grievances: the rules of allowances/grievances.py applied in the
caller's transaction, every change written to the grievance history and the audit log.

Audit payloads carry ids, district, category, statuses and staff usernames only: never the
complainant's name or phone, the description or notes (free text may hold personal data).
Seeing complainant details is itself audited (`grievance.details_viewed`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from agam.core.errors import InvalidTransition, NotFound, PermissionDenied
from agam.core.settings import GrievanceSettings
from allowances.grievances import (
    CLOSED_STATUSES,
    MAX_TEXT,
    NEEDS_REASON,
    NewGrievance,
    authorise,
    can_handle,
    clean_text,
    due_at,
    next_status,
    redact,
    register_scope,
    sla_flags,
    sla_hours_for,
)
from store import alert_repo, audit, grievance_repo
from store.identity import Principal, require_active
from store.models import Grievance
from store.user_repo import get_user

log = logging.getLogger(__name__)
HANDLER_ROLES = ("officer", "district_admin", "admin")  # as grievances.can_handle


def _district_of(union: str, union_district: Mapping[str, str] | None) -> str:
    if union_district is None:
        return union[:6]  # ADM4 P-codes start with their ADM2 code (BD5549 -> BD55490911)
    district = union_district.get(union)
    if district is None:
        raise InvalidTransition(f"union {union} is not in the union layer")
    return district


def _audit(
    session: Session, at: datetime, principal: Principal, action: str, row: Grievance, **extra: Any
) -> None:
    audit.append(
        session,
        at=at,
        actor=principal.username,
        action=f"grievance.{action}",
        entity="grievance",
        entity_id=row.id,
        payload={"district": row.district_pcode, "category": row.category, **extra},
    )


def record(
    session: Session,
    principal: Principal,
    new: NewGrievance,
    at: datetime,
    settings: GrievanceSettings,
    union_district: Mapping[str, str] | None = None,
) -> Grievance:
    """Add a grievance (status open) for a union, or for a household the registry knows."""
    union = new.adm4_pcode
    known: set[str] = set()
    if new.household_id is not None:
        known = grievance_repo.household_unions(session, new.household_id)
        # only a household of the handler's own districts names its union: the answer for
        # another district's household is the same as for an unknown one
        here = {u for u in known if can_handle(principal, (union_district or {}).get(u, u[:6]))}
        if union is None and len(here) == 1:
            union = next(iter(here))
    if union is None:
        raise InvalidTransition(
            "a grievance needs a union P-code (or a household the registry knows in your districts)"
        )
    district = _district_of(union, union_district)
    authorise(principal, district, "record")
    require_active(session, principal, HANDLER_ROLES, district=district, doing="record grievances")
    if known and not any(u.startswith(district) for u in known):
        # Otherwise a handler could reach another district's household through a grievance.
        raise InvalidTransition(
            f"household {new.household_id} is registered in another district; "
            "record the grievance there"
        )
    if new.alert_id is not None:
        alert = alert_repo.get_alert(session, new.alert_id)
        if alert.district_pcode != district:
            raise InvalidTransition(f"alert {alert.id} is for district {alert.district_pcode}")
    if new.received_at > at:
        raise InvalidTransition("received time is in the future")
    sla = sla_hours_for(new.category, settings)
    row = grievance_repo.add(
        session,
        actor=principal.username,
        role=principal.role,
        received_at=new.received_at,
        recorded_at=at,
        recorded_by=principal.username,
        channel=new.channel,
        partner=new.partner,
        category=new.category,
        district_pcode=district,
        adm4_pcode=union,
        household_id=new.household_id,
        alert_id=new.alert_id,
        description=new.description,
        complainant_name=new.complainant_name,
        complainant_phone=new.complainant_phone,
        status="open",
        assigned_to=None,
        sla_hours=sla,
        due_at=due_at(new.received_at, sla),
        updated_at=at,
    )
    _audit(session, at, principal, "recorded", row, channel=row.channel, sla_hours=sla)
    log.info("grievance %s recorded (%s, %s)", row.id, row.category, row.district_pcode)
    return row


def _visible(
    session: Session, principal: Principal, grievance_id: int, *, for_update: bool = False
) -> Grievance:
    """The grievance if `principal` may see its row. Another district's is answered as an
    unknown one: its number would otherwise tell that it exists, and where."""
    scope = register_scope(principal)  # committee members: aggregates only
    row = grievance_repo.get(session, grievance_id, for_update=for_update)
    if scope is not None and row.district_pcode not in scope:
        raise NotFound(f"no grievance {grievance_id}")
    return row


def update(
    session: Session,
    principal: Principal,
    grievance_id: int,
    at: datetime,
    *,
    action: str | None = None,
    reason: str | None = None,
    assign_to: str | None = None,
    note: str | None = None,
) -> Grievance:
    """Assign, note, and/or move the status (start, resolve, refer, reject with a reason)."""
    row = _visible(session, principal, grievance_id, for_update=True)
    authorise(principal, row.district_pcode, "update")
    require_active(
        session, principal, HANDLER_ROLES, district=row.district_pcode, doing="update grievances"
    )
    if row.status in CLOSED_STATUSES:
        raise InvalidTransition(f"grievance {grievance_id} is {row.status}; closed ones are frozen")
    note, reason = _typed(note, "note"), _typed(reason, "reason")
    if action is None and assign_to is None and not note:
        raise InvalidTransition("nothing to change: give a next status, an assignee or a note")
    if assign_to is not None:
        _assign(session, principal, row, assign_to, at)
    if action is not None:
        _move(session, principal, row, action, reason, at)
    elif note:
        grievance_repo.add_event(
            session,
            grievance_id=row.id,
            at=at,
            actor=principal.username,
            role=principal.role,
            action="note",
            from_status=row.status,
            to_status=row.status,
            assigned_to=row.assigned_to,
            note=note,
        )
        _audit(session, at, principal, "noted", row, status=row.status)
    session.flush()
    return row


def _typed(text: str | None, what: str) -> str | None:
    """A reason or note as stored: cleaned, plain, at most MAX_TEXT characters."""
    try:
        cleaned = clean_text(text)
    except ValueError as exc:
        raise InvalidTransition(f"{what}: {exc}") from None
    if cleaned is not None and len(cleaned) > MAX_TEXT:
        raise InvalidTransition(f"{what}: at most {MAX_TEXT:,} characters")
    return cleaned


def _assign(
    session: Session, principal: Principal, row: Grievance, username: str, at: datetime
) -> None:
    try:
        user = get_user(session, username)
    except NotFound:  # the same answer as for an account that exists elsewhere
        user = None
    handles = user is not None and (
        user.role == "admin"
        or (
            user.role in ("officer", "district_admin")
            and row.district_pcode in (user.districts or ())
        )
    )
    if user is None or user.disabled or not handles:
        raise PermissionDenied(
            f"{username} does not handle grievances of district {row.district_pcode}"
        )
    row.assigned_to = user.username
    row.updated_at = at
    grievance_repo.add_event(
        session,
        grievance_id=row.id,
        at=at,
        actor=principal.username,
        role=principal.role,
        action="assign",
        from_status=row.status,
        to_status=row.status,
        assigned_to=user.username,
        note=None,
    )
    _audit(session, at, principal, "assigned", row, assigned_to=user.username)


def _move(
    session: Session,
    principal: Principal,
    row: Grievance,
    action: str,
    reason: str | None,
    at: datetime,
) -> None:
    new_status = next_status(row.status, action)
    if action in NEEDS_REASON and not reason:
        raise InvalidTransition(f"to {action} a grievance needs a reason")
    old = row.status
    row.status = new_status
    row.updated_at = at
    if new_status in CLOSED_STATUSES:
        row.closed_at = at
        row.closing_reason = reason
    if row.assigned_to is None:
        row.assigned_to = principal.username  # whoever acts on an unassigned grievance owns it
    grievance_repo.add_event(
        session,
        grievance_id=row.id,
        at=at,
        actor=principal.username,
        role=principal.role,
        action=action,
        from_status=old,
        to_status=new_status,
        assigned_to=row.assigned_to,
        note=reason,
    )
    _audit(
        session,
        at,
        principal,
        action,
        row,
        **{"from": old, "to": new_status},
        reason_given=bool(reason),
    )


def as_record(row: Grievance) -> dict[str, Any]:
    return {
        "grievance_id": row.id,
        "received_at": row.received_at,
        "recorded_by": row.recorded_by,
        "channel": row.channel,
        "partner": row.partner,
        "category": row.category,
        "district_pcode": row.district_pcode,
        "adm4_pcode": row.adm4_pcode,
        "household_id": row.household_id,
        "alert_id": row.alert_id,
        "status": row.status,
        "assigned_to": row.assigned_to,
        "sla_hours": row.sla_hours,
        "due_at": row.due_at,
        "closed_at": row.closed_at,
        "closing_reason": row.closing_reason,
        "description": row.description,
        "complainant_name": row.complainant_name,
        "complainant_phone": row.complainant_phone,
    }


def listing(
    session: Session,
    principal: Principal,
    now: datetime,
    settings: GrievanceSettings,
    *,
    reveal: bool = False,
    **filters: Any,
) -> list[dict[str, Any]]:
    """The register as `principal` may see it, with SLA flags at `now`. Personal details are
    masked unless `reveal` and the principal handles the district; revealing is audited."""
    scope = register_scope(principal)
    if filters.get("districts") is not None and scope is not None:
        filters["districts"] = [d for d in filters["districts"] if d in scope]
    elif scope is not None:
        filters["districts"] = scope
    out = []
    revealed: list[int] = []
    for row in grievance_repo.rows(session, **filters):
        flags = sla_flags(
            row.status, row.received_at, row.due_at, row.closed_at, now, settings.due_soon_share
        )
        view = redact(as_record(row), principal, reveal=reveal)
        if view["details_visible"]:
            revealed.append(row.id)
        out.append(view | asdict(flags))
    if revealed:
        audit.append(
            session,
            at=now,
            actor=principal.username,
            action="grievance.details_viewed",
            entity="grievance",
            entity_id="register",
            payload={"grievance_ids": revealed},
        )
    return out


def history(session: Session, principal: Principal, grievance_id: int) -> list[dict[str, Any]]:
    """The history of one grievance; notes only for its handlers."""
    row = _visible(session, principal, grievance_id)
    handler = can_handle(principal, row.district_pcode)
    return [
        {
            "at": e.at,
            "actor": e.actor,
            "role": e.role,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "assigned_to": e.assigned_to,
            "note": e.note if handler else ("(restricted)" if e.note else None),
        }
        for e in grievance_repo.events(session, grievance_id)
    ]
