"""Rows split into numbered parts as they are read, each part read back on its own: in
memory, or in anonymous files of an import's private folder (no name anyone could open; the
kernel frees them however the import ends). What lets a first load's counting hold one part
of the country at a time instead of all of it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import IO

import numpy as np


class Parts:
    """`count` parts of one NumPy dtype: `append(part_of_row, values)`, then `read(i)`.
    With no folder every part stays in memory."""

    def __init__(self, count: int, dtype: np.dtype, folder: Path | None = None) -> None:
        self.dtype = np.dtype(dtype)
        self._held: list[list[np.ndarray]] = [[] for _ in range(count)]
        self._files: list[IO[bytes]] = []
        if folder is not None:
            self._files = [_anonymous_file(folder) for _ in range(count)]

    @property
    def count(self) -> int:
        return len(self._held)

    def append(self, part_of_row: np.ndarray, values: np.ndarray) -> None:
        """Each of `values` to its part (`part_of_row`, in 0..count-1), in order."""
        order = np.argsort(part_of_row, kind="stable")
        bounds = np.searchsorted(part_of_row[order], np.arange(self.count + 1))
        ordered = np.asarray(values, dtype=self.dtype)[order]
        for i in np.flatnonzero(np.diff(bounds)):
            self.write(int(i), ordered[bounds[i] : bounds[i + 1]])

    def write(self, part: int, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=self.dtype)
        if self._files:
            self._files[part].write(values.tobytes())
        else:
            self._held[part].append(values)

    def read(self, part: int) -> np.ndarray:
        """Everything written to `part`, in order (a copy: the part may be read again)."""
        if not self._files:
            held = self._held[part]
            return np.concatenate(held) if held else np.zeros(0, self.dtype)
        handle = self._files[part]
        handle.flush()
        handle.seek(0)
        data = np.frombuffer(handle.read(), dtype=self.dtype)
        handle.seek(0, 2)  # writing may go on at the end
        return data

    def close(self) -> None:
        for handle in self._files:
            handle.close()
        self._files = []
        self._held = [[] for _ in self._held]

    def __enter__(self) -> Parts:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _anonymous_file(folder: Path) -> IO[bytes]:
    """A file with no name (mode 0600), closed by `Parts.close`."""
    return tempfile.TemporaryFile(dir=folder)
