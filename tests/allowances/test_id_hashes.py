"""Repeated beneficiary ids are found on 64-bit hashes of the ids and confirmed exactly: equal
ids always hash alike, and a hash collision between different ids never becomes an error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from agam.core import arrow_bytes
from agam.core.arrow_bytes import string_hashes
from allowances import registry_validate, repeated_hashes
from allowances.registry_import import import_registry
from boundaries.layer import UnionLayer
from store.db import Store

AT = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)


def test_equal_strings_hash_alike_and_slices_agree() -> None:
    values = ["SYN-1", "SYN-2", "SYN-1", None, "", "ab", "ba", "রহিমা", "রহিমা", "a" * 200]
    hashes = string_hashes(pa.array(values))
    assert hashes.dtype == np.uint64
    assert hashes[0] == hashes[2]
    assert hashes[7] == hashes[8]
    assert hashes[3] == hashes[4]  # null hashes as empty
    assert len(set(hashes.tolist())) == 7  # the seven different values differ
    ids = pa.array([f"SYN-{i:010d}" for i in range(50_000)])
    whole = string_hashes(ids)
    assert len(np.unique(whole)) == 50_000
    assert (string_hashes(ids.slice(123, 1000)) == whole[123:1123]).all()  # offsets respected
    chunked = pa.chunked_array([ids.slice(0, 10), ids.slice(10, 5)])
    assert (string_hashes(chunked) == whole[:15]).all()
    assert len(string_hashes(pa.array([], pa.string()))) == 0


def _reference_hash(value: str) -> int:
    data = value.encode()
    total = sum((b + 1) * pow(arrow_bytes.HASH_MULTIPLIER, i, 2**64) for i, b in enumerate(data))
    return (total % 2**64) ^ (len(data) * arrow_bytes.LENGTH_MIX % 2**64)


def test_hashes_follow_the_definition_whatever_powers_are_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kept power tables change speed, never values: short and long buffers, first
    call or later, hash as the polynomial defines."""
    values = ["0171", "", "রহিমা", "SYN-0000000001"]
    expected = [_reference_hash(v) for v in values]
    monkeypatch.setattr(arrow_bytes, "_POWER_TABLES", [])
    assert string_hashes(pa.array(values)).tolist() == expected  # computes the tables
    assert string_hashes(pa.array(values)).tolist() == expected  # reuses them
    monkeypatch.setattr(arrow_bytes, "KEPT_POWERS", 16)  # too long to keep: computed alone
    monkeypatch.setattr(arrow_bytes, "_POWER_TABLES", [])
    long = ["x" * 1000, *values]
    assert string_hashes(pa.array(long)).tolist()[1:] == expected
    assert arrow_bytes._POWER_TABLES == []


@pytest.mark.parametrize("in_memory", [None, 2], ids=["in-memory", "parts"])
def test_a_hash_collision_is_not_a_repeat(
    store: Store,
    union_layer: UnionLayer,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    in_memory: int | None,
) -> None:
    """Every id hashing alike (as if colliding): the exact check finds no repeat, and a
    real repeat is named alike whether the hashes stayed in memory or went to the parts."""
    if in_memory is not None:
        monkeypatch.setattr(repeated_hashes, "IN_MEMORY", in_memory)
    monkeypatch.setattr(
        registry_validate, "string_hashes", lambda a: np.zeros(len(a), dtype=np.uint64)
    )
    rows = [make_row(beneficiary_id=f"B-{i}", household_id=f"H-{i}") for i in range(5)]
    report = import_registry(store, write_csv("collide.csv", rows), union_layer, at=AT)
    assert report.status == "imported", report.errors
    assert report.inserted == 5
    rows.append(make_row(beneficiary_id="B-2", household_id="H-9"))  # a real repeat
    again = import_registry(store, write_csv("repeat.csv", rows), union_layer, at=AT)
    assert again.status == "rejected"
    assert [(e.row, e.field) for e in again.errors] == [(7, "beneficiary_id")]
    assert "same beneficiary_id as row 4" in again.errors[0].reason
