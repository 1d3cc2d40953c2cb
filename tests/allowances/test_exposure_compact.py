"""A first load's exposure counted from compact integer rows equals the count on the ids
themselves, and it gives up (the caller then counts on the ids) whenever a hash would join
two households or two groups."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from allowances import exposure_arrow, exposure_compact
from allowances.exposure_arrow import NEEDED, count_exposure, count_first_exposure

rng = np.random.default_rng(3)
N = 5_000
ROWS = pa.table(
    {
        "adm4_pcode": [f"BD{u:08d}" for u in rng.integers(0, 40, N)],
        "programme": rng.choice(["old_age", "widow", "disability"], N).tolist(),
        # few households, so most have several members, some across unions and programmes
        "household_id": [f"HH-{h}" for h in rng.integers(0, 1_500, N)],
        "female_headed": pa.array(rng.random(N) < 0.3).cast(pa.bool_()),
        "disability": pa.array(
            [None if i % 97 == 0 else bool(v) for i, v in enumerate(rng.random(N) < 0.1)]
        ),
        "birth_year": rng.integers(1930, 2020, N).astype(np.int32),
        "pregnant_lactating": pa.array(rng.random(N) < 0.05),
        "children_under5": rng.integers(0, 3, N).astype(np.int32),
        "char_resident": pa.array(rng.random(N) < 0.2),
    }
)


def _rows(columns: list[str], table: pa.Table = ROWS) -> Iterator[pa.Table]:
    yield from (pa.Table.from_batches([b]) for b in table.select(columns).to_batches(700))


@pytest.mark.parametrize("rows_total", [N, 3 * exposure_arrow.GROUP_ROWS], ids=["one-set", "sets"])
def test_compact_count_equals_the_count_on_the_ids(rows_total: int, tmp_path: Path) -> None:
    expected = sorted(count_exposure(ROWS, 2025))
    assert sorted(count_first_exposure(_rows, 2025, rows_total)) == expected
    # each set's rows written to the import's folder while the others are counted
    assert sorted(count_first_exposure(_rows, 2025, rows_total, tmp_path)) == expected
    assert list(tmp_path.iterdir()) == []  # anonymous parts: nothing named, nothing left
    assert len(expected) > 150


def test_pairs_compared_over_several_readings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Households with several members compared a few pairs a reading: the same counts, and
    a shared hash is still found whichever reading holds its pair."""
    monkeypatch.setattr(exposure_compact, "PAIRS_AT_ONCE", 7)
    expected = sorted(count_exposure(ROWS, 2025))
    assert sorted(count_first_exposure(_rows, 2025, N)) == expected
    monkeypatch.setattr(
        exposure_compact, "string_hashes", lambda a: np.zeros(len(a), dtype=np.uint64)
    )
    flags = lambda t: exposure_arrow._flag_bits(t, 2025)  # noqa: E731
    assert exposure_compact.count_compact(_rows, list(NEEDED), flags, 1) is None


def test_a_shared_hash_across_sets_on_disk_is_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two household ids hashing alike in one union, counted from the parts: refused."""
    monkeypatch.setattr(
        exposure_compact, "string_hashes", lambda a: np.zeros(len(a), dtype=np.uint64)
    )
    flags = lambda t: exposure_arrow._flag_bits(t, 2025)  # noqa: E731
    assert exposure_compact.count_compact(_rows, list(NEEDED), flags, 4, tmp_path) is None


def test_a_shared_hash_of_two_household_ids_is_found_and_counted_on_the_ids(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def one_hash(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
        return np.zeros(len(array), dtype=np.uint64)  # every household id collides

    monkeypatch.setattr(exposure_compact, "string_hashes", one_hash)
    flags = lambda t: exposure_arrow._flag_bits(t, 2025)  # noqa: E731
    assert exposure_compact.count_compact(_rows, list(NEEDED), flags, 1) is None
    with caplog.at_level(logging.WARNING):
        counted = count_first_exposure(_rows, 2025, N)
    assert sorted(counted) == sorted(count_exposure(ROWS, 2025))
    assert "share a hash" in caplog.text


def test_two_groups_on_one_key_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the group mixed into the key, one household in two programmes of a union
    makes one key for two groups: refused, never merged."""
    monkeypatch.setattr(exposure_compact, "GROUP_MIX", 0)
    flags = lambda t: exposure_arrow._flag_bits(t, 2025)  # noqa: E731
    assert exposure_compact.count_compact(_rows, list(NEEDED), flags, 1) is None


def test_rows_that_change_between_the_two_readings_are_not_trusted() -> None:
    readings = iter([ROWS, ROWS.slice(0, N - 1)])

    def rows(columns: list[str]) -> Iterator[pa.Table]:
        return _rows(columns, next(readings))

    flags = lambda t: exposure_arrow._flag_bits(t, 2025)  # noqa: E731
    assert exposure_compact.count_compact(rows, list(NEEDED), flags, 1) is None


def test_no_rows_count_nothing() -> None:
    assert count_first_exposure(lambda columns: iter(()), 2025, 0) == []
    assert count_exposure(ROWS.slice(0, 0), 2025) == []
