"""The payment-ready seal (migration 0026): an approval whose lines pass the export's checks
seals them grouped by channel and records the sha256 of the bytes; the export checks the bytes
instead of re-hashing every line, and skips the registry comparison while the registry has not
moved since the payees were pinned. Both must write exactly what the full path writes, and
refuse what it refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from agam.core.errors import InvalidTransition
from allowances import payment_rows
from allowances.lists import decide_list
from store import audit, frames, line_rows, list_repo, payee_repo, payment_snapshot
from store.db import Store
from store.decision_audit import verify_store
from tests.lists.test_payee_pinning import T0, _paid_wallets, sign_in
from tests.lists.test_payment_snapshot import _csv_bytes, _export, _parts, _unguarded

PARTS = "SELECT part, arrow_ipc FROM payment_snapshots WHERE list_id = :id ORDER BY part"


def _approved_ready(store: Store, draft: Callable[[Store], int]) -> int:
    """A draft submitted and approved the way the dashboard and the CLI do it."""
    list_id = draft(store)
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    decide_list(store, list_id, officer, "submit", T0)
    decide_list(store, list_id, dc, "approve", T0)
    return list_id


def _sealed_sha256(store: Store, list_id: int) -> str | None:
    with store.read() as session:
        approval = list_repo.approval(session, list_id)
        assert approval is not None
        return approval.sealed_sha256


def _decoded_parts(store: Store, list_id: int) -> list[pa.Table]:
    with store.engine.connect() as conn:
        rows = conn.execute(text(PARTS), {"id": list_id}).all()
    return [payment_snapshot.ipc.open_stream(pa.py_buffer(bytes(r[1]))).read_all() for r in rows]


def _edit_registry(store: Store, sql: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql))


def test_a_ready_seal_is_grouped_by_channel_and_writes_what_the_lines_path_writes(
    store: Store, draft: Callable[[Store], int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(payment_snapshot, "SNAPSHOT_PART_ROWS", 3)
    list_id = _approved_ready(store, draft)
    sealed = _sealed_sha256(store, list_id)
    assert sealed is not None
    assert len(sealed) == 64
    tables = _decoded_parts(store, list_id)
    keys = []
    for table in tables:  # one group a part: excluded lines, then channels in name order
        included = set(table["included"].to_pylist())
        assert len(included) == 1
        group = set(payment_snapshot.channel_key(table).to_pylist())
        assert len(group) == 1
        keys.append("" if included == {"0"} else group.pop())
        ranks = [int(r) for r in table["line_rank"].to_pylist()]
        assert ranks == sorted(ranks)
    assert keys == sorted(keys)
    assert {"mfs_bkash", "post"} <= set(keys)
    with store.read() as session:  # the audit log names the bytes the approval sealed
        entries = audit.entries_for(session, "list.approve", str(list_id))
        assert [e.payload.get("sealed_sha256") for e in entries] == [sealed]

    changes = []
    monkeypatch.setattr(payee_repo, "changes", lambda *a: changes.append(a))
    manifest = _export(store, list_id, tmp_path / "ready")
    assert changes == []  # the registry has not moved since the payees were pinned
    assert manifest["written_from"] == "payment_snapshot"
    assert manifest["registry_changed_lines"] == []
    monkeypatch.undo()
    monkeypatch.setattr(payment_snapshot, "sealed_parts", lambda *_: None)
    again = _export(store, list_id, tmp_path / "lines")  # every line re-hashed and checked
    assert again["written_from"] == "list_lines"
    assert _csv_bytes(tmp_path / "ready") == _csv_bytes(tmp_path / "lines") != {}
    assert manifest["files"] == again["files"]
    assert manifest["total_bdt"] == again["total_bdt"] > 0


def test_bytes_changed_behind_the_guards_are_refused_by_the_export_and_the_audit(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    """Other bytes of the same columns (another compression) re-hash to the approved content
    hash, so only the recorded sha256 of the bytes can tell them apart."""
    list_id = _approved_ready(store, draft)
    first = _decoded_parts(store, list_id)[0]
    sink = pa.BufferOutputStream()
    with payment_snapshot.ipc.new_stream(sink, first.schema) as writer:  # uncompressed
        writer.write_table(first)
    _unguarded(
        store,
        "UPDATE payment_snapshots SET arrow_ipc = :data WHERE list_id = :id AND part = 0",
        data=sink.getvalue().to_pybytes(),
        id=list_id,
    )
    with pytest.raises(InvalidTransition, match="not the one its approval sealed"):
        _export(store, list_id, tmp_path / "pay")
    assert not (tmp_path / "pay").exists() or not any((tmp_path / "pay").iterdir())
    with store.read() as session:
        report = verify_store(session)
    assert any("not the one its approval sealed" in p for p in report.list_problems)


def test_a_list_that_fails_the_export_checks_is_sealed_in_rank_order_and_refused(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    def with_a_formula(s: Store) -> int:
        list_id = draft(s)
        with s.engine.begin() as conn:  # behind the importer's back, before the approval
            conn.execute(
                text("UPDATE allowance_payees SET name_en = '=HYPERLINK(1)' "
                     "WHERE list_id = :id AND rank = 1"),
                {"id": list_id},
            )  # fmt: skip
        return list_id

    list_id = _approved_ready(store, with_a_formula)
    assert _sealed_sha256(store, list_id) is None
    ranks = [int(r) for t in _decoded_parts(store, list_id) for r in t["line_rank"].to_pylist()]
    assert ranks == sorted(ranks)
    with pytest.raises(InvalidTransition, match="formula-like or control character"):
        _export(store, list_id, tmp_path / "pay")


def test_a_registry_edit_outside_an_import_moves_the_version_and_reaches_the_manifest(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    list_id = _approved_ready(store, draft)
    with store.read() as session:
        before = frames.registry_version(session)
        assert payee_repo.registry_pin(session, list_id) == before
    _edit_registry(store, "UPDATE beneficiaries SET wallet_number = '01999999999' "
                          "WHERE beneficiary_id = 'SYN-B00003'")  # fmt: skip
    with store.read() as session:
        after = frames.registry_version(session)
    assert after[:2] == before[:2]
    assert after[2] == before[2] + 1
    manifest = _export(store, list_id, tmp_path / "pay")
    changed = manifest["registry_changed_lines"]
    assert [c["fields"] for c in changed] == ["wallet_number"]  # type: ignore[index]
    batch = next((tmp_path / "pay").iterdir())
    assert "01999999999" not in _paid_wallets(batch).values()  # paid as approved


def test_deleting_a_beneficiary_moves_the_version_too(store: Store) -> None:
    with store.read() as session:
        before = frames.registry_edits(session)
    _edit_registry(store, "DELETE FROM beneficiaries WHERE beneficiary_id = 'SYN-B00004'")
    with store.read() as session:
        assert frames.registry_edits(session) > before


def test_the_edit_count_only_goes_up_and_pins_never_change(
    store: Store, draft: Callable[[Store], int]
) -> None:
    list_id = draft(store)
    refused = [
        "UPDATE registry_edits SET edits = 0",
        "UPDATE registry_edits SET edits = edits - 1",
        "DELETE FROM registry_edits",
        "UPDATE list_registry_pins SET registry_edits = registry_edits + 5",
        f"DELETE FROM list_registry_pins WHERE list_id = {list_id}",
    ]
    _edit_registry(
        store, "UPDATE beneficiaries SET village = 'x' WHERE beneficiary_id = 'SYN-B00001'"
    )
    for sql in refused:
        with pytest.raises(DatabaseError), store.engine.begin() as conn:
            conn.execute(text(sql))
    with store.read() as session:
        assert frames.registry_edits(session) == 1
        assert payee_repo.registry_pin(session, list_id) is not None


def test_an_edit_keeps_the_pin_of_the_payees_it_keeps(
    store: Store, draft: Callable[[Store], int]
) -> None:
    from allowances.lists import edit

    list_id = draft(store)
    officer = sign_in(store, "officer.kurigram")
    _edit_registry(
        store, "UPDATE beneficiaries SET village = 'y' WHERE beneficiary_id = 'SYN-B00002'"
    )
    with store.session() as session:
        lines = list_repo.raw_lines(session, list_id)
        excluded = {str(lines["household_id"].iloc[-1]): "moved away"}
        new = edit(session, list_id=list_id, principal=officer, exclude=excluded,
                   reason="checked in the field", at=T0).id  # fmt: skip
    with store.read() as session:
        assert payee_repo.registry_pin(session, new) == payee_repo.registry_pin(session, list_id)
        assert payee_repo.registry_pin(session, new) != frames.registry_version(session)


def test_a_ready_seal_with_an_amendment_leaves_the_held_lines_out(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    from allowances.lists import amend

    list_id = _approved_ready(store, draft)
    _edit_registry(store, "UPDATE beneficiaries SET wallet_number = '01888888888' "
                          "WHERE beneficiary_id = 'SYN-B00005'")  # fmt: skip
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    with store.session() as session:
        amendment = amend(session, list_id=list_id, principal=officer, at=T0).id
    decide_list(store, amendment, officer, "submit", T0)
    decide_list(store, amendment, dc, "approve", T0)
    manifest = _export(store, list_id, tmp_path / "pay")
    held = manifest["held_lines"]
    assert [h["amended_by_list"] for h in held] == [amendment]  # type: ignore[index]
    batch = next((tmp_path / "pay").iterdir())
    assert "SYN-B00005" not in _paid_wallets(batch)
    with store.read() as session:
        lines = list_repo.raw_lines(session, list_id)
    assert manifest["rows"] == int(lines["included"].astype(bool).sum()) - 1


def test_a_store_with_ready_seals_verifies(
    store: Store, draft: Callable[[Store], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(payment_snapshot, "SNAPSHOT_PART_ROWS", 4)
    list_id = _approved_ready(store, draft)
    assert len(_parts(store, list_id)) > 2
    with store.read() as session:
        report = verify_store(session)
        sealed = line_rows.hashed_columns(session, list_id)
    assert report.ok, (report.decision_problems, report.list_problems)
    assert report.snapshots == 1
    names = line_rows.HASHED_NAMES
    tables = _decoded_parts(store, list_id)
    ranked = payment_snapshot.in_rank_order(
        [pa.chunked_array([t[n] for t in tables]) for n in names], names
    )
    assert [c.to_pylist() for c in ranked] == [c.to_pylist() for c in sealed]


def test_an_export_under_other_checks_than_the_approval_checks_the_lines_again(
    store: Store, draft: Callable[[Store], int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seal names the checks its lines passed (in its bytes, so it cannot be changed
    alone); a release with other cell rules checks them again before writing."""
    list_id = _approved_ready(store, draft)
    tables = _decoded_parts(store, list_id)
    assert payment_snapshot.checked_under(tables) == payment_rows.CHECKS
    refusal = "list {}: stricter rules refuse it; not exported"
    monkeypatch.setattr(payment_rows, "_unsafe", lambda rows, lid: refusal.format(lid))
    _export(store, list_id, tmp_path / "same")  # the same checks: not run again
    monkeypatch.setattr(payment_rows, "CHECKS", "a later release")
    with pytest.raises(InvalidTransition, match="stricter rules refuse it"):
        _export(store, list_id, tmp_path / "later")
    assert not (tmp_path / "later").exists() or not any((tmp_path / "later").iterdir())
