"""The CAP feed is brought up to date by the scheduler's heartbeat, not only by the next alert
change.

The feed was written only right after an alert change. A publication that failed (the disk,
the store) or never ran (the process stopped after the alert committed) left the public feed
without that alert until some other alert changed, possibly days later; an ended alert past
its keep time stayed listed the same way. `cap/.published.json` now records what the feed was
written from, and every heartbeat writes the feed again when the store no longer matches it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from lxml import etree

from agam.pipeline import cap_publish
from agam.pipeline.cap_publish import STATE_FILE, cap_dir, publish, republish_if_stale
from agam.pipeline.context import AppContext
from agam.scheduler import tick

from .conftest import T0

A = {"a": "http://www.w3.org/2005/Atom"}


def entries(ctx: AppContext) -> int:
    feed = cap_dir(ctx) / "alerts.atom"
    return len(etree.parse(str(feed)).getroot().findall("a:entry", A))


def test_a_feed_never_written_is_written_at_the_next_heartbeat(
    cap_site: Callable[..., AppContext], caplog: pytest.LogCaptureFixture
) -> None:
    ctx = cap_site()  # the alert was stored; its publication never ran
    assert not (cap_dir(ctx) / "alerts.atom").exists()
    tick(ctx)
    assert entries(ctx) == 1
    assert "CAP feed does not match the stored alerts" in caplog.text
    recorded = json.loads((cap_dir(ctx) / STATE_FILE).read_text("utf-8"))
    assert recorded["entries"] == 1


def test_an_up_to_date_feed_is_left_alone(
    cap_site: Callable[..., AppContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = cap_site()
    publish(ctx)
    written: list[object] = []
    monkeypatch.setattr(cap_publish, "publish", lambda c: written.append(c))
    assert republish_if_stale(ctx) is None
    tick(ctx)
    assert written == []


def test_a_failed_publication_is_made_up(
    cap_site: Callable[..., AppContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = cap_site()
    ctx.clock = lambda: T0 + timedelta(days=6) + timedelta(hours=47)
    publish(ctx)
    assert entries(ctx) == 1
    with ctx.store.session() as session:  # a change whose publication failed (disk full)
        session.execute(
            cap_publish.AlertEvent.__table__.insert().values(
                alert_id=1,
                at=T0 + timedelta(days=6, hours=46),
                from_stage="action",
                to_stage="closed",
                explanation="Closed by the officer.",
            )
        )
    before = (cap_dir(ctx) / "alerts.atom").read_bytes()
    assert republish_if_stale(ctx) is not None
    after = (cap_dir(ctx) / "alerts.atom").read_bytes()
    assert after != before
    assert b"Closed by the officer" in b"".join(
        p.read_bytes() for p in (cap_dir(ctx) / "messages").glob("*.xml")
    )


def test_an_ended_alert_leaves_the_feed_after_its_keep_time(
    cap_site: Callable[..., AppContext],
) -> None:
    ctx = cap_site()
    ctx.clock = lambda: T0 + timedelta(days=6) + timedelta(hours=47)
    publish(ctx)
    assert entries(ctx) == 1
    ctx.clock = lambda: T0 + timedelta(days=6) + timedelta(hours=49)  # no change, only time
    tick(ctx)
    assert entries(ctx) == 0


def test_a_store_that_cannot_be_read_is_one_line(
    cap_site: Callable[..., AppContext], monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    ctx = cap_site()

    def locked(*_: object) -> None:
        raise cap_publish.AgamError("the database stayed locked by another writer; try again")

    monkeypatch.setattr(cap_publish, "_current", locked)
    assert republish_if_stale(ctx) is None
    assert "CAP feed not checked" in caplog.text
    assert all(r.exc_info is None for r in caplog.records)
