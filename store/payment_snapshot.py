"""The payment snapshot: an approved list's lines with their pinned payees, sealed in the
approval's transaction and read back by the export.

The approval reads every line with its payee once (`store.line_rows`), checks the content
hash on those text columns, and stores the same columns here as compressed Arrow IPC parts of
at most SNAPSHOT_PART_ROWS lines, in one of two layouts:

- payment-ready (the lines passed the export's checks at the approval): one channel group per
  part, the approval recording the sha256 of the parts' bytes (`decisions.sealed_sha256`).
  The export checks the bytes against it and writes each group as stored: bytes that match
  are the columns whose content hash the approval checked.
- rank order (no checks were run, or a line failed them): the export re-computes the content
  hash from the parts and runs its checks, and refuses what fails.

Either way a part changed or added behind the guards is refused, and the approval records how
many parts it sealed, so a snapshot removed behind the guards is refused too, not taken for a
list approved before snapshots. Bytes that are not the expected Arrow stream are refused with
the list and part named.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agam.core.errors import InvalidTransition
from store.bulk_rows import binary_rows
from store.models import PaymentSnapshot

SNAPSHOT_PART_ROWS = 100_000  # lines per stored part (a few MB compressed)
# lz4: a third more bytes than zstd, but a million lines decode in 0.06 s instead of 0.14-0.5
COMPRESSION = "lz4"
_WRITE = ipc.IpcWriteOptions(compression=COMPRESSION)
Part = tuple[int, int, bytes]  # part number, lines, Arrow IPC bytes
Piece = tuple[int, bytes]  # lines, Arrow IPC bytes: a part before it is numbered
CHECKED_KEY = "agam.checked"  # a ready part's schema metadata: the checks its lines passed


def _ipc_bytes(part: pa.Table) -> bytes:
    """One record batch per part: the lines arrive in chunks of a few thousand, and a stream
    of many small compressed buffers decodes at half the speed."""
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, part.schema, options=_WRITE) as writer:
        writer.write_table(part.combine_chunks())
    data: bytes = sink.getvalue().to_pybytes()
    return data


def channel_key(table: pa.Table) -> pa.ChunkedArray:
    """Each line's payment-file group: its channel, and for mobile money its provider
    (`mfs_bkash`)."""
    channel = table["payment_channel"]
    mfs = pc.binary_join_element_wise("mfs", table["mfs_provider"], "_")
    return pc.if_else(pc.equal(channel, "mfs"), mfs, channel)


def _payment_order(table: pa.Table) -> list[pa.Table]:
    """The lines in the order a payment-ready seal keeps them: the excluded lines, then one
    group per channel key in name order, each in rank order. One stable sort and one gather
    of every column (a million lines: 0.4 s, against 0.8-2.5 s for a filter per group)."""
    included = pc.equal(table["included"], "1")
    key = pc.if_else(included, channel_key(table), pa.scalar(None, pa.string()))
    order = pc.array_sort_indices(key.combine_chunks(), null_placement="at_start")
    ordered, runs = table.take(order), pc.value_counts(key.take(order))
    groups, start = [], 0
    for lines in runs.field("counts").to_pylist():  # in sorted order, the excluded first
        groups.append(ordered.slice(start, lines))
        start += lines
    return groups or [table]


def pieces(
    columns: Sequence[pa.ChunkedArray], names: Sequence[str], checked: str | None
) -> list[Piece]:
    """The snapshot's parts (lines, Arrow IPC bytes) of `columns` (text, every line in rank
    order): `checked` (the lines passed the export's checks, named so), one channel group per
    part (`_payment_order`), so an export writes each group as it is stored, the name in each
    part's schema (CHECKED_KEY); else in rank order, for an export that re-hashes and checks
    every line. At most SNAPSHOT_PART_ROWS lines a part; an empty list has one empty part."""
    table = pa.table(list(columns), names=list(names))
    groups = [table]
    if checked is not None:
        table = table.replace_schema_metadata({CHECKED_KEY: checked})
        groups = _payment_order(table)
    return [
        (piece.num_rows, _ipc_bytes(piece))
        for group in groups
        for piece in (
            group.slice(start, SNAPSHOT_PART_ROWS)
            for start in range(0, max(group.num_rows, 1), SNAPSHOT_PART_ROWS)
        )
    ]


def bytes_digest(data: Sequence[bytes]) -> str:
    """The sha256 of the parts' bytes in part order (what a ready seal's approval records)."""
    digest = hashlib.sha256()
    for chunk in data:
        digest.update(chunk)
    return digest.hexdigest()


def seal(
    session: Session, list_id: int, content_sha256: str, parts: Sequence[Piece], at: datetime
) -> None:
    """Store `parts` (`pieces`) as the list's snapshot. The database accepts them only while
    the list is approved with this hash, numbered below the count its approval recorded."""
    rows = [
        {
            "list_id": list_id,
            "part": number,
            "content_sha256": content_sha256,
            "line_rows": lines,
            "arrow_ipc": data,
            "sealed_at": at,
        }
        for number, (lines, data) in enumerate(parts)
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
    for number, (part, sha, rows, data) in enumerate(binary_rows(session, stmt)):
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
    """The parts' text columns, in their stored order, fully validated (offsets in bounds,
    valid UTF-8) before any kernel reads them (no database: may run on a worker thread)."""
    table = pa.concat_tables(_decoded(list_id, parts, names, validate=True))
    return [table.column(i) for i in range(table.num_columns)]


def _decoded(
    list_id: int, parts: list[Part], names: Sequence[str], *, validate: bool
) -> list[pa.Table]:
    """Each part as a table; refuses one that is not an Arrow stream of exactly `names` as
    text (`validate`: nor structurally sound throughout)."""
    expected = pa.schema([(n, pa.string()) for n in names])
    tables = []
    for part, rows, data in parts:
        where = f"list {list_id}: payment snapshot part {part}"
        try:
            table = ipc.open_stream(pa.py_buffer(data)).read_all()
            if validate:
                table.validate(full=True)
        except (pa.ArrowException, ValueError, OSError) as error:
            raise InvalidTransition(f"{where} is unreadable; not exported") from error
        if not table.schema.equals(expected) or table.num_rows != rows:
            raise InvalidTransition(f"{where} does not hold the list's columns; not exported")
        tables.append(table)
    return tables


def _key_of(table: pa.Table) -> str | None:
    """The channel group of a ready part (None: its lines are excluded ones)."""
    if table.num_rows == 0 or table["included"][0].as_py() != "1":
        return None
    return str(channel_key(table.slice(0, 1))[0].as_py())


def check_sealed_bytes(list_id: int, parts: list[Part], sealed_sha256: str) -> None:
    """Refuses parts whose bytes are not those a payment-ready approval sealed."""
    if bytes_digest([data for _, _, data in parts]) != sealed_sha256:
        raise InvalidTransition(
            f"list {list_id}: the payment snapshot is not the one its approval sealed; not exported"
        )


def decoded_ready(list_id: int, parts: list[Part], names: Sequence[str]) -> list[pa.Table]:
    """A payment-ready seal's parts as tables, read but not yet computed on: call
    `check_sealed_bytes` before `ready_groups` uses them (it may run meanwhile, here on a
    worker thread). Refuses a part that is not an Arrow stream of exactly `names` as text."""
    return _decoded(list_id, parts, names, validate=False)


def checked_under(tables: list[pa.Table]) -> str | None:
    """The checks a ready seal's lines passed at the approval (its parts' CHECKED_KEY), or
    None where the parts do not all say the same."""
    tags = {(t.schema.metadata or {}).get(CHECKED_KEY.encode()) for t in tables}
    tag = tags.pop() if len(tags) == 1 else None
    return tag.decode() if tag is not None else None


def ready_groups(tables: list[pa.Table]) -> list[tuple[str, pa.Table]]:
    """The paid lines of a payment-ready seal whose bytes `check_sealed_bytes` accepted (the
    approval's own: no full validation needed), one table per channel group in name order,
    each in rank order."""
    groups: dict[str, list[pa.Table]] = {}
    for table in tables:
        key = _key_of(table)
        if key is not None:
            groups.setdefault(key, []).append(table)
    return [(key, pa.concat_tables(tables)) for key, tables in sorted(groups.items())]


def in_rank_order(columns: list[pa.ChunkedArray], names: Sequence[str]) -> list[pa.ChunkedArray]:
    """A ready seal's decoded columns back in rank order (what the content hash covers)."""
    table = pa.table(columns, names=list(names))
    order = pc.sort_indices(pc.cast(table["line_rank"], pa.int64()))
    ranked = table.take(order)
    return [ranked.column(i) for i in range(ranked.num_columns)]
