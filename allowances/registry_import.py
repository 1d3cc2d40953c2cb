"""Import a beneficiary registry extract into the store, all or nothing.

Two passes. Pass 1 (`registry_check`) streams the file in chunks, normalises and checks every
row and spills the good rows to an anonymous Arrow IPC file in the data directory
(`registry_staging`: owner-only, unlinked at once, so a killed import leaves no personal data
behind); repeated beneficiary ids across the whole file are found at the end of the pass. If
any row is bad the batch is rejected and the store is not touched, unless `quarantine=True`:
then the good rows are imported and the bad ones recorded by file, row, field and reason (never
their values). Pass 2 applies the good rows in ONE transaction: new ids are bulk-inserted,
changed rows (row_sha256 differs) move their old version to beneficiary_history and are
updated, unchanged rows are left alone. The same file (sha256) imported twice is a no-op. A dry
run does pass 2 and rolls back, so it reports exactly what an import would do, including
duplicates across programmes. A large first load into an empty store is written while pass 1
still checks the file, and given up if the check finds an error (`registry_early_copy`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agam.core.errors import RegistryError
from agam.core.timeutil import utc_now
from allowances import registry_early_copy as early_copy
from allowances import registry_write as rw
from allowances.exposure_arrow import write_first_exposure
from allowances.exposure_delta import ExposureChange, apply_change
from allowances.first_load import FirstLoadCounting, counted_beside
from allowances.import_record import (
    IMPORT_ROLES,
    Writing,
    close_import,
    committed,
    open_import,
    refuse_mixing,
    refused_by_store,
    statistics_after,
    store_is_empty,
)
from allowances.import_steps import step, system_allocator
from allowances.registry_check import KEEP_ERRORS, Pass1, check_file, report_of, row_errors
from allowances.registry_compare import compare_with_stored
from allowances.registry_read import open_reader
from allowances.registry_schema import (
    ImportReport,
    load_aliases,
)
from allowances.registry_stage import STAGED, Stage, import_connection
from allowances.registry_staging import Staging, default_staging
from allowances.registry_validate import Context
from boundaries.layer import UnionLayer
from store.db import Store
from store.identity import Principal, require_active
from store.models import Beneficiary, RegistryImport, RegistryQuarantine

log = logging.getLogger(__name__)

DEFAULT_ERROR_LIMIT = KEEP_ERRORS  # errors in a report (all are counted)
QUARANTINE: Table = RegistryQuarantine.__table__  # type: ignore[assignment]
Written = early_copy.Written


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_registry(
    store: Store,
    path: Path,
    union_layer: UnionLayer,
    *,
    user: str = "cli",
    principal: Principal | None = None,
    staging_dir: Path | None = None,
    dry_run: bool = False,
    quarantine: bool = False,
    at: datetime | None = None,
    chunk_rows: int = 100_000,
    error_limit: int = DEFAULT_ERROR_LIMIT,
) -> ImportReport:
    """Validate and import `path` (CSV, XLSX or Parquet); see the module docstring.

    Returns the report whatever happened; a rejected batch has ``status == "rejected"`` and the
    store is exactly as before. With `principal` (a person at the CLI) the account must be an
    active admin, checked again in the import's transaction; without it `user` names the
    system actor (the demo). `staging_dir` defaults to `staging/` beside a SQLite database.
    Raises RegistryError only for a file that cannot be read at all (unknown type, missing
    columns, undecodable header) or a conflict with the store.
    """
    started = time.perf_counter()
    at = at or utc_now()
    if not path.is_file():  # a folder, a device (/dev/zero) or a pipe would never end or fail
        raise RegistryError(f"{path}: no such file (a regular file is needed)")
    sha = file_sha256(path)
    name = path.name
    with store.session() as session:
        previous = session.scalar(select(RegistryImport.id).where(RegistryImport.sha256 == sha))
    if previous is not None:
        log.info("registry %s already imported as import %d; nothing to do", name, previous)
        return ImportReport(name, sha, "already_imported", import_id=previous)

    reader = open_reader(path, chunk_rows)
    codes = pa.array(union_layer.frame["adm4_pcode"].astype(str).tolist(), pa.string())
    ctx = Context(name, codes, load_aliases(), at.year)
    if principal is not None:
        user = principal.username
        with store.session() as session:
            require_active(session, principal, IMPORT_ROLES, doing="import registries")
    writing = Writing(at, user, principal, dry_run, quarantine, sha)
    with Staging(staging_dir or default_staging(store)) as staging, system_allocator():
        spill, folder = staging.spill(), staging.work_folder()
        check = partial(
            check_file,
            reader,
            ctx,
            spill,
            staging.spill(),
            folder,
            keep=error_limit,
            error_spill=staging.spill() if quarantine else None,
        )
        written = None
        if not early_copy.worth_it(store, path, quarantine=quarantine):
            with step("read and check"):
                first = check(tee=None)
        elif store.engine.dialect.name == "postgresql":
            target = early_copy.Target(name, spill, folder)
            first, written = early_copy.import_while_checking(store, check, target, writing)
        else:
            first, written = _staged_while_checking(store, check, folder, writing)
        errors = row_errors(name, first.errors, error_limit)
        if first.errors_total and not quarantine and not dry_run:
            log.warning(
                "registry %s rejected: %d errors in %d rows; nothing imported",
                name,
                first.errors_total,
                first.bad_rows,
            )
            return report_of(first, sha, errors, "rejected", time.perf_counter() - started)
        if written is None:
            written = _pass2(store, first, folder, writing)
        counts, import_id, dups = written
    report = report_of(
        first,
        sha,
        errors,
        "dry_run" if dry_run else "imported",
        time.perf_counter() - started,
        import_id=None if dry_run else import_id,
        quarantined=first.bad_rows if quarantine else 0,
        counts=counts,
        dups=dups,
    )
    log.info(
        "registry %s %s: %d rows, %d inserted, %d updated, %d unchanged, %d quarantined in %.1fs",
        name,
        report.status,
        report.total,
        report.inserted,
        report.updated,
        report.unchanged,
        report.quarantined,
        report.seconds,
    )
    return report


def _pass2(store: Store, first: Pass1, folder: Path, writing: Writing) -> Written:
    def good(columns: list[str] | None = None) -> Iterator[pa.Table]:
        return _good_rows(first, columns)

    looks_empty = first.spill.written and store_is_empty(store)
    staged = store.engine.dialect.name == "sqlite" and first.total >= rw.BULK_LOAD_ROWS
    rows = (lambda: good(list(STAGED))) if looks_empty and staged else None
    try:
        with import_connection(store, folder, rows, step, writing.at) as (conn, stage):
            return _pass2_on(conn, stage, first, folder, writing, beside=looks_empty)
    except _StoreFilled:  # rolled back; written again on a connection that enforces keys
        log.info("registry import: the store was filled meanwhile; imported without a stage")
    with import_connection(store, folder, None, step, writing.at) as (conn, stage):
        return _pass2_on(conn, stage, first, folder, writing, beside=False)


class _StoreFilled(Exception):
    """The staged connection (foreign keys off) found the store no longer empty."""


def _staged_while_checking(
    store: Store, check: early_copy.Check, folder: Path, writing: Writing
) -> tuple[Pass1, Written | None]:
    """SQLite's first load: the stage is written by the ADBC driver (without the GIL) while
    pass 1 still checks the file, then pass 2 goes on from it; an error in the file drops
    the stage and nothing is written (`early_copy.writing_while_checking`)."""

    def write(checking: early_copy.CheckingRows) -> Written:
        phase = lambda name: step(f"read and check, {name}")  # noqa: E731
        with import_connection(store, folder, checking.rows, phase, writing.at) as (
            conn,
            stage,
        ):
            first = checking.clean()
            try:
                return _pass2_on(conn, stage, first, folder, writing, beside=True)
            except _StoreFilled:  # rolled back: given up, the caller writes it the plain way
                checking.abandoned = True
                raise

    return early_copy.writing_while_checking(check, write)


def _pass2_on(
    conn: Connection, stage: Stage | None, first: Pass1, folder: Path, writing: Writing, *,
    beside: bool,
) -> Written:  # fmt: skip
    """Pass 2 on the import's connection (and the SQLite `stage` when a first load has one);
    a store that looked empty counts its first load `beside` the writing."""

    def good(columns: list[str] | None = None) -> Iterator[pa.Table]:
        return _good_rows(first, columns)

    reopens = beside and first.spill.reopens  # a second reader of the spilled rows
    counting = counted_beside(good, writing.at.year, first.total, beside=reopens, folder=folder)
    with counting as first_counts:
        session = Session(bind=conn, expire_on_commit=False)
        try:
            written = _write(session, first, stage, writing, first_counts)
        except IntegrityError as exc:
            raise refused_by_store(first.file_name, exc) from None
        finally:
            session.close()
    statistics_after(conn, written[0], writing)
    return written


def _write(
    session: Session,
    first: Pass1,
    stage: Stage | None,
    writing: Writing,
    first_counts: FirstLoadCounting,
) -> tuple[dict[str, int], int, rw.Duplicates]:
    """Pass 2's one transaction: the import row, the rows, exposure, duplicates, audit."""
    with session.begin():
        row = open_import(session, writing, first.file_name)
        refuse_mixing(session, row, first.synthetic)
        conn = session.connection()
        counts, change = _apply(conn, first, row.id, writing.at, stage, first_counts)
        if writing.quarantine:
            _record_quarantine(conn, first, row.id)
        with step("exposure and duplicates"):
            if change is None:  # a first load: the store holds exactly the imported rows
                counted = first_counts.result()
                write_first_exposure(conn, counted.exposure, writing.at, [row.id])
                dups = counted.duplicates
            else:
                apply_change(conn, change)
                dups = rw.find_duplicates(conn)
        import_id = close_import(session, row, first, counts, dups, writing)
        committing = time.perf_counter()
    committed(committing)
    return counts, import_id, dups


def _apply(
    conn: Connection,
    first: Pass1,
    import_id: int,
    at: datetime,
    stage: Stage | None,
    counting: FirstLoadCounting,
) -> tuple[dict[str, int], ExposureChange | None]:
    """Write the rows (from the SQLite `stage` when there is one and the store is still
    empty); returns the counts and the households written with what they counted before
    (None for a load into an empty store: it is counted whole). A first load's counting
    starts as the indexes are rebuilt (the database's own work then, with little memory of
    ours in use), or from a stage as it is copied (SQLite moving pages, one core)."""
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    empty = not conn.scalar(select(func.count()).select_from(Beneficiary.__table__))
    change = ExposureChange(at)
    if not first.spill.written:  # every row was unreadable
        return counts, change
    if stage is not None and not empty:  # the staged connection does not enforce foreign keys
        raise _StoreFilled
    bulk = empty and first.total >= rw.BULK_LOAD_ROWS
    start = counting.start if empty else None
    with rw.bulk_load(conn, enabled=bulk, phase=step, before_rebuild=start), step("write rows"):
        if empty and stage is not None:
            counting.start()
            counts["inserted"] = rw.insert_from_stage(conn, stage, import_id, at)
        else:
            _apply_batches(conn, first, empty, import_id, at, counts, change)
    return counts, None if empty else change


def _good_rows(first: Pass1, columns: list[str] | None = None) -> Iterator[pa.Table]:
    """The spilled rows that are imported (no error in the row), in batches."""
    wanted = None if columns is None else [*columns, "_index"]
    for stored in first.spill.batches(wanted):
        table = pa.Table.from_batches([stored])
        if first.bad.count:
            table = table.filter(~first.bad.of(table.column("_index").to_numpy()))
        if table.num_rows:
            yield table


def _apply_batches(
    conn: Connection,
    first: Pass1,
    empty: bool,
    import_id: int,
    at: datetime,
    counts: dict[str, int],
    change: ExposureChange,
) -> None:
    if empty:
        counts["inserted"] += rw.insert_all_beneficiaries(conn, _good_rows(first), import_id, at)
        return
    for table in _good_rows(first):
        compared = compare_with_stored(conn, table)
        is_new, changed = compared.new, compared.changed
        counts["unchanged"] += int((~is_new & ~changed).sum())
        written = table.column("household_id").filter(pa.array(is_new | changed)).to_pylist()
        written += compared.old_households  # a record that moved leaves its old household too
        change.note(conn, written)  # before this batch writes: their counts as they were
        if is_new.any():
            rw.insert_beneficiaries(conn, table.filter(pa.array(is_new)), import_id, at)
            counts["inserted"] += int(is_new.sum())
        if changed.any():
            rw.update_beneficiaries(conn, table.filter(pa.array(changed)), import_id, at)
            counts["updated"] += int(changed.sum())


def _record_quarantine(conn: Connection, first: Pass1, import_id: int) -> None:
    """Every error of the file, by row, field and reason, a batch at a time."""
    for errors in first.every_error():
        rows = [
            {"import_id": import_id, "row_number": int(r), "field": str(f), "reason": str(m)}
            for r, f, m in zip(errors["row"], errors["field"], errors["reason"], strict=True)
        ]
        rw.insert_dicts(conn, QUARANTINE, rows)
