"""Streaming readers for registry extracts: CSV, XLSX and Parquet, every cell as text.

Each reader yields `RawChunk`s of at most `chunk_rows` rows (so 10 M rows never sit in memory as
Python objects) and can turn a chunk's record positions into the row numbers a person sees.
Cells that cannot even be read as text (invalid UTF-8 in a CSV, a number too large to be exact
in a spreadsheet) come back as null plus a "bad cell" note, never as an exception.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from agam.core.errors import RegistryError
from allowances.registry_errors import Ragged
from allowances.registry_schema import (
    FIELD_NAMES,
    ONE_OF_COLUMNS,
    REQUIRED_COLUMNS,
    header_key,
    load_aliases,
)
from allowances.spreadsheet_guard import csv_delimiter, xlsx_refusal
from allowances.spreadsheet_hidden import hidden_refusal

log = logging.getLogger(__name__)
T = TypeVar("T")

NOT_UTF8 = "bytes are not valid UTF-8 (save the file as CSV UTF-8)"
INEXACT = "number too large to be stored exactly in a spreadsheet; format the column as text"
CSV_BLOCK_BYTES = 16 << 20
HEADER_BYTES = 1 << 20  # the longest header line read
LINE_END = re.compile(rb"\r\n?|\n")


@dataclass
class RawChunk:
    """Raw text cells of some rows. `index` is the reader's record position of each row."""

    columns: dict[str, pa.Array]
    index: np.ndarray
    bad_cells: list[tuple[np.ndarray, str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.index)


def map_headers(file_name: str, headers: list[str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """Raw header -> schema field, and the ignored headers. Refuses a file missing a column."""
    aliases = load_aliases().columns
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for raw in headers:
        key = header_key(raw)
        name = key if key in FIELD_NAMES else aliases.get(key)
        if name is None:
            ignored.append(raw.strip())
        elif name in mapping.values():
            raise RegistryError(f"{file_name} row 1: two columns mean {name}")
        else:
            mapping[raw] = name
    found = set(mapping.values())
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    missing += [" or ".join(g) for g in ONE_OF_COLUMNS if not found.intersection(g)]
    if missing:
        raise RegistryError(f"{file_name} row 1: missing column(s): {', '.join(missing)}")
    return mapping, tuple(ignored)


def _drop_blank_rows(chunk: RawChunk) -> RawChunk:
    if not chunk.columns or len(chunk) == 0:
        return chunk
    filled = np.zeros(len(chunk), dtype=bool)
    for arr in chunk.columns.values():
        filled |= np.asarray(
            pc.fill_null(pc.greater(pc.utf8_length(arr), 0), False).to_numpy(zero_copy_only=False)
        )
    for positions, _, _ in chunk.bad_cells:
        filled[positions] = True
    if filled.all():
        return chunk
    keep = np.flatnonzero(filled)
    remap = np.full(len(chunk), -1)
    remap[keep] = np.arange(len(keep))
    take = pa.array(keep)
    return RawChunk(
        columns={k: pc.take(v, take) for k, v in chunk.columns.items()},
        index=chunk.index[keep],
        bad_cells=[(remap[p], f, r) for p, f, r in chunk.bad_cells],
    )


class CsvReader:
    """UTF-8 CSV (BOM allowed), comma, semicolon or tab separated; header on line 1."""

    def __init__(self, path: Path, chunk_rows: int) -> None:
        self.path, self.file_name, self.chunk_rows = path, path.name, chunk_rows
        with path.open("rb") as handle:
            head = handle.read(HEADER_BYTES + 1)
        end = LINE_END.search(head)  # \r\n, \n, or \r alone (Excel's "CSV (Macintosh)")
        if end is None and len(head) > HEADER_BYTES:
            raise RegistryError(f"{self.file_name} row 1: over 1 MB without a line end: no header")
        first = head if end is None else head[: end.start()]
        try:
            header_line = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RegistryError(f"{self.file_name} row 1: {NOT_UTF8}") from None
        self.delimiter = csv_delimiter(header_line)
        headers = next(csv.reader(io.StringIO(header_line), delimiter=self.delimiter), [])
        if not headers:
            raise RegistryError(f"{self.file_name}: empty file, no header row")
        self.headers = headers
        self.mapping, self.ignored = map_headers(self.file_name, headers)
        self._skipped_lines = array("q")  # 16 bytes a ragged line, however many there are
        self._skipped_fields = array("q")
        self.ragged = Ragged.none()

    def _on_invalid(self, row: Any) -> str:
        self._skipped_lines.append(int(row.number))
        self._skipped_fields.append(int(row.actual_columns))
        return "skip"

    def chunks(self) -> Iterator[RawChunk]:
        internal = [f"c{i}" for i in range(len(self.headers))]
        wanted = {f"c{i}": self.mapping[h] for i, h in enumerate(self.headers) if h in self.mapping}
        reader = self._unbroken(lambda: self._open(internal, list(wanted)), 0)
        start = 0
        batches = iter(reader)
        while (batch := self._unbroken(lambda: next(batches, None), start)) is not None:
            n = batch.num_rows
            index = np.arange(start, start + n, dtype=np.int64)
            start += n
            columns: dict[str, pa.Array] = {}
            bad: list[tuple[np.ndarray, str, str]] = []
            for internal_name, name in wanted.items():
                arr, positions = _decode_utf8(batch.column(internal_name))
                columns[name] = arr
                if len(positions):
                    bad.append((positions, name, NOT_UTF8))
            yield _drop_blank_rows(RawChunk(columns, index, bad))
        lines = np.frombuffer(self._skipped_lines, dtype=np.int64).copy()
        order = np.argsort(lines, kind="stable")
        fields = np.frombuffer(self._skipped_fields, dtype=np.int64)[order]
        self.ragged = Ragged(lines[order], fields, len(self.headers))
        self._skip_positions = self.ragged.lines - 2 - np.arange(len(lines))

    def _open(self, internal: list[str], wanted: list[str]) -> pcsv.CSVStreamingReader:
        """Arrow's streaming reader: every column as bytes (decoded and checked by us), ragged
        lines to `_on_invalid`."""
        return pcsv.open_csv(
            self.path,
            read_options=pcsv.ReadOptions(
                column_names=internal, skip_rows=1, use_threads=False, block_size=CSV_BLOCK_BYTES
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=self.delimiter,
                invalid_row_handler=self._on_invalid,
                ignore_empty_lines=False,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(internal, pa.binary()),
                include_columns=wanted,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )

    def _unbroken(self, read: Callable[[], T], records: int) -> T:
        """`read()`, with Arrow's refusal of a broken CSV as one line naming the file and the
        last line read, never Arrow's text (it can quote the row)."""
        try:
            return read()
        except pa.ArrowInvalid as exc:
            after = records + len(self._skipped_lines) + 1
            why = (
                f"a row longer than {_size(CSV_BLOCK_BYTES)} (an unclosed quote, or a cell "
                "far longer than any field allows)"
                if "straddl" in str(exc)
                else "its quoting or line structure is broken"
            )
            raise RegistryError(
                f"{self.file_name}: cannot be read as CSV after line {after}: {why}; "
                "nothing imported"
            ) from None

    def row_numbers(self, index: np.ndarray) -> np.ndarray:
        """Record position -> line number (header = 1), accounting for skipped ragged lines."""
        skip = getattr(self, "_skip_positions", np.zeros(0, dtype=np.int64))
        return index + 2 + np.searchsorted(skip, index, side="right")


def _size(n_bytes: int) -> str:
    return f"{n_bytes >> 20} MB" if n_bytes >= 1 << 20 else f"{n_bytes >> 10} KB"


def _decode_utf8(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    try:
        return arr.cast(pa.string()), np.zeros(0, dtype=np.int64)
    except pa.ArrowInvalid:
        values = arr.to_pylist()
        bad = []
        for i, value in enumerate(values):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(i)
        # Rebuilt value by value (rare): the bad bytes must not stay in the buffer under a
        # null, where string kernels that check UTF-8 would still trip on them.
        skip = set(bad)
        text = [None if i in skip or v is None else v.decode("utf-8") for i, v in enumerate(values)]
        return pa.array(text, pa.string()), np.array(bad, dtype=np.int64)


def _cell_text(value: Any) -> tuple[str | None, bool]:
    """A spreadsheet cell as text; second item True when the number cannot be exact."""
    if value is None or isinstance(value, str):
        return value, False
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    if isinstance(value, int):
        return str(value), abs(value) >= 2**53
    if isinstance(value, float):
        if value.is_integer():
            return f"{value:.0f}", abs(value) >= 2**53
        return repr(value), False
    if isinstance(value, datetime | date):
        return value.isoformat(), False
    return str(value), False


class XlsxReader:
    """The first worksheet of an .xlsx, header in row 1, read with openpyxl in read-only mode."""

    def __init__(self, path: Path, chunk_rows: int) -> None:
        import openpyxl

        self.path, self.file_name, self.chunk_rows = path, path.name, chunk_rows
        refusal = xlsx_refusal(path)
        if refusal is not None:
            raise RegistryError(f"{self.file_name}: {refusal}; nothing imported")
        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise RegistryError(
                f"{self.file_name}: not a readable .xlsx ({type(exc).__name__})"
            ) from None
        sheet = self._book.worksheets[0]
        self._rows = sheet.iter_rows(values_only=True)
        try:
            self._read_header(sheet)
        except RegistryError:
            self._rows.close()  # it holds the zip open
            self._book.close()
            raise
        self.ragged = Ragged.none()

    def _read_header(self, sheet: Any) -> None:
        header = next(self._rows, None)
        if not header:
            raise RegistryError(f"{self.file_name}: empty worksheet, no header row")
        self.headers = ["" if h is None else str(h) for h in header]
        hidden = hidden_refusal(self.path, sheet, self.headers)
        if hidden is not None:
            raise RegistryError(f"{self.file_name}: {hidden}; nothing imported")
        self.mapping, self.ignored = map_headers(self.file_name, self.headers)

    def chunks(self) -> Iterator[RawChunk]:
        wanted = [(i, self.mapping[h]) for i, h in enumerate(self.headers) if h in self.mapping]
        buffer: list[tuple[int, tuple[Any, ...]]] = []
        try:
            for number, values in enumerate(self._rows, start=2):
                if values and any(v is not None and v != "" for v in values):
                    buffer.append((number, values))
                if len(buffer) >= self.chunk_rows:
                    yield self._chunk(buffer, wanted)
                    buffer = []
            if buffer:
                yield self._chunk(buffer, wanted)
        finally:
            self._book.close()

    def _chunk(
        self, buffer: list[tuple[int, tuple[Any, ...]]], wanted: list[tuple[int, str]]
    ) -> RawChunk:
        index = np.array([n for n, _ in buffer], dtype=np.int64)
        columns: dict[str, pa.Array] = {}
        bad: list[tuple[np.ndarray, str, str]] = []
        for col, name in wanted:
            texts: list[str | None] = []
            inexact: list[int] = []
            for pos, (_, values) in enumerate(buffer):
                text, lossy = _cell_text(values[col] if col < len(values) else None)
                if lossy:
                    inexact.append(pos)
                    text = None
                texts.append(text)
            columns[name] = pa.array(texts, pa.string())
            if inexact:
                bad.append((np.array(inexact, dtype=np.int64), name, INEXACT))
        return RawChunk(columns, index, bad)

    def row_numbers(self, index: np.ndarray) -> np.ndarray:
        return index


def streamed_parquet(source: str | Path | pa.NativeFile) -> pq.ParquetFile:
    """A Parquet file to read batch by batch, holding one batch: pre-buffering off (Arrow's
    default keeps every pre-buffered range until the file is closed, about 40 bytes a row
    of the registry held to the end of an import)."""
    return pq.ParquetFile(source, pre_buffer=False)


class ParquetReader:
    """Parquet: any column type is cast to text; records are numbered from 1 (no header row)."""

    def __init__(self, path: Path, chunk_rows: int) -> None:
        self.path, self.file_name, self.chunk_rows = path, path.name, chunk_rows
        try:
            self._file = streamed_parquet(path)
        except (pa.ArrowException, OSError) as exc:
            why = " ".join("".join(c if c.isprintable() else " " for c in str(exc)).split())
            raise RegistryError(f"{self.file_name}: not a readable Parquet file ({why})") from None
        self.headers = list(self._file.schema_arrow.names)
        self.mapping, self.ignored = map_headers(self.file_name, self.headers)
        self.ragged = Ragged.none()

    def chunks(self) -> Iterator[RawChunk]:
        start = 0
        batches = self._file.iter_batches(
            batch_size=self.chunk_rows, columns=list(self.mapping), use_threads=True
        )
        while (batch := self._intact(lambda: next(batches, None), start)) is not None:
            n = batch.num_rows
            columns = {}
            for raw, name in self.mapping.items():
                arr = batch.column(raw)
                if pa.types.is_dictionary(arr.type):
                    arr = arr.dictionary_decode()
                if pa.types.is_boolean(arr.type):
                    arr = pc.if_else(arr, "true", "false")
                try:
                    columns[name] = arr.cast(pa.string())
                except pa.ArrowException:
                    raise RegistryError(
                        f"{self.file_name}: column {raw} ({arr.type}) cannot be read as text"
                    ) from None
            yield RawChunk(columns, np.arange(start, start + n, dtype=np.int64))
            start += n

    def _intact(self, read: Callable[[], T], records: int) -> T:
        """`read()`, with damaged data (a corrupt page, a truncated column chunk) as one line
        naming the file and the last record read."""
        try:
            return read()
        except (pa.ArrowException, OSError) as exc:
            raise RegistryError(
                f"{self.file_name}: not a readable Parquet file after record {records}: its "
                f"data is damaged ({type(exc).__name__}); nothing imported"
            ) from None

    def row_numbers(self, index: np.ndarray) -> np.ndarray:
        return index + 1


Reader = CsvReader | XlsxReader | ParquetReader


def open_reader(path: Path, chunk_rows: int = 100_000) -> Reader:
    """Pick the reader by file extension (.csv/.txt, .xlsx/.xlsm, .parquet/.pq)."""
    if not path.is_file():
        raise RegistryError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return CsvReader(path, chunk_rows)
    if suffix in (".xlsx", ".xlsm"):
        return XlsxReader(path, chunk_rows)
    if suffix in (".parquet", ".pq"):
        return ParquetReader(path, chunk_rows)
    raise RegistryError(f"{path.name}: unsupported file type {suffix!r} (csv, xlsx, parquet)")
