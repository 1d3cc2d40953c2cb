"""The connection a registry import writes on, and on SQLite the stage a first load copies.

A large first load into an empty SQLite store is written by the ADBC driver into a stage in
the import's private folder and copied into `beneficiaries` with one INSERT … SELECT in the
import's transaction (store.sqlite_stage: about three times faster than executemany). Every
other import writes on the same connection without a stage.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection

from allowances.registry_schema import STORED
from store.db import Store
from store.sqlite_stage import attached, write_stage

STAGED = (*STORED, "row_sha256")
STAGE_ALIAS = "agam_stage"
BULK_CACHE_KIB = 262_144  # room for the index B-trees of a bulk load
Phase = Callable[[str], AbstractContextManager[None]]


@contextmanager
def import_connection(
    store: Store, folder: Path, rows: Callable[[], Iterator[pa.Table]] | None, phase: Phase
) -> Iterator[tuple[Connection, str | None]]:
    """A connection outside any transaction, and the qualified stage table when `rows`
    (the imported rows, STAGED columns) are given on SQLite; else None."""
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
        with phase("stage rows"):
            chained = itertools.chain([head], tables)
            batches = (b for t in chained for b in t.select(list(STAGED)).to_batches())
            try:
                write_stage(path, head.select(list(STAGED)).schema, batches)
            except BaseException:  # rows given up half way: no stage left for a second try
                path.unlink(missing_ok=True)
                raise
        staged = True
        with attached(driver, path, STAGE_ALIAS) as stage:
            yield conn, stage
    finally:
        if staged:  # never hand the pool a connection that may still hold the stage open
            conn.invalidate()
        elif sqlite and not conn.invalidated:
            driver.execute("PRAGMA cache_size=-2000")
        conn.close()
