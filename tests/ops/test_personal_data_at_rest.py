"""Personal data at rest is its owner's alone, whatever the umask: the SQLite store with its
WAL and shared-memory files, a backup (SQLite copy or PostgreSQL dump, and its manifest) and
a restored store. Another account on the server must not be able to read the registry."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from store.backup import backup, restore
from store.db import Store

AT = datetime(2025, 5, 25, 9, 30, tzinfo=UTC)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A shell's usual umask: files readable by everyone unless the code says otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def written(store: Store) -> None:
    store.upgrade()
    with store.session() as session:  # a write: the WAL and shared memory exist now
        session.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))


def test_a_new_sqlite_store_is_created_owner_only(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / "data" / "agam.sqlite3"
    store = Store(f"sqlite:///{path}")
    written(store)
    try:
        assert {f.name: oct(mode(f)) for f in sqlite_files(path)} == {
            f.name: oct(0o600) for f in sqlite_files(path)
        }
    finally:
        store.dispose()


def test_a_store_others_could_read_is_made_owner_only_and_said_so(
    tmp_path: Path, loose_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "agam.sqlite3"
    first = Store(f"sqlite:///{path}")
    written(first)
    first.dispose()
    for each in sqlite_files(path):  # as an earlier release or a careless copy left it
        if each.exists():
            os.chmod(each, 0o644)
    caplog.set_level(logging.WARNING, logger="agam.core.private_files")
    again = Store(f"sqlite:///{path}")
    try:
        written(again)
        assert mode(path) == 0o600
        assert all(mode(f) == 0o600 for f in sqlite_files(path) if f.exists())
        warned = [r.getMessage() for r in caplog.records]
        assert any(str(path) in m and "now owner-only" in m for m in warned), warned
    finally:
        again.dispose()


def test_a_store_file_owned_by_another_account_is_named_not_changed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agam.core import private_files

    path = tmp_path / "agam.sqlite3"
    path.write_bytes(b"")
    os.chmod(path, 0o644)

    def not_yours(*_args: object) -> None:
        raise PermissionError("Operation not permitted")

    monkeypatch.setattr(private_files.os, "chmod", not_yours)
    caplog.set_level(logging.WARNING, logger="agam.core.private_files")
    private_files.private_sqlite_file(path)
    assert mode(path) == 0o644
    assert any("its owner must" in r.getMessage() for r in caplog.records)


def test_a_store_file_agam_cannot_create_is_left_for_sqlite_to_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner-only creation never turns SQLite's own one-line refusal (a folder the
    account may not write) into a traceback of its own."""
    from agam.core import private_files

    def refused(*_args: object) -> int:
        raise PermissionError("Permission denied")

    monkeypatch.setattr(private_files.os, "open", refused)
    path = tmp_path / "agam.sqlite3"
    private_files.private_sqlite_file(path)  # no error of its own
    assert not path.exists()


def test_backups_and_restored_stores_are_owner_only(
    database_url: str, tmp_path: Path, loose_umask: None
) -> None:
    store = Store(database_url)
    written(store)
    target = tmp_path / "backups" / "20250525T093000Z"
    try:
        backup(store, target, AT)
    finally:
        store.dispose()
    assert mode(target) == 0o700
    kept = sorted(target.iterdir())
    assert kept
    assert {p.name: oct(mode(p)) for p in kept} == {p.name: oct(0o600) for p in kept}
    if not database_url.startswith("sqlite"):
        return  # a PostgreSQL restore goes into the server's own files
    restored_path = tmp_path / "site" / "agam.sqlite3"
    restored = Store(f"sqlite:///{restored_path}")
    try:
        restore(restored, target)
        written(restored)
        assert all(mode(f) == 0o600 for f in sqlite_files(restored_path))
    finally:
        restored.dispose()


def test_a_failed_statement_never_carries_its_parameters(database_url: str) -> None:
    """A traceback (a bug reaching the CLI, the scheduler's `log.exception`) prints the
    error's text: it names the statement, never the values bound to it."""
    from sqlalchemy.exc import IntegrityError

    store = Store(database_url)
    store.upgrade()
    name, nid = "Rahima Khatun", "19857512345678901"
    try:
        with pytest.raises(IntegrityError) as refused, store.session() as session:
            session.execute(  # no such import: the foreign key refuses the row
                text(
                    "INSERT INTO beneficiaries (beneficiary_id, programme, household_id, nid, "
                    "name_en, sex, birth_year, disability, female_headed, pregnant_lactating, "
                    "children_under5, char_resident, adm4_pcode, payment_channel, import_id, "
                    "row_sha256, updated_at) VALUES ('B-1', 'vgd', 'H-1', :nid, :name, 'F', "
                    "1980, FALSE, TRUE, FALSE, 0, FALSE, 'BD10040911', 'mfs', 999, 'x', :at)"
                ),
                {"nid": nid, "name": name, "at": AT},
            )
    finally:
        store.dispose()
    told = str(refused.value)
    assert "INSERT INTO beneficiaries" in told
    assert name not in told
    assert nid not in told
