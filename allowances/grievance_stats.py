"""Grievance aggregates for monitoring and evaluation: per district, period and category,
how many were received, how many are still open or overdue, and how long they took to close.
Pure: counts only, no personal data, so the committee may see them."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from agam.core.timeutil import ensure_utc, to_dhaka
from store import grievance_repo

Period = Literal["all", "month"]


@dataclass(frozen=True)
class GrievanceFact:
    """The non-personal facts of one grievance that the aggregates need."""

    district_pcode: str
    category: str
    status: str
    received_at: datetime
    due_at: datetime
    closed_at: datetime | None


def facts(rows: Iterable[Any]) -> list[GrievanceFact]:
    """From store rows (or anything with the same attributes)."""
    return [
        GrievanceFact(r.district_pcode, r.category, r.status, r.received_at, r.due_at, r.closed_at)
        for r in rows
    ]


def _period(value: datetime, period: Period) -> str:
    return "all" if period == "all" else to_dhaka(value).strftime("%Y-%m")  # Dhaka months


def _hours(start: datetime, end: datetime) -> float:
    return (ensure_utc(end) - ensure_utc(start)).total_seconds() / 3600


def summarise(
    items: Iterable[GrievanceFact],
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    period: Period = "all",
) -> list[dict[str, Any]]:
    """One row per (district, period, category) for grievances received in [start, end).

    A grievance counts as closed only if it closed by `as_of`; `overdue` = still open at
    `as_of` after its due time. Hours to close are from receipt to the closing decision;
    `hours_to_resolve_*` use the resolved ones only (referred and rejected are counted apart).
    """
    start, end, as_of = ensure_utc(start), ensure_utc(end), ensure_utc(as_of)
    groups: dict[tuple[str, str, str], list[GrievanceFact]] = defaultdict(list)
    for g in items:
        received = ensure_utc(g.received_at)
        if start <= received < end and received <= as_of:
            groups[(g.district_pcode, _period(received, period), g.category)].append(g)
    out = []
    for (district, label, category), group in sorted(groups.items()):
        closed = [g for g in group if g.closed_at is not None and ensure_utc(g.closed_at) <= as_of]
        still_open = [g for g in group if g not in closed]
        resolved = [g for g in closed if g.status == "resolved"]
        close_hours = [_hours(g.received_at, g.closed_at) for g in closed if g.closed_at]
        resolve_hours = [_hours(g.received_at, g.closed_at) for g in resolved if g.closed_at]
        out.append(
            {
                "district_pcode": district,
                "period": label,
                "category": category,
                "received": len(group),
                "open": len(still_open),
                "overdue": sum(1 for g in still_open if as_of > ensure_utc(g.due_at)),
                "resolved": len(resolved),
                "referred": sum(1 for g in closed if g.status == "referred"),
                "rejected": sum(1 for g in closed if g.status == "rejected"),
                "closed_within_target": sum(
                    1 for g in closed if g.closed_at and g.closed_at <= g.due_at
                ),
                "median_hours_to_close": _round(statistics.median(close_hours))
                if close_hours
                else None,
                "median_hours_to_resolve": _round(statistics.median(resolve_hours))
                if resolve_hours
                else None,
                "max_hours_to_resolve": _round(max(resolve_hours)) if resolve_hours else None,
            }
        )
    return out


def _round(value: float) -> float:
    return round(value, 1)


def grievance_summary(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    period: Period = "all",
    districts: list[str] | None = None,
) -> list[dict[str, Any]]:
    """`summarise` over the stored register (what the M&E report and page read)."""
    rows = grievance_repo.rows(
        session, districts=districts, received_from=ensure_utc(start), received_to=ensure_utc(end)
    )
    return summarise(facts(rows), start=start, end=end, as_of=as_of, period=period)
