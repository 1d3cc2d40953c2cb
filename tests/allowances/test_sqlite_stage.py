"""A large first load on SQLite goes through an ADBC-written stage and INSERT … SELECT: the
store it gives is byte for byte the one executemany gives, the stage never outlives the
import, and a dry run or a failed import leaves the store as it was."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from allowances import registry_import, registry_stage
from allowances import registry_write as rw
from allowances.registry_import import import_registry
from allowances.registry_schema import ImportReport
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer
from store.db import SQLITE_PAGE_BYTES, Store
from store.sqlite_stage import attached
from tests.grievances.conftest import beneficiary

AT = datetime(2025, 6, 1, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture
def registry(tmp_path: Path, union_layer: UnionLayer) -> Path:
    """300 households, plus one row that fails validation (quarantined, never staged)."""
    path = tmp_path / "registry.csv"
    generate_registry(union_layer, 300, 3, path, fmt="csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    bad = frame.iloc[[0]].assign(beneficiary_id="BAD-1", adm4_pcode="BD00000000")
    pd.concat([frame, bad]).to_csv(path, index=False)
    return path


def _import(
    folder: Path, registry: Path, layer: UnionLayer, staged: bool, **kw: bool
) -> tuple[Path, ImportReport]:
    db = folder / "agam.sqlite3"
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    threshold = 1 if staged else 10**12
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(rw, "BULK_LOAD_ROWS", threshold)
            report = import_registry(store, registry, layer, at=AT, quarantine=True, **kw)
    finally:
        store.dispose()
    return db, report


def _dump(db: Path, table: str, order: str) -> list[tuple[object, ...]]:
    """Every value with its SQLite storage class (so 1 and '1' differ)."""
    with sqlite3.connect(db) as conn:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        if table == "union_exposure":  # when it was computed is the run's own clock
            columns = [c for c in columns if c != "computed_at"]
        cells = ", ".join(f'"{c}", typeof("{c}")' for c in columns)
        return conn.execute(f"SELECT {cells} FROM {table} ORDER BY {order}").fetchall()


def _stage_fds() -> list[str]:
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return [link for link in links if "stage.sqlite3" in link]


def test_staged_first_load_stores_exactly_what_executemany_stores(
    tmp_path: Path, registry: Path, union_layer: UnionLayer, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with caplog.at_level("INFO", logger="allowances.registry_import"):
        staged_db, staged = _import(tmp_path / "a", registry, union_layer, staged=True)
    assert any("stage rows took" in r.getMessage() for r in caplog.records)  # the stage ran
    plain_db, plain = _import(tmp_path / "b", registry, union_layer, staged=False)
    assert staged.status == plain.status == "imported"
    assert staged.inserted == plain.inserted > 0
    assert staged.quarantined == plain.quarantined == 1
    rows = _dump(staged_db, "beneficiaries", "beneficiary_id")
    assert rows == _dump(plain_db, "beneficiaries", "beneficiary_id")
    assert not any("BAD-1" in str(r) for r in rows)
    exposure = _dump(staged_db, "union_exposure", "adm4_pcode, programme")
    assert exposure == _dump(plain_db, "union_exposure", "adm4_pcode, programme")
    assert not list((tmp_path / "a" / "staging").rglob("stage.sqlite3"))  # never outlives it
    assert _stage_fds() == []  # and no connection keeps the unlinked file open


def test_staged_dry_run_and_failure_leave_the_store_empty(
    tmp_path: Path, registry: Path, union_layer: UnionLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, report = _import(tmp_path, registry, union_layer, staged=True, dry_run=True)
    assert report.status == "dry_run"
    assert report.inserted > 0
    assert _dump(db, "beneficiaries", "beneficiary_id") == []

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full while counting exposure")

    monkeypatch.setattr(registry_import, "write_first_exposure", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        _import(tmp_path, registry, union_layer, staged=True)
    assert _dump(db, "beneficiaries", "beneficiary_id") == []
    assert _stage_fds() == []


def test_a_stage_that_cannot_be_detached_closes_its_connection(tmp_path: Path) -> None:
    """A reader still open on the stage makes DETACH fail; the connection is then closed, so
    it can never be reused with personal data attached."""
    stage = tmp_path / "stage.sqlite3"
    with sqlite3.connect(stage) as seed:
        seed.execute("CREATE TABLE rows (x)")
        seed.executemany("INSERT INTO rows VALUES (?)", [(i,) for i in range(10)])
    seed.close()
    conn = sqlite3.connect(tmp_path / "store.sqlite3", isolation_level=None)
    with attached(conn, stage, "agam_stage") as table:
        open_reader = conn.execute(f"SELECT x FROM {table}")
        open_reader.fetchone()  # a statement still stepping on the stage
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        conn.execute("SELECT 1")
    assert not stage.exists()


def test_a_detached_stage_leaves_its_connection_usable(tmp_path: Path) -> None:
    stage = tmp_path / "stage.sqlite3"
    sqlite3.connect(stage).close()
    conn = sqlite3.connect(tmp_path / "store.sqlite3", isolation_level=None)
    with attached(conn, stage, "agam_stage"):
        pass
    assert conn.execute("PRAGMA database_list").fetchall()[-1][1] == "main"
    conn.close()


def test_a_rebuild_sorts_on_helper_threads_and_leaves_the_connection_without(
    tmp_path: Path,
) -> None:
    """The rebuilt indexes (the unique id's among them) are sorted with SQLite's helper
    threads on, and the pooled connection goes back with them off (SQLite's default)."""
    from contextlib import nullcontext

    from sqlalchemy import event

    store = Store(f"sqlite:///{tmp_path / 'agam.sqlite3'}")
    store.upgrade()
    seen: dict[str, int] = {}

    cache: set[int] = set()

    def threads_at_create_index(conn, cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        words = statement.split()
        if words[:2] == ["CREATE", "INDEX"] or words[:3] == ["CREATE", "UNIQUE", "INDEX"]:
            name = words[words.index("INDEX") + 1]
            driver = conn.connection.driver_connection
            seen[name] = driver.execute("PRAGMA threads").fetchone()[0]
            cache.add(driver.execute("PRAGMA cache_size").fetchone()[0])

    event.listen(store.engine, "before_cursor_execute", threads_at_create_index)
    try:
        with store.engine.connect() as conn:
            driver = conn.connection.driver_connection
            before = driver.execute("PRAGMA cache_size").fetchone()[0]
            with conn.begin(), rw.bulk_load(conn, enabled=True, phase=lambda _n: nullcontext()):
                pass
            assert driver.execute("PRAGMA threads").fetchone()[0] == 0
            assert driver.execute("PRAGMA cache_size").fetchone()[0] == before
            names = {r[1] for r in driver.execute("PRAGMA index_list(beneficiaries)")}
    finally:
        store.dispose()
    rebuilt = {i.name for i in rw.BENEFICIARIES.indexes}
    assert "ix_beneficiaries_beneficiary_id" in rebuilt
    assert set(seen) == rebuilt
    assert set(seen.values()) == {rw.SORT_HELPER_THREADS}
    assert cache == {-rw.SORT_CACHE_KIB}  # sorted in small runs, whatever the cache was
    assert rebuilt <= names


def _copies(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, bool]]:
    """(stage's import id, the import row's id, whether SQLite plans the stage's copy as its
    transfer of whole records) for each copy from a stage."""
    seen: list[tuple[int, int, bool]] = []
    real = rw.insert_from_stage

    def spying(conn: Any, stage: registry_stage.Stage, import_id: int, at: datetime) -> int:
        copy = f"INSERT INTO beneficiaries SELECT * FROM {stage.table}"
        opcodes = {row[1] for row in conn.exec_driver_sql(f"EXPLAIN {copy}")}
        seen.append((stage.import_id, import_id, "RowData" in opcodes))
        return real(conn, stage, import_id, at)

    monkeypatch.setattr(rw, "insert_from_stage", spying)
    return seen


def test_a_stage_is_declared_as_the_table_so_sqlite_moves_whole_records(
    tmp_path: Path, registry: Path, union_layer: UnionLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage holds every stored value (row ids, import id and time included) under the
    table's own declarations: SQLite's transfer applies, and the store is the one the plain
    path gives."""
    copies = _copies(monkeypatch)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    staged_db, staged = _import(tmp_path / "a", registry, union_layer, staged=True)
    assert copies == [(staged.import_id, staged.import_id, True)]
    plain_db, _ = _import(tmp_path / "b", registry, union_layer, staged=False)
    assert _dump(staged_db, "beneficiaries", "id") == _dump(plain_db, "beneficiaries", "id")
    with sqlite3.connect(staged_db) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_a_stage_naming_another_import_is_copied_value_by_value(
    tmp_path: Path, registry: Path, union_layer: UnionLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the import row gets another id than the stage was written with (another import
    committed meanwhile), the rows are copied with the import's own id, not transferred."""
    real_of = registry_stage._Layout.of

    def another_id(conn: Any, at: datetime) -> registry_stage._Layout:
        layout = real_of(conn, at)
        return dataclasses.replace(layout, import_id=layout.import_id + 40)

    monkeypatch.setattr(registry_stage._Layout, "of", staticmethod(another_id))
    copies = _copies(monkeypatch)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    staged_db, staged = _import(tmp_path / "a", registry, union_layer, staged=True)
    assert [(s, r) for s, r, _ in copies] == [(staged.import_id + 40, staged.import_id)]
    plain_db, _ = _import(tmp_path / "b", registry, union_layer, staged=False)
    assert _dump(staged_db, "beneficiaries", "id") == _dump(plain_db, "beneficiaries", "id")
    with sqlite3.connect(staged_db) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_a_new_store_has_large_pages_and_an_existing_one_keeps_its_own(tmp_path: Path) -> None:
    new = Store(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    old_file = tmp_path / "old.sqlite3"
    with sqlite3.connect(old_file) as conn:
        conn.execute("CREATE TABLE kept (x)")  # written with SQLite's default page size
    conn.close()
    old = Store(f"sqlite:///{old_file}")
    try:
        new.upgrade()
        old.upgrade()
        with new.engine.connect() as a, old.engine.connect() as b:
            assert a.exec_driver_sql("PRAGMA page_size").scalar() == SQLITE_PAGE_BYTES
            assert b.exec_driver_sql("PRAGMA page_size").scalar() == 4096
            assert b.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        new.dispose()
        old.dispose()


def test_a_store_filled_while_the_rows_were_staged_is_written_with_keys_enforced(
    tmp_path: Path, registry: Path, union_layer: UnionLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staged connection has foreign keys off, so it writes nothing but the stage's
    copy into an empty table: a store found filled in the import's transaction rolls it
    back, and the rows are written again on a connection that enforces foreign keys."""
    real_open = registry_import.open_import
    opened: list[int] = []

    def filled_meanwhile(session: Any, writing: Any, file_name: str) -> Any:
        opened.append(session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar())
        if len(opened) == 1:  # another import's rows, in the staged transaction
            other = real_open(session, dataclasses.replace(writing, sha="0" * 64), "other.csv")
            other.synthetic = True  # as this file is
            session.add(beneficiary(1, "OH-1", import_id=other.id))
            session.flush()
        return real_open(session, writing, file_name)

    monkeypatch.setattr(registry_import, "open_import", filled_meanwhile)
    copies = _copies(monkeypatch)
    db, report = _import(tmp_path, registry, union_layer, staged=True)
    assert report.status == "imported"
    assert opened == [0, 1]  # staged without enforcement, then written with it
    assert copies == []  # nothing was copied from the stage
    assert len(_dump(db, "beneficiaries", "id")) == report.inserted
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert _stage_fds() == []
