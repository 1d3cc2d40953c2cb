"""`insert_tuples` writes every row once, in order, whatever the count: on SQLite several rows
a statement (a tail shorter than that, and fewer when SQLite allows fewer variables), on
PostgreSQL by COPY."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, select

from store import bulk_rows

ROWS = Table("bulk_probe", MetaData(), Column("id", Integer, primary_key=True),
             Column("name", String(20)), Column("score", Integer, nullable=True))  # fmt: skip


def _rows(n: int) -> list[tuple[int, str, int | None]]:
    return [(i + 1, f"n{i}", None if i % 7 == 0 else i * 3) for i in range(n)]


@pytest.mark.parametrize("count", [1, 199, 200, 201, 457])
def test_every_row_once_in_order(database_url: str, count: int) -> None:
    engine = create_engine(database_url)
    ROWS.create(engine)
    rows = _rows(count)
    with engine.begin() as conn:
        bulk_rows.insert_tuples(conn, ROWS, ["id", "name", "score"], rows)
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(select(ROWS).order_by(ROWS.c.id))] == rows
    engine.dispose()


def test_sqlite_with_few_variables_and_chunks(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/probe.sqlite3")

    @event.listens_for(engine, "connect")
    def few_variables(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 10)  # 3 rows of 3 a statement

    statements: list[int] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql.count("(?, ?, ?)"))

    monkeypatch.setattr(bulk_rows, "CHUNK_ROWS", 10)
    ROWS.create(engine)
    statements.clear()
    rows = _rows(23)  # chunks of 10, 10, 3: each 3 + 3 + 3 and a tail of 1; the last 3 in one
    with engine.begin() as conn:
        bulk_rows.insert_tuples(conn, ROWS, ["id", "name", "score"], rows)
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(select(ROWS).order_by(ROWS.c.id))] == rows
    assert [n for n in statements if n] == [3, 1, 3, 1, 3]
    engine.dispose()


@pytest.mark.parametrize(
    "wanted",
    [
        ["n1", "n5", "n6"],
        ["n1", "", "n5"],  # an empty text: one text split by the server would lose it
        ["n1", "a\nn5", "n6"],  # a line break: it would split in two
        [f"n{i}" for i in range(0, 40, 3)],
    ],
)
def test_in_batches_finds_exactly_the_values(
    database_url: str, wanted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_rows, "ARRAY_LOOKUP_BATCH", 4)
    monkeypatch.setattr(bulk_rows, "LOOKUP_BATCH", 4)
    engine = create_engine(database_url)
    ROWS.create(engine)
    rows = [*_rows(40), (41, "", 0), (42, "a", 0)]
    with engine.begin() as conn:
        bulk_rows.insert_tuples(conn, ROWS, ["id", "name", "score"], rows)
    found: list[str] = []
    with engine.connect() as conn:
        for where in bulk_rows.in_batches(conn, ROWS.c.name, wanted):
            found += conn.scalars(select(ROWS.c.name).where(where)).all()
    engine.dispose()
    assert sorted(found) == sorted(w for w in wanted if w in {r[1] for r in rows})
