"""Many rows from a DataFrame into one table, on the caller's connection.

SQLite gets the driver's own ``executemany`` with values in storage form (JSON as text,
NaN as NULL; no per-value SQLAlchemy processing); other databases get SQLAlchemy core
``insert`` on the table with a list of parameter sets, which psycopg pipelines. Not the ORM's
bulk insert: that collects every row through the mapper first, several times slower.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import JSON, Connection, Table, insert

CHUNK_ROWS = 50_000


def _column(series: pd.Series, as_json: bool) -> list[Any]:
    values = series.astype(object).where(series.notna(), None).tolist()
    if as_json:  # what SQLAlchemy's JSON type stores on SQLite: json.dumps text
        return [json.dumps(v) for v in values]
    return values


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert the frame's columns that are the table's; returns the rows written."""
    columns = [c for c in frame.columns if c in table.c]
    if frame.empty:
        return 0
    sqlite = conn.dialect.name == "sqlite"
    data = [_column(frame[c], sqlite and isinstance(table.c[c].type, JSON)) for c in columns]
    if not sqlite:  # NaN must be NULL here too (psycopg would write 'NaN' into text)
        records = [dict(zip(columns, values, strict=True)) for values in zip(*data, strict=True)]
        for start in range(0, len(records), CHUNK_ROWS):
            conn.execute(insert(table), records[start : start + CHUNK_ROWS])
        return len(records)
    rows = list(zip(*data, strict=True))
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
    for start in range(0, len(rows), CHUNK_ROWS):
        conn.exec_driver_sql(sql, rows[start : start + CHUNK_ROWS])
    return len(rows)
