"""A first load's duplicates, found in Arrow, are exactly those the store's query finds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from allowances import duplicates_arrow, registry_write, repeated_hashes
from allowances.duplicates_arrow import duplicates_in_rows
from allowances.registry_import import import_registry
from allowances.registry_write import find_duplicates
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer
from store.db import Store

T1 = datetime(2025, 6, 1, tzinfo=UTC)


def test_first_load_reports_what_the_store_query_finds(
    database_url: str, union_layer: UnionLayer, tmp_path: Path
) -> None:
    registry = generate_registry(union_layer, 6_000, 11, tmp_path / "registry.parquet")
    store = Store(database_url)
    try:
        store.upgrade()
        report = import_registry(store, registry.path, union_layer, at=T1)
        with store.engine.connect() as conn:
            stored = find_duplicates(conn)
    finally:
        store.dispose()
    assert report.status == "imported"
    assert stored.counts["nid"] > 5  # the file has groups of both kinds
    assert stored.counts["wallet"] > 5
    assert report.duplicate_counts == stored.counts
    assert report.duplicates == stored.groups


def _rows(table: pa.Table, batch: int) -> duplicates_arrow.Rows:
    def read(columns: list[str]) -> Iterator[pa.Table]:
        for start in range(0, table.num_rows, batch):
            yield table.select(columns).slice(start, batch)

    return read


TABLE = pa.table(
    {
        "beneficiary_id": ["B7", "B1", "B3", "B2", "B9", "B4", "B5", "B6"],
        "programme": ["widow", "old_age", "widow", "old_age", "mcbp", "mcbp", "old_age", "widow"],
        "nid": ["5555555555", "1111111111", None, "1111111111", None, "2222222222", "", ""],
        "wallet_number": [None, "01711000001", "01711000001", None, None, None, "0171", None],
    }
)


@pytest.mark.parametrize("batch", [1, 3, 100])
def test_groups_span_batches_and_ignore_missing_values(batch: int) -> None:
    found = duplicates_in_rows(_rows(TABLE, batch))
    assert found.counts == {
        "nid": 2,  # 1111111111 and "" (stored as given: only NULL is no value)
        "nid_cross_programme": 1,
        "wallet": 1,
        "wallet_cross_programme": 1,
    }
    assert [(g.kind, g.records) for g in found.groups] == [
        ("nid", (("B5", "old_age"), ("B6", "widow"))),
        ("nid", (("B1", "old_age"), ("B2", "old_age"))),
        ("wallet", (("B1", "old_age"), ("B3", "widow"))),
    ]


def test_colliding_hashes_never_make_a_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every value hashed alike: the exact values still decide."""
    expected = duplicates_in_rows(_rows(TABLE, 3))
    monkeypatch.setattr(
        duplicates_arrow, "string_hashes", lambda values: np.zeros(len(values), np.uint64)
    )
    assert duplicates_in_rows(_rows(TABLE, 3)) == expected


def test_the_listed_groups_are_limited_but_the_counts_are_not() -> None:
    found = duplicates_in_rows(_rows(TABLE, 3), limit=1)
    assert found.counts["nid"] == 2
    assert [g.kind for g in found.groups] == ["nid", "wallet"]


def test_hashes_spilled_to_parts_find_the_same_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond memory's share the hashes go to anonymous parts: the same groups."""
    expected = duplicates_in_rows(_rows(TABLE, 3))
    monkeypatch.setattr(repeated_hashes, "IN_MEMORY", 2)
    assert duplicates_in_rows(_rows(TABLE, 3), folder=tmp_path) == expected
    assert list(tmp_path.iterdir()) == []  # the parts never had a name


def test_a_placeholder_nid_on_many_records_lists_a_few_and_counts_all(
    database_url: str,
    union_layer: UnionLayer,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
) -> None:
    """A placeholder NID on every record of a file (MIS extracts fill missing NIDs so) is one
    group: every record counted, the first by beneficiary id listed, and cross-programme
    judged on all of them, not on those listed. The store's query agrees."""
    size = 3 * registry_write.MEMBERS_LISTED + 1
    ids = [f"P{i:04d}" for i in range(size)]
    rows = [
        make_row(
            beneficiary_id=b,
            household_id=f"H{b}",
            programme="old_age" if b == ids[-1] else "widow",  # the last: never listed
            nid="1234567890",
            wallet_number=f"0171{i:07d}",
        )
        for i, b in enumerate(reversed(ids))  # not in id order
    ]
    store = Store(database_url)
    try:
        store.upgrade()
        report = import_registry(store, write_csv("placeholder.csv", rows), union_layer, at=T1)
        with store.engine.connect() as conn:
            stored = registry_write.find_duplicates(conn)
    finally:
        store.dispose()
    (group,) = report.duplicates
    assert (group.size, len(group.records)) == (size, registry_write.MEMBERS_LISTED)
    assert [b for b, _ in group.records] == ids[: registry_write.MEMBERS_LISTED]
    assert group.cross_programme
    assert report.duplicate_counts["nid_cross_programme"] == 1
    assert group.to_dict()["size"] == size
    assert stored.groups == report.duplicates
    assert stored.counts == report.duplicate_counts
