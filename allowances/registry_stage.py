"""The connection a registry import writes on, and on SQLite the stage a first load copies.

A large first load into an empty SQLite store is written by the ADBC driver into a stage in
the import's private folder and copied into `beneficiaries` with one INSERT … SELECT in the
import's transaction (store.sqlite_stage: about three times faster than executemany). Every
other import writes on the same connection without a stage.

The stage is declared exactly as `beneficiaries` is (same columns, types and NOT NULLs) and
holds every stored value, the import's id (the next one, as SQLite numbers rows) and time
included, so the copy is SQLite's transfer: records moved whole, not decoded and re-encoded
(10 M households: 10-13 s instead of 21 s). SQLite makes that transfer only without
foreign-key enforcement, so the staged connection turns it off; the only reference the load
writes is `import_id`, which the copy compares with the import row before it transfers
(`registry_write.insert_from_stage`); a store filled meanwhile is written on another
connection (`registry_import._StoreFilled`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection

from allowances.registry_schema import STORED
from store.bulk_rows import storage_value
from store.db import SQLITE_PAGE_BYTES, Store
from store.models import Beneficiary
from store.sqlite_stage import STAGE_TABLE, attached, write_stage

STAGED = (*STORED, "row_sha256")
FILLED = ("id", "import_id", "updated_at")  # the stage's values beyond the file's
STAGE_ALIAS = "agam_stage"
BULK_CACHE_KIB = 262_144  # room for the index B-trees of a bulk load
Phase = Callable[[str], AbstractContextManager[None]]


@dataclass(frozen=True)
class Stage:
    """The attached stage: its qualified table, and the import id and time its rows hold."""

    table: str
    import_id: int
    updated_at: Any  # in the column's storage form


@contextmanager
def import_connection(
    store: Store,
    folder: Path,
    rows: Callable[[], Iterator[pa.Table]] | None,
    phase: Phase,
    at: datetime,
) -> Iterator[tuple[Connection, Stage | None]]:
    """A connection outside any transaction, and the stage when `rows` (the imported rows,
    STAGED columns) are given on SQLite; else None. A staged connection has foreign-key
    enforcement off (see the module docstring) and is discarded afterwards."""
    conn = store.engine.connect()
    sqlite = conn.dialect.name == "sqlite"
    driver = conn.connection.driver_connection
    assert driver is not None
    staged = False
    try:
        if sqlite:
            driver.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        tables = rows() if sqlite and rows is not None else iter(())
        head = next(tables, None)
        if head is None:
            yield conn, None
            return
        path = folder / "stage.sqlite3"
        layout = _Layout.of(conn, at)
        with phase("stage rows"):
            chained = itertools.chain([head], tables)
            batches = layout.batches(b for t in chained for b in t.to_batches())
            try:
                write_stage(path, layout.schema(head), batches, layout.create, SQLITE_PAGE_BYTES)
            except BaseException:  # rows given up half way: no stage left for a second try
                path.unlink(missing_ok=True)
                raise
        staged = True
        driver.execute("PRAGMA foreign_keys=OFF")  # outside a transaction: it takes effect
        with attached(driver, path, STAGE_ALIAS) as table:
            yield conn, Stage(table, layout.import_id, layout.updated_at)
    finally:
        if staged:  # never hand the pool a connection that may still hold the stage open
            conn.invalidate()
        elif sqlite and not conn.invalidated:
            driver.execute("PRAGMA cache_size=-2000")
        conn.close()


@dataclass(frozen=True)
class _Layout:
    """The stage declared as `beneficiaries` is, and the values beyond the file's."""

    columns: tuple[str, ...]
    create: str
    import_id: int
    updated_at: Any

    @classmethod
    def of(cls, conn: Connection, at: datetime) -> _Layout:
        driver = conn.connection.driver_connection
        assert driver is not None
        declared = driver.execute(f"PRAGMA table_info({Beneficiary.__tablename__})").fetchall()
        columns = tuple(str(c[1]) for c in declared)
        unknown = set(columns) - {*STAGED, *FILLED}
        if unknown:
            raise RuntimeError(f"beneficiaries has columns the stage does not fill: {unknown}")
        parts = [
            f'"{name}" {kind}{" NOT NULL" if notnull else ""}'
            + (f" DEFAULT {default}" if default is not None else "")
            for _cid, name, kind, notnull, default, _pk in declared
        ]
        keys = ", ".join(f'"{c[1]}"' for c in sorted(declared, key=lambda c: c[5]) if c[5])
        create = f"CREATE TABLE {STAGE_TABLE} ({', '.join(parts)}, PRIMARY KEY ({keys}))"
        next_import = driver.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM registry_imports")
        stamp = storage_value(conn, Beneficiary.__table__, "updated_at", at)  # type: ignore[arg-type]
        return cls(columns, create, int(next_import.fetchone()[0]), stamp)

    def schema(self, head: pa.Table) -> pa.Schema:
        fields = {f.name: f for f in head.schema}
        fields["id"] = pa.field("id", pa.int64())
        fields["import_id"] = pa.field("import_id", pa.int64())
        fields["updated_at"] = pa.field("updated_at", pa.string())
        return pa.schema([fields[c] for c in self.columns])

    def batches(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Each batch in the table's column order with its row ids (1, 2, … in file order,
        as an INSERT into the empty table numbers them), the import id and time."""
        first = 1
        for batch in batches:
            n = batch.num_rows
            filled = {
                "id": pa.array(np.arange(first, first + n, dtype=np.int64)),
                "import_id": pa.repeat(pa.scalar(self.import_id, pa.int64()), n),
                "updated_at": pa.repeat(pa.scalar(self.updated_at, pa.string()), n),
            }
            first += n
            yield pa.RecordBatch.from_arrays(
                [filled[c] if c in filled else batch.column(c) for c in self.columns],
                names=list(self.columns),
            )
