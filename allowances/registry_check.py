"""Pass 1 of a registry import: read and check the whole file, spill the good rows.

Every chunk is normalised and checked (`registry_validate`); the good rows go to an anonymous
Arrow IPC spill (`registry_staging`), the errors are kept by row and field (never values), and
beneficiary ids repeated anywhere in the file are found at the end: on 64-bit hashes first
(`repeated_hashes`: bounded memory at any size), confirmed exactly from the ids spilled beside
the rows, reading back only the rows whose hash repeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from agam.core.errors import RegistryError
from allowances.registry_read import Reader
from allowances.registry_schema import FIELD_NAMES, ImportReport, RowError, Status
from allowances.registry_staging import Spill
from allowances.registry_validate import Context, validate_all
from allowances.repeated_hashes import RepeatedHashes

if TYPE_CHECKING:
    from allowances.registry_write import Duplicates

HASH = "_hash"  # the id's hash, spilled beside it
FIELD_ORDER = {name: i for i, name in enumerate(FIELD_NAMES)}


@dataclass
class Pass1:
    file_name: str
    spill: Spill
    total: int
    errors: pd.DataFrame  # row, field, reason (sorted)
    bad_index: np.ndarray  # record positions excluded from the import
    bad_rows: int  # rows with at least one error (including unparseable ones)
    synthetic: bool
    ignored: tuple[str, ...]


def check_file(
    reader: Reader, ctx: Context, spill: Spill, id_spill: Spill, folder: Path | None = None
) -> Pass1:
    """Check every chunk, spill the good rows; repeated beneficiary ids are found on 64-bit
    hashes (spilled to `folder` beyond a few million) and, only where two hashes match,
    confirmed exactly from the ids spilled beside the rows."""
    error_frames: list[pd.DataFrame] = []
    total = synthetic_true = 0
    with RepeatedHashes(folder) as id_hashes:
        for result in validate_all(reader.chunks(), ctx):
            total += result.rows
            synthetic_true += result.synthetic_true
            spill.append(result.valid)
            id_spill.append(result.ids.append_column(HASH, pa.array(result.id_hashes)))
            id_hashes.add(result.id_hashes)
            for index, fld, reasons in result.errors:
                error_frames.append(
                    pd.DataFrame({"_index": index, "field": fld, "reason": reasons})
                )
        spill.finish()
        id_spill.finish()
        repeated = id_hashes.repeated()
    # Duplicate beneficiary ids anywhere in the file: the first occurrence stays, later ones fail.
    if id_spill.written and len(repeated):
        ids = _ids_hashed_among(id_spill, repeated)
        dup = ids.duplicated("beneficiary_id", keep="first")
        if dup.any():
            first_at = ids[~dup].set_index("beneficiary_id")["_index"]
            later = ids[dup]
            first_rows = reader.row_numbers(later["beneficiary_id"].map(first_at).to_numpy())
            texts = [f"same beneficiary_id as row {r}" for r in first_rows]
            error_frames.append(
                pd.DataFrame(
                    {
                        "_index": later["_index"].to_numpy(),
                        "field": "beneficiary_id",
                        "reason": texts,
                    }
                )
            )
    frame = (
        pd.concat(error_frames, ignore_index=True)
        if error_frames
        else pd.DataFrame({"_index": pd.Series([], dtype="int64"), "field": [], "reason": []})
    )
    bad_index = np.unique(frame["_index"].to_numpy(dtype=np.int64))
    frame["row"] = reader.row_numbers(frame["_index"].to_numpy(dtype=np.int64))
    structural = pd.DataFrame(
        [(-1, e.field, e.reason, e.row) for e in reader.structural_errors],
        columns=["_index", "field", "reason", "row"],
    )
    frame = pd.concat([frame, structural], ignore_index=True) if len(structural) else frame
    frame["_order"] = frame["field"].map(FIELD_ORDER).fillna(-1)
    frame = frame.sort_values(["row", "_order"], kind="stable").reset_index(drop=True)
    if not spill.written and not reader.structural_errors:
        raise RegistryError(f"{ctx.file_name}: no data rows")
    if 0 < synthetic_true < total:
        raise RegistryError(f"{ctx.file_name}: mixes synthetic and real rows (column synthetic)")
    synthetic = total > 0 and synthetic_true == total
    total += len(reader.structural_errors)
    return Pass1(
        file_name=ctx.file_name,
        spill=spill,
        total=total,
        errors=frame[["row", "field", "reason"]],
        bad_index=bad_index,
        bad_rows=int(frame["row"].nunique()),
        synthetic=synthetic,
        ignored=reader.ignored,
    )


def _ids_hashed_among(id_spill: Spill, hashes: np.ndarray) -> pd.DataFrame:
    """The spilled (_index, beneficiary_id) rows whose id hashed to one of `hashes`, in file
    order: every row of a repeated id, and only a few others (ids sharing a hash by chance)."""
    wanted = pa.array(hashes, pa.uint64())
    picked = []
    for batch in id_spill.batches():
        kept = pc.is_in(batch.column(HASH), value_set=wanted)
        picked.append(pa.Table.from_batches([batch]).filter(kept).drop_columns([HASH]))
    frame: pd.DataFrame = pa.concat_tables(picked).to_pandas()
    return frame


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
        errors_total=len(first.errors),
        duplicates=dups.groups if dups else (),
        duplicate_counts=dict(dups.counts) if dups else {},
        ignored_columns=first.ignored,
        seconds=seconds,
    )
