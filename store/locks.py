"""Named exclusive locks per store: one writer for the pipeline, one active scheduler.

SQLite: an fcntl lock on a file next to the database (`agam.sqlite3.<name>.lock`), plus a
threading lock for the threads of one process. PostgreSQL: a session-level advisory lock
held on its own autocommit connection. Both vanish with the process that holds them, so a
killed holder never leaves a stale lock behind. Waiting is bounded (`timeout_s`) or ends
when `stop` is set; giving up raises LockTimeout, a one-line StoreError.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text

from agam.core.errors import StoreError
from store.db import Store

_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


class LockTimeout(StoreError):
    """Another holder kept the lock for longer than we were willing to wait."""


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock from a lock name."""
    digest = hashlib.sha256(f"agam:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def holder_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class HeldLock:
    name: str
    release: Any  # () -> None
    check: Any  # () -> bool: True while the lock is still ours

    def still_held(self) -> bool:
        return bool(self.check())


def acquire(
    store: Store,
    name: str,
    *,
    timeout_s: float | None,
    poll_s: float = 0.2,
    stop: threading.Event | None = None,
) -> HeldLock:
    """Take lock `name` on `store`, waiting up to `timeout_s` (None: until `stop` is set)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    if store.engine.dialect.name == "postgresql":
        return _advisory(store, name, deadline, poll_s, stop)
    return _file_lock(store, name, deadline, poll_s, stop)


@contextmanager
def exclusive(store: Store, name: str, *, timeout_s: float | None) -> Iterator[HeldLock]:
    held = acquire(store, name, timeout_s=timeout_s)
    try:
        yield held
    finally:
        held.release()


def _waited(name: str, deadline: float | None, stop: threading.Event | None, poll_s: float) -> None:
    """Sleep one poll interval, or raise when the wait is over."""
    if stop is not None and stop.is_set():
        raise LockTimeout(f"stopped while waiting for the {name} lock")
    if deadline is not None and time.monotonic() >= deadline:
        raise LockTimeout(f"another process held the {name} lock too long; try again")
    if stop is not None:
        stop.wait(poll_s)
    else:
        time.sleep(poll_s)


def lock_path(store: Store, name: str) -> Path | None:
    db = store.sqlite_file
    return db.with_name(f"{db.name}.{name}.lock") if db is not None else None


def _file_lock(
    store: Store, name: str, deadline: float | None, poll_s: float, stop: threading.Event | None
) -> HeldLock:
    path = lock_path(store, name)
    key = str(path) if path is not None else f"{store.url}#{name}"
    with _GUARD:
        local = _PROCESS_LOCKS.setdefault(key, threading.Lock())
    while not local.acquire(timeout=poll_s):
        _waited(name, deadline, stop, 0)
    if path is None:  # in-memory SQLite: one process only
        return HeldLock(name, local.release, lambda: True)
    try:
        handle = _lock_file(path, name, deadline, poll_s, stop)
    except BaseException:
        local.release()
        raise

    def release() -> None:
        try:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        finally:
            local.release()

    return HeldLock(name, release, lambda: not handle.closed)


def _lock_file(
    path: Path, name: str, deadline: float | None, poll_s: float, stop: threading.Event | None
) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                _waited(name, deadline, stop, poll_s)
        handle.seek(0)
        handle.truncate()
        handle.write(holder_label())
        handle.flush()
        return handle
    except BaseException:
        handle.close()
        raise


def _advisory(
    store: Store, name: str, deadline: float | None, poll_s: float, stop: threading.Event | None
) -> HeldLock:
    key = advisory_key(name)
    conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        while not conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}):
            _waited(name, deadline, stop, poll_s)
    except BaseException:
        conn.close()
        raise

    def release() -> None:
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        except Exception:  # noqa: S110 - the session ends below, which releases it anyway
            pass
        finally:
            conn.close()

    def check() -> bool:
        """The lock lives as long as its session: a live connection still holds it."""
        try:
            return bool(conn.scalar(text("SELECT 1")) == 1)
        except Exception:
            return False

    return HeldLock(name, release, check)
