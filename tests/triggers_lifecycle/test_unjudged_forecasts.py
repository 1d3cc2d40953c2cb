"""A forecast stored but never judged is judged later, not forgotten.

Before migration 0017 a forecast was judged only by the evaluation right after the feed run
that stored it. When that evaluation failed (here: another writer held the pipeline past
[database] lock_timeout_s), or `agam feeds fetch` stored the forecast, the feed's next run
found the same bulletin ("unchanged") and judged nothing: the alerts it calls for waited for
the next new forecast. Now each feed records the forecast its newest evaluation judged; the
next feed run and the scheduler's catch-up job judge what is left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from agam.pipeline import evaluate
from agam.pipeline.context import AppContext
from agam.pipeline.health import feed_health
from agam.pipeline.ingest import ingest
from agam.pipeline.writer import PIPELINE_LOCK
from agam.scheduler import CATCH_UP_JOB, build_scheduler, run_feed_job
from store import alert_repo, feed_repo
from store.locks import exclusive

JUDGED_AT = datetime(2025, 5, 25, 12, 0, tzinfo=UTC)  # the bulletin calls for action alerts


@pytest.fixture
def site(remal_site: Callable[..., AppContext]) -> AppContext:
    extra = "\n[database]\nlock_timeout_s = 0.2\n\n[scheduler]\nlocked_retries = 0\n"
    ctx: AppContext = remal_site(lambda: JUDGED_AT, extra)
    return ctx


def open_alerts(ctx: AppContext) -> int:
    with ctx.store.read() as session:
        return len(alert_repo.open_alerts(session))


def manual_fetch(ctx: AppContext) -> None:
    """What `agam feeds fetch` does (on the scenario clock): store, and judge nothing."""
    assert ingest(ctx, "bmd", trigger="cli").outcome == "success"


def unjudged_feeds(ctx: AppContext) -> list[str]:
    return [h.feed_id for h in feed_health(ctx) if h.unjudged]


def test_a_failed_evaluation_is_made_up_by_the_next_unchanged_run(
    site: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    with exclusive(site.store, PIPELINE_LOCK, timeout_s=1):  # another writer, held too long
        outcome, changes = run_feed_job(site, "bmd")
    assert outcome.outcome == "success"
    assert changes == []
    assert open_alerts(site) == 0
    assert unjudged_feeds(site) == ["bmd"]

    with caplog.at_level(logging.WARNING):
        outcome, changes = run_feed_job(site, "bmd")
    assert outcome.outcome == "unchanged"  # the same bulletin: before 0017 nothing was judged
    assert {c.change for c in changes} == {"raised"}
    assert len(changes) == open_alerts(site) > 0
    assert unjudged_feeds(site) == []
    assert any("not judged yet: bmd run" in r.getMessage() for r in caplog.records)

    outcome, changes = run_feed_job(site, "bmd")  # judged now: an unchanged run does nothing
    assert outcome.outcome == "unchanged"
    assert changes == []


def test_a_manual_fetch_is_judged_by_the_scheduler_catch_up_job(
    site: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    manual_fetch(site)
    assert open_alerts(site) == 0
    assert unjudged_feeds(site) == ["bmd"]  # `feeds status` and the health page say so

    job = build_scheduler(site).get_job(CATCH_UP_JOB)
    assert job is not None
    job.func(*job.args)
    assert open_alerts(site) > 0
    assert unjudged_feeds(site) == []
    with site.store.read() as session:
        status_row = feed_repo.status_row(session, "bmd")
        latest = feed_repo.latest_forecast(session, "bmd", JUDGED_AT, snapshot=False)
        assert latest is not None
        assert status_row.judged_forecast_run_id == latest.id
        assert status_row.judged_at == JUDGED_AT

    evaluations: list[object] = []
    monkeypatch.setattr(evaluate, "judge_and_reconcile", lambda *a: evaluations.append(a))
    job.func(*job.args)  # nothing left to judge: no evaluation at all
    assert evaluations == []


def test_catch_up_waiting_behind_a_writer_that_judged_does_nothing(
    site: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    manual_fetch(site)
    evaluate.run_evaluation(site)  # the writer it waited for judged the same forecast
    calls: list[object] = []
    monkeypatch.setattr(evaluate, "judge_and_reconcile", lambda *a: calls.append(a))
    assert evaluate.run_evaluation(site, only_unjudged=True) == ([], [])
    assert calls == []


def test_a_job_that_still_finds_the_store_busy_logs_one_line(
    site: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    manual_fetch(site)
    job = build_scheduler(site).get_job(CATCH_UP_JOB)
    assert job is not None
    with caplog.at_level(logging.WARNING), exclusive(site.store, PIPELINE_LOCK, timeout_s=1):
        job.func(*job.args)  # returns: nothing reaches APScheduler
    failed = [r for r in caplog.records if "but not judged (trying again)" in r.getMessage()]
    assert len(failed) == 1
    assert all(r.exc_info is None for r in caplog.records)
    assert unjudged_feeds(site) == ["bmd"]
    assert open_alerts(site) == 0
    job.func(*job.args)  # the writer is gone: judged at the next heartbeat
    assert unjudged_feeds(site) == []
    assert open_alerts(site) > 0
