"""PostgreSQL's binary COPY format, written column-wise from Arrow (no Python value per row).

PostgreSQL parses a binary COPY about a fifth faster than the same rows as CSV (2 M registry
rows: 4.9 s against 6.3 s on the test cluster): integers, booleans and times arrive in their
stored form, and no quoting or delimiters are scanned. Each field is its length (big-endian
int32, -1 for NULL) and its bytes; each row starts with its field count (int16). Here every
field of a column is made at once as Arrow binary values, and one element-wise join makes the
rows, so the bytes are built by Arrow's kernels. Only the types below are written; `encoder`
returns None for anything else (or an integer out of its column's range), and the caller sends
CSV, which PostgreSQL checks and refuses as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from agam.core.arrow_bytes import utf8_buffers

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags 0, no header extension
TRAILER = b"\xff\xff"  # a field count of -1
NULL_FIELD = b"\xff\xff\xff\xff"
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # timestamptz counts microseconds from here
_INTEGERS = {SmallInteger: ">i2", BigInteger: ">i8", Integer: ">i4"}  # most specific first

Field = Callable[[pa.Array], pa.Array | None]  # a column's values -> its encoded fields


def _fixed(values: np.ndarray, valid: np.ndarray | None, dtype: str) -> pa.Array:
    """Fixed-width fields: the length, then the value big-endian; NULL where not `valid`."""
    raw = np.ascontiguousarray(values.astype(dtype, copy=False)).view(np.uint8)
    width = np.dtype(dtype).itemsize
    out = np.empty((len(values), 4 + width), np.uint8)
    out[:, :4] = np.frombuffer(width.to_bytes(4, "big"), np.uint8)
    out[:, 4:] = raw.reshape(len(values), width)
    fields = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4 + width), len(values), [None, pa.py_buffer(out)]
    ).cast(pa.binary())
    if valid is None or valid.all():
        return fields
    return pc.if_else(pa.array(valid), fields, pa.scalar(NULL_FIELD, pa.binary()))


def _valid(array: pa.Array) -> np.ndarray | None:
    return None if array.null_count == 0 else pc.is_valid(array).to_numpy(zero_copy_only=False)


def _integer(dtype: str) -> Field:
    info = np.iinfo(np.dtype(dtype))

    def encode(array: pa.Array) -> pa.Array | None:
        if not pa.types.is_integer(array.type):
            return None
        bounds = pc.min_max(array).as_py()
        if bounds["min"] is not None and not info.min <= bounds["min"] <= bounds["max"] <= info.max:
            return None  # out of the column's range: CSV, which PostgreSQL refuses
        values = pc.fill_null(array, 0).to_numpy(zero_copy_only=False)
        return _fixed(values, _valid(array), dtype)

    return encode


def _boolean(array: pa.Array) -> pa.Array | None:
    if not pa.types.is_boolean(array.type):
        return None
    values = pc.fill_null(array, False).to_numpy(zero_copy_only=False)
    return _fixed(values.astype(np.uint8), _valid(array), ">u1")


def _timestamp(array: pa.Array) -> pa.Array | None:
    if not pa.types.is_timestamp(array.type) or array.type.tz is None:
        return None  # a naive time would be read in the server's zone: leave it to CSV
    micros = pc.cast(array, pa.timestamp("us", tz="UTC")).cast(pa.int64())
    since = pc.subtract(micros, int(PG_EPOCH.timestamp() * 1_000_000))
    return _fixed(pc.fill_null(since, 0).to_numpy(zero_copy_only=False), _valid(array), ">i8")


def _text(array: pa.Array) -> pa.Array | None:
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return None
    lengths = pc.fill_null(pc.binary_length(array), 0).to_numpy(zero_copy_only=False)
    prefix = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4), len(array), [None, pa.py_buffer(lengths.astype(">i4"))]
    ).cast(pa.binary())
    joined = pc.binary_join_element_wise(prefix, array.cast(pa.binary()), b"")
    return pc.fill_null(joined, pa.scalar(NULL_FIELD, pa.binary()))  # a NULL value: -1


def _field_for(column_type: object) -> Field | None:
    for sql_type, dtype in _INTEGERS.items():
        if isinstance(column_type, sql_type):
            return _integer(dtype)
    if isinstance(column_type, Boolean):
        return _boolean
    if isinstance(column_type, DateTime) and column_type.timezone:
        return _timestamp
    if isinstance(column_type, Enum):
        return None
    if isinstance(column_type, String | Text) and not getattr(column_type, "collation", None):
        return _text
    return None


def encoder(table: Table, names: Sequence[str]) -> Callable[[pa.Table], memoryview | None] | None:
    """A function from a batch of `names` columns to its rows in binary COPY form (no header
    or trailer), or None when a column's type is not written here. The function itself
    returns None for a batch whose values its columns cannot take."""
    found = [_field_for(getattr(table.c[n].type, "impl", table.c[n].type)) for n in names]
    fields = [f for f in found if f is not None]
    if len(fields) != len(names):
        return None
    count = len(names).to_bytes(2, "big")

    def rows(batch: pa.Table) -> memoryview | None:
        columns = [batch.column(n).combine_chunks() for n in names]
        encoded = [f(c) for f, c in zip(fields, columns, strict=True)]
        if any(e is None for e in encoded):
            return None
        head = pa.repeat(pa.scalar(count, pa.binary()), batch.num_rows)
        ends, data = utf8_buffers(pc.binary_join_element_wise(head, *encoded, b""))
        return data[ends[0] : ends[-1]]

    return rows
