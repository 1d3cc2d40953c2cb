"""Exposure of a first load, counted from the imported rows themselves.

Into an empty store every imported row is a stored row, so `union_exposure` can be counted
from the import's normalised rows instead of the SQL GROUP BYs with COUNT(DISTINCT …) of
`allowances.exposure` (13 s at 1 M rows). First from one reading kept as integers
(`allowances.exposure_compact`); if two household ids share a hash there, on the ids
themselves (`counted_by_union_groups`). Both count a household by sorting (group, household)
integer keys, not by hash aggregation per column. The numbers are the same by definition
(`tests/allowances/test_exposure_arrow.py` compares with SQL); later imports keep using the
SQL path for the unions they touch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, delete

from agam.core.arrow_bytes import string_hashes
from allowances.exposure import COUNT_COLUMNS, EXPOSURE
from allowances.exposure_compact import (
    ColumnRows,
    codes_of,
    count_compact,
    counts,
    exposure_rows,
    sorted_by,
)
from allowances.registry_schema import ELDERLY_AGE_YEARS
from store.bulk_rows import insert_tuples, raw_path, storage_value

log = logging.getLogger(__name__)
GROUP_ROWS = 1_000_000  # rows counted together at most (memory: one set's sort at a time)
MAX_GROUPS = 255  # a row's group is kept in one byte
HOUSEHOLD_BITS = 32  # a household's code within a counted set of rows
NEEDED = (
    "adm4_pcode",
    "programme",
    "household_id",
    "female_headed",
    "disability",
    "birth_year",
    "pregnant_lactating",
    "children_under5",
    "char_resident",
)


def _flags(rows: pa.Table, as_of_year: int) -> dict[str, pa.ChunkedArray]:
    """Per row: does it give its household the flag of each flag column (as in SQL)."""
    return {
        "households_female_headed": rows["female_headed"],
        "households_disability": rows["disability"],
        "households_elderly": pc.less_equal(rows["birth_year"], as_of_year - ELDERLY_AGE_YEARS),
        "households_pregnant_lactating": rows["pregnant_lactating"],
        "households_children_under5": pc.greater(rows["children_under5"], 0),
        "households_char_resident": rows["char_resident"],
    }


def _flag_bits(rows: pa.Table, as_of_year: int) -> np.ndarray:
    """Per row, bit i set when it gives its household the i-th flag of `_flags`."""
    bits = np.zeros(rows.num_rows, dtype=np.uint8)
    for i, flag in enumerate(_flags(rows, as_of_year).values()):
        filled = pc.fill_null(flag, False).combine_chunks()
        bits |= filled.to_numpy(zero_copy_only=False).astype(np.uint8) << np.uint8(i)
    return bits


def count_exposure(rows: pa.Table, as_of_year: int) -> list[tuple[object, ...]]:
    """(adm4_pcode, programme, *COUNT_COLUMNS) per union and programme, and per union with
    programme "all"; a household counts once per group, flagged if any member has the flag.
    Exact: households are the codes of their ids, sorted with their group's code."""
    if rows.num_rows == 0:
        return []
    union, unions = codes_of(rows["adm4_pcode"])
    programme, programmes = codes_of(rows["programme"])
    household, households = codes_of(rows["household_id"])
    if len(households) >= 1 << HOUSEHOLD_BITS:
        raise ValueError(f"more than 2**{HOUSEHOLD_BITS} households counted together")
    bits = _flag_bits(rows, as_of_year)
    by_programme = union * len(programmes) + programme
    groups = len(unions) * len(programmes)
    return exposure_rows(
        counts(
            by_programme,
            bits,
            sorted_by((by_programme << HOUSEHOLD_BITS) | household, by_programme),
            groups,
        ),
        counts(union, bits, sorted_by((union << HOUSEHOLD_BITS) | household, union), len(unions)),
        unions.to_pylist(),
        programmes.to_pylist(),
    )


def counted_by_union_groups(
    batches: Callable[[], Iterable[pa.Table]], as_of_year: int, groups: int
) -> list[tuple[object, ...]]:
    """`count_exposure` of all the rows, split into `groups` disjoint sets of unions (a
    union's rows always land in the same set). The rows are read once per set and only that
    set's are kept, so memory holds one set's rows and hash tables, not the country's; each
    row's set is worked out on the first reading (a byte a row) and reused."""
    counted: list[tuple[object, ...]] = []
    sets: list[pa.Array] = []
    for k in range(groups):
        part: list[pa.Table] = []
        for i, batch in enumerate(batches()):
            rows = batch.select(list(NEEDED))
            if groups > 1:
                if k == 0:
                    hashed = string_hashes(rows["adm4_pcode"]) % np.uint64(groups)
                    sets.append(pa.array(hashed.astype(np.uint8)))
                rows = rows.filter(pc.equal(sets[i], k))
            part.append(rows)
        if part:
            counted += count_exposure(pa.concat_tables(part), as_of_year)
    return counted


def count_first_exposure(
    rows: ColumnRows, as_of_year: int, rows_total: int = 0, folder: Path | None = None
) -> list[tuple[object, ...]]:
    """The union_exposure rows of every stored beneficiary (`rows(columns)` reads them; about
    `rows_total` of them, which sets how many union sets are counted apart): from one
    reading kept as integers (`exposure_compact`, a set at a time from `folder`), or, if two
    household ids share a hash, on the ids themselves."""
    sets = min(MAX_GROUPS, max(1, -(-rows_total // GROUP_ROWS)))
    needed = list(NEEDED)
    flags = partial(_flag_bits, as_of_year=as_of_year)
    counted = count_compact(rows, needed, flags, sets, folder)
    if counted is not None:
        return counted
    log.warning(
        "first-load exposure: two household ids or groups share a hash, or the rows changed "
        "between readings; counted on the ids"
    )
    return counted_by_union_groups(lambda: rows(needed), as_of_year, sets)


def write_first_exposure(
    conn: Connection, counted: list[tuple[object, ...]], at: datetime, import_ids: list[int]
) -> int:
    """Replace union_exposure with `counted` (from `count_first_exposure`)."""
    conn.execute(delete(EXPOSURE))
    computed_at = storage_value(conn, EXPOSURE, "computed_at", at)
    sources = json.dumps(import_ids) if raw_path(conn) else import_ids  # JSON as text there
    columns = [
        "adm4_pcode", "programme", *COUNT_COLUMNS, "as_of_year", "computed_at", "source_import_ids"
    ]  # fmt: skip
    values = [(*row, at.year, computed_at, sources) for row in counted]
    insert_tuples(conn, EXPOSURE, columns, values)
    return len(values)
