"""The payment snapshot sealed at approval: what the export writes from, and how the store
and the export refuse a snapshot that is not the approved one."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from agam.core.errors import InvalidTransition
from allowances.payment_files import export_list
from store import line_rows, list_repo, payment_snapshot
from store.db import Store
from store.list_hash import digest_of_columns
from tests.lists.test_list_membership import _downgrade
from tests.lists.test_payee_pinning import T0, T1, _approved, _paid_wallets, _sealed, sign_in

PART = "SELECT arrow_ipc FROM payment_snapshots WHERE list_id = :id AND part = 0"


def _parts(store: Store, list_id: int) -> list[tuple[int, str, int]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT part, content_sha256, line_rows FROM payment_snapshots "
                "WHERE list_id = :id ORDER BY part"
            ),
            {"id": list_id},
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _export(store: Store, list_id: int, folder: Path) -> dict[str, object]:
    dc = sign_in(store, "dc.kurigram")
    with store.session() as session:
        return export_list(session, list_id, dc, "csv", folder, T1).manifest


def _csv_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.rglob("*.csv"))}


def _unguarded(store: Store, sql: str, **params: object) -> None:
    """Run `sql` with the snapshot guards out of the way, as someone holding the database
    file or the owner's password could; the guards come back after it."""
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE payment_snapshots DISABLE TRIGGER USER"))
            conn.execute(text(sql), params)
            conn.execute(text("ALTER TABLE payment_snapshots ENABLE TRIGGER USER"))
            return
        guards = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'payment_snapshots' "
                 "AND type = 'trigger'")
        ).all()  # fmt: skip
        for name, _ in guards:
            conn.execute(text(f"DROP TRIGGER {name}"))
        conn.execute(text(sql), params)
        for _, create in guards:
            conn.execute(text(create))


def test_the_approval_seals_every_line_and_the_export_writes_the_same_files(
    store: Store, draft: Callable[[Store], int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(payment_snapshot, "SNAPSHOT_PART_ROWS", 2)
    list_id = _approved(store, draft)
    with store.read() as session:
        approved = list_repo.get_list(session, list_id).content_sha256
        lines = len(list_repo.raw_lines(session, list_id))
        from_lines = line_rows.hashed_columns(session, list_id)
        sealed = _sealed(session, list_id, approved)
    parts = _parts(store, list_id)
    assert [p[0] for p in parts] == list(range(len(parts)))
    assert len(parts) == (lines + 1) // 2
    assert {p[1] for p in parts} == {approved}
    assert sum(p[2] for p in parts) == lines
    assert sealed is not None
    assert digest_of_columns(sealed, 2) == approved
    assert [c.to_pylist() for c in sealed] == [c.to_pylist() for c in from_lines]

    manifest = _export(store, list_id, tmp_path / "sealed")
    assert manifest["written_from"] == "payment_snapshot"
    monkeypatch.setattr(payment_snapshot, "sealed_parts", lambda *_: None)
    again = _export(store, list_id, tmp_path / "lines")  # the lines path, as before 0014
    assert again["written_from"] == "list_lines"
    assert _csv_bytes(tmp_path / "sealed") == _csv_bytes(tmp_path / "lines") != {}
    assert [f["sha256"] for f in manifest["files"]] == [  # type: ignore[attr-defined]
        f["sha256"]
        for f in again["files"]  # type: ignore[attr-defined]
    ]


def test_a_payment_batch_is_its_owners_alone_whatever_the_umask(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    list_id = _approved(store, draft)
    old = os.umask(0o022)  # a shell's usual umask
    try:
        _export(store, list_id, tmp_path / "out")
    finally:
        os.umask(old)
    (batch,) = (tmp_path / "out").iterdir()
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in batch.iterdir()}
    assert oct(stat.S_IMODE(batch.stat().st_mode)) == oct(0o700)
    assert "manifest.json" in modes
    assert any(name.endswith(".csv") for name in modes)
    assert modes == dict.fromkeys(modes, oct(0o600))


def test_the_database_seals_only_an_approved_list_and_never_changes_a_seal(
    store: Store, draft: Callable[[Store], int]
) -> None:
    insert = (
        "INSERT INTO payment_snapshots (list_id, part, content_sha256, line_rows, arrow_ipc, "
        "sealed_at) VALUES (:id, :part, :sha, 0, :data, :at)"
    )
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    list_id = draft(store)
    with store.session() as session:
        list_repo.decide(session, list_id, officer, "submit", T0)
        sha = list_repo.get_list(session, list_id).content_sha256
    with (  # submitted with this hash, not yet approved
        pytest.raises(DatabaseError, match="sealed only for an approved list"),
        store.engine.begin() as conn,
    ):
        conn.execute(text(insert), {"id": list_id, "part": 0, "sha": sha, "data": b"x", "at": T0})
    with store.session() as session:
        list_repo.decide(session, list_id, dc, "approve", T0)
    approved = list_id
    for values in (
        {"id": approved, "part": 9, "sha": "0" * 64},  # not with another hash
        {"id": 999_999, "part": 0, "sha": sha},  # nor for no list
    ):
        with (
            pytest.raises(DatabaseError, match="sealed only for an approved list"),
            store.engine.begin() as conn,
        ):
            conn.execute(text(insert), {**values, "data": b"x", "at": T0})
    for sql in (
        "UPDATE payment_snapshots SET arrow_ipc = arrow_ipc WHERE list_id = :id",
        "UPDATE payment_snapshots SET content_sha256 = content_sha256 WHERE list_id = :id",
        "DELETE FROM payment_snapshots WHERE list_id = :id",
    ):
        with (
            pytest.raises(DatabaseError, match="never changed or deleted"),
            store.engine.begin() as conn,
        ):
            conn.execute(text(sql), {"id": approved})
    assert len(_parts(store, approved)) == 1


def _with_wallet(data: bytes, wallet: str) -> bytes:
    """The part re-encoded with every wallet replaced: a well-formed forgery."""
    table = pa.ipc.open_stream(data).read_all()
    return _ipc(table, "wallet_number", pa.array([wallet] * table.num_rows))


def _with_bad_text(data: bytes) -> bytes:
    """The part with names that are not UTF-8: an Arrow stream only full validation refuses."""
    table = pa.ipc.open_stream(data).read_all()
    offsets = pa.array([2 * i for i in range(table.num_rows + 1)], pa.int32()).buffers()[1]
    names = pa.py_buffer(b"\xff\xfe" * table.num_rows)
    return _ipc(table, "name_en", pa.Array.from_buffers(pa.string(), table.num_rows,
                                                        [None, offsets, names]))  # fmt: skip


def _ipc(table: pa.Table, name: str, column: pa.Array) -> bytes:
    forged = table.set_column(table.schema.get_field_index(name), name, column)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, forged.schema) as writer:
        writer.write_table(forged)
    return sink.getvalue().to_pybytes()


def test_the_export_refuses_a_snapshot_changed_behind_the_guards(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    list_id = _approved(store, draft)
    parts = _parts(store, list_id)
    with store.engine.connect() as conn:
        original = bytes(conn.execute(text(PART), {"id": list_id}).scalar_one())
    forgeries = {
        "does not match its approved hash": _with_wallet(original, "01999999999"),
        "is unreadable": b"not an arrow stream",
        "part 0 is unreadable": _with_bad_text(original),
        "is unreadable; not exported": original[: len(original) // 2],
    }
    for message, data in forgeries.items():
        _unguarded(
            store, "UPDATE payment_snapshots SET arrow_ipc = :d WHERE list_id = :id",
            d=data, id=list_id,
        )  # fmt: skip
        with pytest.raises(InvalidTransition, match=message):
            _export(store, list_id, tmp_path / "pay")
        assert not (tmp_path / "pay").exists() or not any((tmp_path / "pay").iterdir())
    _unguarded(
        store, "UPDATE payment_snapshots SET arrow_ipc = :d WHERE list_id = :id",
        d=original, id=list_id,
    )  # fmt: skip
    extra = (
        "INSERT INTO payment_snapshots (list_id, part, content_sha256, line_rows, arrow_ipc, "
        "sealed_at) SELECT list_id, 1, content_sha256, line_rows, arrow_ipc, sealed_at "
        "FROM payment_snapshots WHERE list_id = :id AND part = 0"
    )
    with (  # the approval recorded one part: the database takes no second
        pytest.raises(DatabaseError, match="parts its approval recorded"),
        store.engine.begin() as conn,
    ):
        conn.execute(text(extra), {"id": list_id})
    _unguarded(store, extra.replace(":id", str(list_id)))
    with pytest.raises(InvalidTransition, match="has 2 part\\(s\\), its approval sealed 1"):
        _export(store, list_id, tmp_path / "pay")
    _unguarded(store, "DELETE FROM payment_snapshots WHERE list_id = :id", id=list_id)
    with pytest.raises(InvalidTransition, match="has 0 part\\(s\\), its approval sealed 1"):
        _export(store, list_id, tmp_path / "pay")  # not taken for a list approved before 0014
    assert not (tmp_path / "pay").exists() or not any((tmp_path / "pay").iterdir())
    _unguarded(
        store, "INSERT INTO payment_snapshots (list_id, part, content_sha256, line_rows, "
        "arrow_ipc, sealed_at) VALUES (:id, 0, :sha, :rows, :d, :at)",
        id=list_id, sha=parts[0][1], rows=parts[0][2], d=original, at=T0,
    )  # fmt: skip
    assert _export(store, list_id, tmp_path / "pay")["written_from"] == "payment_snapshot"


def test_only_the_approval_records_a_seal(store: Store, draft: Callable[[Store], int]) -> None:
    """The decision that approves a list says how many parts it sealed; no other does."""
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    list_id = draft(store)
    with store.session() as session:
        list_repo.decide(session, list_id, officer, "submit", T0)
    forged = (
        "INSERT INTO decisions (list_id, action, username, role, content_sha256, at, "
        "from_status, to_status, via, sealed_parts) SELECT id, :action, 'dc.kurigram', "
        "'district_admin', content_sha256, :at, 'submitted', :to, 'password', :parts "
        "FROM allowance_lists WHERE id = :id"
    )
    for action, to, parts in (("approve", "approved", None), ("approve", "approved", 0),
                              ("reject", "rejected", 1)):  # fmt: skip
        with (
            pytest.raises(DatabaseError, match="records its sealed parts"),
            store.engine.begin() as conn,
        ):
            conn.execute(
                text(forged), {"id": list_id, "action": action, "to": to, "parts": parts, "at": T0}
            )
    with store.session() as session:
        list_repo.decide(session, list_id, dc, "approve", T0)
    with store.engine.connect() as conn:
        recorded = dict(
            conn.execute(
                text("SELECT action, sealed_parts FROM decisions WHERE list_id = :id"),
                {"id": list_id},
            ).all()
        )
    assert recorded == {"submit": None, "approve": 1}
    assert len(_parts(store, list_id)) == 1


def test_payees_changed_behind_the_guards_after_approval_are_not_paid(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    """What is approved is what is paid: the file comes from the seal, not the payees."""
    list_id = _approved(store, draft)
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE allowance_payees DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER allowance_payees_frozen_update"))
        conn.execute(
            text("UPDATE allowance_payees SET wallet_number = '01999999999' WHERE list_id = :id"),
            {"id": list_id},
        )
    manifest = _export(store, list_id, tmp_path / "pay")
    batch = next((tmp_path / "pay").iterdir())
    assert "01999999999" not in _paid_wallets(batch).values()
    assert manifest["rows"] == len(_paid_wallets(batch)) > 0
    saved = json.loads((batch / "manifest.json").read_text("utf-8"))
    assert saved["written_from"] == "payment_snapshot"


def test_a_line_without_a_pinned_payee_is_not_exported(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    """A line whose payee is gone (removed from a draft behind the importer's back) is
    approved as it stands, but no payment file is written for the list."""

    def without_a_payee(s: Store) -> int:
        list_id = draft(s)
        with s.engine.begin() as conn:
            conn.execute(
                text("DELETE FROM allowance_payees WHERE list_id = :id AND rank = 2"),
                {"id": list_id},
            )
        return list_id

    list_id = _approved(store, without_a_payee)
    with pytest.raises(InvalidTransition, match=f"L{list_id}-2 have no pinned payee"):
        _export(store, list_id, tmp_path / "pay")
    assert not (tmp_path / "pay").exists() or not any((tmp_path / "pay").iterdir())


def test_upgrading_records_the_seals_of_earlier_approvals(
    store: Store, draft: Callable[[Store], int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Approvals of revision 0014 sealed without recording it; 0015 records their parts, and
    the downgrade back to 0014 restores its guard."""
    monkeypatch.setattr(payment_snapshot, "SNAPSHOT_PART_ROWS", 2)
    list_id = _approved(store, draft)
    sealed = len(_parts(store, list_id))
    assert sealed > 1
    _downgrade(store.engine, "0014")
    with pytest.raises(DatabaseError), store.engine.connect() as conn:
        conn.execute(text("SELECT sealed_parts FROM decisions"))
    store.upgrade()
    with store.engine.connect() as conn:
        recorded = conn.execute(
            text("SELECT sealed_parts FROM decisions WHERE list_id = :id AND action = 'approve'"),
            {"id": list_id},
        ).scalar_one()
    assert recorded == sealed
    assert _export(store, list_id, tmp_path / "pay")["written_from"] == "payment_snapshot"


def test_a_part_is_stored_as_one_record_batch_whatever_chunks_the_lines_came_in() -> None:
    """Lines are read in chunks of a few thousand; a part of many small compressed batches
    decodes at half the speed, so each part is written as one batch."""
    chunked = pa.chunked_array([["a", "b"], ["c"], ["d", "e", "f"]])
    table = pa.table([chunked, chunked], names=["x", "y"])
    data = payment_snapshot._ipc_bytes(table)
    batches = list(pa.ipc.open_stream(pa.py_buffer(data)))
    assert len(batches) == 1
    assert pa.Table.from_batches(batches).equals(table.combine_chunks())
