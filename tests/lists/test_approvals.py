"""Lists end to end in the store: propose, submit, four-eyes, district scope, immutability,
payment files whose totals match their manifest."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from agam.core.errors import InvalidTransition, PermissionDenied
from allowances.lists import edit, propose
from allowances.payment_files import AMOUNT_COL, export_list
from allowances.policy import load_policy
from store import audit, list_repo
from store.db import Store
from store.identity import Principal
from store.user_repo import authenticate
from tests.lists.conftest import ACCOUNTS

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
KURIGRAM = "BD5549"
UNIONS = ["BD55490911", "BD55490923", "BD55490947"]  # Chilmari (Kurigram)


PASSWORD = "a long test password"


_SIGNED_IN: dict[tuple[int, str], Principal] = {}


@pytest.fixture(autouse=True)
def _sign_in_before_writing(request: pytest.FixtureRequest) -> None:
    """Sign every account in before the test opens its own write transaction (a second one
    inside it would wait for itself on SQLite); the store re-reads the account at each
    decision, so a principal issued early is checked as strictly as one issued late."""
    _SIGNED_IN.clear()
    if "store" not in request.fixturenames:
        return
    store = request.getfixturevalue("store")
    for username, _role, _districts in ACCOUNTS:
        with store.session() as session:
            result = authenticate(session, username, PASSWORD, T0, "test")
        assert result.principal is not None, result.message
        _SIGNED_IN[(id(store), username)] = result.principal


def principal(store: Store, username: str) -> Principal:
    """Signed in by password, the only way to a principal."""
    return _SIGNED_IN[(id(store), username)]


def _propose(store: Store, cap: int = 0) -> int:
    policy = load_policy()
    policy = policy.model_copy(
        update={"cap": policy.cap.model_copy(update={"households_per_district": cap})}
    )
    with store.session() as session:
        row = propose(
            session,
            alert_id=1,
            district_pcode=KURIGRAM,
            union_codes=UNIONS,
            union_intensity={"BD55490911": 0.8},
            policy=policy,
            prepared_by="system",
            at=T0,
            synthetic=True,
        )
        return row.id


def test_list_respects_cap_pays_each_household_once_and_orders_by_score(store: Store) -> None:
    list_id = _propose(store, cap=8)
    with store.session() as session:
        lines = list_repo.lines_frame(session, list_id)
        row = list_repo.get_list(session, list_id)
    assert lines["household_id"].is_unique
    assert lines["included"].sum() == 8 == row.households
    assert row.total_bdt == 8 * 5000
    assert lines["priority_score"].is_monotonic_decreasing
    assert all(lines.loc[lines.included, "reasons"].map(len) > 0)
    assert (lines.loc[~lines.included, "exclusion_reason"].str.contains("cap")).all()
    assert _propose(store) == list_id  # idempotent while the draft exists


def test_four_eyes_and_district_scope_are_enforced_by_the_store(store: Store) -> None:
    list_id = _propose(store)
    officer, dc_kur, dc_jam = (
        principal(store, u) for u in ("officer.kurigram", "dc.kurigram", "dc.jamalpur")
    )
    with store.session() as session:
        list_repo.decide(session, list_id, officer, "submit", T0)
    with pytest.raises(PermissionDenied, match="district BD5549"), store.session() as session:
        list_repo.decide(session, list_id, dc_jam, "approve", T0)
    with pytest.raises(PermissionDenied, match="committee"), store.session() as session:
        list_repo.decide(session, list_id, principal(store, "committee.a"), "approve", T0)
    # Bypassing the code: the database itself refuses an approver from another district.
    with pytest.raises(DatabaseError), store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE allowance_lists SET approved_by = 'dc.jamalpur', "
                "status = 'approved' WHERE id = :id"
            ),
            {"id": list_id},
        )
    with store.session() as session:
        row = list_repo.decide(session, list_id, dc_kur, "approve", T0)
        assert row.status == "approved"


def test_approved_list_is_immutable_in_the_database(store: Store) -> None:
    list_id = _propose(store)
    with store.session() as session:
        list_repo.decide(session, list_id, principal(store, "officer.kurigram"), "submit", T0)
        list_repo.decide(session, list_id, principal(store, "dc.kurigram"), "approve", T0)
    for sql in (
        "UPDATE allowance_lists SET total_bdt = 1 WHERE id = :id",
        "UPDATE allowance_lines SET amount_bdt = 99999 WHERE list_id = :id",
        "DELETE FROM allowance_lines WHERE list_id = :id",
        "DELETE FROM allowance_lists WHERE id = :id",
    ):
        with pytest.raises(DatabaseError), store.engine.begin() as conn:
            conn.execute(text(sql), {"id": list_id})
    with pytest.raises(InvalidTransition), store.session() as session:
        edit(
            session,
            list_id=list_id,
            principal=principal(store, "officer.kurigram"),
            exclude={"SYN-H00001": "moved away"},
            reason="moved",
            at=T0,
        )


def test_edit_needs_reason_and_makes_a_new_revision(store: Store) -> None:
    list_id = _propose(store)
    officer = principal(store, "officer.kurigram")
    with pytest.raises(InvalidTransition, match="needs a reason"), store.session() as session:
        edit(
            session,
            list_id=list_id,
            principal=officer,
            exclude={"SYN-H00001": "x"},
            reason=" ",
            at=T0,
        )
    with store.session() as session:
        new = edit(
            session,
            list_id=list_id,
            principal=officer,
            exclude={"SYN-H00001": "household relocated"},
            reason="field check",
            at=T0,
        )
        old = list_repo.get_list(session, list_id)
        lines = list_repo.lines_frame(session, new.id).set_index("household_id")
    assert (old.status, new.revision, new.supersedes_id) == ("superseded", 2, list_id)
    assert not lines.loc["SYN-H00001", "included"]
    assert "household relocated" in lines.loc["SYN-H00001", "exclusion_reason"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_payment_files_match_their_manifest(store: Store, tmp_path: Path, fmt: str) -> None:
    list_id = _propose(store)
    dc = principal(store, "dc.kurigram")
    with pytest.raises(InvalidTransition), store.session() as session:
        export_list(session, list_id, dc, fmt, tmp_path / "out", T0)  # not approved yet
    with store.session() as session:
        list_repo.decide(session, list_id, principal(store, "officer.kurigram"), "submit", T0)
        list_repo.decide(session, list_id, dc, "approve", T0)
    with pytest.raises(PermissionDenied), store.session() as session:
        export_list(session, list_id, principal(store, "dc.jamalpur"), fmt, tmp_path / "o", T0)
    with store.session() as session:
        result = export_list(session, list_id, dc, fmt, tmp_path / "out", T0)
        row = list_repo.get_list(session, list_id)
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest == result.manifest
    assert {f["channel"] for f in manifest["files"]} == {"mfs_bkash", "post"}
    rows, total = 0, 0
    for entry in manifest["files"]:
        path = result.folder / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        if fmt == "csv":
            with path.open(encoding="utf-8") as handle:
                records = list(csv.DictReader(handle))
            amounts = [int(r["amount_bdt"]) for r in records]
            assert all(r["nid"].startswith("19") for r in records)  # leading digits kept
        else:
            book = load_workbook(path, read_only=True)
            values = list(book.active.iter_rows(min_row=2, values_only=True))
            book.close()
            amounts = [int(v[AMOUNT_COL]) for v in values]
        assert len(amounts) == entry["rows"]
        assert sum(amounts) == entry["total_bdt"]
        rows += len(amounts)
        total += sum(amounts)
    assert (rows, total) == (manifest["rows"], manifest["total_bdt"])
    assert (row.households, row.total_bdt, row.status) == (rows, total, "exported")
    with store.session() as session:
        assert audit.verify(session).ok


def test_optional_second_approver(store: Store) -> None:
    list_id = _propose(store)
    with store.session() as session:
        list_repo.decide(session, list_id, principal(store, "officer.kurigram"), "submit", T0)
        first = list_repo.decide(
            session, list_id, principal(store, "dc.kurigram"), "approve", T0, second_approval=True
        )
        assert (first.status, first.approved_by) == ("submitted", "dc.kurigram")
    with pytest.raises(PermissionDenied, match="another administrator"), store.session() as session:
        list_repo.decide(
            session, list_id, principal(store, "dc.kurigram"), "approve", T0, second_approval=True
        )
    with pytest.raises(PermissionDenied), store.session() as session:
        list_repo.decide(
            session, list_id, principal(store, "dc.jamalpur"), "approve", T0, second_approval=True
        )
    with pytest.raises(DatabaseError), store.engine.begin() as conn:
        conn.execute(
            text("UPDATE allowance_lists SET second_approved_by = 'dc.kurigram' WHERE id = :id"),
            {"id": list_id},
        )
    with store.session() as session:
        done = list_repo.decide(
            session, list_id, principal(store, "adc.kurigram"), "approve", T0, second_approval=True
        )
        assert (done.status, done.second_approved_by) == ("approved", "adc.kurigram")


def test_no_line_or_payee_joins_a_decided_list_even_beside_a_draft(store: Store) -> None:
    """One statement that adds rows to a draft and to an approved list is refused whole (on
    PostgreSQL the guard judges each statement's rows together; SQLite each row)."""
    approved = _propose(store)
    with store.session() as session:
        list_repo.decide(session, approved, principal(store, "officer.kurigram"), "submit", T0)
        list_repo.decide(session, approved, principal(store, "dc.kurigram"), "approve", T0)
    with store.session() as session:
        draft = list_repo.create_list(
            session, alert_id=1, district_pcode=KURIGRAM, lines=list_repo.raw_lines(
                session, approved).drop(columns=["id", "list_id"]), policy={},
            amount_per_household_bdt=5000, prepared_by="officer.kurigram", at=T0,
        ).id  # fmt: skip
    copy_lines = (
        "INSERT INTO allowance_lines (list_id, beneficiary_id, household_id, adm4_pcode, rank, "
        "priority_score, reasons, amount_bdt, included, line_ref) "
        "SELECT l.id, 'B-new', 'H-new-' || l.id, 'BD49490000', 100000, 0, '[]', 5000, "
        "true, 'Lnew-' || l.id FROM allowance_lists l WHERE l.id IN (:draft, :approved)"
    )
    copy_payees = (
        "INSERT INTO allowance_payees (list_id, rank, beneficiary_id, programme, sex, "
        "birth_year, payment_channel, source_row_sha256, snapshot_at) "
        "SELECT l.id, 100000, 'B-new', 'old_age', 'female', 1950, 'mfs', 'x', "
        "l.created_at FROM allowance_lists l WHERE l.id IN (:draft, :approved)"
    )
    for sql in (copy_lines, copy_payees):
        with pytest.raises(DatabaseError, match="frozen"), store.engine.begin() as conn:
            conn.execute(text(sql), {"draft": draft, "approved": approved})
        with store.engine.begin() as conn:  # the draft alone still takes rows
            sql_draft = sql.replace("IN (:draft, :approved)", "= :draft")
            assert conn.execute(text(sql_draft), {"draft": draft}).rowcount == 1
