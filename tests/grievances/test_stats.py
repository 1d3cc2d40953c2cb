"""Grievance aggregates for M&E: by district, period and category, time to resolve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agam.core.settings import GrievanceSettings
from allowances import grievance_register as register
from allowances.grievance_stats import GrievanceFact, grievance_summary, summarise
from allowances.grievances import NewGrievance
from store.db import Store
from store.user_repo import authenticate

from .conftest import CHILMARI, PASSWORD, T0

H = timedelta(hours=1)


def fact(
    district: str,
    category: str,
    status: str,
    received: datetime,
    hours: float | None,
    due_h: float = 72,
) -> GrievanceFact:
    closed = received + hours * H if hours is not None else None
    return GrievanceFact(district, category, status, received, received + due_h * H, closed)


def test_counts_hours_and_periods() -> None:
    june = datetime(2026, 6, 30, 19, 0, tzinfo=UTC)  # 1 July 01:00 in Dhaka
    items = [
        fact("BD5549", "non_payment", "resolved", T0, 10),
        fact("BD5549", "non_payment", "resolved", T0, 30),
        fact("BD5549", "non_payment", "resolved", T0, 100),  # late
        fact("BD5549", "non_payment", "rejected", T0, 5),
        fact("BD5549", "non_payment", "in_progress", T0, None),  # open, overdue by as_of
        fact("BD5549", "non_payment", "resolved", T0, 500),  # closes after as_of: still open
        fact("BD5549", "exclusion", "open", june, None, due_h=360),
        fact("BD4539", "conduct", "referred", T0, 20),
        fact("BD4539", "conduct", "open", T0 + 400 * H, None),  # received after as_of
        fact("BD5549", "other", "open", datetime(2026, 1, 1, tzinfo=UTC), None),  # before start
    ]
    as_of = T0 + 200 * H
    start, end = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
    rows = {
        (r["district_pcode"], r["period"], r["category"]): r
        for r in summarise(items, start=start, end=end, as_of=as_of, period="month")
    }
    assert set(rows) == {
        ("BD4539", "2026-07", "conduct"),
        ("BD5549", "2026-07", "exclusion"),  # a Dhaka month: 30 June 19:00 UTC is 1 July
        ("BD5549", "2026-07", "non_payment"),
    }
    pay = rows[("BD5549", "2026-07", "non_payment")]
    assert (pay["received"], pay["open"], pay["overdue"]) == (6, 2, 2)
    assert (pay["resolved"], pay["rejected"], pay["closed_within_target"]) == (3, 1, 3)
    assert pay["median_hours_to_resolve"] == 30.0
    assert pay["max_hours_to_resolve"] == 100.0
    assert pay["median_hours_to_close"] == 20.0  # 5, 10, 30, 100
    conduct = rows[("BD4539", "2026-07", "conduct")]
    assert (conduct["received"], conduct["referred"], conduct["median_hours_to_resolve"]) == (
        1,
        1,
        None,
    )
    whole = summarise(items, start=start, end=end, as_of=as_of)
    assert {r["period"] for r in whole} == {"all"}
    assert sum(r["received"] for r in whole) == 8


def test_summary_from_the_store_matches_the_register(store: Store) -> None:
    settings = GrievanceSettings()
    with store.session() as session:
        officer = authenticate(session, "officer.kurigram", PASSWORD, T0, "test").principal
    assert officer is not None
    with store.session() as session:
        for i, category in enumerate(("non_payment", "non_payment", "conduct")):
            register.record(
                session,
                officer,
                NewGrievance(
                    received_at=T0 + i * H,
                    channel="civil_society",
                    category=category,
                    adm4_pcode=CHILMARI,
                    description="synthetic complaint",
                ),
                T0 + 5 * H,
                settings,
            )
        register.update(session, officer, 1, T0 + 6 * H, action="start")
        register.update(session, officer, 1, T0 + 12 * H, action="resolve", reason="paid")
    with store.session() as session:
        rows = grievance_summary(session, start=T0 - 24 * H, end=T0 + 24 * H, as_of=T0 + 100 * H)
    by_category = {r["category"]: r for r in rows}
    assert by_category["non_payment"]["received"] == 2
    assert by_category["non_payment"]["resolved"] == 1
    assert by_category["non_payment"]["median_hours_to_resolve"] == 12.0
    assert by_category["non_payment"]["overdue"] == 1  # 72 h target, 99 h open at as_of
    assert by_category["conduct"]["overdue"] == 0  # 168 h target
