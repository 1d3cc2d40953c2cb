"""Pass 1 of a registry import: read and check the whole file, spill the good rows.

Every chunk is normalised and checked (`registry_validate`); the good rows go to an anonymous
Arrow IPC spill (`registry_staging`), the errors are counted by row and field, never values,
and the first of them held (`registry_errors`: bounded memory however many rows are bad), and
beneficiary ids repeated anywhere in the file are found at the end: on 64-bit hashes first
(`repeated_hashes`: bounded memory at any size), confirmed exactly from the ids spilled beside
the rows, reading back only the rows whose hash repeats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from agam.core.errors import RegistryError
from allowances.registry_errors import BadRows, ErrorLog
from allowances.registry_read import Reader
from allowances.registry_schema import ImportReport, RowError, Status
from allowances.registry_staging import Spill
from allowances.registry_validate import ChunkResult, Context, validate_all
from allowances.repeated_hashes import RepeatedHashes

if TYPE_CHECKING:
    from allowances.registry_write import Duplicates

HASH = "_hash"  # the id's hash, spilled beside it
KEEP_ERRORS = 100_000  # errors held for the report; all are counted
REPEATS_AT_ONCE = 2_000_000  # repeated id hashes whose rows are read back at once


@dataclass
class Pass1:
    file_name: str
    spill: Spill
    total: int
    errors: pd.DataFrame  # the first errors by row: row, field, reason (sorted)
    synthetic: bool
    ignored: tuple[str, ...]
    log: ErrorLog
    reader: Reader

    @property
    def bad(self) -> BadRows:
        """Record positions excluded from the import."""
        return self.log.bad

    @property
    def errors_total(self) -> int:
        return self.log.total + len(self.reader.ragged)

    @property
    def bad_rows(self) -> int:
        """Rows with at least one error, unparseable lines included."""
        return self.log.bad.count + len(self.reader.ragged)

    def every_error(self) -> Iterator[pd.DataFrame]:
        """Every error in batches (row, field, reason); only when checked with an error spill."""
        return self.log.every(self.reader.row_numbers, self.reader.ragged)


def check_file(
    reader: Reader,
    ctx: Context,
    spill: Spill,
    id_spill: Spill,
    folder: Path | None = None,
    *,
    keep: int = KEEP_ERRORS,
    error_spill: Spill | None = None,
    tee: Callable[[ChunkResult], None] | None = None,
) -> Pass1:
    """Check every chunk, spill the good rows; repeated beneficiary ids are found on 64-bit
    hashes (spilled to `folder` beyond a few million) and, only where two hashes match,
    confirmed exactly from the ids spilled beside the rows. The first `keep` errors are held;
    with `error_spill` (a quarantine) every error is written there too. `tee` is given each
    chunk's result once it is spilled (`registry_early_copy` writes the rows meanwhile)."""
    log = ErrorLog(keep, error_spill)
    total = synthetic_true = 0
    with RepeatedHashes(folder) as id_hashes:
        for result in validate_all(reader.chunks(), ctx):
            total += result.rows
            synthetic_true += result.synthetic_true
            spill.append(result.valid)
            id_spill.append(result.ids.append_column(HASH, pa.array(result.id_hashes)))
            id_hashes.add(result.id_hashes)
            for index, fld, reasons in result.errors:
                log.add(index, fld, reasons)
            if tee is not None:
                tee(result)
        spill.finish()
        id_spill.finish()
        repeated = id_hashes.repeated()
    if id_spill.written and len(repeated):
        _repeated_ids(id_spill, repeated, reader, log)
    ragged = reader.ragged
    if not spill.written and not len(ragged):
        raise RegistryError(f"{ctx.file_name}: no data rows")
    if 0 < synthetic_true < total:
        raise RegistryError(f"{ctx.file_name}: mixes synthetic and real rows (column synthetic)")
    synthetic = total > 0 and synthetic_true == total
    return Pass1(
        file_name=ctx.file_name,
        spill=spill,
        total=total + len(ragged),
        errors=log.head(reader.row_numbers, ragged),
        synthetic=synthetic,
        ignored=reader.ignored,
        log=log,
        reader=reader,
    )


def _repeated_ids(id_spill: Spill, repeated: np.ndarray, reader: Reader, log: ErrorLog) -> None:
    """Beneficiary ids repeated anywhere in the file: the first occurrence stays, later ones
    fail. The rows of at most `REPEATS_AT_ONCE` repeated hashes are read back at a time."""
    groups = max(1, -(-len(repeated) // REPEATS_AT_ONCE))
    for hashes in np.array_split(repeated, groups):
        table = _ids_hashed_among(id_spill, hashes)
        order = pc.sort_indices(table, [("beneficiary_id", "ascending"), ("_index", "ascending")])
        ids = table.column("beneficiary_id").take(order).combine_chunks()
        index = table.column("_index").take(order).to_numpy()
        later = np.zeros(len(index), dtype=bool)
        if len(index) > 1:
            later[1:] = pc.equal(ids.slice(1), ids.slice(0, len(ids) - 1)).to_numpy(False)
        starts = np.maximum.accumulate(np.where(later, 0, np.arange(len(index))))
        first_rows = reader.row_numbers(index[starts[later]])
        texts = [f"same beneficiary_id as row {r}" for r in first_rows.tolist()]
        log.add(index[later], "beneficiary_id", texts)


def _ids_hashed_among(id_spill: Spill, hashes: np.ndarray) -> pa.Table:
    """The spilled (_index, beneficiary_id) rows whose id hashed to one of `hashes`: every
    row of a repeated id, and only a few others (ids sharing a hash by chance)."""
    wanted = pa.array(hashes, pa.uint64())
    picked = []
    for batch in id_spill.batches():
        kept = pc.is_in(batch.column(HASH), value_set=wanted)
        picked.append(pa.Table.from_batches([batch]).filter(kept).drop_columns([HASH]))
    return pa.concat_tables(picked)


def row_errors(name: str, frame: pd.DataFrame, limit: int) -> tuple[RowError, ...]:
    head = frame.head(limit)
    return tuple(
        RowError(name, int(r), str(f), str(m))
        for r, f, m in zip(head["row"], head["field"], head["reason"], strict=True)
    )


def report_of(
    first: Pass1,
    sha: str,
    errors: tuple[RowError, ...],
    status: Status,
    seconds: float,
    *,
    import_id: int | None = None,
    quarantined: int = 0,
    counts: dict[str, int] | None = None,
    dups: Duplicates | None = None,
) -> ImportReport:
    """The import's report from its first pass and, once written, its counts."""
    counts = counts or {}
    return ImportReport(
        file_name=first.file_name,
        sha256=sha,
        status=status,
        import_id=import_id,
        synthetic=first.synthetic,
        total=first.total,
        inserted=counts.get("inserted", 0),
        updated=counts.get("updated", 0),
        unchanged=counts.get("unchanged", 0),
        quarantined=quarantined,
        errors=errors,
        errors_total=first.errors_total,
        duplicates=dups.groups if dups else (),
        duplicate_counts=dict(dups.counts) if dups else {},
        ignored_columns=first.ignored,
        seconds=seconds,
    )
