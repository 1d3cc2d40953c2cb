"""A refresh batch against the store: new records, changed ones (with the household a moved
record leaves) and unchanged ones, the same on SQLite (lookup) and PostgreSQL (compared by
the server); a value that would break the server's split is refused, not misaligned."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from allowances.registry_compare import compare_with_stored
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer
from store.db import Store
from store.models import Beneficiary
from tests.allowances.test_import_incremental import T1, _fresh, _run


def _batch(store: Store) -> tuple[pa.Table, dict[str, str]]:
    with store.session() as session:
        rows = session.execute(
            select(Beneficiary.beneficiary_id, Beneficiary.row_sha256, Beneficiary.household_id)
            .order_by(Beneficiary.beneficiary_id)
            .limit(6)
        ).all()
    ids = [r[0] for r in rows] + ["NEW-1", "NEW-2"]
    hashes = [r[1] for r in rows] + ["a" * 64, "b" * 64]
    hashes[1] = "c" * 64  # changed in place
    hashes[4] = "d" * 64  # changed, and moved to another household
    households = [r[2] for r in rows] + ["H-NEW", "H-NEW"]
    households[4] = "H-ELSEWHERE"
    table = pa.table({"beneficiary_id": ids, "row_sha256": hashes, "household_id": households})
    return table, {r[0]: r[2] for r in rows}


def test_new_changed_and_unchanged_rows_and_the_households_left(
    database_url: str, tmp_path: Path, union_layer: UnionLayer
) -> None:
    generate_registry(union_layer, 20, 3, tmp_path / "v1.csv", fmt="csv")
    _run(_fresh(database_url), (tmp_path / "v1.csv", T1, 100), layer=union_layer)
    store = Store(database_url)
    try:
        table, stored_household = _batch(store)
        with store.engine.connect() as conn:
            compared = compare_with_stored(conn, table)
            broken = table.set_column(0, "beneficiary_id", pa.array(["X\nY", *table[0][1:]]))
            if database_url.startswith("postgresql"):
                with pytest.raises(ValueError, match="line break"):
                    compare_with_stored(conn, broken)
    finally:
        store.dispose()
    assert compared.new.tolist() == [False] * 6 + [True, True]
    assert compared.changed.tolist() == [False, True, False, False, True, False, False, False]
    ids = table.column("beneficiary_id").to_pylist()
    assert compared.old_households == {stored_household[ids[1]], stored_household[ids[4]]}
