"""One writer for the pipeline's decisions per store.

Evaluations (judge -> alerts -> lists) and list proposals run one at a time per store,
across threads and processes: a file lock next to the SQLite database, an advisory lock on
PostgreSQL (store.locks). Two evaluations at once could otherwise both open an alert for
the same rule set and district; the database's partial unique index is the last line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from agam.pipeline.context import AppContext
from store.locks import exclusive

PIPELINE_LOCK = "pipeline"


@contextmanager
def pipeline_writer(ctx: AppContext) -> Iterator[None]:
    """Hold the store's pipeline lock; waits up to [database] lock_timeout_s (StoreError)."""
    with exclusive(ctx.store, PIPELINE_LOCK, timeout_s=ctx.settings.database.lock_timeout_s):
        yield
