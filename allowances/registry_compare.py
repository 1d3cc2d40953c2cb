"""Which rows of an import batch are new records and which change a stored one.

A refresh re-imports the whole registry, and most of it is unchanged: on PostgreSQL the
server compares each row's hash with the stored one and returns only the rows that differ
(reading 11 M stored hashes into a dict took about 40 s of a 10 M-household refresh); on
SQLite the stored hashes are looked up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection

from allowances.registry_write import BENEFICIARIES, existing_hashes, stored_households

# PostgreSQL: the batch's positions (from 1) whose hash differs, with the stored household.
# Ids and hashes go as one text each, split by the server: a list of 100,000 strings took
# psycopg 0.1 s to send as an array parameter, one text 0.01 s (ids never hold a line break).
SEPARATOR = "\n"
_DIFFERING = (
    "SELECT u.pos, b.household_id FROM unnest("  # noqa: S608
    "string_to_array(%(ids)s, E'\\n'), string_to_array(%(hashes)s, E'\\n')) "
    "WITH ORDINALITY AS u(beneficiary_id, row_sha256, pos) "
    f"LEFT JOIN {BENEFICIARIES.name} AS b ON b.beneficiary_id = u.beneficiary_id "
    "WHERE b.row_sha256 IS DISTINCT FROM u.row_sha256"
)


@dataclass(frozen=True)
class Compared:
    """A batch of imported rows against the store: which are new records, which change a
    stored one (its row hash differs), and the households those changed records are in now
    (a record that moves leaves its old household)."""

    new: np.ndarray
    changed: np.ndarray
    old_households: set[str]


def compare_with_stored(conn: Connection, table: pa.Table) -> Compared:
    """`table`'s rows (beneficiary_id, row_sha256 and household_id) against the store."""
    n = table.num_rows
    new = np.zeros(n, dtype=bool)
    changed = np.zeros(n, dtype=bool)
    if conn.dialect.driver == "psycopg":
        ids, hashes = (_one_text(table.column(c)) for c in ("beneficiary_id", "row_sha256"))
        differing = conn.exec_driver_sql(_DIFFERING, {"ids": ids, "hashes": hashes}).all()
        old: set[str] = set()
        for position, household in differing:
            if household is None:
                new[position - 1] = True
            else:
                changed[position - 1] = True
                old.add(household)
        return Compared(new, changed, old)
    id_list = table.column("beneficiary_id").to_pylist()
    hash_list = table.column("row_sha256").to_pylist()
    known = existing_hashes(conn, id_list)
    for i, (beneficiary_id, row_hash) in enumerate(zip(id_list, hash_list, strict=True)):
        stored = known.get(beneficiary_id)
        new[i] = stored is None
        changed[i] = stored is not None and stored != row_hash
    moved_from = [i for i, c in zip(id_list, changed, strict=True) if c]
    return Compared(new, changed, stored_households(conn, moved_from) if moved_from else set())


def _one_text(column: pa.ChunkedArray) -> str:
    """The column's values joined by SEPARATOR, by Arrow; refused if a value holds it or is
    missing (the split would no longer line up with the rows)."""
    values = column.combine_chunks()
    if values.null_count or pc.any(pc.match_substring(values, SEPARATOR)).as_py():
        raise ValueError("an id or hash is missing or holds a line break")
    joined = pc.binary_join(pa.ListArray.from_arrays([0, len(values)], values), SEPARATOR)
    return str(joined[0].as_py())
