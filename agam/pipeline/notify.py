"""Who is told what: notifications are written to the outbox, never sent from a decision.

When an alert is raised or escalated, one outbox message per recipient and channel is
written in the alert's own transaction (recipients: the district's administrators and
officers). `agam.pipeline.delivery` sends them after the commit. A notification problem can
therefore never block or undo an alert. Message bodies carry no personal data of
beneficiaries; recipients are named by username, their addresses read only when sending.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy.orm import Session

from agam.core.settings import NotificationSettings
from store import outbox_repo, user_repo
from store.models import Alert, User

log = logging.getLogger(__name__)
SMTP_PASSWORD_ENV = "AGAM_SMTP_PASSWORD"  # noqa: S105 (the variable name, not a secret)
NOTIFIED_CHANGES = ("raised", "escalated")
NO_RECIPIENT = "(none)"


@dataclass(frozen=True)
class Email:
    message_id: int
    to_address: str
    subject: str
    body: str


class SmsGateway(Protocol):
    """A real SMS gateway (none ships: a text without one is recorded as not sent)."""

    def send(self, username: str, text: str) -> None: ...


def compose_alert(
    alert: Alert, change: str, explanation: str, settings: NotificationSettings
) -> tuple[str, str]:
    subject = f"[Agam] {change.upper()}: {alert.stage} alert for district {alert.district_pcode}"
    body = (
        f"{explanation}\n\nRule set: {alert.rule_set_id} (version {alert.rule_set_version})\n"
        f"District: {alert.district_pcode}\nStage: {alert.stage}\n"
        f"Affected unions: {len(alert.affected_unions)}\n\n"
        f"Review it in Agam: {settings.dashboard_url}\n"
    )
    return subject, body


def recipients_for(session: Session, district_pcode: str) -> list[User]:
    return [
        u
        for u in user_repo.list_users(session)
        if not u.disabled
        and u.role in ("district_admin", "officer")
        and district_pcode in (u.districts or [])
    ]


def admins(session: Session) -> list[User]:
    return [u for u in user_repo.list_users(session) if not u.disabled and u.role == "admin"]


def channels(settings: NotificationSettings) -> tuple[str, ...]:
    return ("email", "sms") if settings.sms_enabled else ("email",)


def enqueue_to(
    session: Session,
    users: list[User],
    *,
    key: str,
    kind: str,
    subject: str,
    body: str,
    settings: NotificationSettings,
    at: datetime,
    alert_id: int | None = None,
) -> int:
    """One outbox message per user and channel (`key` makes it idempotent); with nobody to
    tell, one message recorded as not sent, so the silence is on record."""
    if not users:
        outbox_repo.enqueue(
            session,
            dedupe_key=f"{key}:none",
            kind=kind,
            channel="email",
            recipient=NO_RECIPIENT,
            subject=subject,
            body=body,
            at=at,
            alert_id=alert_id,
            status="not_configured",
            reason="no recipient: no active user of the right role for this notice",
        )
        return 0
    added = 0
    for user in users:
        for channel in channels(settings):
            row = outbox_repo.enqueue(
                session,
                dedupe_key=f"{key}:{channel}:{user.username}",
                kind=kind,
                channel=channel,
                recipient=user.username,
                subject=subject,
                body=body,
                at=at,
                alert_id=alert_id,
            )
            added += row is not None
    return added


def enqueue_alert(
    session: Session,
    settings: NotificationSettings,
    alert: Alert,
    change: str,
    explanation: str,
    at: datetime,
    event_id: int,
) -> int:
    """Outbox messages for a raised or escalated alert, in the caller's transaction."""
    if change not in NOTIFIED_CHANGES:
        return 0
    subject, body = compose_alert(alert, change, explanation, settings)
    return enqueue_to(
        session,
        recipients_for(session, alert.district_pcode),
        key=f"alert:{alert.id}:event:{event_id}",
        kind="alert",
        subject=subject,
        body=body,
        settings=settings,
        at=at,
        alert_id=alert.id,
    )


def send_emails(
    emails: list[Email], settings: NotificationSettings, password: str | None
) -> dict[int, str | None]:
    """Send over one SMTP session; message id -> None when accepted, else why not."""
    outcome: dict[int, str | None] = {}
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.timeout_s
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username and password:
                smtp.login(settings.smtp_username, password)
            for email in emails:
                message = EmailMessage()
                message["From"] = settings.from_address
                message["To"] = email.to_address
                message["Subject"] = email.subject
                message.set_content(email.body)
                try:
                    smtp.send_message(message)
                    outcome[email.message_id] = None
                except smtplib.SMTPException as exc:
                    outcome[email.message_id] = _one_line(exc)
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"SMTP {settings.smtp_host}:{settings.smtp_port}: {_one_line(exc)}"
        for email in emails:
            outcome.setdefault(email.message_id, reason)
    return outcome


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
