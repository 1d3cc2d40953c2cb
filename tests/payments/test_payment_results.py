"""Must show (issue 15): export a list, build a return file with paid, failed and reversed
lines plus an unknown reference and a duplicate, import it (and again), check the summary and
the audit rows; then a re-issue list for the failed lines through approval."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError, IntegrityError

from agam.core.errors import InvalidTransition, PaymentFileError, PermissionDenied
from allowances.lists import decide_list
from allowances.payment_files import export_payment_files
from allowances.payment_results import import_results, payment_status, reissue
from store import audit, list_repo
from store.db import Store
from store.models import AuditEntry, PaymentImport, PaymentResult

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
PAID_AT = "2024-07-04T12:05:00+06:00"  # after the approval at T0, before the import
EXTRA = ["status", "provider_txn_id", "paid_at", "failure_reason"]


def approved_and_exported(
    store: Store, list_id: int, who: Callable[[str], Any], outdir: Path
) -> list[dict[str, str]]:
    decide_list(store, list_id, who("officer.kurigram"), "submit", T0)
    decide_list(store, list_id, who("dc.kurigram"), "approve", T0)
    result = export_payment_files(store, list_id, who("dc.kurigram"), "csv", outdir, T0)
    rows: list[dict[str, str]] = []
    for f in result.manifest["files"]:
        with (result.folder / f["file"]).open(encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def write_return(path: Path, rows: list[dict[str, str]]) -> Path:
    fields = list(rows[0]) if rows else ["line_ref", "amount_bdt"]
    for name in EXTRA:
        if name not in fields:
            fields.append(name)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in fields})
    return path


def result(row: dict[str, str], status: str, **kw: str) -> dict[str, str]:
    base = {"status": status, "provider_txn_id": "", "paid_at": "", "failure_reason": ""}
    if status in ("paid", "reversed"):
        base |= {"provider_txn_id": f"TXN-{row['line_ref']}", "paid_at": PAID_AT}
    if status in ("failed", "reversed"):
        base["failure_reason"] = "wallet inactive" if status == "failed" else "recipient claim"
    return row | base | kw


def audit_rows(store: Store, action: str) -> list[AuditEntry]:
    with store.read() as session:
        return audit.entries_for(session, action)


def test_return_file_round_trip_and_reissue_through_approval(
    store: Store, draft_id: int, who: Callable[[str], Any], outdir: Path, tmp_path: Path
) -> None:
    exported = approved_and_exported(store, draft_id, who, outdir)
    assert len(exported) >= 10
    paid, failed, reversed_ = exported[:5], exported[5:8], exported[8:9]
    late = exported[9]
    rows = [result(r, "paid") for r in paid]
    rows += [result(r, "failed") for r in failed]
    rows += [result(r, "reversed") for r in reversed_]
    rows.append(result(late, "paid"))
    rows.append(result(late, "failed"))  # the duplicate: neither applied
    rows.append(result(exported[0], "paid", line_ref=f"L{draft_id}-9999"))  # unknown
    rows.append(result(exported[0], "paid", line_ref="L999-1"))  # another list
    rows.append(result(exported[10], "paid", amount_bdt="4000"))  # not the approved amount
    rows.append(result(exported[11], "paid", paid_at="2024-07-05T10:15:00"))  # naive time
    rows.append(result(exported[12], "failed", failure_reason="=HYPERLINK(1)"))  # formula
    first = write_return(tmp_path / "return1.csv", rows)

    report = import_results(store, draft_id, who("officer.kurigram"), first, T0)
    summary = report.as_json()
    amount = int(paid[0]["amount_bdt"])
    assert (summary["paid"], summary["failed"], summary["reversed"]) == (5, 3, 1)
    assert summary["paid_bdt"] == 5 * amount
    assert summary["pending"] == len(exported) - 9
    assert summary["unmatched"] == 2
    assert summary["rejected_rows"] == 7
    by_row = {r["row"]: r["reason"] for r in summary["rejected"]}
    assert set(by_row) == set(range(11, 18))  # header is row 1, ten good rows before them
    assert "appears 2 times" in by_row[11]
    assert "appears 2 times" in by_row[12]
    assert "no line" in by_row[13]
    assert "list 999" in by_row[14]
    assert "differs from the approved" in by_row[15]
    assert "no UTC offset" in by_row[16]
    assert "formula-like" in by_row[17]
    changes = audit_rows(store, "payment.result")
    assert len(changes) == 9
    assert {c.payload["to"] for c in changes} == {"paid", "failed", "reversed"}
    assert all(c.actor == "officer.kurigram" and c.payload["from"] is None for c in changes)
    assert not any("wallet" in str(c.payload) and "017" in str(c.payload) for c in changes)

    again = import_results(store, draft_id, who("officer.kurigram"), first, T0)
    assert again.applied == 0
    assert again.unchanged == 9
    assert len(audit_rows(store, "payment.result")) == 9
    with store.read() as session:
        assert len(list(session.scalars(select(PaymentImport)))) == 1
    status = payment_status(store, draft_id)
    keys = ("paid", "failed", "reversed", "pending", "paid_bdt", "failed_by_reason")
    assert {k: status[k] for k in keys} == {k: summary[k] for k in keys}
    assert [i["applied"] for i in status["imports"]] == [9]

    later = [
        result(failed[0], "paid"),  # a re-try went through
        result(paid[0], "failed"),  # never silently back
        result(paid[1], "reversed", provider_txn_id=f"TXN-{paid[1]['line_ref']}"),
    ]
    second = import_results(
        store, draft_id, who("admin.a"), write_return(tmp_path / "r2.csv", later), T0
    )
    assert second.applied == 2
    assert "cannot move from paid to failed" in second.judgement.rejected[0]["reason"]
    assert (second.status["paid"], second.status["failed"], second.status["reversed"]) == (5, 2, 2)
    moves = {(c.payload["from"], c.payload["to"]) for c in audit_rows(store, "payment.result")[9:]}
    assert moves == {("failed", "paid"), ("paid", "reversed")}

    # the two lines still failed are proposed again, and approved like any list
    with store.session() as session:
        again_list = reissue(session, list_id=draft_id, principal=who("officer.kurigram"), at=T0)
        reissue_id, kind = again_list.id, again_list.kind
    assert kind == "reissue"
    decide_list(store, reissue_id, who("officer.kurigram"), "submit", T0)
    decide_list(store, reissue_id, who("dc.kurigram"), "approve", T0)
    with store.read() as session:
        row = list_repo.get_list(session, reissue_id)
        lines = list_repo.raw_lines(session, reissue_id)
        assert (row.status, row.amends_id, row.households) == ("approved", draft_id, 2)
        assert set(lines["amends_line_ref"]) == {r["line_ref"] for r in failed[1:]}
    assert audit_rows(store, "list.reissue")[0].entity_id == str(reissue_id)
    # nothing left to re-issue, and a late "paid" for a re-issued line would pay twice
    with pytest.raises(InvalidTransition, match="no failed line"), store.session() as session:
        reissue(session, list_id=draft_id, principal=who("officer.kurigram"), at=T0)
    late_paid = write_return(tmp_path / "r3.csv", [result(failed[1], "paid")])
    third = import_results(store, draft_id, who("officer.kurigram"), late_paid, T0)
    assert third.applied == 0
    assert f"re-issued on list {reissue_id}" in third.judgement.rejected[0]["reason"]


def test_only_district_officers_import_and_only_for_paid_out_lists(
    store: Store, draft_id: int, who: Callable[[str], Any], tmp_path: Path, outdir: Path
) -> None:
    empty = write_return(tmp_path / "r.csv", [])
    with pytest.raises(InvalidTransition, match="draft"):
        import_results(store, draft_id, who("officer.kurigram"), empty, T0)
    exported = approved_and_exported(store, draft_id, who, outdir)
    path = write_return(tmp_path / "r1.csv", [result(exported[0], "paid")])
    for name in ("dc.jamalpur", "dc.kurigram"):  # another district; not an officer
        with pytest.raises(PermissionDenied):
            import_results(store, draft_id, who(name), path, T0)
    refused = audit_rows(store, "payments.import.refused")
    assert len(refused) == 3
    with store.read() as session:
        assert not session.scalars(select(PaymentResult)).first()
    (tmp_path / "bad.csv").write_text("line_ref,status\nL1-1,paid\n", encoding="utf-8")
    with pytest.raises(PaymentFileError, match=r"bad.csv: missing column.*amount_bdt"):
        import_results(store, draft_id, who("officer.kurigram"), tmp_path / "bad.csv", T0)


def test_the_database_holds_one_result_per_line_and_only_forward_moves(
    store: Store, draft_id: int, who: Callable[[str], Any], tmp_path: Path, outdir: Path
) -> None:
    exported = approved_and_exported(store, draft_id, who, outdir)
    rows = [result(exported[0], "paid"), result(exported[1], "failed")]
    import_results(
        store, draft_id, who("officer.kurigram"), write_return(tmp_path / "r.csv", rows), T0
    )
    ref = exported[0]["line_ref"]
    for sql in (
        "UPDATE payment_results SET status = 'failed' WHERE line_ref = :ref",
        "UPDATE payment_results SET amount_bdt = 1 WHERE line_ref = :ref",
        "DELETE FROM payment_results WHERE line_ref = :ref",
    ):
        with pytest.raises(DatabaseError), store.engine.begin() as conn:
            conn.execute(text(sql), {"ref": ref})
    with store.read() as session:
        held = session.scalars(select(PaymentResult).where(PaymentResult.line_ref == ref)).one()
        second = PaymentResult(
            list_id=held.list_id, line_ref=ref, household_id=held.household_id,
            amount_bdt=held.amount_bdt, status="paid", provider_txn_id="X",
            paid_at=T0 + timedelta(days=1), first_import_id=held.first_import_id,
            last_import_id=held.last_import_id, updated_at=T0,
        )  # fmt: skip
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(second)


def test_xlsx_return_file_with_a_spreadsheet_date_without_zone(
    store: Store, draft_id: int, who: Callable[[str], Any], tmp_path: Path, outdir: Path
) -> None:
    from openpyxl import Workbook

    exported = approved_and_exported(store, draft_id, who, outdir)
    book = Workbook()
    sheet = book.active
    sheet.title = "payments_1"
    header = [*exported[0], *EXTRA]
    sheet.append(header)
    good = result(exported[0], "paid")
    sheet.append([good.get(h, "") for h in header])
    naive = result(exported[1], "paid")
    row = [naive.get(h, "") for h in header]
    row[header.index("paid_at")] = datetime(2024, 7, 5, 10, 15)  # a date cell: no zone
    row[header.index("amount_bdt")] = int(naive["amount_bdt"])  # a number cell
    sheet.append(row)
    path = tmp_path / "return.xlsx"
    book.save(path)
    report = import_results(store, draft_id, who("officer.kurigram"), path, T0)
    assert report.applied == 1
    assert report.judgement.rejected == [
        {
            "row": 3,
            "sheet": "payments_1",
            "line_ref": exported[1]["line_ref"],
            "reason": "paid_at '2024-07-05T10:15:00' has no UTC offset (write e.g. +06:00 or Z)",
        }
    ]
    with store.read() as session:
        stored = session.scalars(select(PaymentResult)).one()
    assert stored.paid_at == datetime(2024, 7, 4, 6, 5, tzinfo=UTC)


def test_numbers_a_provider_quotes_in_a_failure_reason_are_masked_before_they_are_kept(
    store: Store, draft_id: int, who: Callable[[str], Any], tmp_path: Path, outdir: Path
) -> None:
    """A failure reason is the provider's free text, kept in the results and in the audit log
    for good: a wallet or NID quoted there is masked as it is read."""
    exported = approved_and_exported(store, draft_id, who, outdir)
    reasons = {
        0: ("wallet 01712-345678 not active", "wallet 01*******78 not active"),
        1: ("NID ১৯৯০ ১২৩৪ ৫৬৭৮৯ does not match", "NID ১৯*********৮৯ does not match"),
        2: ("daily limit 25000.00 reached", "daily limit 25000.00 reached"),
    }
    rows = [result(exported[i], "failed", failure_reason=said) for i, (said, _) in reasons.items()]
    report = import_results(
        store, draft_id, who("officer.kurigram"), write_return(tmp_path / "r.csv", rows), T0
    )
    assert report.applied == 3
    expected = {exported[i]["line_ref"]: kept for i, (_, kept) in reasons.items()}
    with store.read() as session:
        held = {r.line_ref: r.failure_reason for r in session.scalars(select(PaymentResult))}
    assert held == expected
    changes = audit_rows(store, "payment.result")
    assert {c.entity_id: c.payload["failure_reason"] for c in changes} == expected
    assert set(payment_status(store, draft_id)["failed_by_reason"]) == set(expected.values())


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_return_file_separated_by_semicolons_or_tabs_reads_like_commas(
    store: Store,
    draft_id: int,
    who: Callable[[str], Any],
    tmp_path: Path,
    outdir: Path,
    separator: str,
) -> None:
    """Excel writes CSV with semicolons where the comma is a decimal mark; a provider's
    return file saved so was refused as 'missing column(s)'."""
    exported = approved_and_exported(store, draft_id, who, outdir)
    rows = [result(exported[0], "paid"), result(exported[1], "failed")]
    comma = write_return(tmp_path / "comma.csv", rows)
    with comma.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    other = tmp_path / "other.csv"
    with other.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=separator).writerows(table)
    report = import_results(store, draft_id, who("officer.kurigram"), other, T0)
    assert (report.applied, report.judgement.rejected) == (2, [])
    status = payment_status(store, draft_id)
    assert (status["paid"], status["failed"]) == (1, 1)
