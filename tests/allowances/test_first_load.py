"""A first load's exposure and duplicates, counted on a worker beside the writing: an error
there fails the import and leaves the store as it was, and the counts are used only if the
store is still empty in the import's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from allowances import first_load, registry_import
from allowances.exposure import recompute_exposure
from allowances.registry_import import import_registry
from allowances.registry_write import find_duplicates
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer
from store.db import Store
from store.models import Beneficiary
from tests.allowances.conftest import exposure_table

T1 = datetime(2025, 6, 1, tzinfo=UTC)
T2 = datetime(2025, 7, 1, tzinfo=UTC)


def _beneficiaries(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(Beneficiary)) or 0)


def test_an_error_on_the_worker_fails_the_import_and_stores_nothing(
    database_url: str, union_layer: UnionLayer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = generate_registry(union_layer, 500, 4, tmp_path / "registry.parquet").path

    def broken(*_args: Any, **_kwargs: Any) -> list[tuple[object, ...]]:
        raise RuntimeError("out of memory while counting")

    monkeypatch.setattr(first_load, "count_first_exposure", broken)
    store = Store(database_url)
    try:
        store.upgrade()
        with pytest.raises(RuntimeError, match="out of memory"):
            import_registry(store, registry, union_layer, at=T1)
        assert _beneficiaries(store) == 0
        monkeypatch.undo()
        assert import_registry(store, registry, union_layer, at=T1).status == "imported"
    finally:
        store.dispose()


def test_a_store_filled_meanwhile_is_counted_by_sql(
    database_url: str, union_layer: UnionLayer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store looked empty before the transaction (as if another import committed in
    between): the worker's counts, which know only this file, must not replace the store's."""
    first = generate_registry(union_layer, 700, 5, tmp_path / "first.parquet").path
    second = generate_registry(union_layer, 400, 6, tmp_path / "second.parquet").path
    store = Store(database_url)
    try:
        store.upgrade()
        import_registry(store, first, union_layer, at=T1)
        looked: Callable[[Store], bool] = lambda _store: True  # noqa: E731
        monkeypatch.setattr(registry_import, "store_is_empty", looked)
        report = import_registry(store, second, union_layer, at=T2)
        with store.engine.connect() as conn:
            stored = find_duplicates(conn)
        imported = exposure_table(store)
        with store.engine.begin() as conn:
            recompute_exposure(conn, T2)
        recounted = exposure_table(store)
    finally:
        store.dispose()
    assert report.updated > 0  # the second file's households are the first 400 of 700
    assert imported["beneficiaries"].sum() > report.total  # records of both files
    pd.testing.assert_frame_equal(imported, recounted)
    assert report.duplicate_counts == stored.counts
