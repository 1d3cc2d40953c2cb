"""The audit chain, the outbox and the scheduler heartbeat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base


class AuditEntry(Base):
    """Append-only, hash-chained: entry_hash = sha256(prev_hash || canonical payload)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "not_configured")


class OutboxMessage(Base):
    """A notification to send after the transaction that decided it committed.

    Written in the same transaction as the alert (or other event) it reports; delivered by
    a separate step with bounded retries. `status`: pending -> sending (claimed) -> sent |
    failed (gave up, `last_error` says why) | not_configured (e.g. no SMS gateway)."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending','sending','sent','failed','not_configured')",
            name="status_known",
        ),
        CheckConstraint("channel IN ('email','sms')", name="channel_known"),
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # alert | scheduler | feed
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(64))  # a username, never an address
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class SchedulerHeartbeat(Base):
    """The active scheduler of a store beats here; an old beat means it is not running."""

    __tablename__ = "scheduler_heartbeat"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)  # "scheduler"
    holder: Mapped[str] = mapped_column(String(255))  # host:pid of the active scheduler
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # running | stopped
    jobs: Mapped[list[Any]] = mapped_column(default=list)
