"""A chunked import with incremental exposure gives exactly the store a one-shot import of
the same file gives (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text

from allowances.registry_import import import_registry
from allowances.registry_stats import registry_stats
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer
from store.db import Store

T1 = datetime(2025, 6, 1, tzinfo=UTC)
T2 = datetime(2025, 7, 1, tzinfo=UTC)
SKIP = {"id", "import_id", "created_at", "updated_at", "imported_at", "computed_at",
        "source_import_ids"}  # fmt: skip


def _table(store: Store, name: str, order: str) -> pd.DataFrame:
    with store.engine.connect() as conn:
        frame = pd.read_sql(text(f"SELECT * FROM {name} ORDER BY {order}"), conn)
    return frame.drop(columns=[c for c in frame.columns if c in SKIP]).reset_index(drop=True)


def _store_tables(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        _table(store, "beneficiaries", "beneficiary_id"),
        _table(store, "union_exposure", "adm4_pcode, programme"),
    )


@pytest.fixture
def files(tmp_path: Path, union_layer: UnionLayer) -> tuple[Path, Path]:
    """v1, and v2 = v1 with 20 records changed (moved to other unions) and 100 added."""
    generate_registry(union_layer, 300, 1, tmp_path / "v1.csv", fmt="csv")
    generate_registry(union_layer, 400, 2, tmp_path / "other.csv", fmt="csv")
    v1 = pd.read_csv(tmp_path / "v1.csv", dtype=str, keep_default_na=False)
    other = pd.read_csv(tmp_path / "other.csv", dtype=str, keep_default_na=False)
    changed = other[other["beneficiary_id"].isin(v1["beneficiary_id"].head(20))]
    added = other[~other["beneficiary_id"].isin(v1["beneficiary_id"])].head(100)
    v2 = pd.concat([changed, v1.iloc[20:], added])
    v2.to_csv(tmp_path / "v2.csv", index=False)
    return tmp_path / "v1.csv", tmp_path / "v2.csv"


def _fresh(url: str) -> Store:
    store = Store(url)
    store.upgrade()
    return store


def _run(store: Store, *imports: tuple[Path, datetime, int], layer: UnionLayer) -> list[Any]:
    try:
        return [import_registry(store, f, layer, at=at, chunk_rows=n) for f, at, n in imports]
    finally:
        store.dispose()


def test_chunked_and_incremental_equal_one_shot(
    database_url: str,
    another_postgres_database: Callable[[], str],
    tmp_path: Path,
    union_layer: UnionLayer,
    files: tuple[Path, Path],
) -> None:
    v1, v2 = files
    sqlite = database_url.startswith("sqlite")
    reference_url = f"sqlite:///{tmp_path / 'one_shot.sqlite3'}" if sqlite else None
    first, second = _run(_fresh(database_url), (v1, T1, 37), (v2, T2, 37), layer=union_layer)
    assert first.status == second.status == "imported", second
    assert (second.updated, second.inserted) == (20, 100)
    store = Store(database_url)
    incremental = _store_tables(store)
    by_programme = incremental[0]["programme"].value_counts().sort_index()  # moved rows too
    assert registry_stats(store)["by_programme"] == by_programme.to_dict()
    with store.engine.connect() as conn:  # unions the second import did not touch kept T1 rows
        stamps = set(conn.execute(text("SELECT computed_at FROM union_exposure")).scalars())
    store.dispose()
    assert len(stamps) == 2
    reference = _fresh(reference_url or another_postgres_database())
    one_shot_tables = Store(str(reference.engine.url.render_as_string(hide_password=False)))
    (only,) = _run(reference, (v2, T2, 1_000_000), layer=union_layer)
    assert only.status == "imported"
    one_shot = _store_tables(one_shot_tables)
    one_shot_tables.dispose()
    pd.testing.assert_frame_equal(incremental[0], one_shot[0])
    pd.testing.assert_frame_equal(incremental[1], one_shot[1])
