"""Engine, sessions and migrations. SQLite in WAL mode by default; PostgreSQL by URL.

SQLite transactions are begun explicitly: `Store.session()` with BEGIN IMMEDIATE (it takes
the write lock first, waiting up to the busy timeout, so a transaction that read can always
write: no "database is locked" half way), `Store.read()` and plain connections with a
deferred BEGIN (readers never wait in WAL mode). Beginning is retried a bounded number of
times; a lock or connection failure becomes a one-line StoreError, never a traceback.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from agam.core.errors import StoreError
from agam.core.private_files import private_sqlite_file

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BEGIN_ATTEMPTS = 3  # each waits up to the busy timeout inside SQLite
# A new SQLite store's page size (SQLite's default is 4096; an existing file keeps its own).
# Fewer, larger pages: a 10 M-household first load rebuilds its indexes and commits in
# 38 s instead of 53 s; a point lookup reads 16 KiB instead of 4 KiB
SQLITE_PAGE_BYTES = 16_384
LOCKED = ("database is locked", "database is busy", "database table is locked")


def is_locked(exc: BaseException) -> bool:
    return any(text in str(exc) for text in LOCKED)


def describe(exc: BaseException) -> str:
    """One line for an operational database failure (no SQL, no parameters)."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    if is_locked(exc):
        return f"the database stayed locked by another writer ({text}); try again"
    return f"database unavailable: {text}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1] if "///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def make_engine(url: str, busy_timeout_ms: int = 5000) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, a busy timeout and explicit BEGINs.
    A statement's parameters (names, NIDs, wallets) are never written into an error message
    or a log, so a traceback or `log.exception` cannot carry them."""
    try:
        if url.startswith("sqlite"):
            return _sqlite_engine(url, busy_timeout_ms)
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"cannot use database {url.split('@')[-1]}: {exc}") from None


def _sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": busy_timeout_ms / 1000}, hide_parameters=True
    )

    @event.listens_for(engine, "do_connect")
    def _owner_only(*_args: Any) -> None:  # before SQLite creates the file with the umask
        if path is not None:
            private_sqlite_file(path)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver never begins on its own; we do
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")  # a new file only; else ignored
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        for attempt in range(1, BEGIN_ATTEMPTS + 1):
            try:
                conn.exec_driver_sql(f"BEGIN {mode}")
                return
            except OperationalError as exc:
                if not is_locked(exc) or attempt == BEGIN_ATTEMPTS:
                    raise
                log.warning("database locked; begin attempt %d of %d", attempt, BEGIN_ATTEMPTS)
                time.sleep(0.05 * attempt)

    return engine


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; the only way the schema changes. On SQLite, foreign
    keys are off while it runs (SQLite's procedure for rebuilding a table others refer to)
    and every reference is checked before the commit."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        driver = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
        if driver is not None:  # outside any transaction, where SQLite honours it
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.execution_options(sqlite_begin="IMMEDIATE").begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if driver is not None:
                    _refuse_broken_references(driver)
        finally:
            if driver is not None:
                driver.execute("PRAGMA foreign_keys=ON")


def _refuse_broken_references(driver: Any) -> None:
    broken = driver.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise StoreError(
            f"migration left {len(broken)} broken reference(s) in {', '.join(tables)}; "
            "nothing was changed"
        )


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@functools.cache
def head_revision() -> str | None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()


def require_current_schema(engine: Engine) -> None:
    current, head = schema_revision(engine), head_revision()
    if current != head:
        raise StoreError(
            f"database schema is at {current or 'nothing'}, code expects {head}; "
            "run `agam db upgrade`"
        )


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


class Store:
    """Owns the engine and hands out sessions; every write goes through a transaction."""

    def __init__(self, url: str, busy_timeout_ms: int = 5000) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._sessions = sessionmaker(writer, expire_on_commit=False)
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._writing = threading.local()

    @property
    def sqlite_file(self) -> Path | None:
        return sqlite_path(self.url)

    def upgrade(self) -> None:
        """Migrate to the newest schema (a read when it is already there: no write lock)."""
        with self._failures():
            if schema_revision(self.engine) == head_revision():
                return
            try:
                migrate(self.engine)
            except ProgrammingError as exc:  # e.g. the least-privilege app role
                reason = " ".join(str(exc.orig).split())
                raise StoreError(
                    f"cannot migrate the schema ({reason}); run `agam db upgrade` as the "
                    "database owner role"
                ) from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-write transaction (on SQLite it holds the write lock from its start, so a
        second one opened inside it by the same thread could only wait for itself: that is
        refused at once - read inside with `read()`)."""
        sqlite = self.url.startswith("sqlite")
        if sqlite and getattr(self._writing, "active", False):
            raise StoreError("a write transaction inside another on SQLite would deadlock")
        with self._failures(), self._sessions() as session, session.begin():
            self._writing.active = sqlite
            try:
                yield session
            finally:
                self._writing.active = False

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read transaction: never waits for writers on SQLite (WAL). Closing the session
        ends it without committing; loaded objects stay readable."""
        with self._failures(), self._readers() as session:
            yield session

    @contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise StoreError(describe(exc)) from exc

    def dispose(self) -> None:
        self.engine.dispose()
