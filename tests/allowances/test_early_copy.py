"""A first load into an empty store is written while the file is checked (PostgreSQL: the COPY;
SQLite: the stage): the store it gives is the one the checked load gives, and any error in the
file, a failed write or a store filled meanwhile leaves the store exactly as the plain path
would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text

from agam.core.errors import RegistryError
from allowances import registry_early_copy as early_copy
from allowances import registry_stage
from allowances import registry_write as rw
from allowances.registry_import import import_registry
from allowances.registry_schema import ImportReport
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer
from store.db import Store
from tests.conftest import fresh_postgres_database, postgres_admin_url

AT = datetime(2025, 6, 1, 3, 4, 5, 678901, tzinfo=UTC)
CHUNK_ROWS = 40  # many chunks through the hand-over queue
EARLY_LOG = "read and check, "  # "… writing rows took" (COPY), "… stage rows took" (SQLite)


@pytest.fixture
def registry(tmp_path: Path, union_layer: UnionLayer) -> Path:
    """Parquet: read in chunks of exactly CHUNK_ROWS rows (a CSV is read by bytes)."""
    return generate_registry(union_layer, 120, 7, tmp_path / "registry.parquet").path


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty stores of one kind: one imported early, one the plain way."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'early.sqlite3'}", f"sqlite:///{tmp_path / 'plain.sqlite3'}"
        return
    admin = postgres_admin_url()
    with fresh_postgres_database(admin) as early, fresh_postgres_database(admin) as plain:
        yield early, plain


def _import(url: str, path: Path, layer: UnionLayer, early: bool, **kw: Any) -> ImportReport:
    store = Store(url)
    try:
        store.upgrade()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(early_copy, "MIN_FILE_BYTES", 0 if early else 1 << 62)
            mp.setattr(rw, "BULK_LOAD_ROWS", 1)  # the plain path also loads in bulk
            return import_registry(store, path, layer, at=AT, chunk_rows=CHUNK_ROWS, **kw)
    finally:
        store.dispose()


def _table(url: str, sql: str) -> pd.DataFrame:
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            return pd.read_sql(text(sql), conn)
    finally:
        store.dispose()


def _stored(url: str) -> dict[str, pd.DataFrame]:
    return {
        "beneficiaries": _table(url, "SELECT * FROM beneficiaries ORDER BY beneficiary_id"),
        "exposure": _table(url, "SELECT * FROM union_exposure ORDER BY adm4_pcode, programme").drop(
            columns=["id", "computed_at"]
        ),
        "imports": _table(
            url,
            "SELECT file_name, sha256, rows_total, rows_imported, synthetic, report "
            "FROM registry_imports",
        ),
        "audit": _table(url, "SELECT action, entity, payload FROM audit_log ORDER BY id"),
    }


def _with_bad_row(path: Path, where: int, **changes: str) -> Path:
    frame = pd.read_parquet(path)
    row = frame.iloc[[where]].assign(**changes)
    frame = pd.concat([frame.iloc[:where], row, frame.iloc[where + 1 :]])
    out = path.with_name(f"bad-{where}.parquet")
    frame.to_parquet(out, index=False)
    return out


def _empty(url: str) -> None:
    counts = _table(
        url,
        "SELECT (SELECT count(*) FROM beneficiaries) AS b, "
        "(SELECT count(*) FROM registry_imports) AS i, "
        "(SELECT count(*) FROM union_exposure) AS e",
    )
    assert counts.iloc[0].tolist() == [0, 0, 0]


def _no_check_thread() -> bool:
    names = ("registry-early-copy", "registry-check")  # this path's and the check's own
    return not any(t.name.startswith(names) for t in threading.enumerate())


def test_copied_while_checking_stores_exactly_what_the_checked_load_stores(
    urls: tuple[str, str],
    registry: Path,
    union_layer: UnionLayer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    early_url, plain_url = urls
    with caplog.at_level("INFO", logger="allowances.registry_import"):
        early = _import(early_url, registry, union_layer, early=True)
    said = [r.getMessage() for r in caplog.records]
    assert any(EARLY_LOG in m for m in said)  # this path ran
    assert any("statistics took" in m for m in said)  # and the planner was told, as after any
    caplog.clear()
    with caplog.at_level("INFO", logger="allowances.registry_import"):
        plain = _import(plain_url, registry, union_layer, early=False)
    assert not any(EARLY_LOG in r.getMessage() for r in caplog.records)
    assert early.status == plain.status == "imported"
    assert early.inserted == plain.inserted == early.total > 3 * CHUNK_ROWS
    assert early.duplicates == plain.duplicates
    stored, expected = _stored(early_url), _stored(plain_url)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(stored[name], frame, obj=name)
    assert _no_check_thread()


@pytest.mark.parametrize("where", [0, -1])
def test_an_error_anywhere_rolls_the_copy_back_and_the_file_is_rejected(
    urls: tuple[str, str], registry: Path, union_layer: UnionLayer, where: int
) -> None:
    """A bad field in the first chunk (the COPY has not started) or in the last one (every
    good chunk before it has been copied)."""
    early_url, plain_url = urls
    rows = len(pd.read_parquet(registry))
    bad = _with_bad_row(registry, where % rows, adm4_pcode="BD00000000")
    early = _import(early_url, bad, union_layer, early=True)
    plain = _import(plain_url, bad, union_layer, early=False)
    assert early.status == plain.status == "rejected"
    assert early.errors == plain.errors
    assert early.errors
    _empty(early_url)
    assert _no_check_thread()


def test_an_id_repeated_at_the_end_is_found_after_the_copy_and_rolled_back(
    urls: tuple[str, str], registry: Path, union_layer: UnionLayer
) -> None:
    early_url, plain_url = urls
    frame = pd.read_parquet(registry)
    last = len(frame) - 1
    repeated = _with_bad_row(registry, last, beneficiary_id=str(frame["beneficiary_id"].iloc[0]))
    early = _import(early_url, repeated, union_layer, early=True)
    plain = _import(plain_url, repeated, union_layer, early=False)
    assert early.status == plain.status == "rejected"
    assert [e.field for e in early.errors] == ["beneficiary_id"]
    assert early.errors == plain.errors
    _empty(early_url)


def test_a_dry_run_of_a_file_with_errors_reports_what_the_plain_path_reports(
    urls: tuple[str, str], registry: Path, union_layer: UnionLayer
) -> None:
    early_url, plain_url = urls
    bad = _with_bad_row(registry, 100, adm4_pcode="BD00000000")
    early = _import(early_url, bad, union_layer, early=True, dry_run=True)
    plain = _import(plain_url, bad, union_layer, early=False, dry_run=True)
    assert early.status == plain.status == "dry_run"
    assert (early.inserted, early.errors) == (plain.inserted, plain.errors)
    assert early.inserted == early.total - 1
    _empty(early_url)


def test_a_failing_copy_stops_the_check_and_stores_nothing(
    urls: tuple[str, str], registry: Path, union_layer: UnionLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    early_url, _ = urls
    taken: list[int] = []

    def failing(_conn: object, tables: Iterator[Any], *_args: object) -> int:
        taken.append(next(tables).num_rows)
        raise RuntimeError("the server went away")

    def failing_stage(_path: Path, _schema: object, batches: Iterator[Any], *_: object) -> None:
        failing(None, batches)

    monkeypatch.setattr(rw, "insert_all_beneficiaries", failing)
    monkeypatch.setattr(registry_stage, "write_stage", failing_stage)
    with pytest.raises(RuntimeError, match="went away"):
        _import(early_url, registry, union_layer, early=True)
    assert taken == [CHUNK_ROWS]
    assert _no_check_thread()  # the check was stopped and waited for
    monkeypatch.undo()
    _empty(early_url)
    assert _import(early_url, registry, union_layer, early=True).status == "imported"


def test_a_store_filled_meanwhile_is_imported_the_plain_way(
    urls: tuple[str, str],
    registry: Path,
    union_layer: UnionLayer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The store looked empty before the transaction (another import committed in between):
    the early COPY is given up and the file imported as an update of the store."""
    early_url, plain_url = urls
    first = generate_registry(union_layer, 60, 7, tmp_path / "first.parquet").path
    for url in urls:
        assert _import(url, first, union_layer, early=False).status == "imported"
    with monkeypatch.context() as mp:
        mp.setattr(early_copy, "worth_it", lambda *_a, **_k: True)
        early = _import(early_url, registry, union_layer, early=True)
    plain = _import(plain_url, registry, union_layer, early=False)
    assert early.status == plain.status == "imported"
    assert (early.inserted, early.updated, early.unchanged) == (
        plain.inserted,
        plain.updated,
        plain.unchanged,
    )
    stored, expected = _stored(early_url), _stored(plain_url)
    pd.testing.assert_frame_equal(
        stored["beneficiaries"].drop(columns=["id"]), expected["beneficiaries"].drop(columns=["id"])
    )
    pd.testing.assert_frame_equal(stored["exposure"], expected["exposure"])


def test_a_file_the_check_cannot_accept_raises_its_error_and_stores_nothing(
    urls: tuple[str, str], registry: Path, union_layer: UnionLayer
) -> None:
    """The check's own error (found at the end, after every chunk was copied) is raised as
    the plain path raises it."""
    early_url, _ = urls
    frame = pd.read_parquet(registry)
    frame.loc[frame.index[-1], "synthetic"] = False  # one real row among synthetic ones
    mixed = registry.with_name("mixed.parquet")
    frame.to_parquet(mixed, index=False)
    with pytest.raises(RegistryError, match="mixes synthetic and real rows"):
        _import(early_url, mixed, union_layer, early=True)
    _empty(early_url)
    assert _no_check_thread()


def test_only_a_large_first_load_without_quarantine_is_written_early(
    urls: tuple[str, str], registry: Path, union_layer: UnionLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    early_url, _ = urls
    monkeypatch.setattr(early_copy, "MIN_FILE_BYTES", 0)
    store = Store(early_url)
    try:
        store.upgrade()
        assert early_copy.worth_it(store, registry, quarantine=False)
        assert not early_copy.worth_it(store, registry, quarantine=True)
        monkeypatch.setattr(early_copy, "MIN_FILE_BYTES", registry.stat().st_size + 1)
        assert not early_copy.worth_it(store, registry, quarantine=False)
        monkeypatch.setattr(early_copy, "MIN_FILE_BYTES", 0)
        assert import_registry(store, registry, union_layer, at=AT).status == "imported"
        assert not early_copy.worth_it(store, registry, quarantine=False)  # no longer empty
    finally:
        store.dispose()
