"""A list's lines with their pinned payees, for the content hash and the payment file.

Reading 24 columns of a million lines value by value costs seconds of Python objects. Here
the database prints each line as one text (its printf: every field as `str()` writes it,
NULL as empty), which is hashed as it comes (`list_digest`: the text is the hashed line
itself) or parsed into text columns by Arrow's CSV reader with U+001F between fields
(`hashed_columns`). A field holding U+001F or a line break would not parse to the
right shape: that is seen, and the columns are then read value by value, so the result never
depends on the shortcut.
"""

from __future__ import annotations

import hashlib
import io
import operator
from collections.abc import Generator
from contextlib import closing
from functools import reduce
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from sqlalchemy import (
    Boolean,
    ColumnElement,
    LargeBinary,
    Select,
    Text,
    and_,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session, aliased

from store.bulk_rows import driver_rows
from store.list_hash import HEAD_FIELDS, digest_of_columns, text_columns
from store.models import AllowanceLine, AllowancePayee
from store.payee_repo import PAYEE_FIELDS, hash_columns, hash_rows

SEPARATOR = "\x1f"
CHUNK_ROWS = 100_000  # rows fetched, and lines hashed, at a time
LINE_COLUMNS = ("line_rank", "household_id", "line_beneficiary_id", "adm4_pcode", "amount_bdt")
INCLUDED_AT = 5  # position of `included` in hash_rows
PAYMENT_COLUMNS = [*LINE_COLUMNS, "line_ref", "amends_line_ref", *PAYEE_FIELDS]
HASHED_NAMES = [*PAYMENT_COLUMNS[:INCLUDED_AT], "included", *PAYMENT_COLUMNS[INCLUDED_AT:]]


class NotPrintable(Exception):
    """A stored field the printed read cannot carry exactly: U+001F or a line break (the
    split would shift) or NUL (SQLite's printf stops there)."""


def _line_text(column: Any) -> ColumnElement[str]:
    """A line field as the hash writes it: int(included) as 1 / 0, None as "None"."""
    if isinstance(column.type, Boolean):
        return case((column, "1"), else_="0")
    return func.coalesce(cast(column, Text), "None")


def _byte_length(field: Any, dialect: str) -> ColumnElement[int]:
    """The field's UTF-8 length as printed (NULL: 0), counted from the stored value."""
    if dialect == "sqlite":  # a BLOB's length counts past a NUL; printf stops at it
        return func.coalesce(func.length(cast(field, LargeBinary)), 0)
    return func.coalesce(func.octet_length(cast(field, Text)), 0)


def printed_lines(
    dialect: str, list_id: int, head_separator: str, fields: int
) -> Select[Any] | None:
    """One text per line, in rank order, written by the database's printf (NULL as empty),
    or None where the database has none: the first `fields` columns of `hash_rows`, the line
    fields joined by `head_separator`, then `head_separator` and the rest joined by
    SEPARATOR; and the bytes the line should take, to see a cut. The list's id range is
    scanned (its lines are written together); `+ 0` keeps SQLite from seeking each line
    through the list index instead."""
    printf = {"sqlite": func.printf, "postgresql": func.format}.get(dialect)
    if printf is None:
        return None
    line, payee, own = AllowanceLine, AllowancePayee, aliased(AllowanceLine)
    head, rest = hash_columns()
    columns = [*(_line_text(c) for c in head), *rest][:fields]
    layout = head_separator.join(["%s"] * HEAD_FIELDS)
    if fields > HEAD_FIELDS:
        layout += head_separator + SEPARATOR.join(["%s"] * (fields - HEAD_FIELDS))
    lengths = [_byte_length(c, dialect) for c in columns]
    low = select(func.min(own.id)).where(own.list_id == list_id).scalar_subquery()
    high = select(func.max(own.id)).where(own.list_id == list_id).scalar_subquery()
    return (
        select(printf(layout, *columns), reduce(operator.add, lengths))
        .outerjoin(payee, and_(payee.list_id == line.list_id, payee.rank == line.rank))
        .where(line.id >= low, line.id <= high, (line.list_id + 0) == list_id)
        .order_by(line.rank)
    )


def _printed_chunks(
    session: Session, statement: Select[Any], fields: int
) -> Generator[tuple[bytes, int], None, None]:
    """The printed lines, `CHUNK_ROWS` at a time, as UTF-8 each ending with a newline, and
    how many (fetched as bytes where the driver can: no decoding per line); NotPrintable if
    a line is shorter than its fields (printf stopped at a NUL)."""
    result = session.connection().execute(statement)
    connection = result.cursor.connection
    text_factory = getattr(connection, "text_factory", None)
    try:
        if text_factory is not None:
            connection.text_factory = bytes
        while rows := result.cursor.fetchmany(CHUNK_ROWS):
            texts = [r[0] if isinstance(r[0], bytes) else r[0].encode() for r in rows]
            chunk = b"\n".join(texts) + b"\n"
            if len(chunk) != sum(r[1] for r in rows) + len(rows) * fields:  # fields - 1 + \n
                raise NotPrintable
            yield chunk, len(rows)
    finally:
        result.close()
        if text_factory is not None:
            connection.text_factory = text_factory


def _parsed(chunk: bytes, rows: int, names: list[str]) -> pa.Table:
    """The printed lines of a chunk as text columns; NotPrintable unless each line
    parses to exactly `names` (a field holding SEPARATOR or a line break does not)."""
    try:
        table = pcsv.read_csv(
            io.BytesIO(chunk),
            pcsv.ReadOptions(column_names=names),
            pcsv.ParseOptions(delimiter=SEPARATOR, quote_char=False, escape_char=False),
            pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
    except pa.ArrowInvalid as error:
        raise NotPrintable from error
    if table.num_rows != rows:
        raise NotPrintable
    return table


def _typed_columns(session: Session, list_id: int) -> list[pa.ChunkedArray]:
    """The same columns read value by value (no printf, or a field it cannot carry)."""
    parts = []
    with driver_rows(session, hash_rows(list_id)) as cursor:
        while rows := cursor.fetchmany(CHUNK_ROWS):
            parts.append(text_columns(rows))
    width = len(PAYMENT_COLUMNS) + 1
    return [pa.chunked_array([p[j] for p in parts], pa.string()) for j in range(width)]


def hashed_columns(session: Session, list_id: int) -> list[pa.ChunkedArray]:
    """Every line with its pinned payee as the text columns of `hash_rows` (HASHED_NAMES):
    printed by the database and parsed by Arrow, or read value by value where the database
    has no printf or a stored field holds the separator or a line break."""
    names = HASHED_NAMES
    statement = printed_lines(session.get_bind().dialect.name, list_id, SEPARATOR, len(names))
    if statement is not None:
        try:
            printed = _printed_chunks(session, statement, len(names))
            with closing(printed) as chunks:  # closed at once, before any fallback read
                parts = [_parsed(c, n, names) for c, n in chunks]
            if not parts:
                return [pa.chunked_array([], pa.string()) for _ in names]
            table = pa.concat_tables(parts)
            return [table.column(i) for i in range(len(names))]
        except NotPrintable:
            pass
    return _typed_columns(session, list_id)


def payment_rows_of(columns: list[pa.ChunkedArray], version: int) -> tuple[str, pa.Table]:
    """The content hash of every line (as `store.list_hash` defines it), given as the
    HASHED_NAMES text columns (`hashed_columns`, or a payment snapshot's), and the included
    lines with their pinned payee as PAYMENT_COLUMNS text, in rank order (payee fields empty
    where none is pinned). No database: may run on a worker thread."""
    return digest_of_columns(columns, version), included_rows(columns)


def included_rows(columns: list[pa.ChunkedArray]) -> pa.Table:
    """The included lines of HASHED_NAMES text columns as PAYMENT_COLUMNS, in their order."""
    included = pc.equal(columns[INCLUDED_AT], "1")
    kept = columns[:INCLUDED_AT] + columns[INCLUDED_AT + 1 :]
    table = pa.table(kept, names=PAYMENT_COLUMNS)
    if not pc.all(included).as_py():  # no copy of every column when no line is excluded
        table = table.filter(included)
    return table


def list_digest(session: Session, list_id: int, version: int) -> str:
    """The content hash of the stored list (`store.list_repo.content_hash` of its lines):
    the database prints each line's hashed text itself, which is then hashed as it comes,
    or the lines are read value by value where it cannot print them exactly."""
    fields = len(PAYMENT_COLUMNS) + 1 if version >= 2 else HEAD_FIELDS
    statement = printed_lines(session.get_bind().dialect.name, list_id, "|", fields)
    if statement is not None:
        digest = hashlib.sha256()
        try:
            with closing(_printed_chunks(session, statement, fields)) as chunks:
                for chunk, _ in chunks:
                    digest.update(chunk)
            return digest.hexdigest()
        except NotPrintable:
            pass
    return digest_of_columns(_typed_columns(session, list_id), version)
