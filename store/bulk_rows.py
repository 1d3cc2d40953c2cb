"""Many rows from a DataFrame into one table, on the caller's connection; and many rows
out of a query as the driver's plain tuples (`driver_rows`).

SQLite gets the driver's own ``executemany`` of multi-row statements and PostgreSQL (psycopg)
``COPY FROM STDIN``, with values in storage form (JSON as text, NaN as NULL; no per-value
SQLAlchemy processing); other drivers get SQLAlchemy core ``insert``. Not the ORM's bulk
insert: that collects every row through the mapper first, several times slower.
"""

from __future__ import annotations

import io
import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
from sqlalchemy import ARRAY, JSON, Connection, Select, String, Table, any_, bindparam, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from store import copy_binary

CHUNK_ROWS = 50_000
LOOKUP_BATCH = 5_000  # values in one IN list (SQLite's variable limit)
ARRAY_LOOKUP_BATCH = 50_000  # values in one PostgreSQL array parameter
ROWS_PER_STATEMENT = 200  # SQLite: rows one INSERT statement carries


def _column(series: pd.Series, as_json: bool) -> list[Any]:
    values = series.astype(object).where(series.notna(), None).tolist()
    if not as_json:
        return values
    # What SQLAlchemy's JSON type stores: json.dumps text, once per object (rows often share
    # one, e.g. the reasons of households with the same terms; `values` keeps them alive).
    texts: dict[int, str] = {}
    out = []
    for v in values:
        text = texts.get(id(v))
        if text is None:
            text = texts[id(v)] = json.dumps(v)
        out.append(text)
    return out


def raw_path(conn: Connection) -> bool:
    """SQLite's executemany or psycopg's COPY: values go to the driver in storage form."""
    return conn.dialect.name == "sqlite" or conn.dialect.driver == "psycopg"


def storage_value(conn: Connection, table: Table, column: str, value: Any) -> Any:
    """A constant as the raw paths send it: on SQLite in the column type's storage form (e.g.
    UTC datetime text), once instead of per row; psycopg's COPY adapts the Python value."""
    if conn.dialect.name != "sqlite":
        return value
    processor = table.c[column].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return processor(value) if processor else value


def insert_tuples(
    conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Rows (values in storage form where `raw_path`) into `table`: SQLite's executemany,
    PostgreSQL's COPY FROM STDIN on the transaction's own connection, else core insert."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer
    names = ", ".join(quote.quote(c) for c in columns)
    if conn.dialect.name == "sqlite":
        head = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES "  # noqa: S608
        _sqlite_insert(conn, head, rows)
    elif conn.dialect.driver == "psycopg":
        driver = conn.connection.driver_connection
        assert driver is not None
        copy_sql = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        records = [dict(zip(columns, r, strict=True)) for r in rows]
        for start in range(0, len(records), CHUNK_ROWS):
            conn.execute(insert(table), records[start : start + CHUNK_ROWS])


def _sqlite_insert(conn: Connection, head: str, rows: list[tuple[Any, ...]]) -> None:
    """executemany of a statement that inserts ROWS_PER_STATEMENT rows at a time: SQLite binds
    and steps fewer, larger statements (175,000 list lines: 1.34-1.40 s one row a statement,
    0.80-0.87 s this way, the row triggers and indexes alike). The tail goes in one statement."""
    width = len(rows[0])
    driver = conn.connection.driver_connection
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if driver else 999
    per = max(1, min(ROWS_PER_STATEMENT, limit // width))
    one = f"({', '.join('?' * width)})"
    flat = itertools.chain.from_iterable
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        whole = len(chunk) - len(chunk) % per
        if whole:
            params = [tuple(flat(chunk[i : i + per])) for i in range(0, whole, per)]
            conn.exec_driver_sql(head + ", ".join([one] * per), params)
        if whole < len(chunk):
            conn.exec_driver_sql(head + ", ".join([one] * (len(chunk) - whole)),
                                 tuple(flat(chunk[whole:])))  # fmt: skip


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert the frame's columns that are the table's (NaN as NULL); returns the rows."""
    columns = [c for c in frame.columns if c in table.c]
    if frame.empty:
        return 0
    raw = raw_path(conn)
    data = [_column(frame[c], raw and isinstance(table.c[c].type, JSON)) for c in columns]
    if conn.dialect.driver == "psycopg" and _copied_as_csv(conn, table, columns, data):
        return len(frame)
    rows = list(zip(*data, strict=True))
    insert_tuples(conn, table, columns, rows)
    return len(rows)


def _copied_as_csv(conn: Connection, table: Table, columns: list[str], data: list[Any]) -> bool:
    """PostgreSQL: the columns (storage form) as one COPY in CSV written by pyarrow instead of
    psycopg's write_row per row (about 15 µs a line in Python). False when a column's values
    have no single Arrow type; the caller then writes rows."""
    try:
        arrays = [pa.array(values) for values in data]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return copy_arrow(conn, table, pa.table(arrays, names=columns))


def copy_arrow(conn: Connection, table: Table, rows: pa.Table) -> bool:
    """PostgreSQL (psycopg): the Arrow table's columns into `table` with one COPY, binary
    where `store.copy_binary` writes every column, else CSV written by pyarrow (nulls as
    unquoted empty fields, text quoted, so an empty text stays empty). Returns False,
    writing nothing, for any other driver."""
    if conn.dialect.driver != "psycopg":
        return False
    if rows.num_rows:
        copy_arrow_stream(conn, table, rows.column_names, iter([rows]))
    return True


def copy_arrow_stream(
    conn: Connection, table: Table, names: Sequence[str], tables: Iterator[pa.Table]
) -> int:
    """PostgreSQL (psycopg): every table of `tables` (columns `names`) into `table`, in one
    COPY while the batches can be sent in binary form (`store.copy_binary`), else in CSV;
    returns the rows. Batches are encoded on this thread while psycopg's queued writer sends
    the previous ones, so the server parses as the next are made (a COPY per batch made the
    two take turns, each waiting at every end)."""
    quote = conn.dialect.identifier_preparer
    columns = ", ".join(quote.quote(c) for c in names)
    driver = conn.connection.driver_connection
    assert driver is not None
    head = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
    binary = copy_binary.encoder(table, names)
    rows, mode = 0, ""
    with driver.cursor() as cursor, ExitStack() as open_copy:
        copy: Any = None
        for part in tables:
            for batch in part.select(list(names)).to_batches(max_chunksize=CHUNK_ROWS):
                data = binary(pa.Table.from_batches([batch])) if binary else None
                want = "binary" if data is not None else "csv"
                if want != mode:  # a batch the binary form cannot hold: CSV from here on
                    open_copy.close()
                    copy = open_copy.enter_context(
                        cursor.copy(f"{head} WITH (FORMAT {want})", writer=_queued(cursor))
                    )
                    open_copy.push(_ender(copy, want))
                    if want == "binary":
                        copy.write(copy_binary.HEADER)
                    mode = want
                copy.write(data if data is not None else _csv(batch))
                rows += batch.num_rows
    return rows


def _ender(copy: Any, mode: str) -> Callable[..., bool]:
    """The binary form's trailer, written as its COPY ends well (not after an error)."""

    def end(exc_type: type[BaseException] | None, *_: object) -> bool:
        if exc_type is None and mode == "binary":
            copy.write(copy_binary.TRAILER)
        return False

    return end


def _csv(batch: pa.RecordBatch) -> memoryview:
    buffer = io.BytesIO()
    options = pcsv.WriteOptions(include_header=False, quoting_style="needed")
    pcsv.write_csv(batch, buffer, options)
    return buffer.getbuffer()


def _queued(cursor: Any) -> Any:
    from psycopg.copy import QueuedLibpqWriter  # psycopg is installed only for PostgreSQL

    return QueuedLibpqWriter(cursor)


def in_batches(
    conn: Connection, column: ColumnElement[Any], values: Sequence[Any]
) -> Iterator[ColumnElement[bool]]:
    """WHERE clauses that together cover `values` of a text column: on PostgreSQL one array
    parameter (`= ANY`) per ARRAY_LOOKUP_BATCH values, elsewhere an IN list of LOOKUP_BATCH.
    An IN list of 5,000 parameters cost psycopg more to parse than the server took to
    answer it (20 s of a 1 M household registry refresh)."""
    if conn.dialect.name == "postgresql":
        for start in range(0, len(values), ARRAY_LOOKUP_BATCH):
            part = list(values[start : start + ARRAY_LOOKUP_BATCH])
            yield column == any_(bindparam("values", part, type_=ARRAY(String), unique=True))
        return
    for start in range(0, len(values), LOOKUP_BATCH):
        yield column.in_(values[start : start + LOOKUP_BATCH])


@contextmanager
def driver_rows(session: Session, stmt: Select[Any]) -> Iterator[Any]:
    """The driver's own cursor over `stmt`'s rows: plain tuples without SQLAlchemy's Row
    (a third of the time of reading a large list). Values are as the driver gives them, so
    SQLite's booleans are 0/1: the list hash writes both as 1/0 (`store.list_hash`)."""
    result = session.connection().execute(stmt)
    try:
        yield result.cursor
    finally:
        result.close()


def binary_rows(session: Session, stmt: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """`stmt`'s rows in the session's transaction; on PostgreSQL in the binary protocol, so
    large `bytea` values arrive as they are stored rather than hex-escaped (a million-line
    payment snapshot, 140 MB: 0.2-0.3 s instead of 0.8-1.0 s). Not for an expanding `IN`."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return [tuple(r) for r in conn.execute(stmt)]
    compiled = stmt.compile(dialect=conn.dialect)
    raw: Any = conn.connection.driver_connection  # psycopg's, in the same transaction
    with raw.cursor(binary=True) as cursor:
        cursor.execute(str(compiled), compiled.params)
        return [tuple(r) for r in cursor.fetchall()]
