"""Payment results: a provider's return file applied to an approved list, and the failed lines
proposed again as a re-issue list.

An officer (or admin) of the list's district imports; the account is re-checked inside the
transaction that writes. Rows that do not fit (unknown or foreign references, duplicates,
amounts other than the approved, bad times, formula-like cells, moves other than failed ->
paid and paid -> reversed) are reported with their row numbers and never applied. Every
applied change is one audit entry; the same file imported again changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from agam.core.errors import InvalidTransition
from agam.core.timeutil import ensure_utc, iso_utc
from allowances.payment_returns import (
    Expected,
    Judgement,
    Line,
    Stored,
    judge,
    read_return_file,
)
from allowances.spreadsheet_guard import return_file_limits
from store import audit, list_repo, payment_repo
from store.db import Store
from store.identity import Principal, require_active
from store.models import AllowanceList

RESULT_ROLES = ("officer", "admin")
ACCEPTS_RESULTS = ("exported",)  # a provider returns only what it was sent
REISSUE_KIND = "reissue"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportReport:
    list_id: int
    file_name: str
    applied: int
    unchanged: int
    judgement: Judgement
    status: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "list_id": self.list_id,
            "file": self.file_name,
            "applied": self.applied,
            "unchanged": self.unchanged,
            "unmatched": self.judgement.unmatched,
            "rejected_rows": len(self.judgement.rejected),
            "rejected": self.judgement.rejected,
            **self.status,
        }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _accepting(session: Session, list_id: int, principal: Principal, doing: str) -> AllowanceList:
    """The list, locked for this transaction: two imports or re-issues of one list take turns,
    each seeing what the other committed (nobody is paid twice)."""
    row = list_repo.get_list(session, list_id, for_update=True)
    require_active(session, principal, RESULT_ROLES, district=row.district_pcode, doing=doing)
    if row.status not in ACCEPTS_RESULTS:
        prepared = "its payment files were never prepared" if row.status == "approved" else ""
        raise InvalidTransition(
            f"list {list_id} is {row.status}{'; ' + prepared if prepared else ''}: only a list "
            "whose payment files were prepared (exported) has payment results"
        )
    return row


def import_results(
    store: Store, list_id: int, principal: Principal, path: Path, at: datetime
) -> ImportReport:
    """Read, judge and apply a return file in one transaction; a refusal is audited."""
    rows = read_return_file(path)
    digest = _sha256(path)
    with (
        audit.refusals_recorded(
            store,
            at=at,
            actor=principal.username,
            action="payments.import",
            entity="allowance_list",
            entity_id=list_id,
            payload={"file": path.name, "sha256": digest},
        ),
        store.session() as session,
    ):
        row = _accepting(session, list_id, principal, "import payment results")
        lines = payment_repo.payable_lines(session, list_id)
        accounts = payment_repo.payee_accounts(session, list_id)
        held = payment_repo.results(session, list_id)
        judgement = judge(
            rows,
            list_id,
            {
                ref: Line(hh, ben, amount, accounts.get(ref, {}))
                for ref, (hh, ben, amount) in lines.items()
            },
            {
                ref: Stored(r.status, r.provider_txn_id, r.paid_at, r.failure_reason)
                for ref, r in held.items()
            },
            payment_repo.reissued_refs(session, list_id),
            _expected(session, row, at),
        )
        if judgement.changes or not payment_repo.file_seen(session, list_id, digest):
            _apply(session, row, judgement, path.name, digest, principal.username, lines, at)
        status = payment_repo.counts(session, list_id)
    log.info(
        "payment results for list %d: %d applied, %d rejected",
        list_id,
        len(judgement.changes),
        len(judgement.rejected),
    )
    return ImportReport(
        list_id, path.name, len(judgement.changes), judgement.unchanged, judgement, status
    )


def _expected(session: Session, row: AllowanceList, at: datetime) -> Expected:
    """The batch every row names and the window its payment times fall in: from the
    approval to now, plus the provider's clock skew."""
    approval = list_repo.approval(session, row.id)
    skew = timedelta(minutes=return_file_limits().paid_at_skew_minutes)
    return Expected(
        batch_id=list_repo.batch_id(row),
        paid_from=ensure_utc(approval.at) if approval is not None else ensure_utc(row.created_at),
        paid_until=ensure_utc(at) + skew,
    )


def _apply(
    session: Session,
    row: AllowanceList,
    judgement: Judgement,
    file_name: str,
    digest: str,
    actor: str,
    lines: dict[str, tuple[str, str, int]],
    at: datetime,
) -> None:
    """The import record, the results, one audit entry per change and one for the file. The
    record is written whole: the app role may insert an import, never change it."""
    summary = {
        "applied": len(judgement.changes),
        "unchanged": judgement.unchanged,
        "unmatched": judgement.unmatched,
        "rejected_rows": len(judgement.rejected),
    }
    record = payment_repo.record_import(
        session,
        list_id=row.id,
        file_name=file_name,
        sha256=digest,
        imported_by=actor,
        at=at,
        synthetic=row.synthetic,
        summary=summary,
    )
    changes = [
        (c.line_ref, c.result.status, c.result.provider_txn_id, c.result.paid_at,
         c.result.failure_reason)
        for c in judgement.changes
    ]  # fmt: skip
    payment_repo.apply(
        session, list_id=row.id, import_id=record.id, changes=changes, lines=lines, at=at
    )
    for change in judgement.changes:
        result = change.result
        audit.append(
            session,
            at=at,
            actor=actor,
            action="payment.result",
            entity="payment_line",
            entity_id=change.line_ref,
            payload={
                "list_id": row.id,
                "import_id": record.id,
                "row": change.row,
                "from": change.from_status,
                "to": result.status,
                "provider_txn_id": result.provider_txn_id,
                "paid_at": iso_utc(result.paid_at) if result.paid_at else None,
                "failure_reason": result.failure_reason,
            },
        )
    audit.append(
        session,
        at=at,
        actor=actor,
        action="payments.import",
        entity="allowance_list",
        entity_id=row.id,
        payload={"file": file_name, "sha256": digest, "import_id": record.id, **summary},
    )


def payment_status(store: Store, list_id: int) -> dict[str, Any]:
    """The list's payment counts and its imports (read-only: no personal data)."""
    with store.read() as session:
        row = list_repo.get_list(session, list_id)
        out = {"list_id": list_id, "list_status": row.status, "synthetic": row.synthetic}
        out |= payment_repo.counts(session, list_id)
        out["imports"] = [
            {
                "import_id": i.id,
                "file": i.file_name,
                "sha256": i.sha256,
                "imported_by": i.imported_by,
                "imported_at": iso_utc(i.imported_at),
                "synthetic": i.synthetic,
                **i.summary,
            }
            for i in payment_repo.imports(session, list_id)
        ]
    return out


def reissue(session: Session, *, list_id: int, principal: Principal, at: datetime) -> AllowanceList:
    """A draft re-issue list of the lines of `list_id` whose payment failed, each with the
    registry's payee as it is now (corrected or on another channel), submitted and approved
    like any list. A line already re-issued on a live list, or whose household has a payment
    standing in this activation, is left out: nobody is paid twice."""
    original = _accepting(session, list_id, principal, "propose re-issues")
    stored = payment_repo.results(session, list_id)
    taken = payment_repo.reissued_refs(session, list_id)
    failed = {ref for ref, r in stored.items() if r.status == "failed" and ref not in taken}
    lines = list_repo.raw_lines(session, list_id)
    lines = lines[lines["line_ref"].isin(failed)]
    paid = payment_repo.paid_households(session, original.alert_id)
    lines = lines[~lines["household_id"].isin(paid)]
    if lines.empty:
        raise InvalidTransition(f"list {list_id} has no failed line to re-issue")
    lines = lines.assign(amends_line_ref=lines["line_ref"]).drop(columns=["id", "list_id"])
    row = list_repo.create_list(
        session,
        alert_id=original.alert_id,
        district_pcode=original.district_pcode,
        lines=lines,
        policy=original.policy,
        amount_per_household_bdt=original.amount_per_household_bdt,
        prepared_by=principal.username,
        at=at,
        synthetic=original.synthetic,
        edit_reason=f"payments of list {list_id} failed; proposed again",
        amends=original,
        kind=REISSUE_KIND,
    )
    log.info("re-issue %d of list %d: %d lines", row.id, list_id, row.households)
    return row
