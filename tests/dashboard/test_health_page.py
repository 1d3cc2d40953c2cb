"""Data health page: freshness per feed, runs, audit chain verification."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from store import audit, feed_repo
from store.db import Store


def test_health_shows_staleness_and_verifies_audit(
    view: Callable[..., AppTest], accounts: Store, config_path: Path
) -> None:
    config_path.write_text(
        config_path.read_text()
        + "\n[feeds.ffwc]\nenabled = true\ninterval_minutes = 180\nmax_age_hours = 30\n"
    )
    now = datetime.now(UTC)
    with accounts.session() as session:
        run = feed_repo.start_run(session, "ffwc", now - timedelta(hours=50), "scheduler")
        feed_repo.finish_run(
            session,
            run.id,
            finished_at=now - timedelta(hours=50),
            outcome="failed",
            error="FeedError: HTTP 500 from api.ffwc.gov.bd",
        )
        feed_repo.mark_failure(session, "ffwc", now - timedelta(hours=50), "HTTP 500")
        audit.append(session, at=now, actor="t", action="x", entity="y", entity_id=1)
    at = view("health.py", "officer")
    assert not at.exception, at.exception
    feeds = at.dataframe[0].value
    assert list(feeds["Feed"]) == ["FFWC water levels"]
    assert "no data yet" in feeds["State"].iloc[0]
    assert "last run failed" in feeds["State"].iloc[0]
    assert "UNKNOWN" in at.warning[0].value
    assert "FFWC water levels" in at.warning[0].value
    assert "HTTP 500" in at.dataframe[1].value["Error or note"].iloc[0]
    at.button(key="verify_audit").click().run()
    assert "Chain verified: 1 entries" in at.success[0].value
    with accounts.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET actor = 'z'"))
    at.button(key="verify_audit").click().run()
    assert "broken at row 1" in at.error[0].value


def test_a_partial_run_says_what_is_missing_in_bangla(
    view: Callable[..., AppTest], accounts: Store
) -> None:
    """The outcome and what the forecast lacks are words of the reader's language; the
    feed's English message stays in the log."""
    now = datetime.now(UTC)
    issues = [
        {"code": "missing_station", "message": "no rows for SW46.9L", "subject": "SW46.9L"},
        {"code": "missing_member", "message": "49 of 51 ensemble members present", "subject": ""},
        {
            "code": "missing_timestep",
            "message": "no forecast for Bahadurabad",
            "subject": "SW46.9L",
        },
        {"code": "partial", "message": "observed levels unavailable", "subject": "observed"},
    ]
    with accounts.session() as session:
        run = feed_repo.start_run(session, "ffwc", now - timedelta(hours=1), "scheduler")
        forecast = feed_repo.add_forecast(
            session,
            feed_repo.NewForecast(
                feed_id="ffwc",
                kind="water_level",
                issued_at=now - timedelta(hours=2),
                fetched_at=now - timedelta(hours=1),
                source_uri="http://ffwc.test/",
                raw_sha256="a" * 64,
                raw_path="/nonexistent",
                processed_path="/nonexistent",
                complete=False,
                quality=issues,
                summary={"quality_issues": 4},
            ),
        )
        feed_repo.finish_run(
            session,
            run.id,
            finished_at=now - timedelta(hours=1),
            outcome="partial",
            error="SW46.9L missing_station (no rows for SW46.9L); …",
            forecast_run_id=forecast.id,
        )
    at = view("health.py", "officer", lang="bn")
    assert not at.exception, at.exception
    runs = at.dataframe[-1].value
    assert list(runs.iloc[:, 2]) == ["আংশিক"]
    lacking = runs.iloc[0, -1]
    assert lacking == (
        "SW46.9L: স্টেশন অনুপস্থিত; এনসেম্বল সদস্য অনুপস্থিত; SW46.9L: পূর্বাভাসের সময়ধাপ অনুপস্থিত; এবং আরও ১টি"
    ), lacking
    issues.insert(0, issues.pop())  # the observed levels first: a word, so translated
    with accounts.session() as session:
        session.execute(text("UPDATE forecast_runs SET quality = :q"), {"q": json.dumps(issues)})
    at = view("health.py", "officer", lang="bn")
    lacking = at.dataframe[-1].value.iloc[0, -1]
    assert lacking.startswith("পর্যবেক্ষিত পানির স্তর: তথ্যের অংশ পাওয়া যায়নি; SW46.9L: স্টেশন অনুপস্থিত"), (
        lacking
    )


def test_a_forecast_stored_but_not_used_is_said_in_bangla(
    view: Callable[..., AppTest], accounts: Store
) -> None:
    """The ingest's English note (the CLI and the log keep it) in the reader's words, with
    both issue times in Bangla digits; on a partial run beside what the forecast lacks."""
    from agam.pipeline.run_notes import not_used

    issued = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
    in_force = datetime(2026, 5, 20, 5, 0, tzinfo=UTC)
    lacking = [{"code": "missing_station", "message": "no rows", "subject": "SW46.9L"}]
    with accounts.session() as session:
        for outcome, quality in (("success", []), ("partial", lacking)):
            started = datetime.now(UTC) - timedelta(minutes=10 if outcome == "success" else 5)
            run = feed_repo.start_run(session, "bmd", started, "scheduler")
            forecast = feed_repo.add_forecast(
                session,
                feed_repo.NewForecast(
                    feed_id="bmd",
                    kind="cyclone_signal",
                    issued_at=issued,
                    fetched_at=started,
                    source_uri=f"file:///drop/{outcome}.json",
                    raw_sha256=("a" if outcome == "success" else "b") * 64,
                    raw_path="/nonexistent",
                    processed_path="/nonexistent",
                    complete=not quality,
                    quality=quality,
                    summary={"quality_issues": len(quality)},
                ),
            )
            note = not_used(issued, in_force)
            feed_repo.finish_run(
                session,
                run.id,
                finished_at=started,
                outcome=outcome,
                error=note if outcome == "success" else f"{note}; SW46.9L missing_station (…)",
                forecast_run_id=forecast.id,
            )
    at = view("health.py", "officer", lang="bn")
    assert not at.exception, at.exception
    notes = list(at.dataframe[-1].value.iloc[:, -1])
    said = "প্রকাশ ২০ মে ২০২৬, ০৮:০০, কার্যকর পূর্বাভাসের (প্রকাশ ২০ মে ২০২৬, ১১:০০) আগে: সংরক্ষিত, ব্যবহৃত হয়নি"
    assert notes == [f"{said}; SW46.9L: স্টেশন অনুপস্থিত", said], notes
    at = view("health.py", "officer")
    notes = list(at.dataframe[-1].value.iloc[:, -1])
    assert notes[1] == (
        "issued 20 May 2026, 08:00, before the forecast in force (issued 20 May 2026, 11:00): "
        "stored, not used"
    ), notes


def test_the_versions_used_are_listed_with_their_hash(
    view: Callable[..., AppTest], accounts: Store
) -> None:
    """Each rule set and policy version the store recorded at its first use, in the
    reader's language: kind, name, version, first use, the start of its sha256."""
    from store import config_versions

    used = [
        config_versions.fingerprint("rule_set", "ocha_cerf_flood_2025", "2025.2", {"a": 1}),
        config_versions.fingerprint("allowance_policy", "agam-default", "2025.2", {"b": 2}),
    ]
    with accounts.session() as session:
        config_versions.record(session, used, datetime(2026, 6, 22, 0, 15, tzinfo=UTC))
    at = view("health.py", "committee", lang="bn")
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "sha256" in d.value.columns)
    assert list(table["ধরন"]) == ["নিয়মসেট", "ভাতা নীতি"]
    assert list(table["নাম"]) == ["ওচা/সার্ফ বর্ষা বন্যা (২০২৫) (ocha_cerf_flood_2025)", "agam-default"]
    assert set(table["প্রথম ব্যবহার"]) == {"২২ জুন ২০২৬, ০৬:১৫"}
    assert list(table["sha256"]) == [u.sha256[:16] for u in used]
