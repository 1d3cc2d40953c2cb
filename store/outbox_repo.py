"""The notification outbox: enqueue inside a decision's transaction, claim and settle after.

A message is claimed (pending -> sending) in one short transaction, sent outside any
transaction, then settled (sent / failed / not_configured, or pending again for a retry).
A claim older than the lease (its sender died) is claimed again: delivery is at least
once, and the dedupe key keeps one message per event and recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from store.models import OutboxMessage

CLAIM_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    channel: str
    recipient: str
    subject: str
    body: str
    alert_id: int | None
    attempts: int  # including this one


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    kind: str,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    at: datetime,
    alert_id: int | None = None,
    status: str = "pending",
    reason: str | None = None,
) -> OutboxMessage | None:
    """Add a message unless one with this dedupe key exists; returns the new row or None."""
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if exists is not None:
        return None
    row = OutboxMessage(
        dedupe_key=dedupe_key,
        kind=kind,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        alert_id=alert_id,
        created_at=at,
        status=status,
        attempts=0,
        next_attempt_at=at if status == "pending" else None,
        finished_at=None if status == "pending" else at,
        last_error=reason,
    )
    session.add(row)
    session.flush()
    return row


def claim_due(session: Session, now: datetime, limit: int) -> list[Claimed]:
    """Mark up to `limit` due messages as being sent by us and return them."""
    due = or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at <= now - CLAIM_LEASE),
    )
    stmt = (
        select(OutboxMessage)
        .where(due)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = []
    for row in session.scalars(stmt):
        row.status = "sending"
        row.claimed_at = now
        row.attempts += 1
        claimed.append(
            Claimed(
                row.id,
                row.kind,
                row.channel,
                row.recipient,
                row.subject,
                row.body,
                row.alert_id,
                row.attempts,
            )
        )
    return claimed


def settle(
    session: Session,
    message_id: int,
    *,
    status: str,
    at: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> OutboxMessage:
    """Record the outcome of one attempt: sent, failed, not_configured, or pending (retry)."""
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise LookupError(f"outbox message {message_id} vanished")
    row.status = status
    row.last_error = error
    row.claimed_at = None
    row.next_attempt_at = retry_at if status == "pending" else None
    row.finished_at = None if status == "pending" else at
    return row


def for_alert(session: Session, alert_id: int) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.alert_id == alert_id)
    return list(session.scalars(stmt.order_by(OutboxMessage.id)))


def exists(session: Session, dedupe_key: str) -> bool:
    stmt = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    return session.scalar(stmt) is not None


def counts(session: Session) -> dict[str, int]:
    stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    return {str(status): int(n) for status, n in session.execute(stmt)}


def all_messages(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
