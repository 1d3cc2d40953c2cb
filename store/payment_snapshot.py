"""The payment snapshot: an approved list's lines with their pinned payees, sealed in the
approval's transaction and read back by the export.

The approval reads every line with its payee once (`store.line_rows`), checks the content
hash on those text columns, and stores the same columns here as compressed Arrow IPC parts of
SNAPSHOT_PART_ROWS lines. The export reads the parts instead of the join, and the content hash
is re-computed from them before anything is written: a part changed or added behind the
guards gives another hash, and the export refuses. The approval records how many parts it
sealed, so a snapshot removed behind the guards is refused too, not taken for a list approved
before snapshots. Bytes that are not the expected Arrow stream are refused with the list and
part named.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa
import pyarrow.ipc as ipc
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agam.core.errors import InvalidTransition
from store.models import PaymentSnapshot

SNAPSHOT_PART_ROWS = 100_000  # lines per stored part (a few MB compressed)
COMPRESSION = "zstd"
_WRITE = ipc.IpcWriteOptions(compression=COMPRESSION)
Part = tuple[int, int, bytes]  # part number, lines, Arrow IPC bytes


def _ipc_bytes(part: pa.Table) -> bytes:
    """One record batch per part: the lines arrive in chunks of a few thousand, and a stream
    of many small compressed buffers decodes at half the speed."""
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, part.schema, options=_WRITE) as writer:
        writer.write_table(part.combine_chunks())
    data: bytes = sink.getvalue().to_pybytes()
    return data


def parts_for(lines: int) -> int:
    """How many parts a snapshot of `lines` lines is stored in (an empty list has one)."""
    return max(1, -(-lines // SNAPSHOT_PART_ROWS))


def seal(
    session: Session,
    list_id: int,
    content_sha256: str,
    columns: Sequence[pa.ChunkedArray],
    names: Sequence[str],
    at: datetime,
) -> None:
    """Store `columns` (text, every line in rank order) as the list's snapshot, in
    `parts_for(lines)` parts. The database accepts them only while the list is approved with
    this hash, numbered below the count its approval recorded."""
    table = pa.table(list(columns), names=list(names))
    rows = [
        {
            "list_id": list_id,
            "part": part,
            "content_sha256": content_sha256,
            "line_rows": piece.num_rows,
            "arrow_ipc": _ipc_bytes(piece),
            "sealed_at": at,
        }
        for part, piece in enumerate(
            table.slice(start, SNAPSHOT_PART_ROWS)
            for start in range(0, max(table.num_rows, 1), SNAPSHOT_PART_ROWS)
        )
    ]
    session.execute(insert(PaymentSnapshot), rows)


def sealed_parts(
    session: Session, list_id: int, content_sha256: str | None, recorded: int | None
) -> list[Part] | None:
    """The stored parts of the list's snapshot, in order. `recorded` is how many parts its
    approval sealed; None (approved before 0015 recorded it) with no parts gives None: the
    export then writes from the lines. Refuses a part that names another hash than
    `content_sha256`, a gap in the numbering, and any other number of parts than recorded."""
    snapshot = PaymentSnapshot
    stmt = (
        select(snapshot.part, snapshot.content_sha256, snapshot.line_rows, snapshot.arrow_ipc)
        .where(snapshot.list_id == list_id)
        .order_by(snapshot.part)
    )
    parts: list[Part] = []
    for number, (part, sha, rows, data) in enumerate(session.execute(stmt)):
        if part != number or sha != content_sha256:
            raise InvalidTransition(
                f"list {list_id}: payment snapshot part {part} is not part of the approved "
                "snapshot; not exported"
            )
        parts.append((part, rows, bytes(data)))
    if len(parts) != (recorded or 0):
        raise InvalidTransition(
            f"list {list_id}: the payment snapshot has {len(parts)} part(s), its approval "
            f"sealed {recorded or 0}; not exported"
        )
    return parts or None


def decoded_columns(list_id: int, parts: list[Part], names: Sequence[str]) -> list[pa.ChunkedArray]:
    """The parts' text columns, in rank order (no database: may run on a worker thread).
    Refuses a part that is not an Arrow stream of exactly `names` as text."""
    expected = pa.schema([(n, pa.string()) for n in names])
    tables: list[pa.Table] = []
    for part, rows, data in parts:
        where = f"list {list_id}: payment snapshot part {part}"
        try:  # full validation: offsets in bounds, valid UTF-8, before any kernel reads it
            table = ipc.open_stream(pa.py_buffer(data)).read_all()
            table.validate(full=True)
        except (pa.ArrowException, ValueError, OSError) as error:
            raise InvalidTransition(f"{where} is unreadable; not exported") from error
        if not table.schema.equals(expected) or table.num_rows != rows:
            raise InvalidTransition(f"{where} does not hold the list's columns; not exported")
        tables.append(table)
    table = pa.concat_tables(tables)
    return [table.column(i) for i in range(table.num_columns)]
