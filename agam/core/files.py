"""Atomic file writes: a reader (web server, SMS gateway, import) never sees half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(target: Path, write: Callable[[Path], object], mode: int = 0o644) -> None:
    """Call `write(tmp)` on a temporary file beside `target`, fsync it, set `mode`, then
    rename it over `target` in one step. On any error `target` is left as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(target: Path, data: bytes, mode: int = 0o644) -> None:
    atomic_write(target, lambda tmp: tmp.write_bytes(data), mode)
