"""What a first load counts from its own rows, beside the writing.

Into an empty store every imported row is a stored row, so the exposure counts and the
shared NIDs and wallet numbers are counted from the spilled rows (Arrow and NumPy, which
release the GIL) on a worker thread while the main thread writes the rows and the database
rebuilds its indexes: on two cores they add almost nothing to the import. The counts are
used only if the store is still empty inside the import's transaction; otherwise the SQL
paths count (`allowances.exposure`, `registry_write.find_duplicates`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from allowances.duplicates_arrow import Rows, duplicates_in_rows
from allowances.exposure_arrow import NEEDED, count_first_exposure
from allowances.import_steps import step
from allowances.registry_write import Duplicates


@dataclass(frozen=True)
class FirstLoadCounts:
    exposure: list[tuple[object, ...]]  # union_exposure rows, see count_first_exposure
    duplicates: Duplicates


def count_first_load(rows: Rows, as_of_year: int, rows_total: int) -> FirstLoadCounts:
    with step("exposure and duplicates counted"):
        exposure = count_first_exposure(lambda: rows(list(NEEDED)), as_of_year, rows_total)
        return FirstLoadCounts(exposure, duplicates_in_rows(rows))


@contextmanager
def counted_beside(
    rows: Rows, as_of_year: int, rows_total: int, *, beside: bool
) -> Iterator[Callable[[], FirstLoadCounts]]:
    """Yields a function giving the counts: the worker's (started now) when `beside`, else
    counted on the caller's thread when asked. The worker is waited for on leaving, so the
    rows it reads stay open until it is done; an error there is raised when asked."""
    if not beside:
        yield lambda: count_first_load(rows, as_of_year, rows_total)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="first-load") as pool:
        yield pool.submit(count_first_load, rows, as_of_year, rows_total).result
