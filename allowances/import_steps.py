"""Each step of a registry import timed and its memory logged, at INFO:
`registry import: <step> took … s (RSS …, peak …)` - where time and memory go at national
scale (benchmarks/README.md was built from these lines)."""

from __future__ import annotations

import logging
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

log = logging.getLogger("allowances.registry_import")
_POOL_LOCK = threading.Lock()
_POOL_USERS: list[pa.MemoryPool | None] = []  # the pool found first, then one entry an import


@contextmanager
def system_allocator() -> Iterator[None]:
    """Arrow allocates from the C library's malloc while an import runs, not from its default
    pool (mimalloc), which hands freed pages back to the system and faults them in zeroed
    again: checking a million rows took 6.3 CPU-seconds with it, 4.9 without. Every buffer
    is freed to the pool it came from, so switching back afterwards is safe. Imports running
    at once in one process (dashboard sessions) share the switch: the last one out restores
    the pool the first one found."""
    with _POOL_LOCK:
        if not _POOL_USERS:
            _POOL_USERS.append(pa.default_memory_pool())
            pa.set_memory_pool(pa.system_memory_pool())
        _POOL_USERS.append(None)
    try:
        yield
    finally:
        with _POOL_LOCK:
            _POOL_USERS.pop()
            if len(_POOL_USERS) == 1:
                pa.set_memory_pool(_POOL_USERS.pop())


@contextmanager
def step(name: str) -> Iterator[None]:
    """Log how long one step of an import took and the memory after it (where time and
    memory go at national scale). Arrow's freed buffers go back to the system after each
    step, so the next step (SQLite, the ADBC driver: other allocators) can use them."""
    began = time.perf_counter()
    yield
    pa.default_memory_pool().release_unused()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log.info(
        "registry import: %s took %.1f s (RSS %.0f MB, peak %.0f MB)",
        name,
        time.perf_counter() - began,
        _rss_mb(),
        peak_mb,
    )


def _rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * resource.getpagesize() / 2**20
