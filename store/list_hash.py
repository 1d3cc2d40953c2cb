"""The list content hash, computed column-wise with Arrow.

Byte for byte the text `list_repo.content_hash` defines (one line per list line, in rank
order: `rank|household|beneficiary|union|amount|included`, and from version 2 `|` and the line
reference and pinned payee fields joined by U+001F, None there as empty), so hashes stored by
earlier releases still verify. `store.line_rows` lets the database print these lines; the
columns here are its path when the database cannot (and the export's, after the split).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from agam.core.arrow_bytes import utf8_buffers

HEAD_FIELDS = 6  # rank, household, beneficiary, union, amount, included


def text_of(array: pa.Array, values: Sequence[Any], none: str = "") -> pa.Array:
    """`values` (already converted to `array`) as text, the way `str()` writes each value;
    None becomes `none`."""
    if pa.types.is_boolean(array.type):
        array = pc.if_else(array, "1", "0")
    elif pa.types.is_null(array.type):
        return pa.array([none] * len(array), pa.string())
    elif pa.types.is_integer(array.type):
        array = pc.cast(array, pa.string())
    elif not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        # any other type: exactly what str() writes, value by value
        return pa.array([none if v is None else str(v) for v in values], pa.string())
    return pc.fill_null(array, none)


def terminated_lines(
    head: Sequence[pa.Array | pa.ChunkedArray],
    rest: Sequence[pa.Array | pa.ChunkedArray],
    version: int,
) -> memoryview:
    """The lines' hashed bytes, each followed by its newline, from the columns as text (head
    with None as "None", the rest with None as empty). The newline is appended to the last
    field alone, so the whole lines are built in two joins, straight into one Arrow buffer."""
    if len(head[0]) == 0:
        return memoryview(b"")
    last = rest if version >= 2 else head
    ended = [*last[:-1], pc.binary_join_element_wise(last[-1], pa.scalar(""), "\n")]
    fields = [*head, pc.binary_join_element_wise(*ended, "\x1f")] if version >= 2 else ended
    offsets, data = utf8_buffers(pc.binary_join_element_wise(*fields, "|"))
    return data[offsets[0] : offsets[-1]]


def text_columns(rows: Sequence[Sequence[Any]]) -> list[pa.Array]:
    """A run of lines (the columns of `hash_rows`) as text columns: the line fields with None
    as "None" (they are formatted as an f-string), the rest with None as empty."""
    columns = list(zip(*rows, strict=True))
    return [text_of(pa.array(c), c, "None" if i < HEAD_FIELDS else "")
            for i, c in enumerate(columns)]  # fmt: skip


def digest_of_columns(
    columns: Sequence[pa.Array | pa.ChunkedArray], version: int, chunk_rows: int = 100_000
) -> str:
    """The content hash of lines given as text columns, `chunk_rows` lines at a time."""
    digest = hashlib.sha256()
    hash_into(digest, columns, version, chunk_rows)
    return digest.hexdigest()


def hash_into(
    digest: Any,
    columns: Sequence[pa.Array | pa.ChunkedArray],
    version: int,
    chunk_rows: int = 100_000,
) -> None:
    """Feed the lines' hashed bytes to `digest`: a list hashed a part at a time gives the
    same hash as hashed whole."""
    for start in range(0, len(columns[0]) if columns else 0, chunk_rows):
        part = [c.slice(start, chunk_rows) for c in columns]
        rest = part[HEAD_FIELDS:] if version >= 2 else []
        digest.update(terminated_lines(part[:HEAD_FIELDS], rest, version))
