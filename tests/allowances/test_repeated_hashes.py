"""Repeated hashes found in bounded memory: the same answer in memory and from the parts on
disk, whatever the order, the batches or where the switch to disk falls."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allowances.repeated_hashes import PARTS, RepeatedHashes

TOP = np.iinfo(np.uint64).max


def _repeated(batches: list[np.ndarray], folder: Path | None, in_memory: int) -> list[int]:
    with RepeatedHashes(folder, in_memory) as found:
        for batch in batches:
            found.add(batch)
        return found.repeated().tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([0, 1, 7, 2**58, 2**63, TOP - 1, TOP]) | st.integers(0, TOP)),
        max_size=8,
    ),
    st.integers(0, 20),
)
def test_parts_and_memory_agree_with_counting(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[int]], in_memory: int
) -> None:
    arrays = [np.array(b, dtype=np.uint64) for b in batches]
    counts = Counter(v for b in batches for v in b)
    expected = sorted(v for v, n in counts.items() if n > 1)
    folder = tmp_path_factory.mktemp("parts")
    assert _repeated(arrays, None, in_memory) == expected
    assert _repeated(arrays, folder, in_memory) == expected
    assert os.listdir(folder) == []  # anonymous parts: nothing named, nothing left


def test_past_the_limit_memory_holds_no_hashes(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 2**63, size=50_000, dtype=np.uint64) * np.uint64(2)
    found = RepeatedHashes(tmp_path, in_memory=1_000)
    for start in range(0, len(values), 700):
        found.add(values[start : start + 700])
    found.add(values[[5, 40_000, 40_000]])  # 5 repeated once, 40,000 twice
    assert found._held == []
    assert found._parts is not None
    assert found._parts.count == PARTS
    assert found.repeated().tolist() == sorted({int(values[5]), int(values[40_000])})
    assert found._parts is None  # closed by repeated()
