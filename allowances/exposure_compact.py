"""A first load's exposure from one reading of its rows, kept as a few integers a row.

Each row becomes its union's and programme's codes, a 64-bit hash of its household id, its
flags as bits and its position (25 bytes), written as it is read to the part of its set of
unions (`spill_parts`: anonymous files of the import's folder when there are several sets,
so memory holds one set, about 1 M rows, at any size). Households are told apart by sorting
(group, hash) keys; the rows a key puts together are then read once more and their household
ids compared, so the counts are exact: if two different ids (or two groups) share a key,
`count_compact` returns None and the caller counts on the ids themselves
(`exposure_arrow.counted_by_union_groups`, which reads the rows once per set of unions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from agam.core.arrow_bytes import string_hashes
from allowances.exposure import ALL_PROGRAMMES, COUNT_COLUMNS
from allowances.spill_parts import Parts

ColumnRows = Callable[[list[str]], Iterable[pa.Table]]  # the rows, these columns, in batches
PAIRS_AT_ONCE = 1_000_000  # pairs of rows whose household ids one reading compares
GROUP_MIX = 0xD6E8FEB86659FD93  # odd: a group's code spread over the key's 64 bits
FLAG_COUNT = len(COUNT_COLUMNS) - 2


def codes_of(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Dense integer codes of a column (nulls get a code of their own) and what they stand for."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    return encoded.indices.to_numpy().astype(np.int64), encoded.dictionary


def _global_codes(column: pa.ChunkedArray | pa.Array, ids: dict[str | None, int]) -> np.ndarray:
    """Codes that mean the same value in every batch (`ids` grows as values appear)."""
    local, values = codes_of(column)
    mapping = np.array([ids.setdefault(v, len(ids)) for v in values.to_pylist()], dtype=np.int32)
    return mapping[local] if len(mapping) else np.zeros(0, np.int32)


ROW = np.dtype(
    [("union", "<i4"), ("programme", "<i4"), ("household", "<u8"), ("bits", "u1"), ("at", "<i8")]
)  # a row as counted: its codes, household hash, flag bits and position among the rows


@dataclass
class KeyOrder:
    order: np.ndarray  # positions (within the rows counted) in key order
    starts: np.ndarray  # where each distinct key begins in `order`
    groups_agree: bool  # every run of equal keys is of one group


def _sorted(group: np.ndarray, household: np.ndarray) -> KeyOrder:
    with np.errstate(over="ignore"):
        key = household ^ (group.astype(np.uint64) * np.uint64(GROUP_MIX))
    return sorted_by(key, group)


def sorted_by(key: np.ndarray, group: np.ndarray) -> KeyOrder:
    """The rows in `key` order, where each distinct key starts, and whether each run of
    equal keys is of one group."""
    order = np.argsort(key)
    key = key[order]
    same = key[1:] == key[:-1]
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    sorted_group = group[order]
    agree = bool(np.array_equal(sorted_group[1:][same], sorted_group[:-1][same]))
    return KeyOrder(order, starts, agree)


def counts(group: np.ndarray, bits: np.ndarray, keyed: KeyOrder, groups: int) -> np.ndarray:
    """COUNT_COLUMNS per group: distinct households, rows, and distinct households with each
    flag on any of their rows."""
    pair_bits = np.bitwise_or.reduceat(bits[keyed.order], keyed.starts)
    pair_group = group[keyed.order[keyed.starts]]
    patterns = 1 << FLAG_COUNT  # households per group and combination of flags, then summed
    by_pattern = np.bincount(pair_group * patterns + pair_bits, minlength=groups * patterns)
    by_pattern = by_pattern.reshape(groups, patterns)
    out = np.empty((groups, len(COUNT_COLUMNS)), dtype=np.int64)
    out[:, 0] = by_pattern.sum(axis=1)
    out[:, 1] = np.bincount(group, minlength=groups)
    for i in range(FLAG_COUNT):
        out[:, 2 + i] = by_pattern[:, (np.arange(patterns) >> i) & 1 == 1].sum(axis=1)
    return out


def exposure_rows(
    by_programme: np.ndarray,
    by_union: np.ndarray,
    unions: list[str | None],
    programmes: list[str | None],
) -> list[tuple[object, ...]]:
    """The counts of groups with rows: (union, programme) groups numbered union-major, then
    each union as programme "all"."""
    out: list[tuple[object, ...]] = []
    for group in np.flatnonzero(by_programme[:, 1]):
        union, programme = divmod(int(group), len(programmes))
        out.append((unions[union], programmes[programme], *map(int, by_programme[group])))
    for code in np.flatnonzero(by_union[:, 1]):
        out.append((unions[code], ALL_PROGRAMMES, *map(int, by_union[code])))
    return out


def _pairs(keyed: KeyOrder, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of neighbours in key order that share a key."""
    run_start = np.zeros(len(keyed.order), dtype=bool)
    run_start[keyed.starts] = True
    joined = np.flatnonzero(~run_start[1:])  # order[j + 1] shares order[j]'s key
    return positions[keyed.order[joined]], positions[keyed.order[joined + 1]]


def _ids_agree(rows: ColumnRows, left: np.ndarray, right: np.ndarray, total: int) -> bool:
    """Do the rows at `left` and `right` (pairwise, positions among `total`) have the same
    household id? `PAIRS_AT_ONCE` pairs a reading: memory holds their ids, never a value
    per row of the file, however many households have several members."""
    return all(
        _ids_agree_once(rows, left[i : i + PAIRS_AT_ONCE], right[i : i + PAIRS_AT_ONCE], total)
        for i in range(0, len(left), PAIRS_AT_ONCE)
    )


def _ids_agree_once(rows: ColumnRows, left: np.ndarray, right: np.ndarray, total: int) -> bool:
    """`_ids_agree` from one reading, keeping only the ids at `left` and `right`."""
    wanted = np.unique(np.concatenate([left, right]))  # ascending positions
    found: list[pa.Array] = []
    start = 0
    for table in rows(["household_id"]):
        end = start + table.num_rows
        low, high = np.searchsorted(wanted, [start, end])
        if high > low:
            picked = table.column("household_id").take(pa.array(wanted[low:high] - start))
            found.append(picked.combine_chunks())
        start = end
    if start != total or not found:
        return False  # the rows changed between readings: count on the ids themselves
    ids = pa.concat_arrays(found)
    a = ids.take(pa.array(np.searchsorted(wanted, left)))
    b = ids.take(pa.array(np.searchsorted(wanted, right)))
    return bool(pc.all(pc.fill_null(pc.equal(a, b), False)).as_py())


def count_compact(
    rows: ColumnRows,
    needed: list[str],
    flag_bits: Callable[[pa.Table], np.ndarray],
    sets: int,
    folder: Path | None = None,
) -> list[tuple[object, ...]] | None:
    """(adm4_pcode, programme, *COUNT_COLUMNS) rows as `exposure_arrow.count_exposure` gives
    them, the unions counted in `sets` disjoint sets (a set's rows in `folder`'s anonymous
    files while the others are counted, when there are several); None when a key is shared by
    two different household ids or groups."""
    union_ids: dict[str | None, int] = {}
    programme_ids: dict[str | None, int] = {}
    with Parts(sets, ROW, folder if sets > 1 else None) as parts:
        total = 0
        for table in rows(needed):
            record = np.empty(table.num_rows, ROW)
            record["union"] = _global_codes(table["adm4_pcode"], union_ids)
            record["programme"] = _global_codes(table["programme"], programme_ids)
            record["household"] = string_hashes(table["household_id"])
            record["bits"] = flag_bits(table)
            record["at"] = np.arange(total, total + table.num_rows)
            parts.append(record["union"] % sets, record)
            total += table.num_rows
        counted = _count_sets(parts, list(union_ids), list(programme_ids))
    if counted is None:
        return None
    out, left, right = counted
    if not _ids_agree(rows, left, right, total):
        return None
    return out


def _count_sets(
    parts: Parts, unions: list[str | None], programmes: list[str | None]
) -> tuple[list[tuple[object, ...]], np.ndarray, np.ndarray] | None:
    """The counts of each set of unions, one set in memory at a time, and the positions of
    the rows whose (union, household hash) pairs must hold one household id each."""
    out: list[tuple[object, ...]] = []
    left: list[np.ndarray] = [np.zeros(0, np.int64)]
    right: list[np.ndarray] = [np.zeros(0, np.int64)]
    for k in range(parts.count):
        part = parts.read(k)
        if not len(part):
            continue
        union = part["union"].astype(np.int64)
        by_programme = union * len(programmes) + part["programme"].astype(np.int64)
        keyed = _sorted(by_programme, part["household"])
        by_union = _sorted(union, part["household"])
        if not (keyed.groups_agree and by_union.groups_agree):
            return None
        # A run of one (union, household hash) holds every run of (union, programme, hash):
        # its ids agreeing makes both counts exact.
        pair = _pairs(by_union, part["at"])
        left.append(pair[0])
        right.append(pair[1])
        out += exposure_rows(
            counts(by_programme, part["bits"], keyed, len(unions) * len(programmes)),
            counts(union, part["bits"], by_union, len(unions)),
            unions,
            programmes,
        )
    return out, np.concatenate(left), np.concatenate(right)
