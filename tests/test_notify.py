"""An escalated alert e-mails the district's administrators and officers (local SMTP server)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from agam.core.settings import Settings, load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.notify import notify_alert
from store import audit
from store.db import Store
from store.user_repo import add_user

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_port())
    controller.start()
    yield SimpleNamespace(inbox=inbox, port=controller.port)
    controller.stop()


def _settings(config_path: Path, port: int) -> Settings:
    config_path.write_text(
        config_path.read_text()
        + (
            f"\n[notifications]\nenabled = true\nsmtp_host = '127.0.0.1'\nsmtp_port = {port}\n"
            "smtp_starttls = false\nfrom_address = 'agam@example.org'\n"
        ),
        encoding="utf-8",
    )
    return load_settings(config_path)


def test_escalation_emails_the_district_and_is_audited(config_path: Path, smtp: Any) -> None:
    ctx = AppContext(_settings(config_path, smtp.port), clock=lambda: T0)
    store: Store = ctx.store
    store.upgrade()
    alert = SimpleNamespace(
        id=7,
        stage="action",
        district_pcode="BD5549",
        rule_set_id="ocha_cerf_flood_2025",
        rule_set_version="2025.1",
        affected_unions=["BD55490911"],
    )
    with store.session() as session:
        for name, role, districts, email in [
            ("dc.kurigram", "district_admin", ["BD5549"], "dc.kurigram@example.org"),
            ("officer.kurigram", "officer", ["BD5549"], "dmo.kurigram@example.org"),
            ("dc.jamalpur", "district_admin", ["BD4539"], "dc.jamalpur@example.org"),
            ("committee", "committee", [], "committee@example.org"),
        ]:
            add_user(
                session,
                username=name,
                role=role,
                districts=districts,
                password=None,
                display_name=name,
                at=T0,
                email=email,
            )
        sent = notify_alert(
            ctx, session, alert, "escalated", "FFWC forecasts 20.41 m at Bahadurabad: action met."
        )
        assert notify_alert(ctx, session, alert, "unchanged", "x") == 0
    assert sent == 2
    recipients = sorted(r for m in smtp.inbox.messages for r in m.rcpt_tos)
    assert recipients == ["dc.kurigram@example.org", "dmo.kurigram@example.org"]
    body = smtp.inbox.messages[0].content.decode()
    assert "ESCALATED: action alert for district BD5549" in body
    assert "20.41 m at Bahadurabad" in body
    with store.session() as session:
        assert audit.verify(session).entries == 2  # one audit entry per e-mail
