"""Binary COPY from Arrow: the exact bytes PostgreSQL's format defines, the same rows stored as
the CSV path stores them, and CSV wherever the binary form cannot hold a batch."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    create_engine,
    select,
)

from store import bulk_rows, copy_binary
from tests.conftest import fresh_postgres_database, postgres_admin_url

PROBE = Table("copy_probe", MetaData(), Column("id", Integer, primary_key=True),
              Column("s", String(40)), Column("x", Text), Column("i", Integer),
              Column("b", BigInteger), Column("h", SmallInteger), Column("f", Boolean),
              Column("at", DateTime(timezone=True)))  # fmt: skip
NAMES = ["s", "x", "i", "b", "h", "f", "at"]
T0 = datetime(2025, 7, 4, 6, 0, tzinfo=UTC)


def _rows() -> pa.Table:
    """Empty text and NULL, Bangla, CSV's own characters, integer extremes, times either side
    of PostgreSQL's epoch (2000-01-01)."""
    return pa.table({
        "s": pa.array(["", None, "পারভীন দাস", 'a,"b"\nc', "x"]),
        "x": pa.array(["t", "", None, "\\N", "é"]),
        "i": pa.array([0, -(2**31), 2**31 - 1, None, 5], pa.int64()),
        "b": pa.array([2**40, None, -1, 0, 7]),
        "h": pa.array([1, 2, None, -(2**15), 2**15 - 1], pa.int32()),
        "f": pa.array([True, False, None, True, False]),
        "at": pa.array([T0, None, datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                        datetime(2000, 1, 1, tzinfo=UTC), datetime(2026, 12, 7, 0, 1, 2, 345678,
                        tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
    })  # fmt: skip


def _field(data: bytes | None) -> bytes:
    return struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data


def test_the_bytes_are_postgresqls_binary_copy_rows() -> None:
    encode = copy_binary.encoder(PROBE, NAMES)
    assert encode is not None
    table = _rows().slice(0, 3)
    micros = int((T0 - copy_binary.PG_EPOCH).total_seconds()) * 1_000_000
    before_epoch = -1  # one microsecond before 2000-01-01
    expected = b"".join([
        struct.pack(">h", 7) + _field(b"") + _field(b"t") + _field(struct.pack(">i", 0))
        + _field(struct.pack(">q", 2**40)) + _field(struct.pack(">h", 1)) + _field(b"\x01")
        + _field(struct.pack(">q", micros)),
        struct.pack(">h", 7) + _field(None) + _field(b"") + _field(struct.pack(">i", -(2**31)))
        + _field(None) + _field(struct.pack(">h", 2)) + _field(b"\x00") + _field(None),
        struct.pack(">h", 7) + _field("পারভীন দাস".encode()) + _field(None)
        + _field(struct.pack(">i", 2**31 - 1)) + _field(struct.pack(">q", -1)) + _field(None)
        + _field(None) + _field(struct.pack(">q", before_epoch)),
    ])  # fmt: skip
    assert bytes(encode(table) or b"?") == expected
    assert b"PGCOPY\n\xff\r\n\x00" + bytes(8) == copy_binary.HEADER
    assert struct.pack(">h", -1) == copy_binary.TRAILER


def test_what_the_binary_form_does_not_write_is_left_to_csv() -> None:
    with_json = Table("j", MetaData(), Column("id", Integer, primary_key=True),
                      Column("reasons", JSON))  # fmt: skip
    assert copy_binary.encoder(with_json, ["reasons"]) is None
    encode = copy_binary.encoder(PROBE, ["i", "h", "at"])
    assert encode is not None
    assert encode(pa.table({"i": [2**31], "h": [1], "at": _rows()["at"][:1]})) is None
    assert encode(pa.table({"i": [1], "h": [2**15], "at": _rows()["at"][:1]})) is None
    assert encode(pa.table({"i": ["12"], "h": [1], "at": _rows()["at"][:1]})) is None
    naive = pa.array([datetime(2025, 7, 4)], pa.timestamp("us"))
    assert encode(pa.table({"i": [1], "h": [1], "at": naive})) is None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database(postgres_admin_url()) as url:
        yield url


def _stored(url: str, *batches: pa.Table) -> tuple[list[tuple[object, ...]], int]:
    engine = create_engine(url)
    try:
        PROBE.create(engine)
        with engine.begin() as conn:
            written = bulk_rows.copy_arrow_stream(conn, PROBE, NAMES, iter(batches))
        with engine.connect() as conn:
            rows = [tuple(r)[1:] for r in conn.execute(select(PROBE).order_by(PROBE.c.id))]
    finally:
        engine.dispose()
    return rows, written


def test_postgresql_stores_the_binary_rows_as_it_stores_csv(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _rows()
    encoded: list[int] = []
    real = copy_binary.encoder

    def counting(*args: Any) -> Any:
        encode = real(*args)
        assert encode is not None

        def rows(batch: pa.Table) -> memoryview | None:
            data = encode(batch)
            encoded.append(-1 if data is None else batch.num_rows)
            return data

        return rows

    monkeypatch.setattr(copy_binary, "encoder", counting)
    binary, written = _stored(postgres_url, table.slice(0, 2), table.slice(2))
    assert (written, encoded) == (5, [2, 3])  # both batches went in binary form
    assert binary == [tuple(r.values()) for r in table.to_pylist()]
    monkeypatch.setattr(copy_binary, "encoder", lambda *args: None)
    with fresh_postgres_database(postgres_admin_url()) as other:
        as_csv, _ = _stored(other, table)
    assert as_csv == binary


def test_a_batch_the_binary_form_cannot_hold_goes_as_csv_in_order(postgres_url: str) -> None:
    first = pa.table({"s": ["a"], "x": ["b"], "i": [1], "b": [2], "h": [3], "f": [True],
                      "at": _rows()["at"][:1]})  # fmt: skip
    text_integers = first.set_column(2, "i", pa.array(["12"]))  # PostgreSQL parses it
    rows, written = _stored(postgres_url, first, text_integers, first)
    assert written == 3
    assert [r[2] for r in rows] == [1, 12, 1]


def test_an_integer_out_of_range_is_refused_as_before(postgres_url: str) -> None:
    too_big = pa.table({"s": ["a"], "x": ["b"], "i": [2**31], "b": [2], "h": [3], "f": [True],
                        "at": _rows()["at"][:1]})  # fmt: skip
    psycopg = pytest.importorskip("psycopg")
    with pytest.raises(psycopg.errors.NumericValueOutOfRange):  # as the CSV form always was
        _stored(postgres_url, too_big)


def test_postgresql_still_checks_lengths_and_text_in_binary_form(postgres_url: str) -> None:
    """varchar's length and UTF-8 (no NUL) are checked by the server's receive functions."""
    psycopg = pytest.importorskip("psycopg")
    row = {"x": ["b"], "i": [1], "b": [2], "h": [3], "f": [True], "at": _rows()["at"][:1]}
    for text, refused in (("x" * 41, psycopg.errors.StringDataRightTruncation),
                          ("a\x00b", psycopg.errors.CharacterNotInRepertoire)):  # fmt: skip
        batch = pa.table({"s": [text], **row})
        assert copy_binary.encoder(PROBE, NAMES)(batch) is not None  # type: ignore[misc]
        with pytest.raises(refused):
            _stored(postgres_url, batch)
        with psycopg.connect(postgres_url.replace("+psycopg", "")) as conn:
            conn.execute("DROP TABLE IF EXISTS copy_probe")
