"""One writer for the pipeline's decisions per store.

Evaluations (judge -> alerts -> lists) and list proposals run one at a time per store,
across threads and processes: a file lock next to the SQLite database, an advisory lock on
PostgreSQL (store.locks). Two evaluations at once could otherwise both open an alert for
the same rule set and district; the database's partial unique index is the last line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from agam.core.errors import StoreError
from agam.pipeline.context import AppContext
from store.db import is_locked
from store.locks import exclusive

log = logging.getLogger(__name__)
T = TypeVar("T")

PIPELINE_LOCK = "pipeline"


@contextmanager
def pipeline_writer(ctx: AppContext) -> Iterator[None]:
    """Hold the store's pipeline lock; waits up to [database] lock_timeout_s (StoreError)."""
    with exclusive(ctx.store, PIPELINE_LOCK, timeout_s=ctx.settings.database.lock_timeout_s):
        yield


def locked_store(exc: BaseException) -> bool:
    """A StoreError because another writer held the database past the busy timeout."""
    return isinstance(exc, StoreError) and (
        is_locked(exc) or (exc.__cause__ is not None and is_locked(exc.__cause__))
    )


def when_unlocked(
    what: str,
    step: Callable[[], T],
    retries: int,
    wait_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `step`; when the store stays locked, run it again up to `retries` times,
    `wait_s` apart (one warning line each). Other errors, and the last lock error, raise."""
    for attempt in range(retries + 1):
        try:
            return step()
        except StoreError as exc:
            if not locked_store(exc) or attempt == retries:
                raise
            log.warning("%s: %s; trying again in %.0f s", what, exc, wait_s)
            sleep(wait_s)
    raise AssertionError("unreachable")
