"""Payment results in the store: the lines a result may name, the results held, the moves a
return file makes, and the counts `agam payments status` shows. The moves themselves are
judged in allowances/payment_returns.py; the database refuses any other (migration 0009)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import list_repo
from store.models import (
    AllowanceLine,
    AllowanceList,
    AllowancePayee,
    PaymentImport,
    PaymentResult,
)

# line_ref, status, provider_txn_id, paid_at, failure_reason
ResultRow = tuple[str, str, str | None, datetime | None, str | None]
LIVE = ("draft", "submitted", "approved", "exported")


def payable_lines(session: Session, list_id: int) -> dict[str, tuple[str, str, int]]:
    """Line ref -> (household, beneficiary, approved amount) of every line the list's payment
    file pays: included, less those an approved amendment held back before it was exported
    (a re-issue comes after the file; its lines were paid, or tried, from it)."""
    held = list_repo.amended_refs(session, list_id, ("approved", "exported"), kind="amendment")
    stmt = select(
        AllowanceLine.line_ref,
        AllowanceLine.household_id,
        AllowanceLine.beneficiary_id,
        AllowanceLine.amount_bdt,
    ).where(AllowanceLine.list_id == list_id, AllowanceLine.included.is_(True))
    return {
        str(ref): (hh, ben, int(amount))
        for ref, hh, ben, amount in session.execute(stmt)
        if ref not in held
    }


PAYEE_ACCOUNTS = ("wallet_number", "bank_account", "routing_number", "post_office_code")


def payee_accounts(session: Session, list_id: int) -> dict[str, dict[str, str]]:
    """Line ref -> the pinned payee's account fields that are set (what the payment file
    named), for every included line."""
    columns = [getattr(AllowancePayee, name) for name in PAYEE_ACCOUNTS]
    stmt = (
        select(AllowanceLine.line_ref, *columns)
        .join(
            AllowancePayee,
            (AllowancePayee.list_id == AllowanceLine.list_id)
            & (AllowancePayee.rank == AllowanceLine.rank),
        )
        .where(AllowanceLine.list_id == list_id, AllowanceLine.included.is_(True))
    )
    return {
        str(ref): {n: str(v) for n, v in zip(PAYEE_ACCOUNTS, values, strict=True) if v}
        for ref, *values in session.execute(stmt)
    }


def results(session: Session, list_id: int) -> dict[str, PaymentResult]:
    stmt = select(PaymentResult).where(PaymentResult.list_id == list_id)
    return {r.line_ref: r for r in session.scalars(stmt)}


def results_recorded(session: Session, list_id: int) -> int:
    """How many of the list's lines the provider has returned a result for."""
    query = select(func.count()).select_from(PaymentResult).where(PaymentResult.list_id == list_id)
    return int(session.scalar(query) or 0)


def reissued_refs(session: Session, list_id: int) -> dict[str, int]:
    """Lines of `list_id` proposed again on a live (not rejected or superseded) list."""
    return list_repo.amended_refs(session, list_id, LIVE, kind="reissue")


def file_seen(session: Session, list_id: int, sha256: str) -> bool:
    stmt = select(PaymentImport.id).where(
        PaymentImport.list_id == list_id, PaymentImport.sha256 == sha256
    )
    return session.scalars(stmt.limit(1)).first() is not None


def record_import(
    session: Session,
    *,
    list_id: int,
    file_name: str,
    sha256: str,
    imported_by: str,
    at: datetime,
    synthetic: bool,
    summary: dict[str, int],
) -> PaymentImport:
    row = PaymentImport(
        list_id=list_id,
        file_name=file_name[:255],
        sha256=sha256,
        imported_by=imported_by,
        imported_at=at,
        synthetic=synthetic,
        summary=summary,
    )
    session.add(row)
    session.flush()
    return row


def apply(
    session: Session,
    *,
    list_id: int,
    import_id: int,
    changes: Iterable[ResultRow],
    lines: dict[str, tuple[str, str, int]],
    at: datetime,
) -> None:
    """Write each change: a new result, or the stored one moved on (the database checks the
    move)."""
    held = results(session, list_id)
    for ref, status, txn, paid_at, reason in changes:
        row = held.get(ref)
        if row is None:
            household, _beneficiary, amount = lines[ref]
            row = PaymentResult(
                list_id=list_id,
                line_ref=ref,
                household_id=household,
                amount_bdt=amount,
                first_import_id=import_id,
            )
            session.add(row)
        row.status, row.provider_txn_id, row.paid_at, row.failure_reason = (
            status,
            txn,
            paid_at,
            reason,
        )
        row.last_import_id = import_id
        row.updated_at = at
    session.flush()


def counts(session: Session, list_id: int) -> dict[str, Any]:
    """paid, failed, reversed, pending (payable lines without a result), paid_bdt, and the
    failures and reversals by reason."""
    stmt = (
        select(
            PaymentResult.status,
            PaymentResult.failure_reason,
            func.count(),
            func.coalesce(func.sum(PaymentResult.amount_bdt), 0),
        )
        .where(PaymentResult.list_id == list_id)
        .group_by(PaymentResult.status, PaymentResult.failure_reason)
    )
    out: dict[str, Any] = {"paid": 0, "failed": 0, "reversed": 0, "paid_bdt": 0}
    reasons: dict[str, dict[str, int]] = {"failed": {}, "reversed": {}}
    for status, reason, n, total in session.execute(stmt):
        out[status] += int(n)
        if status == "paid":
            out["paid_bdt"] += int(total)
        else:
            reasons[status][str(reason)] = reasons[status].get(str(reason), 0) + int(n)
    payable = payable_lines(session, list_id)
    held = results(session, list_id)
    out["payable"] = len(payable)
    out["pending"] = sum(1 for ref in payable if ref not in held)
    out["reissued"] = sum(1 for ref in reissued_refs(session, list_id) if held.get(ref) is not None)
    out["failed_by_reason"] = reasons["failed"]
    out["reversed_by_reason"] = reasons["reversed"]
    return out


def imports(session: Session, list_id: int) -> list[PaymentImport]:
    stmt = select(PaymentImport).where(PaymentImport.list_id == list_id)
    return list(session.scalars(stmt.order_by(PaymentImport.id)))


def paid_households(session: Session, alert_id: int) -> set[str]:
    """Households with a payment standing (paid, not reversed) on any list of the alert's
    activation."""
    stmt = (
        select(PaymentResult.household_id)
        .join(AllowanceList, AllowanceList.id == PaymentResult.list_id)
        .where(
            AllowanceList.alert_id.in_(list_repo.activation_alerts(alert_id)),
            PaymentResult.status == "paid",
        )
    )
    return set(session.scalars(stmt))
