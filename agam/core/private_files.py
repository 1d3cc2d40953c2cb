"""Files that hold personal data (the SQLite store, its backups) are their owner's alone.

A store or backup readable by other accounts on the server gives away every beneficiary's
name, NID and wallet number. The process umask (0022 by default; 0027 in the shipped systemd
units, none in a shell) is not relied on: such files are created owner-only, and an existing
store that others may read is made owner-only, with a warning naming the file.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_FOLDER = 0o700
OTHERS = 0o077  # the group's and everyone else's permission bits
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite gives them the database's mode


def create_private_file(path: Path) -> bool:
    """Create `path` empty and owner-only if it does not exist; True if it was created."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    os.chmod(path, OWNER_ONLY_FILE)  # os.open's mode passes through the umask
    return True


def private_folder(path: Path) -> None:
    """Create folder `path` (and its parents) and make it owner-only."""
    path.mkdir(mode=OWNER_ONLY_FOLDER, parents=True, exist_ok=True)
    os.chmod(path, OWNER_ONLY_FOLDER)


def make_private(path: Path) -> None:
    """Take the group's and others' permissions off an existing file; a warning says so. A
    file another account owns cannot be changed: a warning says that too."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & OTHERS:
        return
    try:
        os.chmod(path, mode & ~OTHERS)
    except OSError as error:  # another account's file, a read-only file system
        log.warning("%s holds personal data and others may read it (mode %04o) and it cannot "
                    "be changed here (%s): its owner must make it owner-only", path, mode,
                    error.strerror)  # fmt: skip
        return
    log.warning("%s holds personal data and others could read it (mode %04o): now owner-only",
                path, mode)  # fmt: skip


def private_sqlite_file(path: Path) -> None:
    """The SQLite store at `path`: created owner-only, or made so with its WAL, shared
    memory and journal files. A folder that cannot be written is left for SQLite to report."""
    try:
        if create_private_file(path):
            return
    except OSError:
        return  # e.g. no such folder or no permission: SQLite's own error says which
    for each in (path, *(path.with_name(path.name + tail) for tail in SQLITE_COMPANIONS)):
        make_private(each)
