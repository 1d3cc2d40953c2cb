"""The errors of a registry import's first pass, in bounded memory at any file size.

A national file whose every row is bad (a column exported wrongly, unquoted commas in names)
has several errors a row: tens of millions. Holding them all cost 1.7 GB at 1 M households.
Here every error is counted and its record marked in a bitmap (one byte a record), but only
the first `keep` errors by row are held for the report. A quarantine import also writes every
error (position, field, reason: never a value) to an anonymous spill in the import's private
folder, and reads them back in batches to record them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from allowances.registry_schema import FIELD_NAMES

if TYPE_CHECKING:
    from allowances.registry_staging import Spill

FIELD_ORDER = {name: i for i, name in enumerate(FIELD_NAMES)}
SCHEMA = pa.schema([("_index", pa.int64()), ("field", pa.string()), ("reason", pa.string())])
LINES_AT_ONCE = 100_000  # ragged lines worded at a time for a quarantine
RowNumbers = Callable[[np.ndarray], np.ndarray]  # record positions -> row numbers of the file


@dataclass(frozen=True)
class Ragged:
    """Lines of a text file that are not records (a wrong number of fields), by line."""

    lines: np.ndarray  # int64 line numbers (header = 1), ascending
    actual: np.ndarray  # fields found
    expected: int

    @staticmethod
    def none() -> Ragged:
        return Ragged(np.zeros(0, np.int64), np.zeros(0, np.int64), 0)

    def __len__(self) -> int:
        return len(self.lines)

    def frame(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """row, field, reason of lines[start:stop]."""
        lines, actual = self.lines[start:stop], self.actual[start:stop]
        reasons = [f"{a} fields, expected {self.expected}" for a in actual.tolist()]
        return pd.DataFrame({"row": lines, "field": "row", "reason": reasons})


class BadRows:
    """Which record positions have at least one error: a growable bitmap."""

    def __init__(self) -> None:
        self._marked = np.zeros(1 << 16, dtype=bool)
        self.count = 0

    def mark(self, index: np.ndarray) -> None:
        if not len(index):
            return
        top = int(index.max()) + 1
        if top > len(self._marked):
            grown = np.zeros(max(top, 2 * len(self._marked)), dtype=bool)
            grown[: len(self._marked)] = self._marked
            self._marked = grown
        fresh = np.unique(index[~self._marked[index]])
        self._marked[fresh] = True
        self.count += len(fresh)

    def of(self, index: np.ndarray) -> np.ndarray:
        """True where the record at position `index` is bad."""
        index = np.asarray(index, dtype=np.int64)
        inside = index < len(self._marked)
        out = np.zeros(len(index), dtype=bool)
        out[inside] = self._marked[index[inside]]
        return out


class ErrorLog:
    """`add` errors as the chunks come (in file order), then `head` once for the report."""

    def __init__(self, keep: int, spill: Spill | None = None) -> None:
        self.keep = max(keep, 0)
        self.total = 0
        self.bad = BadRows()
        self._held: list[pd.DataFrame] = []
        self._held_count = 0
        self._cutoff: int | None = None  # the last position the report can still show
        self._spill = spill

    def add(self, index: np.ndarray, field: str, reasons: np.ndarray | list[str]) -> None:
        """Errors of one field at record positions `index`, one reason each."""
        index = np.asarray(index, dtype=np.int64)
        if not len(index):
            return
        self.total += len(index)
        self.bad.mark(index)
        if self._spill is not None:
            columns = {"_index": index, "field": [field] * len(index), "reason": reasons}
            self._spill.append(pa.table(columns, schema=SCHEMA))
        if self._cutoff is not None:
            wanted = index <= self._cutoff
            if not wanted.any():
                return
            index, reasons = index[wanted], np.asarray(reasons, dtype=object)[wanted]
        self._held.append(pd.DataFrame({"_index": index, "field": field, "reason": reasons}))
        self._held_count += len(index)
        if self._held_count > 2 * self.keep:
            self._shrink()

    def _shrink(self) -> None:
        """Hold only the errors of the first `keep` positions' rows (a row's errors stay
        together at the edge); later chunks then add only what could still be shown."""
        frame = pd.concat(self._held, ignore_index=True)
        positions = frame["_index"].to_numpy()
        cutoff = int(np.partition(positions, self.keep - 1)[self.keep - 1]) if self.keep else -1
        self._cutoff = cutoff if self._cutoff is None else min(cutoff, self._cutoff)
        frame = frame[positions <= self._cutoff]
        self._held, self._held_count = [frame], len(frame)

    def head(self, row_numbers: RowNumbers, ragged: Ragged) -> pd.DataFrame:
        """The first `keep` errors, records and ragged lines together: row, field, reason,
        by row then by the schema's field order."""
        parts = [
            frame.assign(row=row_numbers(frame["_index"].to_numpy(np.int64)))
            for frame in self._held
        ]
        if len(ragged):
            parts.append(ragged.frame(0, self.keep))
        if not parts:
            return pd.DataFrame({"row": pd.Series([], dtype="int64"), "field": [], "reason": []})
        frame = pd.concat(parts, ignore_index=True)[["row", "field", "reason"]]
        order = frame["field"].map(FIELD_ORDER).fillna(-1)
        frame = frame.assign(_order=order).sort_values(["row", "_order"], kind="stable")
        return frame.head(self.keep).drop(columns="_order").reset_index(drop=True)

    def every(self, row_numbers: RowNumbers, ragged: Ragged) -> Iterator[pd.DataFrame]:
        """Every error, in batches (row, field, reason): the spilled records, then the ragged
        lines. Only for a log made with a spill."""
        if self._spill is None:
            raise ValueError("this error log keeps no spill: every error was not written")
        if self._spill.written:
            self._spill.finish()
            for batch in self._spill.batches():
                frame = batch.to_pandas()
                frame["row"] = row_numbers(frame.pop("_index").to_numpy(np.int64))
                yield frame[["row", "field", "reason"]]
        for start in range(0, len(ragged), LINES_AT_ONCE):
            yield ragged.frame(start, start + LINES_AT_ONCE)
