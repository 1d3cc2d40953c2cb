"""Notifications go through the outbox: written with the alert, sent after the commit.

A local SMTP server (aiosmtpd) receives the e-mails; a closed port and a server without
STARTTLS stand for SMTP down and misconfigured. Whatever SMTP does, every alert is raised,
and every message ends recorded as sent, failed (with why) or not configured.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from agam.core.settings import load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.delivery import deliver_due
from agam.pipeline.evaluate import run_evaluation
from agam.pipeline.ingest import ingest
from agam.pipeline.notify import enqueue_alert
from store import alert_repo, audit, outbox_repo
from store.db import Store
from store.user_repo import add_user

FETCHED = datetime(2025, 5, 25, 9, 30, tzinfo=UTC)
AS_OF = datetime(2025, 5, 25, 12, 0, tzinfo=UTC)
# The six CERF cyclone districts and one officer/administrator pair with e-mail for two.
PEOPLE = [
    ("dc.satkhira", "district_admin", ["BD4087"], "dc.satkhira@example.org"),
    ("dmo.satkhira", "officer", ["BD4087"], "dmo.satkhira@example.org"),
    ("dc.khulna", "district_admin", ["BD4047"], "dc.khulna@example.org"),
    ("dmo.khulna", "officer", ["BD4047"], None),  # no address: recorded, not sent
    ("committee", "committee", [], "committee@example.org"),  # never an alert recipient
]


class Inbox:
    """Receives messages; records whether the alert was already committed when it came."""

    def __init__(self, database_url: str) -> None:
        self.messages: list[Any] = []
        self.database_url = database_url
        self.committed_alerts_seen: list[int] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        store = Store(self.database_url)
        with store.read() as s:  # another connection: sees committed rows only
            self.committed_alerts_seen.append(len(alert_repo.open_alerts(s)))
        store.dispose()
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cyclone_store(config_path: Path, drop: Path, notifications: str) -> AppContext:
    """A store holding a Remal-like BMD bulletin that puts six districts at action."""
    config_path.write_text(
        config_path.read_text()
        + f"\n[feeds.bmd]\ninterval_minutes = 10\nmax_age_hours = 12\ndrop_folder = '{drop}'\n"
        + f"\n[notifications]\n{notifications}\n",
        encoding="utf-8",
    )
    clock = SimpleNamespace(now=FETCHED)
    ctx = AppContext(load_settings(config_path), clock=lambda: clock.now)
    ctx.clock_state = clock  # type: ignore[attr-defined]
    ctx.store.upgrade()
    with ctx.store.session() as session:
        for name, role, districts, email in PEOPLE:
            add_user(
                session,
                username=name,
                role=role,
                districts=districts,
                password=None,
                display_name=name,
                at=FETCHED,
                email=email,
            )
    assert ingest(ctx, "bmd").outcome == "success"
    clock.now = AS_OF
    return ctx


def smtp_settings(port: int, starttls: bool = False, **extra: Any) -> str:
    lines = [
        "enabled = true",
        "smtp_host = '127.0.0.1'",
        f"smtp_port = {port}",
        f"smtp_starttls = {str(starttls).lower()}",
        "from_address = 'agam@example.org'",
        "timeout_s = 5",
        "max_attempts = 3",
        "retry_backoff_s = 60",
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    return "\n".join(lines)


@pytest.fixture
def smtp(config_path: Path) -> Any:
    settings = load_settings(config_path)
    inbox = Inbox(settings.database_url)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SimpleNamespace(inbox=inbox, port=controller.port)
    controller.stop()


def outbox(ctx: AppContext) -> list[Any]:
    with ctx.store.read() as session:
        rows = outbox_repo.all_messages(session)
        session.expunge_all()
    return rows


def reference_alerts(tmp_path: Path, drop: Path) -> list[str]:
    """The districts alerted with notifications off: what SMTP trouble must not change."""
    path = write_config(tmp_path / "reference")
    ctx = cyclone_store(path, drop, "enabled = false")
    _, changes = run_evaluation(ctx, AS_OF)
    return sorted(c.district_pcode for c in changes if c.change == "raised")


def write_config(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text('[app]\ndata_dir = "data"\nlog_level = "WARNING"\n', encoding="utf-8")
    return path


def test_alert_emails_are_sent_after_the_commit(
    config_path: Path, tmp_path: Path, remal_drop: Path, smtp: Any
) -> None:
    ctx = cyclone_store(config_path, remal_drop, smtp_settings(smtp.port))
    _, changes = run_evaluation(ctx, AS_OF)
    raised = [c for c in changes if c.change == "raised"]
    assert {"BD4087", "BD4047"} <= {c.district_pcode for c in raised}
    recipients = sorted(r for m in smtp.inbox.messages for r in m.rcpt_tos)
    assert recipients == [
        "dc.khulna@example.org",
        "dc.satkhira@example.org",
        "dmo.satkhira@example.org",
    ]
    assert all(n == len(raised) for n in smtp.inbox.committed_alerts_seen)  # after commit
    body = smtp.inbox.messages[0].content.decode()
    assert "RAISED: action alert for district" in body
    rows = {(r.recipient, r.status, r.last_error) for r in outbox(ctx)}
    assert ("dmo.khulna", "not_configured", "not sent: no e-mail address") in rows
    assert ("committee", "sent", None) not in rows
    with ctx.store.read() as session:
        mails = audit.entries_for(session, "notification.email")
        assert sorted((e.payload["to"], e.payload["outcome"]) for e in mails) == [
            ("dc.khulna", "sent"),
            ("dc.satkhira", "sent"),
            ("dmo.khulna", "not_configured"),
            ("dmo.satkhira", "sent"),
        ]
        assert audit.verify(session).ok
    # Districts with nobody to tell are on record too.
    silent = [r for r in outbox(ctx) if r.recipient == "(none)"]
    assert {r.status for r in silent} == {"not_configured"}
    assert len(silent) == len(raised) - 2
    # Nothing is sent twice: a second delivery finds nothing due.
    assert deliver_due(ctx).sent == 0
    assert len(smtp.inbox.messages) == 3


@pytest.mark.parametrize("trouble", ["down", "misconfigured"])
def test_smtp_trouble_still_raises_every_alert(
    config_path: Path, tmp_path: Path, remal_drop: Path, smtp: Any, trouble: str
) -> None:
    # down: nothing listens on the port; misconfigured: STARTTLS against a server without it.
    port = free_port() if trouble == "down" else smtp.port
    ctx = cyclone_store(config_path, remal_drop, smtp_settings(port, starttls=trouble != "down"))
    _, changes = run_evaluation(ctx, AS_OF)
    raised = sorted(c.district_pcode for c in changes if c.change == "raised")
    assert raised == reference_alerts(tmp_path, remal_drop)
    with ctx.store.read() as session:
        assert sorted(a.district_pcode for a in alert_repo.open_alerts(session)) == raised
    emails = [r for r in outbox(ctx) if r.recipient in ("dc.satkhira", "dmo.satkhira")]
    assert {r.status for r in emails} == {"pending"}  # will be tried again
    assert all(r.attempts == 1 and r.last_error for r in emails)
    expected = "Connection refused" if trouble == "down" else "STARTTLS"
    assert all(expected in (r.last_error or "") for r in emails), emails[0].last_error
    # Retries with backoff until max_attempts (3), then failed with the reason.
    clock = ctx.clock_state  # type: ignore[attr-defined]
    clock.now += timedelta(seconds=30)
    assert deliver_due(ctx).retrying == 0  # not due yet (60 s backoff)
    clock.now += timedelta(minutes=2)
    assert deliver_due(ctx).retrying == 3
    clock.now += timedelta(minutes=5)
    report = deliver_due(ctx)
    assert report.failed == 3
    emails = [r for r in outbox(ctx) if r.recipient in ("dc.satkhira", "dmo.satkhira")]
    assert {r.status for r in emails} == {"failed"}
    assert all((r.last_error or "").startswith("gave up after 3 attempts") for r in emails)
    assert smtp.inbox.messages == []
    with ctx.store.read() as session:
        outcomes = [e.payload["outcome"] for e in audit.entries_for(session, "notification.email")]
        assert "sent" not in outcomes
        assert outcomes.count("failed") == 3
        assert audit.verify(session).ok


def test_sms_without_a_gateway_is_never_recorded_as_sent(
    config_path: Path, tmp_path: Path, remal_drop: Path, smtp: Any
) -> None:
    ctx = cyclone_store(config_path, remal_drop, smtp_settings(smtp.port, sms_enabled=True))
    run_evaluation(ctx, AS_OF)
    texts = [r for r in outbox(ctx) if r.channel == "sms"]
    assert len(texts) == 4  # the four district users
    assert {(r.status, r.last_error) for r in texts} == {("not_configured", "not sent: no gateway")}
    with ctx.store.read() as session:
        logged = audit.entries_for(session, "notification.sms")
        assert {e.payload["outcome"] for e in logged} == {"not_configured"}
        assert all(e.payload["reason"] == "not sent: no gateway" for e in logged)


def test_an_sms_gateway_that_fails_is_retried(
    config_path: Path, tmp_path: Path, remal_drop: Path, smtp: Any
) -> None:
    class Flaky:
        def __init__(self) -> None:
            self.sent: list[str] = []
            self.calls = 0

        def send(self, username: str, text: str) -> None:
            self.calls += 1
            if self.calls <= 2:  # the first attempt of each text fails
                raise ConnectionError("gateway timed out")
            self.sent.append(username)

    ctx = cyclone_store(config_path, remal_drop, smtp_settings(smtp.port, sms_enabled=True))
    run_evaluation(ctx, AS_OF)  # delivers e-mail; texts: no gateway in this process
    gateway = Flaky()
    with ctx.store.session() as session:  # queue texts for a new, gateway-served event
        alert = alert_repo.open_alerts(session, ["BD4087"])[0]
        enqueue_alert(session, ctx.settings.notifications, alert, "escalated", "x", AS_OF, 99999)
    first = deliver_due(ctx, sms=gateway)
    assert first.retrying == 2  # the two Satkhira texts failed once
    ctx.clock_state.now += timedelta(minutes=2)  # type: ignore[attr-defined]
    second = deliver_due(ctx, sms=gateway)
    assert second.sent == 2
    assert sorted(gateway.sent) == ["dc.satkhira", "dmo.satkhira"]


def test_delivery_trouble_never_reaches_the_evaluation(
    config_path: Path, tmp_path: Path, remal_drop: Path, smtp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agam.pipeline.delivery as delivery

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the mail library exploded")

    monkeypatch.setattr(delivery, "send_emails", broken)
    ctx = cyclone_store(config_path, remal_drop, smtp_settings(smtp.port))
    _, changes = run_evaluation(ctx, AS_OF)
    assert [c for c in changes if c.change == "raised"]
    claimed = [r for r in outbox(ctx) if r.recipient == "dc.satkhira"]
    assert claimed[0].status == "sending"  # claimed; the lease lets a later run retry it
    monkeypatch.undo()
    ctx.clock_state.now += timedelta(minutes=11)  # type: ignore[attr-defined]
    assert deliver_due(ctx).sent == 3
