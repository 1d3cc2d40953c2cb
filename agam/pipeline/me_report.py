"""The M&E report of an activation and of a season: timeline, lead time before the hazard's
peak, coverage, disaggregated reach, failed and reversed payments, grievances.

Aggregates only (counts, shares, times, P-codes): what the committee may read and what
`agam report` prints or writes as HXL-tagged CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agam.core.timeutil import ensure_utc, iso_utc
from agam.pipeline.context import AppContext
from agam.pipeline.me_peak import hazard_peak, read_observed
from allowances import me_stats
from allowances.grievance_stats import grievance_summary
from allowances.policy import load_policy
from store.models import Activation, Alert, AllowanceList, PaymentResult

# The season CSV: (column, HXL hashtag) in order; the hashtags are the CSV's second row.
SEASON_COLUMNS = (
    ("activation_id", "#event+id"),
    ("hazard", "#event+type"),
    ("label", "#event+name"),
    ("district_pcode", "#adm2+code"),
    ("triggered_at", "#date+triggered"),
    ("first_approval_at", "#date+approved"),
    ("first_payment_at", "#date+paid+first"),
    ("last_payment_at", "#date+paid+last"),
    ("peak_at", "#date+peak"),
    ("peak_source", "#meta+peak_source"),
    ("households_on_rolls", "#affected+hh"),
    ("households_paid", "#reached+hh"),
    ("coverage", "#reached+hh+pct"),
    ("reached_female_recipient", "#reached+hh+f"),
    ("reached_female_headed", "#reached+hh+head_f"),
    ("reached_disability", "#reached+hh+disabled"),
    ("reached_older_person", "#reached+hh+elderly"),
    ("reached_child_under5", "#reached+hh+children_u5"),
    ("reached_char_dweller", "#reached+hh+char"),
    ("paid_bdt", "#value+paid+bdt"),
    ("failed", "#indicator+failed+num"),
    ("reversed", "#indicator+reversed+num"),
    ("lead_hours_first_payment", "#indicator+lead_hours+first"),
    ("share_paid_before_peak", "#indicator+before_peak+pct"),
)


TIMELINE_COLUMNS = (
    "triggered_at",
    "first_approval_at",
    "first_payment_at",
    "last_payment_at",
    "lead_hours_first_payment",
    "share_paid_before_peak",
)


def activation_report(
    ctx: AppContext, activation_id: int, observed: Path | None = None
) -> dict[str, Any]:
    with ctx.store.read() as session:
        rows = me_stats.load(session, activation_id)
    activation = rows.activation
    series = read_observed(observed) if observed is not None else None
    peak = hazard_peak(
        ctx,
        activation.hazard,
        rows.alerts,
        ensure_utc(activation.last_active_at),
        series,
        observed.name if observed else "",
    )
    year = ensure_utc(activation.opened_at).year
    older = load_policy().thresholds.elderly_age_years
    reach = me_stats.reach(rows.paid, year=year, older_age_years=older)
    on_rolls = sum(rows.rolls.values())
    end = max([ensure_utc(activation.last_active_at), *(p.paid_at for p in rows.paid)])
    with ctx.store.read() as session:
        grievances = grievance_summary(
            session,
            start=ensure_utc(activation.opened_at),
            end=end,
            as_of=ctx.now(),
            districts=sorted(rows.rolls),
        )
    return {
        "activation_id": activation.id,
        "hazard": activation.hazard,
        "label": activation.label,
        "opened_at": iso_utc(activation.opened_at),
        "synthetic": any(row.synthetic for row in rows.lists),
        "districts": sorted(rows.rolls),
        "lists": {"total": len(rows.lists), "by_kind": _count(r.kind for r in rows.lists)},
        "peak": {
            "at": iso_utc(peak.at) if peak.at else None,
            "source": peak.source,
            "basis": peak.basis,
            "facts": peak.facts,
        },
        "timeline": me_stats.timeline(rows, peak.at),
        "coverage": {
            "households_on_rolls": on_rolls,
            "households_paid": reach["households"],
            "share": round(reach["households"] / on_rolls, 4) if on_rolls else None,
        },
        "reach": reach,
        "older_person_age_years": older,
        "paid_bdt": sum(p.amount_bdt for p in rows.paid),
        "not_paid_by_reason": me_stats.not_paid_by_reason(rows.not_paid),
        "by_district": me_stats.by_district(rows, year=year, older_age_years=older),
        "grievances": grievances,
    }


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def activations_between(ctx: AppContext, start: datetime, end: datetime) -> list[int]:
    with ctx.store.read() as session:
        stmt = (
            select(Activation.id)
            .where(
                Activation.opened_at >= ensure_utc(start), Activation.opened_at < ensure_utc(end)
            )
            .order_by(Activation.opened_at)
        )
        return list(session.scalars(stmt))


def activations_paid(ctx: AppContext) -> list[int]:
    """Activations with at least one payment result, newest first."""
    with ctx.store.read() as session:
        stmt = (
            select(Activation.id)
            .join(Alert, Alert.activation_id == Activation.id)
            .join(AllowanceList, AllowanceList.alert_id == Alert.id)
            .join(PaymentResult, PaymentResult.list_id == AllowanceList.id)
            .distinct()
        )
        return sorted(set(session.scalars(stmt)), reverse=True)


def season_report(ctx: AppContext, start: datetime, end: datetime) -> dict[str, Any]:
    reports = [activation_report(ctx, i) for i in activations_between(ctx, start, end)]
    return {
        "from": iso_utc(start),
        "to": iso_utc(end),
        "activations": reports,
        "households_paid": sum(r["coverage"]["households_paid"] for r in reports),
        "paid_bdt": sum(r["paid_bdt"] for r in reports),
        "synthetic": any(r["synthetic"] for r in reports),
    }


def season_rows(season: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per activation and district."""
    out = []
    for report in season["activations"]:
        for district in report["by_district"]:
            out.append(
                {
                    "activation_id": report["activation_id"],
                    "hazard": report["hazard"],
                    "label": report["label"],
                    **{k: report["timeline"][k] for k in TIMELINE_COLUMNS},
                    "peak_at": report["peak"]["at"],
                    "peak_source": report["peak"]["source"],
                    **district,
                }
            )
    return out


def season_csv(season: dict[str, Any]) -> str:
    """CSV with HXL hashtags on the second row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c for c, _ in SEASON_COLUMNS])
    writer.writerow([h for _, h in SEASON_COLUMNS])
    for row in season_rows(season):
        writer.writerow(["" if row.get(c) is None else row.get(c) for c, _ in SEASON_COLUMNS])
    return buffer.getvalue()
