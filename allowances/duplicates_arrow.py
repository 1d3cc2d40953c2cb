"""Shared NIDs and wallet numbers among the rows of a first load, found in Arrow.

When an import fills an empty store, the store's records are exactly the imported rows, so
the groups `registry_write.find_duplicates` would find with a GROUP BY per kind over the new
table (4 s for a million rows on PostgreSQL, whose fresh table has no statistics yet) are
found from the spilled rows instead: a 64-bit hash per present value, the repeated hashes
found in bounded memory (`repeated_hashes`: spilled to the import's folder beyond a few
million), then only the rows whose hash repeats are read again and grouped on their exact
values, so a hash collision never makes a group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

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
    SharedValue,
    duplicates_of,
)
from allowances.repeated_hashes import RepeatedHashes

Rows = Callable[[list[str]], Iterator[pa.Table]]  # the imported rows, these columns, in batches


def duplicates_in_rows(
    rows: Rows, limit: int = DUPLICATE_LIST_LIMIT, folder: Path | None = None
) -> Duplicates:
    """`find_duplicates` of a store holding exactly `rows` (read twice, in the same order);
    the hashes go to `folder` (the import's private folder) beyond `repeated_hashes.IN_MEMORY`."""
    names = [name for _, name in DUPLICATE_COLUMNS]
    with ExitStack() as stack:
        hashes = {
            kind: stack.enter_context(RepeatedHashes(folder)) for kind, _ in DUPLICATE_COLUMNS
        }
        for table in rows(names):
            for kind, name in DUPLICATE_COLUMNS:
                values = table.column(name)
                hashes[kind].add(string_hashes(values)[_valid(values)])
        repeated = {kind: found.repeated() for kind, found in hashes.items()}
    shared: dict[DuplicateKind, Members] = {kind: {} for kind in repeated}
    if any(len(values) for values in repeated.values()):
        shared = _exact_groups(rows(["beneficiary_id", "programme", *names]), repeated)
    return duplicates_of(shared, limit)


def _valid(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)


def _exact_groups(
    tables: Iterator[pa.Table], repeated: dict[DuplicateKind, np.ndarray]
) -> dict[DuplicateKind, Members]:
    """The rows with a present value whose hash repeats, grouped on their exact values; a
    value left with one record (its hash collided with another value's) is no duplicate."""
    found: dict[DuplicateKind, Members] = {kind: defaultdict(SharedValue) for kind in repeated}
    wanted = {kind: pa.array(values, pa.uint64()) for kind, values in repeated.items()}
    for table in tables:
        for kind, name in DUPLICATE_COLUMNS:
            if not len(wanted[kind]):
                continue
            values = table.column(name)
            hashed = pa.array(string_hashes(values), pa.uint64())
            keep = pc.and_(pc.is_valid(values), pc.is_in(hashed, value_set=wanted[kind]))
            picked = table.select([name, "beneficiary_id", "programme"]).filter(keep)
            for value, beneficiary_id, programme in zip(*picked.to_pydict().values(), strict=True):
                found[kind][value].add(beneficiary_id, programme)
    return {
        kind: {value: shared for value, shared in groups.items() if shared.size > 1}
        for kind, groups in found.items()
    }
