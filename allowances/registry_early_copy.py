"""A first load into an empty store, written while the file is still being checked.

A large first load spends about as long checking the file on the client (33 s for 10 M
households) as the database spends taking its rows (PostgreSQL parsing the COPY, 29-38 s; the
ADBC driver writing SQLite's stage, about 20 s), one after the other. Here the check runs on
a worker thread and hands each chunk's rows, once spilled, to the writing on the caller's
thread, so the two share the machine's cores. The writing is speculative
(`writing_while_checking`):

- any error in the file (a bad field, a repeated id, an unreadable line) gives it up: the
  PostgreSQL transaction is rolled back, SQLite's stage deleted, and the file is then rejected,
  or imported from the spill as before (a dry run), exactly as if this path had not been tried;
- so does a store that is not empty inside the transaction (another import came first);
- a failed write stops the check and is raised.

Only without a quarantine (which imports a file with errors). PostgreSQL's COPY is made here
(`import_while_checking`); SQLite's stage by `registry_import` through `registry_stage`. The
price: on PostgreSQL the table's indexes are dropped for the whole check, so readers of
`beneficiaries` wait for the check as well as the writing; on SQLite the stage holds rows of a
file not yet judged (in the import's owner-only folder) until the check ends.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from allowances import registry_write as rw
from allowances.exposure_arrow import write_first_exposure
from allowances.first_load import counted_beside
from allowances.import_record import (
    Writing,
    close_import,
    committed,
    has_beneficiaries,
    open_import,
    refuse_mixing,
    refused_by_store,
    statistics_after,
    store_is_empty,
)
from allowances.import_steps import step
from allowances.registry_check import Pass1
from allowances.registry_staging import Spill
from allowances.registry_validate import ChunkResult
from store.db import Store

log = logging.getLogger(__name__)

QUEUED_CHUNKS = 2  # checked chunks waiting to be written (100,000 rows each by default)
MIN_FILE_BYTES = 16 << 20  # smaller files: the overlap is not worth a second thread
Written = tuple[dict[str, int], int, rw.Duplicates]


@dataclass(frozen=True)
class Target:
    """Where the check spills the rows (the counting reads them back) and the import's
    private folder; the file's name for the import's row."""

    file_name: str
    spill: Spill
    folder: Path


class Check(Protocol):
    """Pass 1 (`registry_check.check_file` with its file and spills), given a tee."""

    def __call__(self, *, tee: Callable[[ChunkResult], None] | None) -> Pass1: ...


class Abandoned(Exception):
    """The writing was given up (the COPY rolled back, the stage deleted): nothing written."""


class _Cancelled(Exception):
    """Raised inside the check when the writing failed: the check stops."""


_END = object()
_ERROR = object()


class CheckingRows:
    """Pass 1 on a worker thread; its chunks' good rows handed over while none has failed."""

    def __init__(self, check: Check) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self._cancelled = threading.Event()  # the writing failed: stop checking
        self._unread = threading.Event()  # nobody takes chunks any more
        self._clean = True
        self.abandoned = False  # rows() gave up: the file has an error
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="registry-early-copy")
        self._future = self._pool.submit(self._run, check)

    def _run(self, check: Check) -> Pass1:
        try:
            return check(tee=self._tee)
        finally:
            self._put(_END)

    def _tee(self, result: ChunkResult) -> None:
        if self._cancelled.is_set():
            raise _Cancelled
        if not self._clean:
            return
        if result.errors:
            self._clean = False
            self._put(_ERROR)
        elif result.valid.num_rows:
            self._put(result.valid)

    def _put(self, item: object) -> None:
        while not self._unread.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def rows(self) -> Iterator[pa.Table]:
        """The checked rows as they come; Abandoned as soon as the file has an error."""
        while (item := self._queue.get()) is not _END:
            if item is _ERROR:
                self.abandoned = True
                raise Abandoned("the file has errors")
            assert isinstance(item, pa.Table)
            yield item
        first = self._future.result()  # the check's own error (an unreadable file) is raised
        if first.errors_total:
            self.abandoned = True
            raise Abandoned("the file has errors")

    def clean(self) -> Pass1:
        """Once the rows are all taken: the check, which found no error (else Abandoned:
        rows() has raised already, so this only makes sure nothing is written)."""
        first = self.finish()
        if first is None or first.errors_total:
            self.abandoned = True
            raise Abandoned("the file has errors")
        return first

    def finish(self, *, cancel: bool = False) -> Pass1 | None:
        """Wait for the check: its result, or None when it was cancelled (`cancel`: the
        writing failed, so it stops at its next chunk)."""
        self._unread.set()
        if cancel:
            self._cancelled.set()
        try:
            return self._future.result()
        except _Cancelled:
            return None
        finally:
            self._pool.shutdown()


def worth_it(store: Store, path: Path, *, quarantine: bool) -> bool:
    """Write while checking: no quarantine, a large file, an empty store (checked again in
    the transaction). On SQLite the stage is written while checking (`registry_import`)."""
    if quarantine:
        return False
    return path.stat().st_size >= MIN_FILE_BYTES and store_is_empty(store)


def writing_while_checking(
    check: Check, write: Callable[[CheckingRows], Written]
) -> tuple[Pass1, Written | None]:
    """Pass 1 on a worker while `write` takes its rows. Returns the check and what was
    written, or None when the writing gave up (an error in the file, a store no longer
    empty): nothing was written and the caller goes on as if this had not been tried. Any
    other error stops the check and is raised (the check's own, for an unreadable file)."""
    checking = CheckingRows(check)
    try:
        written: Written | None = write(checking)
    except BaseException as exc:
        if not (checking.abandoned and isinstance(exc, Exception)):
            checking.finish(cancel=True)
            raise
        log.info("registry import: writing while checking was given up; nothing written")
        written = None
    first = checking.finish()
    assert first is not None
    return first, written


def import_while_checking(
    store: Store, check: Check, target: Target, writing: Writing
) -> tuple[Pass1, Written | None]:
    """PostgreSQL: pass 1 and a first load's COPY together (`writing_while_checking`)."""
    return writing_while_checking(check, lambda rows: _write(store, rows, target, writing))


def _write(store: Store, checking: CheckingRows, target: Target, writing: Writing) -> Written:
    """One transaction: the import's row, the indexes dropped, the COPY fed by the check,
    then as a checked first load (`registry_import._write`): rebuild with the counting
    beside it, exposure, duplicates, the import closed."""
    done: list[Pass1] = []
    folder = target.folder

    def good(columns: list[str] | None = None) -> Iterator[pa.Table]:
        wanted = None if columns is None else [*columns, "_index"]
        for stored in done[0].spill.batches(wanted):
            yield pa.Table.from_batches([stored])  # a clean file: every row is imported

    with store.engine.connect() as bound:
        session = Session(bind=bound, expire_on_commit=False)
        try:
            with (
                session.begin(),
                counted_beside(
                    good, writing.at.year, 0, beside=target.spill.reopens, folder=folder
                ) as counting,
            ):
                if has_beneficiaries(session):
                    checking.abandoned = True
                    raise Abandoned("the store is no longer empty")
                row = open_import(session, writing, target.file_name)
                conn = session.connection()  # the session's transaction
                with rw.bulk_load(conn, enabled=True, phase=step, before_rebuild=counting.start):
                    with step("read and check, writing rows"):
                        inserted = rw.insert_all_beneficiaries(
                            conn, checking.rows(), row.id, writing.at
                        )
                    first = checking.clean()
                    done.append(first)
                    refuse_mixing(session, row, first.synthetic)
                    counting.know_total(first.total)
                with step("exposure and duplicates"):
                    counted = counting.result()
                    write_first_exposure(conn, counted.exposure, writing.at, [row.id])
                counts = {"inserted": inserted, "updated": 0, "unchanged": 0}
                import_id = close_import(session, row, first, counts, counted.duplicates, writing)
                committing = time.perf_counter()
        except IntegrityError as exc:
            raise refused_by_store(target.file_name, exc) from None
        finally:
            session.close()
        committed(committing)
        statistics_after(bound, counts, writing)
    return counts, import_id, counted.duplicates
