"""Tell people when an alert is raised or escalated: e-mail (SMTP) and an SMS adapter.

Recipients are the district administrators and officers of the alert's district with an
e-mail address. Each message is recorded in the audit log (recipient, channel, subject); a
failed send is recorded too and never stops the pipeline. Secrets come from the environment.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from store import audit, user_repo

log = logging.getLogger(__name__)
SMTP_PASSWORD_ENV = "AGAM_SMTP_PASSWORD"  # noqa: S105 (the variable name, not a secret)


class NotificationSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    from_address: str = "agam@localhost"
    timeout_s: float = Field(default=10.0, gt=0)
    dashboard_url: str = "http://localhost:8501"
    sms_enabled: bool = False


@dataclass(frozen=True)
class Message:
    to_username: str
    to_email: str
    subject: str
    body: str


class SmsGateway(Protocol):
    def send(self, username: str, text: str) -> None: ...


class LoggingSmsGateway:
    """Default SMS adapter: records that a text would go out; wire a real gateway here."""

    def send(self, username: str, text: str) -> None:
        log.info("SMS to %s queued (%d characters)", username, len(text))


def compose(
    alert: Any, change: str, explanation: str, settings: NotificationSettings, recipients: list[Any]
) -> list[Message]:
    subject = f"[Agam] {change.upper()}: {alert.stage} alert for district {alert.district_pcode}"
    body = (
        f"{explanation}\n\nRule set: {alert.rule_set_id} (version {alert.rule_set_version})\n"
        f"District: {alert.district_pcode}\nStage: {alert.stage}\n"
        f"Affected unions: {len(alert.affected_unions)}\n\n"
        f"Review it in Agam: {settings.dashboard_url}\n"
    )
    return [Message(u.username, u.email, subject, body) for u in recipients if u.email]


def recipients_for(session: Any, district_pcode: str) -> list[Any]:
    return [
        u
        for u in user_repo.list_users(session)
        if not u.disabled
        and u.role in ("district_admin", "officer")
        and district_pcode in (u.districts or [])
    ]


def send_email(messages: list[Message], settings: NotificationSettings) -> list[str]:
    """Send each message; returns one error string per message that failed."""
    errors = []
    password = os.environ.get(SMTP_PASSWORD_ENV)
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.timeout_s
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username and password:
                smtp.login(settings.smtp_username, password)
            for message in messages:
                email = EmailMessage()
                email["From"] = settings.from_address
                email["To"] = message.to_email
                email["Subject"] = message.subject
                email.set_content(message.body)
                try:
                    smtp.send_message(email)
                except smtplib.SMTPException as exc:
                    errors.append(f"{message.to_username}: {exc}")
    except (OSError, smtplib.SMTPException) as exc:
        errors.extend(f"{m.to_username}: {exc}" for m in messages)
    return errors


def notify_alert(
    ctx: Any, session: Any, alert: Any, change: str, explanation: str, sms: SmsGateway | None = None
) -> int:
    """Send and audit notifications for a raised or escalated alert; returns messages sent."""
    settings = NotificationSettings.model_validate(ctx.settings.notifications)
    if not settings.enabled or change not in ("raised", "escalated"):
        return 0
    users = recipients_for(session, alert.district_pcode)
    messages = compose(alert, change, explanation, settings, users)
    errors = send_email(messages, settings) if messages else []
    failed = {e.split(":", 1)[0] for e in errors}
    for message in messages:
        audit.append(
            session,
            at=ctx.now(),
            actor="system",
            action="notification.email",
            entity="alert",
            entity_id=alert.id,
            payload={
                "to": message.to_username,
                "subject": message.subject,
                "delivered": message.to_username not in failed,
            },
        )
    if settings.sms_enabled:
        gateway = sms or LoggingSmsGateway()
        for user in users:
            gateway.send(user.username, f"Agam: {alert.stage} alert {alert.district_pcode}")
            audit.append(
                session,
                at=ctx.now(),
                actor="system",
                action="notification.sms",
                entity="alert",
                entity_id=alert.id,
                payload={"to": user.username},
            )
    for error in errors:
        log.warning("notification failed: %s", error)
    return len(messages) - len(failed)
