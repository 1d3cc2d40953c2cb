"""The UTF-8 bytes of an Arrow string array, straight from its buffers (no Python string per
value): for hashing rows, or all of them at once."""

from __future__ import annotations

import pyarrow as pa


def utf8_buffers(array: pa.Array | pa.ChunkedArray) -> tuple[memoryview, memoryview]:
    """(offsets, data) of a non-empty string array: value i is data[offsets[i]:offsets[i+1]]
    (offsets as 64-bit integers, len(array) + 1 of them)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    large = array.cast(pa.large_string())
    _, offsets_buf, data_buf = large.buffers()
    offsets = memoryview(offsets_buf).cast("q")[large.offset : large.offset + len(large) + 1]
    data = memoryview(data_buf) if data_buf is not None else memoryview(b"")
    return offsets, data
