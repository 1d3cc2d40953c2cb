"""A bulk load into SQLite without one Python object per value.

Python's sqlite3 ``executemany`` converts every value of every row to a Python object and
back: about 20 µs a row for the registry's 26 columns. Here the Arrow batches are written by
the ADBC SQLite driver (C, binding straight from Arrow) into a private stage file, which the
store's own connection then ATTACHes and copies with one ``INSERT … SELECT`` inside its
transaction, so the load stays all or nothing with the rest of the import.

The stage holds personal data: it lives in the caller's owner-only import folder, with no
journal, and is unlinked as soon as the store's connection has it open. The ADBC driver has
its own copy of SQLite; the two never open the same file at once (the driver closes the stage
before the store attaches it), which is what keeps two SQLite libraries in one process safe.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

STAGE_TABLE = "rows"


def write_stage(
    path: Path,
    schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    create_sql: str,
    page_bytes: int,
) -> None:
    """Create `path` (mode 0600) with `page_bytes` pages, its table made by `create_sql`
    (whose declared types decide how values are stored), and append the batches to it;
    streamed, constant memory."""
    import adbc_driver_sqlite.dbapi as adbc  # only a bulk load pays for the import

    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    reader = pa.RecordBatchReader.from_batches(schema, batches)
    with adbc.connect(str(path)) as conn, conn.cursor() as cursor:
        for sql in (f"PRAGMA page_size={int(page_bytes)}", "PRAGMA journal_mode=OFF", create_sql):
            cursor.execute(sql)
            cursor.fetchall()
        cursor.adbc_ingest(STAGE_TABLE, reader, mode="append")
        conn.commit()


@contextmanager
def attached(driver_connection: Any, path: Path, alias: str) -> Iterator[str]:
    """ATTACH the stage to a sqlite3 connection that is outside any transaction (SQLite
    refuses ATTACH inside one), unlink its name at once, DETACH at the end. Yields the
    qualified table name. If DETACH fails (a statement still open, the connection broken),
    the connection is closed, so no one can go on using it with the stage attached."""
    driver_connection.execute(f"ATTACH DATABASE ? AS {alias}", (str(path),))
    try:
        path.unlink()
        yield f"{alias}.{STAGE_TABLE}"
    finally:
        try:
            driver_connection.execute(f"DETACH DATABASE {alias}")
        except Exception:  # closing is the answer to any DETACH failure
            with contextlib.suppress(Exception):
                driver_connection.close()
        path.unlink(missing_ok=True)
