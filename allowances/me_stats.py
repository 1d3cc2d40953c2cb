"""Monitoring and evaluation of one activation from the store: when it was triggered,
approved and paid, whom the payments reached (disaggregated), what failed and why.

Aggregates only: counts, shares and times; never a name, number or household id. The hazard's
peak (the lead-time reference) is found by the pipeline (agam/pipeline/me_report.py), which
needs the stored forecasts; everything here reads the store's own tables.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agam.core.errors import NotFound
from agam.core.timeutil import ensure_utc, iso_utc
from allowances.exposure import ALL_PROGRAMMES
from store.models import (
    Activation,
    Alert,
    AllowanceLine,
    AllowanceList,
    AllowancePayee,
    Beneficiary,
    Decision,
    PaymentResult,
    UnionExposure,
)

REACH_GROUPS = ("female_recipient", "female_headed", "disability", "older_person",
                "child_under5", "char_dweller")  # fmt: skip


@dataclass(frozen=True)
class PaidLine:
    """The non-personal facts of one household reached (a `paid` result)."""

    district_pcode: str
    paid_at: datetime
    amount_bdt: int
    sex: str
    birth_year: int
    female_headed: bool
    disability: bool
    children_under5: int
    char_resident: bool


@dataclass(frozen=True)
class ActivationRows:
    activation: Activation
    alerts: list[Alert]
    lists: list[AllowanceList]
    first_approval_at: datetime | None
    paid: list[PaidLine]
    not_paid: list[tuple[str, str, str]]  # (district, status, reason) of failed / reversed
    rolls: dict[str, int]  # district -> households on the rolls in the alerts' unions


def load(session: Session, activation_id: int) -> ActivationRows:
    activation = session.get(Activation, activation_id)
    if activation is None:
        raise NotFound(f"no activation {activation_id}")
    alerts = list(session.scalars(select(Alert).where(Alert.activation_id == activation_id)))
    alert_ids = [a.id for a in alerts]
    lists = list(
        session.scalars(select(AllowanceList).where(AllowanceList.alert_id.in_(alert_ids)))
    )
    list_ids = [row.id for row in lists]
    first_approval = session.scalar(
        select(func.min(Decision.at)).where(
            Decision.list_id.in_(list_ids), Decision.action == "approve"
        )
    )
    return ActivationRows(
        activation,
        alerts,
        lists,
        ensure_utc(first_approval) if first_approval else None,
        _paid(session, list_ids),
        _not_paid(session, list_ids),
        _rolls(session, alerts),
    )


def _paid(session: Session, list_ids: list[int]) -> list[PaidLine]:
    """One row per household with a standing payment (its earliest, if paid twice)."""
    stmt = (
        select(
            AllowanceList.district_pcode,
            PaymentResult.household_id,
            PaymentResult.paid_at,
            PaymentResult.amount_bdt,
            AllowancePayee.sex,
            AllowancePayee.birth_year,
            Beneficiary.female_headed,
            Beneficiary.disability,
            Beneficiary.children_under5,
            Beneficiary.char_resident,
        )
        .join(AllowanceList, AllowanceList.id == PaymentResult.list_id)
        .join(AllowanceLine, AllowanceLine.line_ref == PaymentResult.line_ref)
        .join(
            AllowancePayee,
            (AllowancePayee.list_id == AllowanceLine.list_id)
            & (AllowancePayee.rank == AllowanceLine.rank),
        )
        .outerjoin(Beneficiary, Beneficiary.beneficiary_id == AllowancePayee.beneficiary_id)
        .where(PaymentResult.list_id.in_(list_ids), PaymentResult.status == "paid")
        .order_by(PaymentResult.paid_at)
    )
    seen: set[str] = set()
    out = []
    for district, household, paid_at, amount, sex, year, fhh, dis, u5, char in session.execute(
        stmt
    ):
        if household in seen or paid_at is None:  # a paid result always has its time
            continue
        seen.add(household)
        out.append(
            PaidLine(
                district,
                ensure_utc(paid_at),
                int(amount),
                sex,
                int(year),
                bool(fhh),
                bool(dis),
                int(u5 or 0),
                bool(char),
            )
        )
    return out


def _not_paid(session: Session, list_ids: list[int]) -> list[tuple[str, str, str]]:
    stmt = (
        select(AllowanceList.district_pcode, PaymentResult.status, PaymentResult.failure_reason)
        .join(AllowanceList, AllowanceList.id == PaymentResult.list_id)
        .where(PaymentResult.list_id.in_(list_ids), PaymentResult.status != "paid")
    )
    return [(d, s, r or "") for d, s, r in session.execute(stmt)]


def _rolls(session: Session, alerts: list[Alert]) -> dict[str, int]:
    """Households on the programme rolls in the unions any alert of the activation covered,
    per district: each union's households from `union_exposure` (any programme), summed, as
    `agam registry stats` counts a district's. The import keeps those counts, so this reads a
    row per union instead of every beneficiary of the district (5 s at 10 M households); a
    household with members in two of the unions counts in each."""
    unions: dict[str, set[str]] = {}
    for alert in alerts:
        unions.setdefault(alert.district_pcode, set()).update(alert.affected_unions or [])
    out = {}
    for district, codes in sorted(unions.items()):
        count = 0
        ordered = sorted(codes)
        for start in range(0, len(ordered), 500):
            count += (
                session.scalar(
                    select(func.sum(UnionExposure.households)).where(
                        UnionExposure.programme == ALL_PROGRAMMES,
                        UnionExposure.adm4_pcode.in_(ordered[start : start + 500]),
                    )
                )
                or 0
            )
        out[district] = int(count)
    return out


def reach(paid: Iterable[PaidLine], *, year: int, older_age_years: int) -> dict[str, int]:
    """Households reached, and how many of them in each group (the recipient's sex and age
    as pinned on the list; the household flags as in the registry)."""
    rows = list(paid)
    return {
        "households": len(rows),
        "female_recipient": sum(1 for p in rows if p.sex == "female"),
        "female_headed": sum(1 for p in rows if p.female_headed),
        "disability": sum(1 for p in rows if p.disability),
        "older_person": sum(1 for p in rows if year - p.birth_year >= older_age_years),
        "child_under5": sum(1 for p in rows if p.children_under5 > 0),
        "char_dweller": sum(1 for p in rows if p.char_resident),
    }


def _hours(a: datetime, b: datetime) -> float:
    return round((ensure_utc(b) - ensure_utc(a)).total_seconds() / 3600, 1)


def timeline(rows: ActivationRows, peak_at: datetime | None) -> dict[str, Any]:
    """Trigger -> first approval -> first and last payment, and the lead time of payment
    before the peak (positive: paid before it)."""
    raised = min((ensure_utc(a.opened_at) for a in rows.alerts), default=None)
    paid = sorted(p.paid_at for p in rows.paid)
    first, last = (paid[0], paid[-1]) if paid else (None, None)
    out: dict[str, Any] = {
        "triggered_at": iso_utc(raised) if raised else None,
        "first_approval_at": iso_utc(rows.first_approval_at) if rows.first_approval_at else None,
        "first_payment_at": iso_utc(first) if first else None,
        "last_payment_at": iso_utc(last) if last else None,
        "hours_trigger_to_approval": _hours(raised, rows.first_approval_at)
        if raised and rows.first_approval_at
        else None,
        "hours_approval_to_first_payment": _hours(rows.first_approval_at, first)
        if rows.first_approval_at and first
        else None,
    }
    if peak_at is None or not paid:
        out |= {"lead_hours_first_payment": None, "lead_hours_last_payment": None,
                "lead_hours_median_payment": None, "share_paid_before_peak": None}  # fmt: skip
        return out
    leads = [_hours(t, peak_at) for t in paid]
    out |= {
        "lead_hours_first_payment": leads[0],
        "lead_hours_last_payment": leads[-1],
        "lead_hours_median_payment": round(statistics.median(leads), 1),
        "share_paid_before_peak": round(sum(1 for t in paid if t < peak_at) / len(paid), 4),
    }
    return out


def not_paid_by_reason(rows: Iterable[tuple[str, str, str]]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {"failed": Counter(), "reversed": Counter()}
    for _district, status, reason in rows:
        counts[status][reason] += 1
    return {k: dict(sorted(v.items())) for k, v in counts.items()}


def by_district(rows: ActivationRows, *, year: int, older_age_years: int) -> list[dict[str, Any]]:
    """Per district: households on the rolls in the alert's unions, reached, coverage, and the
    disaggregated reach; failed and reversed counts."""
    out = []
    for district in sorted(set(rows.rolls) | {p.district_pcode for p in rows.paid}):
        mine = [p for p in rows.paid if p.district_pcode == district]
        counts = reach(mine, year=year, older_age_years=older_age_years)
        on_rolls = rows.rolls.get(district, 0)
        failures = [r for r in rows.not_paid if r[0] == district]
        out.append(
            {
                "district_pcode": district,
                "households_on_rolls": on_rolls,
                "coverage": round(counts["households"] / on_rolls, 4) if on_rolls else None,
                "paid_bdt": sum(p.amount_bdt for p in mine),
                **{
                    f"reached_{k}" if k != "households" else "households_paid": v
                    for k, v in counts.items()
                },
                "failed": sum(1 for r in failures if r[1] == "failed"),
                "reversed": sum(1 for r in failures if r[1] == "reversed"),
            }
        )
    return out
