"""Send what the outbox holds, after the decisions that wrote it have committed.

Run after every evaluation and on every scheduler heartbeat (that is where retries
happen). Each message ends sent, failed (after `max_attempts`, with the reason), or
not_configured (notifications off, no e-mail address, no SMS gateway) - never silently
dropped and never "sent" when it was not. With notifications enabled each outcome is also
an audit entry. Delivery never raises into its caller: a broken SMTP server costs e-mails,
not alerts.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agam.core.errors import AgamError
from agam.core.settings import NotificationSettings
from agam.pipeline.context import AppContext
from agam.pipeline.notify import SMTP_PASSWORD_ENV, Email, SmsGateway, send_emails
from store import audit, outbox_repo, user_repo
from store.outbox_repo import Claimed

log = logging.getLogger(__name__)
BATCH = 100


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    not_configured: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, status: str) -> None:
        if status == "pending":
            self.retrying += 1
        else:
            setattr(self, status, getattr(self, status) + 1)


def deliver_due(ctx: AppContext, sms: SmsGateway | None = None) -> DeliveryReport:
    """Deliver every due outbox message; problems are recorded, logged and returned."""
    report = DeliveryReport()
    try:
        while True:
            with ctx.store.session() as session:
                batch = outbox_repo.claim_due(session, ctx.now(), BATCH)
            if not batch:
                break
            outcomes = _attempt(ctx, batch, sms)
            _settle(ctx, batch, outcomes, report)
            if len(batch) < BATCH:
                break
    except AgamError as exc:  # e.g. the store stayed locked: the next heartbeat retries
        log.warning("notification delivery paused (next heartbeat retries): %s", exc)
        report.errors.append(" ".join(str(exc).split()) or type(exc).__name__)
    except Exception as exc:  # the outbox must never take the pipeline down with it
        log.exception("notification delivery stopped")
        report.errors.append(" ".join(str(exc).split()) or type(exc).__name__)
    return report


def _attempt(
    ctx: AppContext, batch: list[Claimed], sms: SmsGateway | None
) -> dict[int, tuple[str, str | None]]:
    """message id -> (status, reason) for this attempt; "retry" marks a transient failure."""
    settings = ctx.settings.notifications
    outcomes: dict[int, tuple[str, str | None]] = {}
    addresses = _addresses(ctx, batch)
    emails: list[Email] = []
    for message in batch:
        if not settings.enabled:
            outcomes[message.id] = ("not_configured", "not sent: notifications are disabled")
        elif message.channel == "sms":
            outcomes[message.id] = _text(message, sms)
        elif not addresses.get(message.recipient):
            outcomes[message.id] = ("not_configured", "not sent: no e-mail address")
        else:
            address = addresses[message.recipient]
            emails.append(Email(message.id, address, message.subject, message.body))
    if emails:
        sent = send_emails(emails, settings, os.environ.get(SMTP_PASSWORD_ENV))
        for message_id, error in sent.items():
            outcomes[message_id] = ("sent", None) if error is None else ("retry", error)
    return outcomes


def _text(message: Claimed, sms: SmsGateway | None) -> tuple[str, str | None]:
    if sms is None:
        return "not_configured", "not sent: no gateway"
    try:
        sms.send(message.recipient, message.subject)
    except Exception as exc:  # a gateway's own failure: try again later
        return "retry", " ".join(str(exc).split()) or type(exc).__name__
    return "sent", None


def _addresses(ctx: AppContext, batch: list[Claimed]) -> dict[str, str]:
    wanted = {m.recipient for m in batch if m.channel == "email"}
    if not wanted:
        return {}
    with ctx.store.read() as session:
        users = user_repo.list_users(session)
        return {u.username: u.email for u in users if u.username in wanted and u.email}


def _settle(
    ctx: AppContext,
    batch: list[Claimed],
    outcomes: dict[int, tuple[str, str | None]],
    report: DeliveryReport,
) -> None:
    settings = ctx.settings.notifications
    now = ctx.now()
    with ctx.store.session() as session:
        for message in batch:
            status, reason = outcomes.get(message.id, ("retry", "no outcome recorded"))
            retry_at: datetime | None = None
            if status == "retry":
                status, retry_at = _retry(settings, message, now)
                if status == "failed":
                    reason = f"gave up after {message.attempts} attempts: {reason}"
            outbox_repo.settle(
                session, message.id, status=status, at=now, error=reason, retry_at=retry_at
            )
            report.add(status)
            if status != "sent" and reason:
                report.errors.append(f"{message.channel} to {message.recipient}: {reason}")
                log.warning("notification %d %s: %s", message.id, status, reason)
            if settings.enabled and status != "pending":
                audit.append(
                    session,
                    at=now,
                    actor="system",
                    action=f"notification.{message.channel}",
                    entity="alert" if message.alert_id is not None else message.kind,
                    entity_id=message.alert_id if message.alert_id is not None else message.id,
                    payload={
                        "to": message.recipient,
                        "subject": message.subject,
                        "outcome": status,
                        "reason": reason,
                        "attempts": message.attempts,
                    },
                )


def _retry(
    settings: NotificationSettings, message: Claimed, now: datetime
) -> tuple[str, datetime | None]:
    """Try again later with exponential backoff, or give up after max_attempts."""
    if message.attempts >= settings.max_attempts:
        return "failed", None
    wait = timedelta(seconds=settings.retry_backoff_s * 2 ** (message.attempts - 1))
    return "pending", now + wait
