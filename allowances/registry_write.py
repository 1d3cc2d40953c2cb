"""Bulk writes and duplicate queries for the registry import, on the caller's connection.

New rows go through ``store.bulk_rows.insert_tuples`` (SQLite executemany, PostgreSQL COPY)
with values already in storage form.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Constraint,
    ForeignKeyConstraint,
    MetaData,
    Table,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.schema import AddConstraint, DropConstraint

from agam.core.masking import mask_identifier
from agam.core.timeutil import ensure_utc, iso_utc
from allowances.registry_schema import STORED, DuplicateGroup
from store.bulk_rows import (
    copy_arrow,
    copy_arrow_stream,
    in_batches,
    insert_tuples,
    storage_value,
)
from store.models import Beneficiary, BeneficiaryHistory

if TYPE_CHECKING:
    from allowances.registry_stage import Stage

BENEFICIARIES: Table = Beneficiary.__table__  # type: ignore[assignment]
HISTORY: Table = BeneficiaryHistory.__table__  # type: ignore[assignment]
WRITTEN = (*STORED, "import_id", "row_sha256", "updated_at")
BULK_LOAD_ROWS = 100_000
DUPLICATE_LIST_LIMIT = 1_000
SORT_HELPER_THREADS = 2  # SQLite sorts a rebuilt index on this many helper threads
# SQLite sorts in runs as large as the page cache: 16 MB runs merged on the helper threads
# build a random-key index of 11 M rows in 6-7 s, 256 MB runs in 12-13 s, 1 GB in 17 s
SORT_CACHE_KIB = 16_384


@contextmanager
def bulk_load(
    conn: Connection,
    enabled: bool,
    phase: Callable[[str], AbstractContextManager[None]],
    before_rebuild: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Into an empty table, load without secondary indexes (the unique index on the
    beneficiary id among them, migration 0016) and rebuild them after; on PostgreSQL also
    without the foreign key (checked per row by a trigger), added back after by one pass
    over the table. The check has already refused ids repeated in the file.

    Building an index once by sorting is several times faster than updating five random-key
    B-trees row by row. DDL is transactional in SQLite and PostgreSQL, so a rollback restores
    them too. Only the table's owner may do this: the least-privilege app role on PostgreSQL
    (no DDL) loads with everything in place. `before_rebuild` is called just before the
    rebuild, or at once when the indexes stay in place.
    """
    if not enabled or not owns_beneficiaries(conn):
        if before_rebuild is not None:
            before_rebuild()
        yield
        return
    indexes = list(BENEFICIARIES.indexes)
    constraints: list[Constraint] = []
    if conn.dialect.name == "postgresql":
        constraints = [
            c
            for c in BENEFICIARIES.constraints
            if isinstance(c, UniqueConstraint | ForeignKeyConstraint)
        ]
    for constraint in constraints:
        conn.execute(DropConstraint(constraint))
    for index in indexes:
        index.drop(conn)
    yield
    if before_rebuild is not None:
        before_rebuild()
    with phase("index rebuild"), _sort_threads(conn):
        for constraint in constraints:
            conn.execute(AddConstraint(constraint))
        for index in indexes:
            index.create(conn)


@contextmanager
def _sort_threads(conn: Connection) -> Iterator[None]:
    """SQLite: let CREATE INDEX sort on helper threads (SQLite's default is none) in small
    runs (`SORT_CACHE_KIB`: the sorter's run is the page cache's size), then put both back
    for the pooled connection."""
    driver = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
    cache_kib = 0
    if driver is not None:
        cache_kib = int(driver.execute("PRAGMA cache_size").fetchone()[0])
        driver.execute(f"PRAGMA threads={SORT_HELPER_THREADS}")
        driver.execute(f"PRAGMA cache_size=-{SORT_CACHE_KIB}")
    try:
        yield
    finally:
        if driver is not None and not conn.invalidated:
            with suppress(Exception):  # a failed reset costs only memory on a later sort
                driver.execute("PRAGMA threads=0")
                driver.execute(f"PRAGMA cache_size={cache_kib}")


def owns_beneficiaries(conn: Connection) -> bool:
    """May this connection drop the table's indexes (SQLite: always; PostgreSQL: a member of
    the owning role)?"""
    if conn.dialect.name != "postgresql":
        return True
    owner = text(
        "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = CAST(:t AS regclass)"
    )
    return bool(conn.execute(owner, {"t": BENEFICIARIES.name}).scalar())


def refresh_statistics(conn: Connection) -> bool:
    """PostgreSQL: ANALYZE the registry tables after a large import, so the next queries (a
    district's proposal joins lines to beneficiaries) are planned on the new rows rather than
    on an empty table's estimates; autovacuum would only get there later. Only the owner may
    (PostgreSQL 15 skips it for other roles with a warning). Returns whether it ran."""
    if conn.dialect.name != "postgresql":
        return False
    if not owns_beneficiaries(conn):  # (this query began a transaction on `conn`)
        conn.rollback()
        return False
    conn.exec_driver_sql(f"ANALYZE {BENEFICIARIES.name}, union_exposure")
    conn.commit()
    return True


def insert_dicts(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 50_000):
        conn.execute(insert(table), rows[start : start + 50_000])


def _rows(table: pa.Table, import_id: int, stamp: Any) -> list[tuple[Any, ...]]:
    columns = [table.column(name).to_pylist() for name in STORED]
    n = table.num_rows
    hashes = table.column("row_sha256").to_pylist()
    return list(zip(*columns, [import_id] * n, hashes, [stamp] * n, strict=True))


def _as_written(table: pa.Table, import_id: int, at: datetime) -> pa.Table:
    """The WRITTEN columns of imported rows, as the PostgreSQL COPY sends them."""
    n = table.num_rows
    stored = table.select(list(STORED)).append_column(
        "import_id", pa.array(np.full(n, import_id, dtype=np.int64))
    )
    stored = stored.append_column("row_sha256", table.column("row_sha256"))
    stamp = pa.scalar(ensure_utc(at), pa.timestamp("us", tz="UTC"))
    return stored.append_column("updated_at", pa.repeat(stamp, n))


def insert_beneficiaries(conn: Connection, table: pa.Table, import_id: int, at: datetime) -> None:
    if copy_arrow(conn, BENEFICIARIES, _as_written(table, import_id, at)):  # PostgreSQL: COPY
        return
    stamp = storage_value(conn, BENEFICIARIES, "updated_at", at)
    insert_tuples(conn, BENEFICIARIES, WRITTEN, _rows(table, import_id, stamp))


def insert_all_beneficiaries(
    conn: Connection, tables: Iterator[pa.Table], import_id: int, at: datetime
) -> int:
    """Every row of `tables` as new records; returns how many. On PostgreSQL one COPY for
    them all, made while the server parses (10 M households: 56 s as a COPY per batch)."""
    if conn.dialect.driver == "psycopg":
        written = (_as_written(t, import_id, at) for t in tables)
        return copy_arrow_stream(conn, BENEFICIARIES, WRITTEN, written)
    rows = 0
    for table in tables:
        insert_beneficiaries(conn, table, import_id, at)
        rows += table.num_rows
    return rows


def insert_from_stage(conn: Connection, stage: Stage, import_id: int, at: datetime) -> int:
    """SQLite: every row of the attached stage in one INSERT … SELECT; returns the rows
    inserted. When the stage holds this import's id and time and foreign keys are not
    enforced on `conn`, SQLite transfers the records whole (`registry_stage`); otherwise
    the values are copied with the id and time given here."""
    quote = conn.dialect.identifier_preparer
    target = quote.format_table(BENEFICIARIES)
    stamp = storage_value(conn, BENEFICIARIES, "updated_at", at)
    enforced = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
    if (stage.import_id, stage.updated_at, enforced) == (import_id, stamp, 0):
        sql = f"INSERT INTO {target} SELECT * FROM {stage.table}"  # noqa: S608
        return int(conn.exec_driver_sql(sql).rowcount)
    names = ", ".join(quote.quote(c) for c in WRITTEN)
    stored = ", ".join(quote.quote(c) for c in STORED)
    sql = (
        f"INSERT INTO {target} ({names}) "  # noqa: S608
        f"SELECT {stored}, ?, row_sha256, ? FROM {stage.table} ORDER BY rowid"
    )
    return int(conn.exec_driver_sql(sql, (import_id, stamp)).rowcount)


def _id_batches(conn: Connection, beneficiary_ids: list[str]) -> Iterator[ColumnElement[bool]]:
    return in_batches(conn, BENEFICIARIES.c.beneficiary_id, beneficiary_ids)


def existing_hashes(conn: Connection, beneficiary_ids: list[str]) -> dict[str, str]:
    """beneficiary_id -> row_sha256 for the ids already stored, from the driver's own cursor
    (SQLAlchemy's rows took about twice as long for a 1 M-household refresh's 1.1 M)."""
    out: dict[str, str] = {}
    col = BENEFICIARIES.c
    for where in _id_batches(conn, beneficiary_ids):
        result = conn.execute(select(col.beneficiary_id, col.row_sha256).where(where))
        try:
            out.update(result.cursor.fetchall())
        finally:
            result.close()
    return out


def stored_households(conn: Connection, beneficiary_ids: list[str]) -> set[str]:
    """The households the given stored beneficiaries are in now (before an update moves them)."""
    out: set[str] = set()
    for where in _id_batches(conn, beneficiary_ids):
        out.update(conn.scalars(select(BENEFICIARIES.c.household_id).where(where)))
    return out


def update_beneficiaries(conn: Connection, table: pa.Table, import_id: int, at: datetime) -> None:
    """Copy the current versions to beneficiary_history, then overwrite them."""
    if conn.dialect.driver == "psycopg":
        _update_from_copy(conn, table, import_id, at)
        return
    ids = table.column("beneficiary_id").to_pylist()
    col = BENEFICIARIES.c
    history: list[dict[str, Any]] = []
    stmt = select(*[col[c] for c in WRITTEN])
    for where in _id_batches(conn, ids):
        for old in conn.execute(stmt.where(where)).mappings():
            record = dict(old)
            record["updated_at"] = iso_utc(record["updated_at"])
            history.append(
                {
                    "beneficiary_id": record["beneficiary_id"],
                    "import_id": import_id,
                    "superseded_at": at,
                    "record": record,
                }
            )
    insert_dicts(conn, HISTORY, history)
    values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in WRITTEN if c != "beneficiary_id"}
    change = (
        update(BENEFICIARIES)
        .where(col.beneficiary_id == bindparam("v_beneficiary_id"))
        .values(values)
    )
    params = [
        {f"v_{c}": v for c, v in zip(WRITTEN, row, strict=True)}
        for row in _rows(table, import_id, at)
    ]
    for start in range(0, len(params), 50_000):
        conn.execute(change, params[start : start + 50_000])


CHANGED = "agam_changed_beneficiaries"  # PostgreSQL: this transaction's new versions


def _update_from_copy(conn: Connection, table: pa.Table, import_id: int, at: datetime) -> None:
    """PostgreSQL: the new versions by COPY into a temporary table (dropped at commit); the
    old versions copied to beneficiary_history by the server (`_history_record`: the record
    the Python path writes); then one UPDATE … FROM the table. 55,000 changed records took
    about 7 s as an UPDATE each, and reading the old versions out to insert them again as
    JSON parameters about 2.5 s."""
    names = ", ".join(WRITTEN)
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {CHANGED} ON COMMIT DROP AS "  # noqa: S608
        f"SELECT {names} FROM {BENEFICIARIES.name} WITH NO DATA"
    )
    conn.exec_driver_sql(f"TRUNCATE {CHANGED}")
    staged = Table(CHANGED, MetaData(), *(Column(c, BENEFICIARIES.c[c].type) for c in WRITTEN))
    copy_arrow_stream(conn, staged, WRITTEN, iter([_as_written(table, import_id, at)]))
    conn.execute(
        text(
            f"INSERT INTO {HISTORY.name} (beneficiary_id, import_id, superseded_at, record) "  # noqa: S608
            f"SELECT b.beneficiary_id, :import_id, :at, {_history_record('b')} "
            f"FROM {BENEFICIARIES.name} AS b JOIN {CHANGED} AS t "
            "ON b.beneficiary_id = t.beneficiary_id"
        ).bindparams(bindparam("at", type_=HISTORY.c.superseded_at.type)),
        {"import_id": import_id, "at": at},
    )
    assignments = ", ".join(f"{c} = t.{c}" for c in WRITTEN if c != "beneficiary_id")
    conn.exec_driver_sql(
        f"UPDATE {BENEFICIARIES.name} AS b SET {assignments} FROM {CHANGED} AS t "  # noqa: S608
        "WHERE b.beneficiary_id = t.beneficiary_id"
    )


def _history_record(alias: str) -> str:
    """PostgreSQL: a stored version as the JSON object the Python path writes (the WRITTEN
    columns; `updated_at` as `iso_utc` prints it)."""
    pairs = [
        f"'{c}', to_char({alias}.{c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        if c == "updated_at"
        else f"'{c}', {alias}.{c}"
        for c in WRITTEN
    ]
    return f"json_build_object({', '.join(pairs)})"


@dataclass(frozen=True)
class Duplicates:
    counts: dict[str, int] = field(default_factory=dict)
    groups: tuple[DuplicateGroup, ...] = ()


DuplicateKind = Literal["nid", "wallet"]
DUPLICATE_COLUMNS: tuple[tuple[DuplicateKind, str], ...] = (
    ("nid", "nid"),
    ("wallet", "wallet_number"),
)
MEMBERS_LISTED = 20  # records listed per shared value; all are counted


class SharedValue:
    """The records sharing one NID or wallet: counted, their programmes kept, and only the
    first `MEMBERS_LISTED` by beneficiary id held (a placeholder NID can be on millions)."""

    __slots__ = ("_records", "programmes", "size")

    def __init__(self) -> None:
        self.size = 0
        self.programmes: set[str] = set()
        self._records: list[tuple[str, str]] = []

    def add(self, beneficiary_id: str, programme: str) -> None:
        self.size += 1
        self.programmes.add(programme)
        self._records.append((beneficiary_id, programme))
        if len(self._records) >= 2 * MEMBERS_LISTED:
            self._records = sorted(self._records)[:MEMBERS_LISTED]

    def listed(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self._records)[:MEMBERS_LISTED])


Members = dict[str, SharedValue]  # shared value -> its records


def find_duplicates(conn: Connection, limit: int = DUPLICATE_LIST_LIMIT) -> Duplicates:
    """Same NID or same wallet number on more than one beneficiary record (whole store).

    Counts are exact (``nid``, ``wallet`` and their ``*_cross_programme`` part); at most
    `limit` groups per kind are listed, with ids, programmes and the identifier masked. The
    shared values are found on the index alone, then only their records are read.
    """
    shared_by_kind: dict[DuplicateKind, Members] = {}
    for kind, name in DUPLICATE_COLUMNS:
        column = BENEFICIARIES.c[name]
        shared = select(column).where(column.is_not(None)).group_by(column).having(func.count() > 1)
        stmt = select(column, BENEFICIARIES.c.beneficiary_id, BENEFICIARIES.c.programme).where(
            column.in_(shared.scalar_subquery())
        )
        members: Members = defaultdict(SharedValue)
        for value, beneficiary_id, programme in conn.execute(stmt):
            members[value].add(beneficiary_id, programme)
        shared_by_kind[kind] = members
    return duplicates_of(shared_by_kind, limit)


def _group(kind: DuplicateKind, value: str, shared: SharedValue) -> DuplicateGroup:
    return DuplicateGroup(
        kind, mask_identifier(value), shared.listed(), shared.size, len(shared.programmes) > 1
    )


def duplicates_of(shared_by_kind: dict[DuplicateKind, Members], limit: int) -> Duplicates:
    """Counts and the first `limit` groups per kind, groups ordered by the shared value and
    records by beneficiary id (code-point order, whatever the database's collation)."""
    counts: dict[str, int] = {}
    groups: list[DuplicateGroup] = []
    for kind, _ in DUPLICATE_COLUMNS:
        members = shared_by_kind.get(kind, {})
        values = sorted(members)
        counts[kind] = len(values)
        counts[f"{kind}_cross_programme"] = sum(
            1 for value in values if len(members[value].programmes) > 1
        )
        groups += [_group(kind, value, members[value]) for value in values[: max(limit, 0)]]
    return Duplicates(counts, tuple(groups))
