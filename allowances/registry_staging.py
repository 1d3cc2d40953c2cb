"""Where a registry import keeps its normalised rows between the two passes.

Inside the data directory (`<data_dir>/staging`, owner-only), never in the system temp folder.
Each import works in its own folder holding a lock for as long as it runs; the spill file of
normalised rows (every name, NID and wallet of the file) is unlinked as soon as it is created,
so it has no name anyone could open and the kernel frees it when the import ends, however it
ends (kill -9 included). A folder whose lock nobody holds is stale and is removed the next
time an import, or `agam demo`, starts.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pyarrow as pa
import pyarrow.ipc as ipc

from agam.core.private_files import private_folder
from store.db import Store

log = logging.getLogger(__name__)

PREFIX = "import-"
LOCK = ".lock"
COMPRESSION = "lz4"  # of the spilled rows (Arrow IPC buffers)
BATCH_ROWS = 50_000  # rows a reader of a spill holds at once


def default_staging(store: Store) -> Path:
    """`staging/` beside a SQLite database file; a private folder in the system temp
    directory otherwise (the spill file is anonymous either way)."""
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "staging"
    return Path(tempfile.gettempdir()) / f"agam-staging-{os.getuid()}"


def clean_stale(root: Path) -> int:
    """Remove import folders no running import holds; returns how many were removed."""
    if not root.is_dir():
        return 0
    removed = 0
    for folder in root.glob(f"{PREFIX}*"):
        lock = folder / LOCK
        try:
            handle = lock.open("a")
        except OSError:  # no lock file: a folder left half-made
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # an import is running there
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d stale registry staging folder(s) from %s", removed, root)
    return removed


class _KeepOpen:
    """A file Arrow may 'close' when its writer finishes without closing our descriptor."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.closed = False

    def write(self, data: Any) -> int:
        return self._handle.write(data)

    def flush(self) -> None:
        self._handle.flush()

    def tell(self) -> int:
        return self._handle.tell()

    def close(self) -> None:
        self._handle.flush()


class Spill:
    """An anonymous (already unlinked) file: write once as an Arrow IPC file, then read back
    column by column. Arrow IPC with LZ4 rather than Parquet: written in a third of the
    time and read in a fifth, for about three times the disk (the rows live only for the
    import)."""

    def __init__(self, folder: Path) -> None:
        fd, name = tempfile.mkstemp(dir=folder, suffix=".arrow")  # mode 0600
        os.unlink(name)
        self._handle = os.fdopen(fd, "w+b")
        self.written = False
        self._writer: ipc.RecordBatchFileWriter | None = None
        self._schema: pa.Schema | None = None

    def sink(self) -> pa.NativeFile:
        self.written = True
        return pa.PythonFile(_KeepOpen(self._handle), mode="w")

    def append(self, table: pa.Table) -> None:
        """Add rows (every table of one spill has the first one's schema)."""
        if self._writer is None:
            options = ipc.IpcWriteOptions(compression=COMPRESSION)
            self._writer = ipc.new_file(self.sink(), table.schema, options=options)
            self._schema = table.schema
        self._writer.write_table(table, max_chunksize=BATCH_ROWS)

    def finish(self) -> None:
        """Close the file's writing (its footer); then it can be read."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def batches(self, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The appended batches (only `columns`, if given), one at a time."""
        if self._schema is None:
            raise ValueError("nothing was appended to this spill")
        fields = None if columns is None else [self._schema.get_field_index(c) for c in columns]
        if fields is not None and min(fields, default=0) < 0:
            raise KeyError(f"not in the spill: {columns}")
        source = self.source()
        own = pa.OSFile(source) if isinstance(source, str) else None
        file = own if own is not None else source  # the shared handle stays open
        try:
            reader = ipc.open_file(file, options=ipc.IpcReadOptions(included_fields=fields))
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)
        finally:
            if own is not None:
                own.close()

    def source(self) -> str | pa.NativeFile:
        """A path each reader opens on its own (several may read at once), or where there
        is no /proc, the one shared handle (one reader at a time)."""
        self._handle.flush()
        self._handle.seek(0)
        return self._proc if self.reopens else pa.PythonFile(self._handle, mode="r")

    @property
    def _proc(self) -> str:
        return f"/proc/self/fd/{self._handle.fileno()}"

    @property
    def reopens(self) -> bool:
        return os.path.exists(self._proc)

    def close(self) -> None:
        self._handle.close()


class Staging:
    """`with Staging(root) as staging: spill = staging.spill()` for one import."""

    def __init__(self, root: Path) -> None:
        private_folder(root)
        self.root = root
        clean_stale(self.root)
        self.folder: Path | None = None
        self._lock: IO[str] | None = None
        self._spills: list[Spill] = []

    def __enter__(self) -> Staging:
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=self.root))  # mode 0700
        fd = os.open(self.folder / LOCK, os.O_CREAT | os.O_WRONLY, 0o600)
        self._lock = os.fdopen(fd, "w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        return self

    def work_folder(self) -> Path:
        """This import's own folder (owner-only; removed when the import ends)."""
        assert self.folder is not None, "use Staging as a context manager"
        return self.folder

    def spill(self) -> Spill:
        spill = Spill(self.work_folder())
        self._spills.append(spill)
        return spill

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for spill in self._spills:
            with contextlib.suppress(OSError):
                spill.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()
