"""The import on SQLite and PostgreSQL: insert, update with history, exposure, duplicates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from allowances.exposure import exposure_by_union
from allowances.registry_import import import_registry
from allowances.registry_schema import STORED
from allowances.registry_stats import registry_stats
from boundaries.layer import UnionLayer
from store.db import Store
from store.models import Beneficiary

T1 = datetime(2025, 6, 1, tzinfo=UTC)
T2 = datetime(2025, 7, 1, tzinfo=UTC)


def test_import_update_and_exposure_on_each_backend(
    database_url: str,
    union_layer: UnionLayer,
    defects_csv: Path,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
) -> None:
    store = Store(database_url)
    try:
        store.upgrade()
        first = import_registry(store, defects_csv, union_layer, quarantine=True, at=T1)
        assert (first.inserted, first.quarantined) == (5, 7)
        assert first.duplicate_counts["nid_cross_programme"] == 1
        update = [
            make_row(
                beneficiary_id="B011",
                programme="widow",
                payment_channel="bank",
                mfs_provider="",
                wallet_number="",
                bank_account="0012345678901",
                routing_number="123456789",
            )
        ]
        second = import_registry(store, write_csv("v2.csv", update), union_layer, at=T2)
        assert second.updated == 1
        dry = import_registry(store, defects_csv, union_layer, dry_run=True, at=T2)
        assert dry.status == "already_imported"
        exposure = exposure_by_union(store)
        assert exposure["beneficiaries"].sum() == 5
        assert set(exposure["adm4_pcode"]) <= set(union_layer.frame["adm4_pcode"])
        assert registry_stats(store, union_layer)["beneficiaries"] == 5
    finally:
        store.dispose()


def _stored_rows(store: Store) -> list[tuple[object, ...]]:
    table = Beneficiary.__table__
    columns = [table.c[name] for name in (*STORED, "row_sha256", "updated_at")]
    with store.engine.connect() as conn:
        rows = conn.execute(select(*columns).order_by(table.c.beneficiary_id))
        return [tuple(r) for r in rows]


def test_same_file_stores_the_same_values_on_both_backends(
    tmp_path: Path,
    another_postgres_database: Callable[[], str],
    union_layer: UnionLayer,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
) -> None:
    """PostgreSQL loads new rows with COPY in CSV form, SQLite with executemany: quotes,
    commas, Bangla, empty optional fields (NULL, never ""), booleans and the time agree."""
    rows = [
        make_row(beneficiary_id="Q001", village='"Char ""Boro"", east"', name_bn="রহিমা বেগম"),
        make_row(
            beneficiary_id="Q002",
            nid="",
            birth_registration="20101234567890123",
            household_id="HH002",
            wallet_number="01711000002",
            ward="",
        ),
        make_row(
            beneficiary_id="Q003",
            household_id="HH003",
            payment_channel="bank",
            mfs_provider="",
            wallet_number="",
            bank_account="0012345678901",
            routing_number="123456789",
            disability="yes",
            nid="1990123456780",
        ),
    ]
    path = write_csv("edge.csv", rows)
    at = datetime(2025, 6, 1, 6, 30, 15, 123456, tzinfo=UTC)
    stored = []
    for url in (f"sqlite:///{tmp_path / 'a.sqlite3'}", another_postgres_database()):
        store = Store(url)
        try:
            store.upgrade()
            assert import_registry(store, path, union_layer, at=at).inserted == 3
            stored.append(_stored_rows(store))
        finally:
            store.dispose()
    sqlite_rows, postgres_rows = stored
    assert sqlite_rows == postgres_rows
    assert sqlite_rows[0][STORED.index("village")] == 'Char "Boro", east'
    assert sqlite_rows[1][STORED.index("ward")] is None  # empty optional field: NULL
    assert sqlite_rows[0][-1] == at


def _analyzed(store: Store) -> object:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'beneficiaries'"
        ).scalar()


def test_a_large_import_refreshes_postgresql_statistics(
    database_url: str, union_layer: UnionLayer, defects_csv: Path, monkeypatch: object
) -> None:
    """After a large import PostgreSQL plans on the new rows (ANALYZE, as the owner); a dry
    run and a small import leave the statistics to autovacuum."""
    import pytest

    from allowances import registry_write as rw

    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL statistics")
    store = Store(database_url)
    try:
        store.upgrade()
        import_registry(store, defects_csv, union_layer, quarantine=True, at=T1, dry_run=True)
        assert _analyzed(store) is None
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(rw, "BULK_LOAD_ROWS", 5)  # the file's 5 good rows count as large
            report = import_registry(store, defects_csv, union_layer, quarantine=True, at=T1)
        assert report.inserted == 5
        assert _analyzed(store) is not None
    finally:
        store.dispose()
