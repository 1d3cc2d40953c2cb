"""What is approved is what is paid: payees are pinned when a list is proposed, covered by its
hash, flagged when the registry changes them, paid as approved, and changed only through an
amendment list approved like any list."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from agam.core.errors import InvalidTransition
from allowances.lists import amend, edit
from allowances.payment_files import export_list
from allowances.registry_import import import_registry
from allowances.registry_schema import STORED as FIELDS
from boundaries.layer import UnionLayer
from store import line_rows, list_repo, payee_repo, payment_snapshot
from store.bulk_rows import driver_rows
from store.db import Store
from store.identity import Principal
from store.list_hash import digest_of_columns
from store.models import Beneficiary
from store.user_repo import authenticate

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
T1 = datetime(2024, 7, 5, 6, 0, tzinfo=UTC)
KURIGRAM = "BD5549"
UNIONS = ["BD55490911", "BD55490923", "BD55490947"]
PASSWORD = "a long test password"


def sign_in(store: Store, username: str) -> Principal:
    with store.session() as session:
        result = authenticate(session, username, PASSWORD, T0, "test")
    assert result.principal is not None
    return result.principal


def _sealed(session: Session, list_id: int, approved: str | None) -> list[pa.ChunkedArray] | None:
    """The text columns of the list's payment snapshot, as the export decodes them."""
    approval = list_repo.approval(session, list_id)
    recorded = approval.sealed_parts if approval is not None else None
    parts = payment_snapshot.sealed_parts(session, list_id, approved, recorded)
    if parts is None:
        return None
    return payment_snapshot.decoded_columns(list_id, parts, line_rows.HASHED_NAMES)


def _approved(store: Store, draft: Callable[[Store], int]) -> int:
    list_id = draft(store)
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    with store.session() as session:
        list_repo.decide(session, list_id, officer, "submit", T0)
        list_repo.decide(session, list_id, dc, "approve", T0)
    return list_id


def _reimport_with_new_wallets(store: Store, tmp_path: Path, layer: UnionLayer) -> dict[str, str]:
    """Re-import the registry through the real importer, every mfs wallet changed."""
    with store.session() as session:
        people = list(session.scalars(select(Beneficiary).order_by(Beneficiary.beneficiary_id)))
    changed: dict[str, str] = {}
    path = tmp_path / "registry_v2.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*FIELDS, "synthetic"])
        for n, person in enumerate(people):
            row = {f: getattr(person, f) for f in FIELDS}
            if person.payment_channel == "mfs":
                row["wallet_number"] = f"0199{n:07d}"
                changed[person.beneficiary_id] = row["wallet_number"]
            cells = [
                "" if v is None else str(v).lower() if isinstance(v, bool) else v
                for v in row.values()
            ]
            writer.writerow([*cells, "true"])
    report = import_registry(store, path, layer, at=T1)
    assert report.status == "imported", report.to_dict(max_errors=5)["errors"]
    assert report.updated == len(people)  # the seed stored no real row hashes
    return changed


def _paid_wallets(folder: Path) -> dict[str, str]:
    wallets = {}
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8") as handle:
            for record in csv.DictReader(handle):
                wallets[record["beneficiary_id"]] = record["wallet_number"]
    return wallets


def test_reimport_after_approval_does_not_move_the_payments(
    store: Store, draft: Callable[[Store], int], tmp_path: Path, union_layer: UnionLayer
) -> None:
    list_id = _approved(store, draft)
    with store.session() as session:
        approved_hash = list_repo.get_list(session, list_id).content_sha256
        pinned = dict(
            session.execute(
                text(
                    "SELECT beneficiary_id, wallet_number FROM allowance_payees "
                    "WHERE list_id = :id AND payment_channel = 'mfs'"
                ),
                {"id": list_id},
            ).all()
        )
    new_wallets = _reimport_with_new_wallets(store, tmp_path, union_layer)
    assert set(pinned) <= set(new_wallets)

    with store.session() as session:  # flagged for review, values never shown
        lines = list_repo.lines_frame(session, list_id)
    flagged = lines[lines["payee_changed"] != ""]
    assert set(flagged["beneficiary_id"]) == set(pinned)
    assert set(flagged["payee_changed"]) == {"wallet_number"}
    assert not any(w in " ".join(lines["payee"]) for w in [*pinned.values(), *new_wallets.values()])
    assert all("*" in p for p in flagged["payee"])

    dc = sign_in(store, "dc.kurigram")
    with store.session() as session:
        result = export_list(session, list_id, dc, "csv", tmp_path / "pay", T1)
    paid = _paid_wallets(result.folder)
    assert {b: paid[b] for b in pinned} == pinned  # the approved payees, not the new wallets
    assert not set(paid.values()) & set(new_wallets.values())
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["approved_content_sha256"] == manifest["list_content_sha256"] == approved_hash
    assert {c["line_ref"] for c in manifest["registry_changed_lines"]} == set(flagged["line_ref"])


def test_a_payee_change_reaches_payment_only_through_an_approved_amendment(
    store: Store, draft: Callable[[Store], int], tmp_path: Path, union_layer: UnionLayer
) -> None:
    list_id = _approved(store, draft)
    new_wallets = _reimport_with_new_wallets(store, tmp_path, union_layer)
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    with store.session() as session:
        amendment = amend(session, list_id=list_id, principal=officer, at=T1)
        amended = list_repo.raw_lines(session, amendment.id)
    assert (amendment.kind, amendment.status) == ("amendment", "draft")
    assert amended["amends_line_ref"].str.startswith(f"L{list_id}-").all()
    with pytest.raises(InvalidTransition, match="pending"), store.session() as session:
        export_list(session, list_id, dc, "csv", tmp_path / "early", T1)
    with pytest.raises(InvalidTransition, match="without an amendment"), store.session() as s:
        amend(s, list_id=list_id, principal=officer, at=T1)  # one amendment per change
    with store.session() as session:
        list_repo.decide(session, amendment.id, officer, "submit", T1)
        list_repo.decide(session, amendment.id, dc, "approve", T1)
        original = export_list(session, list_id, dc, "csv", tmp_path / "pay", T1)
        fix = export_list(session, amendment.id, dc, "csv", tmp_path / "pay", T1)
    held = {h["line_ref"] for h in original.manifest["held_lines"]}
    assert held == set(amended["amends_line_ref"])
    assert original.manifest["registry_changed_lines"] == []
    paid_before, paid_after = _paid_wallets(original.folder), _paid_wallets(fix.folder)
    assert not set(paid_before) & set(paid_after)  # each household paid once
    assert paid_after == {b: new_wallets[b] for b in paid_after}
    assert fix.manifest["amends_list_id"] == list_id
    with pytest.raises(InvalidTransition, match="exported"), store.session() as session:
        amend(session, list_id=list_id, principal=officer, at=T1)


def test_pinned_payees_are_frozen_and_hashed(store: Store, draft: Callable[[Store], int]) -> None:
    list_id = _approved(store, draft)
    for sql in (
        "UPDATE allowance_payees SET wallet_number = '01999999999' WHERE list_id = :id",
        "DELETE FROM allowance_payees WHERE list_id = :id",
        "INSERT INTO allowance_payees (list_id, rank, beneficiary_id, programme, sex, "
        "birth_year, payment_channel, source_row_sha256, snapshot_at) "
        "SELECT list_id, 999, beneficiary_id, programme, sex, birth_year, payment_channel, "
        "source_row_sha256, snapshot_at FROM allowance_payees WHERE list_id = :id LIMIT 1",
    ):
        with pytest.raises(DatabaseError), store.engine.begin() as conn:
            conn.execute(text(sql), {"id": list_id})
    line = (1, "H", "B", "U", 5000, True, "L1-1", None)
    payee = ("B", "old_age", "X", None, "19", None, "female", 1950, None, None, "mfs", "bkash")
    rows = [(*line, *payee, "01712345678", None, None, None)]
    changed = [(*rows[0][:20], "01812345678", *rows[0][21:])]
    assert list_repo.content_hash(rows) != list_repo.content_hash(changed)
    assert list_repo.content_hash(rows, 1) == list_repo.content_hash(changed, 1)


def test_export_refuses_a_formula_that_bypassed_the_import(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    list_id = draft(store)
    with store.engine.begin() as conn:  # written behind the importer's back, while a draft
        conn.execute(
            text(
                'UPDATE allowance_payees SET name_en = \'=HYPERLINK("http://x","y")\' '
                "WHERE list_id = :id AND rank = 1"
            ),
            {"id": list_id},
        )
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    with store.session() as session:
        list_repo.decide(session, list_id, officer, "submit", T0)
        list_repo.decide(session, list_id, dc, "approve", T0)
    with (
        pytest.raises(InvalidTransition, match=f"L{list_id}-1 holds a formula"),
        store.session() as s,
    ):
        export_list(s, list_id, dc, "csv", tmp_path / "pay", T0)
    assert not (tmp_path / "pay").exists() or not any((tmp_path / "pay").iterdir())


def _pinned(store: Store, list_id: int) -> dict[str, str]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.beneficiary_id, p.wallet_number, l.beneficiary_id "
                "FROM allowance_payees p JOIN allowance_lines l "
                "ON l.list_id = p.list_id AND l.rank = p.rank WHERE p.list_id = :id"
            ),
            {"id": list_id},
        ).all()
    assert all(payee == line for payee, _, line in rows)  # every pin is its line's person
    return {b: w for b, w, _ in rows if w}  # mobile-money payees


def test_a_new_proposal_pins_afresh_and_an_edit_keeps_the_pins(
    store: Store, draft: Callable[[Store], int]
) -> None:
    from allowances.lists import edit

    first = draft(store)
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    with store.session() as session:
        list_repo.decide(session, first, officer, "submit", T0)
        list_repo.decide(session, first, dc, "reject", T0, "check the wallets")
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE beneficiaries SET wallet_number = '01999999999' WHERE wallet_number > ''")
        )
    second = draft(store)
    assert second != first
    assert set(_pinned(store, second).values()) == {"01999999999"}  # the registry now
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE beneficiaries SET wallet_number = '01888888888' WHERE wallet_number > ''")
        )
    with store.session() as session:
        household = list_repo.raw_lines(session, second)["household_id"].iloc[0]
        third = edit(
            session, list_id=second, principal=officer, exclude={household: "moved"},
            reason="field check", at=T1,
        ).id  # fmt: skip
    kept = _pinned(store, third)
    assert set(kept.values()) == {"01999999999"}  # an edit keeps what was pinned
    assert len(kept) == len(_pinned(store, second)) - 1


def test_the_exports_one_read_gives_the_stored_hash_and_only_included_lines(
    store: Store, draft: Callable[[Store], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def with_an_exclusion(s: Store) -> int:
        first = draft(s)
        officer = sign_in(s, "officer.kurigram")
        with s.session() as session:
            household = list_repo.raw_lines(session, first)["household_id"].iloc[0]
            return edit(session, list_id=first, principal=officer, exclude={household: "moved"},
                        reason="moved away", at=T0).id  # fmt: skip

    list_id = _approved(store, with_an_exclusion)
    with store.read() as session:
        stored = list_repo.get_list(session, list_id).content_sha256
        every_line = list(session.execute(payee_repo.hash_rows(list_id)))
        included = [r for r in every_line if r.included]
        for chunk_rows in (1, 2, 100_000):  # the hash does not depend on the chunking
            monkeypatch.setattr(line_rows, "CHUNK_ROWS", chunk_rows)
            read = line_rows.hashed_columns(session, list_id)
            assert digest_of_columns(read, 2) == stored == list_repo.list_hash(session, list_id)
        sealed = _sealed(session, list_id, stored)
        assert sealed is not None  # the export reads the approval's snapshot
        digest, rows = line_rows.payment_rows_of(sealed, 2)
        assert digest == stored
        assert rows["line_ref"].to_pylist() == [r.line_ref for r in included]
        assert rows["amount_bdt"].to_pylist() == [str(r.amount_bdt) for r in included]
    assert 0 < len(included) < len(every_line)  # the draft has excluded lines too


def test_the_stored_list_hashes_as_the_reference_on_orm_rows(
    store: Store, draft: Callable[[Store], int]
) -> None:
    """The hash is read with the driver's cursor (SQLite's booleans as 0/1); it is the
    reference `content_hash` of the same rows read through SQLAlchemy (Python booleans),
    so hashes stored by earlier releases still verify, on both back ends."""
    list_id = draft(store)
    with store.session() as session:
        orm_rows = session.execute(payee_repo.hash_rows(list_id)).all()
        assert any(isinstance(r[5], bool) for r in orm_rows)
        with driver_rows(session, payee_repo.hash_rows(list_id)) as cursor:
            raw = cursor.fetchall()
        assert [tuple(r) for r in orm_rows] == [tuple(r) for r in raw]  # 1 == True
        for version in (1, 2):
            reference = list_repo.content_hash(orm_rows, version)
            assert list_repo.list_hash(session, list_id, version) == reference
            read = line_rows.hashed_columns(session, list_id)
            digest, _ = line_rows.payment_rows_of(read, version)
            assert digest == reference


@pytest.mark.parametrize(
    "odd", ["a\x1fb", "first\nsecond", "cr\rhere", "nul\x00cut", "tab\there", "১২৩|x"]
)
def test_fields_the_printed_read_cannot_split_still_hash_and_export_exactly(
    store: Store, draft: Callable[[Store], int], odd: str
) -> None:
    """The database prints each line as one text split on U+001F and line breaks (and
    SQLite's printf stops at a NUL); a stored field holding one (written behind the import's
    back) is read value by value instead, so the hash and the payment rows are still exactly
    the reference's."""
    if "\x00" in odd and store.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL text cannot hold NUL")
    list_id = draft(store)
    with store.engine.begin() as conn:  # a draft's payee, rewritten outside the importer
        conn.execute(
            text("UPDATE allowance_payees SET village = :v WHERE list_id = :id AND rank = 2"),
            {"v": odd, "id": list_id},
        )
    with store.read() as session:
        orm_rows = session.execute(payee_repo.hash_rows(list_id)).all()
        for version in (1, 2):
            reference = list_repo.content_hash(orm_rows, version)
            assert list_repo.list_hash(session, list_id, version) == reference
            read = line_rows.hashed_columns(session, list_id)
            digest, rows = line_rows.payment_rows_of(read, version)
            assert digest == reference
        villages = dict(
            zip(rows["line_rank"].to_pylist(), rows["village"].to_pylist(), strict=True)
        )
        assert villages["2"] == odd
        expected = [("" if r.village is None else r.village) for r in orm_rows if r.included]
        assert rows["village"].to_pylist() == expected
