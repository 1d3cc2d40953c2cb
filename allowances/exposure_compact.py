"""A first load's exposure from one reading of its rows, kept as a few integers a row.

Each row becomes its union's and programme's codes, a 64-bit hash of its household id and
its flags as bits (17 bytes). Households are told apart by sorting (group, hash)
keys; the rows a key puts together are then read once more and their household ids compared,
so the counts are exact: if two different ids (or two groups) share a key, `count_compact`
returns None and the caller counts on the ids themselves
(`exposure_arrow.counted_by_union_groups`, which reads the rows once per set of unions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from agam.core.arrow_bytes import string_hashes
from allowances.exposure import ALL_PROGRAMMES, COUNT_COLUMNS

ColumnRows = Callable[[list[str]], Iterable[pa.Table]]  # the rows, these columns, in batches
GROUP_MIX = 0xD6E8FEB86659FD93  # odd: a group's code spread over the key's 64 bits
FLAG_COUNT = len(COUNT_COLUMNS) - 2


@dataclass
class Compact:
    union: np.ndarray  # per row: index into `unions`
    programme: np.ndarray  # per row: index into `programmes`
    household: np.ndarray  # per row: string_hashes of the household id
    bits: np.ndarray  # per row: bit i set when it gives its household flag i
    unions: list[str | None]
    programmes: list[str | None]


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


def compact_rows(
    tables: Iterable[pa.Table], flag_bits: Callable[[pa.Table], np.ndarray]
) -> Compact:
    union_ids: dict[str | None, int] = {}
    programme_ids: dict[str | None, int] = {}
    parts: tuple[list[np.ndarray], ...] = ([], [], [], [])
    for rows in tables:
        if rows.num_rows == 0:
            continue
        parts[0].append(_global_codes(rows["adm4_pcode"], union_ids))
        parts[1].append(_global_codes(rows["programme"], programme_ids))
        parts[2].append(string_hashes(rows["household_id"]))
        parts[3].append(flag_bits(rows))
    columns: list[np.ndarray] = []
    for part, kind in zip(parts, (np.int32, np.int32, np.uint64, np.uint8), strict=True):
        columns.append(np.concatenate(part) if part else np.zeros(0, kind))
        part.clear()  # one column's batches and its whole copy in memory at a time
    union, programme, household, bits = columns
    # codes in the fewest bytes that hold them (5,160 unions: two)
    union = union.astype(np.min_scalar_type(max(len(union_ids) - 1, 0)))
    programme = programme.astype(np.min_scalar_type(max(len(programme_ids) - 1, 0)))
    return Compact(union, programme, household, bits, list(union_ids), list(programme_ids))


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
    household id? Only those rows' ids are kept from the second reading."""
    if not len(left):
        return True
    wanted = np.zeros(total, dtype=bool)
    wanted[left] = True
    wanted[right] = True
    found: list[pa.Array] = []
    start = 0
    for table in rows(["household_id"]):
        end = start + table.num_rows
        local = np.flatnonzero(wanted[start:end])
        if len(local):
            found.append(table.column("household_id").take(pa.array(local)).combine_chunks())
        start = end
    if start != total:
        return False  # the rows changed between readings: count on the ids themselves
    ids = pa.concat_arrays(found)
    index = np.cumsum(wanted, dtype=np.int32 if total < 2**31 else np.int64) - 1  # in `ids`
    a = ids.take(pa.array(index[left]))
    b = ids.take(pa.array(index[right]))
    return bool(pc.all(pc.fill_null(pc.equal(a, b), False)).as_py())


def count_compact(
    rows: ColumnRows,
    needed: list[str],
    flag_bits: Callable[[pa.Table], np.ndarray],
    sets: int,
) -> list[tuple[object, ...]] | None:
    """(adm4_pcode, programme, *COUNT_COLUMNS) rows as `exposure_arrow.count_exposure` gives
    them, the unions counted in `sets` disjoint sets (memory: one set's sort at a time);
    None when a key is shared by two different household ids or groups."""
    c = compact_rows(rows(needed), flag_bits)
    if not len(c.union):
        return []
    n_programmes = len(c.programmes)
    out: list[tuple[object, ...]] = []
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    set_of_row = (c.union % sets).astype(np.uint8)  # a byte a row (sets <= 255)
    for k in range(sets):
        at = np.flatnonzero(set_of_row == k) if sets > 1 else np.arange(len(set_of_row))
        if not len(at):
            continue
        household, bits, union = c.household[at], c.bits[at], c.union[at].astype(np.int64)
        by_programme = union * n_programmes + c.programme[at].astype(np.int64)
        keyed = _sorted(by_programme, household)
        by_union = _sorted(union, household)
        if not (keyed.groups_agree and by_union.groups_agree):
            return None
        # A run of one (union, household hash) holds every run of (union, programme, hash):
        # its ids agreeing makes both counts exact.
        pair = _pairs(by_union, at)
        left.append(pair[0])
        right.append(pair[1])
        out += exposure_rows(
            counts(by_programme, bits, keyed, len(c.unions) * n_programmes),
            counts(union, bits, by_union, len(c.unions)),
            c.unions,
            c.programmes,
        )
    total = len(c.union)
    if left and not _ids_agree(rows, np.concatenate(left), np.concatenate(right), total):
        return None
    return out
