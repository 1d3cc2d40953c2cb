"""Reading a registry Parquet file chunk by chunk holds one chunk, not the file: Arrow's
pre-buffering (on by default) keeps every range it read until the file is closed, which at
10 M households held hundreds of MB through the whole import."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from allowances.registry_read import open_reader
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer


def _held_after_reading(path: Path, pre_buffer: bool | None) -> int:
    """Arrow bytes still allocated once every chunk was read and dropped, reader alive;
    with `pre_buffer` given, the file opened that way instead of as the reader opens it."""
    reader = open_reader(path, 5_000)
    if pre_buffer is not None:
        reader._file = pq.ParquetFile(path, pre_buffer=pre_buffer)  # type: ignore[attr-defined]
    before = pa.total_allocated_bytes()
    for chunk in reader.chunks():
        del chunk
    return pa.total_allocated_bytes() - before


def test_a_parquet_registry_is_read_without_holding_what_was_read(
    union_layer: UnionLayer, tmp_path: Path
) -> None:
    path = tmp_path / "registry.parquet"
    table = pq.read_table(generate_registry(union_layer, 60_000, 3, tmp_path / "g.parquet").path)
    pq.write_table(table, path, row_group_size=5_000)  # many row groups, as an MIS export has
    del table
    size = path.stat().st_size  # what pre-buffering keeps: the file's column chunks
    assert _held_after_reading(path, pre_buffer=True) > size // 2  # Arrow's default
    assert _held_after_reading(path, pre_buffer=None) < size // 10
