"""Append-only, hash-chained audit log.

entry_hash = sha256(prev_hash || canonical JSON of the entry). UPDATE and DELETE are refused by
database triggers; `verify` recomputes the chain and names the first row that does not match.
The chain is tamper-evident, not tamper-proof: publish the head hash outside the database
(e.g. in the committee briefing) to anchor it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from agam.core.timeutil import iso_utc
from store.models import AuditEntry

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x41474D  # advisory lock id serialising appends on PostgreSQL


def canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    payload: dict[str, Any],
) -> str:
    body = canonical(
        {
            "at": iso_utc(at),
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "payload": payload,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def head(session: Session) -> str:
    last = session.scalars(
        select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return last or GENESIS


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    payload: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry inside the caller's transaction. Never put personal data in `payload`."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    prev = head(session)
    data = dict(payload or {})
    row = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        payload=data,
        prev_hash=prev,
        entry_hash=entry_hash(prev, at, actor, action, entity, str(entity_id), data),
    )
    session.add(row)
    session.flush()
    return row


def entries_for(session: Session, action: str, entity_id: str | None = None) -> list[AuditEntry]:
    """Entries of one action (and entity id), oldest first."""
    stmt = select(AuditEntry).where(AuditEntry.action == action)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    return list(session.scalars(stmt.order_by(AuditEntry.id)))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head: str
    bad_id: int | None = None
    reason: str | None = None


def verify(session: Session) -> ChainReport:
    prev = GENESIS
    count = 0
    for row in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        count += 1
        if row.prev_hash != prev:
            return ChainReport(
                False, count, prev, row.id, "prev_hash does not link to the row before"
            )
        expected = entry_hash(
            prev, row.at, row.actor, row.action, row.entity, row.entity_id, row.payload
        )
        if row.entry_hash != expected:
            return ChainReport(False, count, prev, row.id, "content does not match its hash")
        prev = row.entry_hash
    return ChainReport(True, count, prev)


def last_action_at(session: Session, actor: str, action: str, before: datetime) -> datetime | None:
    """When `actor` last did `action` before `before` (e.g. the previous sign-in)."""
    stmt = (
        select(AuditEntry.at)
        .where(AuditEntry.actor == actor, AuditEntry.action == action, AuditEntry.at < before)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()
