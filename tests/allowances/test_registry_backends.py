"""The import on SQLite and PostgreSQL: insert, update with history, exposure, duplicates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from allowances.exposure import exposure_by_union
from allowances.registry_import import import_registry
from allowances.registry_stats import registry_stats
from boundaries.layer import UnionLayer
from store.db import Store

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
