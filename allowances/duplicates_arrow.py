"""Shared NIDs and wallet numbers among the rows of a first load, found in Arrow.

When an import fills an empty store, the store's records are exactly the imported rows, so
the groups `registry_write.find_duplicates` would find with a GROUP BY per kind over the new
table (4 s for a million rows on PostgreSQL, whose fresh table has no statistics yet) are
found from the spilled rows instead: a 64-bit hash per value (8 bytes a row in memory), then
only the rows whose hash repeats are read again and grouped on their exact values, so a hash
collision never makes a group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from agam.core.arrow_bytes import string_hashes
from allowances.registry_write import (
    DUPLICATE_COLUMNS,
    DUPLICATE_LIST_LIMIT,
    DuplicateKind,
    Duplicates,
    Members,
    duplicates_of,
)

Rows = Callable[[list[str]], Iterator[pa.Table]]  # the imported rows, these columns, in batches


def duplicates_in_rows(rows: Rows, limit: int = DUPLICATE_LIST_LIMIT) -> Duplicates:
    """`find_duplicates` of a store holding exactly `rows` (read twice, in the same order)."""
    names = [name for _, name in DUPLICATE_COLUMNS]
    hashes: dict[DuplicateKind, list[np.ndarray]] = {kind: [] for kind, _ in DUPLICATE_COLUMNS}
    present: dict[DuplicateKind, list[np.ndarray]] = {kind: [] for kind, _ in DUPLICATE_COLUMNS}
    for table in rows(names):
        for kind, name in DUPLICATE_COLUMNS:
            values = table.column(name)
            hashes[kind].append(string_hashes(values))
            present[kind].append(_valid(values))
    candidates: dict[DuplicateKind, np.ndarray] = {}
    for kind in list(hashes):  # one kind's arrays at a time, each freed once it is used
        candidates[kind] = _repeating_rows(
            np.concatenate(hashes.pop(kind)), np.concatenate(present.pop(kind))
        )
    shared: dict[DuplicateKind, Members] = {kind: {} for kind in candidates}
    if any(len(rows_at) for rows_at in candidates.values()):
        shared = _exact_groups(rows(["beneficiary_id", "programme", *names]), candidates)
    return duplicates_of(shared, limit)


def _valid(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)


def _repeating_rows(hashes: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Positions (ascending) of the rows with a value whose hash another such row shares:
    the repeated hashes from a plain sort (no positions carried), then the rows holding one."""
    at = np.flatnonzero(present)
    hashes = hashes[at]
    ordered = np.sort(hashes)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    held = pc.is_in(pa.array(hashes), value_set=pa.array(repeated))  # a hash set, not a sort
    return np.asarray(at[held.to_numpy(zero_copy_only=False)], dtype=np.int64)


def _exact_groups(
    tables: Iterator[pa.Table], candidates: dict[DuplicateKind, np.ndarray]
) -> dict[DuplicateKind, Members]:
    """The candidate rows grouped on their exact values; a value left with one record (its
    hash collided with another value's) is no duplicate."""
    found: dict[DuplicateKind, Members] = {kind: defaultdict(list) for kind in candidates}
    start = 0
    for table in tables:
        end = start + table.num_rows
        for kind, name in DUPLICATE_COLUMNS:
            rows_at = candidates[kind]
            local = rows_at[np.searchsorted(rows_at, start) : np.searchsorted(rows_at, end)] - start
            if not len(local):
                continue
            picked = table.select([name, "beneficiary_id", "programme"]).take(pa.array(local))
            for value, beneficiary_id, programme in zip(*picked.to_pydict().values(), strict=True):
                found[kind][value].append((beneficiary_id, programme))
        start = end
    return {
        kind: {value: records for value, records in groups.items() if len(records) > 1}
        for kind, groups in found.items()
    }
