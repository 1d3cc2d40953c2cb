"""The column-wise list hash is byte for byte the reference `content_hash`."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from store.list_hash import digest_of_columns, text_columns
from store.list_repo import content_hash

TEXT = ["", "a", "রহিম", "x|y", "a\x1fb", "01712345678", "=cmd", "line\nbreak", "  "]


def hash_chunks(chunks: list[list[tuple[object, ...]]], version: int) -> str:
    """The column-wise hash of lines converted to text a run at a time, as the store reads
    them when the database cannot print them."""
    parts = [text_columns(rows) for rows in chunks if rows]
    width = len(parts[0]) if parts else 0
    columns = [pa.chunked_array([p[j] for p in parts], pa.string()) for j in range(width)]
    return digest_of_columns(columns, version, chunk_rows=5)


def _rows(n: int, seed: int) -> list[tuple[object, ...]]:
    rnd = random.Random(seed)

    def text() -> str | None:
        return None if rnd.random() < 0.2 else rnd.choice(TEXT) + str(rnd.randint(0, 99))

    rows = []
    for rank in range(1, n + 1):
        head = (rank, text(), text(), "BD55490911", rnd.choice([0, 5000, 10**12]),
                rnd.random() < 0.8)  # fmt: skip
        ref = (f"L1-{rank}", None if rnd.random() < 0.9 else f"L0-{rank}")
        payee = (*tuple(text() for _ in range(7)), rnd.choice([None, 1950, 2001]))
        rows.append((*head, *ref, *payee, *(text() for _ in range(8))))
    return rows


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_column_wise_hash_equals_the_reference(version: int, chunk: int) -> None:
    rows = _rows(300, seed=version * 100 + chunk)
    chunks = [rows[i : i + chunk] for i in range(0, len(rows), chunk)]
    assert hash_chunks(chunks, version) == content_hash(rows, version)


def test_a_column_that_is_all_empty_in_one_chunk() -> None:
    rows = _rows(4, seed=1)
    rows = [(*r[:8], None, *r[9:]) for r in rows]  # beneficiary_id of the payee: all None
    assert hash_chunks([rows[:2], rows[2:]], 2) == content_hash(rows, 2)
    assert hash_chunks([], 2) == content_hash([], 2)
