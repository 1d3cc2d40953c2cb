"""Files other people put where Agam looks: a BMD drop folder, an FFWC log-sheet folder, a
raster path. They are read only as what they claim to be.

Whoever may write into such a folder must not make Agam read something else with Agam's own
rights: a symbolic link to the store (the run would keep its bytes among the raw artifacts),
a FIFO that never ends (the scheduler's job would hang), or a file larger than any parser
accepts (read whole into memory before the parser's own limit). A link to another file in
the same folder (`latest.csv -> 2026-07-01.csv`) is read as that file. A hard link cannot
be told from its target; it is read only where the kernel lets nobody link a file they
could not read and write themselves (`fs.protected_hardlinks`, on by default).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Collection
from pathlib import Path

from agam.core.errors import FeedError


def newest(folder: Path, suffixes: Collection[str]) -> Path | None:
    """The entry of `folder` with one of `suffixes` changed last, judged by the entry itself
    (a link's own time, never its target's); None when there is none. An entry removed while
    looking is passed over."""
    found: list[tuple[float, str, Path]] = []
    for entry in folder.iterdir():
        if entry.suffix.lower() not in suffixes:
            continue
        try:
            found.append((entry.lstat().st_mtime, entry.name, entry))
        except FileNotFoundError:
            continue
    return max(found)[2] if found else None


PROTECTED_HARDLINKS = Path("/proc/sys/fs/protected_hardlinks")


def kernel_protects_hardlinks() -> bool:
    """Whether the kernel refuses a hard link to a file the linker may not read and write."""
    try:
        return PROTECTED_HARDLINKS.read_text().strip() == "1"
    except OSError:  # not Linux, or /proc hidden: assume the worst
        return False


def _inside_folder(feed_id: str, path: Path) -> Path:
    """`path` itself, or for a link the file it names when that lies in the same folder."""
    if not path.is_symlink():
        return path
    target = path.resolve()
    if target.parent != path.parent.resolve():
        raise FeedError(
            f"{feed_id}: {path} is a link to a file outside its folder: refused (a dropped "
            "file is read only as itself)"
        )
    return target


def read_dropped(feed_id: str, path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`, opened without following a link
    (see `_inside_folder`) and without waiting on a FIFO; else one FeedError naming it."""
    real = _inside_folder(feed_id, path)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FeedError(f"{feed_id}: {path} was replaced by a link: refused") from None
        raise FeedError(f"{feed_id}: cannot read {path} ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise FeedError(f"{feed_id}: {path} is not a regular file: refused")
        if info.st_nlink > 1 and not kernel_protects_hardlinks():
            raise FeedError(
                f"{feed_id}: {path} has {info.st_nlink} hard links and this kernel lets anyone "
                "link a file they cannot read (fs.protected_hardlinks is off): refused; drop "
                "a copy, or turn the protection on"
            )
        if info.st_size > max_bytes:
            raise FeedError(
                f"{feed_id}: {path} is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit"
            )
        content = handle.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise FeedError(f"{feed_id}: {path} grew past the {max_bytes:,}-byte limit while read")
    return content
