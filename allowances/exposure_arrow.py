"""Exposure of a first load, counted in Arrow from the imported rows themselves.

Into an empty store every imported row is a stored row, so `union_exposure` can be counted
from the import's normalised rows with Arrow's hash aggregation, several times faster than
the SQL GROUP BYs with COUNT(DISTINCT …) of `allowances.exposure` (13 s at 1 M rows). The
numbers are the same by definition (`tests/allowances/test_exposure_arrow.py` compares both);
later imports keep using the SQL path for the unions they touch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, delete

from agam.core.arrow_bytes import string_hashes
from allowances.exposure import ALL_PROGRAMMES, COUNT_COLUMNS, EXPOSURE
from allowances.registry_schema import ELDERLY_AGE_YEARS
from store.bulk_rows import insert_tuples, raw_path, storage_value

GROUP_ROWS = 2_000_000  # rows counted together at most (memory: hash tables per group)
MAX_GROUPS = 255  # a row's group is kept in one byte
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


def count_exposure(rows: pa.Table, as_of_year: int) -> list[tuple[object, ...]]:
    """(adm4_pcode, programme, *COUNT_COLUMNS) per union and programme, and per union with
    programme "all"; a household counts once per group, flagged if any member has the flag."""
    if rows.num_rows == 0:
        return []
    household = pc.dictionary_encode(rows["household_id"].combine_chunks()).indices
    data: dict[str, pa.Array | pa.ChunkedArray] = {
        "adm4_pcode": rows["adm4_pcode"],
        "programme": rows["programme"],
        "households": household,
        "beneficiaries": household,
    }
    for name, flag in _flags(rows, as_of_year).items():
        flagged = pc.fill_null(flag, False).combine_chunks()
        data[name] = pc.if_else(flagged, household, pa.scalar(None, household.type))
    table = pa.table(data)
    aggregates = [("households", "count_distinct"), ("beneficiaries", "count")]
    aggregates += [(name, "count_distinct") for name in COUNT_COLUMNS[2:]]
    out: list[tuple[object, ...]] = []
    for keys in (["adm4_pcode", "programme"], ["adm4_pcode"]):
        grouped = table.group_by(keys).aggregate(aggregates)
        programme = grouped["programme"] if "programme" in keys else None
        counts = [grouped[f"{name}_{how}"].to_pylist() for name, how, *_ in aggregates]
        unions = grouped["adm4_pcode"].to_pylist()
        names = programme.to_pylist() if programme is not None else [ALL_PROGRAMMES] * len(unions)
        out += list(zip(unions, names, *counts, strict=True))
    return out


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
    batches: Callable[[], Iterable[pa.Table]], as_of_year: int, rows_total: int = 0
) -> list[tuple[object, ...]]:
    """The union_exposure rows of every stored beneficiary (`batches()` reads them; about
    `rows_total` of them, which sets how many union groups are counted apart)."""
    groups = min(MAX_GROUPS, max(1, -(-rows_total // GROUP_ROWS)))
    return counted_by_union_groups(batches, as_of_year, groups)


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
