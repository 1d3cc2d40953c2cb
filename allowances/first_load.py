"""What a first load counts from its own rows, beside the writing.

Into an empty store every imported row is a stored row, so the exposure counts and the
shared NIDs and wallet numbers are counted from the spilled rows (Arrow and NumPy, which
release the GIL) on a worker thread while the database rebuilds the table's indexes (or,
when they stay in place, while the rows are written): on two cores they add almost nothing
to the import, and starting at the rebuild keeps their memory apart from the writing's. The
counts are used only if the store is still empty inside the import's transaction; otherwise
the SQL paths count (`allowances.exposure`, `registry_write.find_duplicates`).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from allowances.duplicates_arrow import Rows, duplicates_in_rows
from allowances.exposure_arrow import count_first_exposure
from allowances.import_steps import step
from allowances.registry_write import Duplicates


@dataclass(frozen=True)
class FirstLoadCounts:
    exposure: list[tuple[object, ...]]  # union_exposure rows, see count_first_exposure
    duplicates: Duplicates


def count_first_load(
    rows: Rows, as_of_year: int, rows_total: int, folder: Path | None = None
) -> FirstLoadCounts:
    with step("exposure and duplicates counted"):
        exposure = count_first_exposure(rows, as_of_year, rows_total, folder)
        return FirstLoadCounts(exposure, duplicates_in_rows(rows, folder=folder))


class FirstLoadCounting:
    """The counts of a first load: `start()` hands them to a worker thread (once), `result()`
    waits for the worker, or counts on the caller's thread if none was started."""

    def __init__(
        self,
        rows: Rows,
        as_of_year: int,
        rows_total: int,
        pool: ThreadPoolExecutor | None,
        folder: Path | None = None,
    ) -> None:
        self._args = (rows, as_of_year, rows_total, folder)
        self._pool = pool
        self._future: Future[FirstLoadCounts] | None = None

    def know_total(self, rows_total: int) -> None:
        """The rows' number, when it was not known at the start (before `start`)."""
        rows, as_of_year, _, folder = self._args
        self._args = (rows, as_of_year, rows_total, folder)

    def start(self) -> None:
        if self._pool is not None and self._future is None:
            self._future = self._pool.submit(count_first_load, *self._args)

    def result(self) -> FirstLoadCounts:
        if self._future is None:
            return count_first_load(*self._args)
        return self._future.result()


@contextmanager
def counted_beside(
    rows: Rows, as_of_year: int, rows_total: int, *, beside: bool, folder: Path | None = None
) -> Iterator[FirstLoadCounting]:
    """A `FirstLoadCounting` with a worker thread when `beside`. The worker is waited for on
    leaving, so the rows it reads stay open until it is done; its error is raised by
    `result()`. `folder`: the import's private folder, for hashes beyond memory's share."""
    if not beside:
        yield FirstLoadCounting(rows, as_of_year, rows_total, None, folder)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="first-load") as pool:
        yield FirstLoadCounting(rows, as_of_year, rows_total, pool, folder)
