"""Rows, columns and sheets hidden in Excel are refused: nobody looking at the sheet saw them.

openpyxl's read-only mode does not give row or column flags, so the worksheet's XML part is
read again here, streaming, from the zip under the guards of `spreadsheet_guard`. Most sheets
hide nothing, and a byte search settles those without parsing: every encoding expat reads
but UTF-16 spells the attribute names in ASCII. Only a sheet where they may hide something
(or a DTD that could spell them otherwise) is parsed, one element at a time.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from allowances.spreadsheet_guard import parts_refusal

SHOWN = 10  # hidden rows named in a refusal; the others are counted
BLOCK = 1 << 20
MARKS = (b"hidden", b"zeroHeight")  # row and column flags; rows hidden by default
PLAIN = (b'="0"', b'="false"')  # the forms that hide nothing (LibreOffice writes them)
KEEP = max(len(m) for m in MARKS) + max(len(p) for p in PLAIN) - 1  # overlap of blocks
NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)


def _tags(local: str) -> frozenset[str]:
    return frozenset(f"{ns} {local}" for ns in NAMESPACES)


ROW, COL, FORMAT = _tags("row"), _tags("col"), _tags("sheetFormatPr")
VALUE = _tags("v") | _tags("is") | _tags("f")  # a cell's value, inline text or formula


def hidden_refusal(path: Path, sheet: Any, header: Sequence[object]) -> str | None:
    """Why `sheet` (an openpyxl read-only worksheet of the workbook at `path`) is refused for
    what it hides, or None: the sheet itself, rows holding a cell value, columns with a
    header. Names the sheet and the rows (as Excel numbers them) or columns."""
    title = _clean(sheet.title)
    part = getattr(sheet, "_worksheet_path", None)
    if not isinstance(part, str):
        return f'sheet "{title}" cannot be checked for hidden rows'
    headed = {i: _clean(h) for i, h in enumerate(header, start=1) if _clean(h)}
    try:
        with zipfile.ZipFile(path) as archive:
            refusal = parts_refusal(archive.infolist())
            if refusal is not None:
                return refusal
            with archive.open(part) as stream:
                plain = _plain(stream)
            scan = _Scan(headed)
            if not plain:
                with archive.open(part) as stream:
                    scan.read(stream)
    except (OSError, KeyError, RuntimeError, NotImplementedError, zipfile.BadZipFile,
            expat.ExpatError) as exc:  # fmt: skip
        return f'sheet "{title}" cannot be read to check for hidden rows ({type(exc).__name__})'
    state = {"visible": "", "hidden": "is hidden"}.get(
        sheet.sheet_state, "is very hidden (only a macro can show it)"
    )
    has = []
    if scan.rows_hidden:
        more = scan.rows_hidden - len(scan.rows)
        has.append(
            f"hidden row{'s' * (scan.rows_hidden > 1)} {', '.join(map(str, scan.rows))}"
            + (f" (and {more:,} more)" if more else "")
        )
    if scan.columns:
        names = ", ".join(f"{_letter(c)} ({headed[c]})" for c in sorted(scan.columns))
        has.append(f"hidden column{'s' * (len(scan.columns) > 1)} {names}")
    found = [state] if state else []
    if has:
        found.append(f"has {' and '.join(has)}")
    if not found:
        return None
    one = scan.rows_hidden + len(scan.columns) + bool(state) == 1
    return (
        f'sheet "{title}" {" and ".join(found)}, which would be read unseen; unhide or delete '
        f"{'it' if one else 'them'} in the spreadsheet and import it again"
    )


def _plain(stream: IO[bytes]) -> bool:
    """True when the part cannot hide a row or column: each mark only in a form that hides
    nothing, no DTD, not UTF-16. Blocks overlap so a mark cut between two is read whole."""
    buf = stream.read(BLOCK)
    if buf[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in buf[:4]:
        return False
    while True:
        more = stream.read(BLOCK)
        end = max(len(buf) - KEEP, 0) if more else len(buf)  # marks starting before it
        if b"<!DOCTYPE" in buf:
            return False
        for mark in (m for m in MARKS if m in buf):
            found = buf.count(mark, 0, end + len(mark) - 1)
            plain = sum(buf.count(mark + p, 0, end + len(mark + p) - 1) for p in PLAIN)
            if found != plain:
                return False
        if not more:
            return True
        buf = buf[end:] + more


class _Scan:
    """Hidden rows that hold a value and hidden headed columns, one element at a time."""

    def __init__(self, headed: dict[int, str]) -> None:
        self.headed = headed
        self.rows: list[int] = []  # the first SHOWN
        self.rows_hidden = 0
        self.columns: set[int] = set()  # filled by `read`
        self._starts = [0] * (max(headed, default=0) + 2)  # hidden spans begun, per column
        self._row = 0
        self._hidden = False  # the current row is hidden and not yet counted
        self._by_default = False  # sheetFormatPr zeroHeight: rows hidden unless sized

    def read(self, stream: IO[bytes]) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self._start
        parser.ParseFile(stream)
        covering = 0
        for column, begun in enumerate(self._starts):
            covering += begun
            if covering > 0 and column in self.headed:
                self.columns.add(column)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if name in VALUE:
            if self._hidden:
                self._hidden = False
                self.rows_hidden += 1
                if len(self.rows) < SHOWN:
                    self.rows.append(self._row)
        elif name in ROW:
            self._row = _row_number(attrs.get("r"), self._row)
            self._hidden = _true(attrs.get("hidden")) or (
                self._by_default and not _true(attrs.get("customHeight"))
            )
        elif name in COL and _true(attrs.get("hidden")):
            low, high = _span(attrs.get("min"), attrs.get("max"))
            low, high = max(low, 1), min(high, len(self._starts) - 2)
            if low <= high:
                self._starts[low] += 1
                self._starts[high + 1] -= 1
        elif name in FORMAT:
            self._by_default = _true(attrs.get("zeroHeight"))


def _true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true")


def _row_number(value: str | None, previous: int) -> int:
    """The row's `r`, as openpyxl reads it; the next row when it is missing or unreadable."""
    try:
        return int(float(value)) if value is not None else previous + 1
    except (ValueError, OverflowError):
        return previous + 1


def _span(low: str | None, high: str | None) -> tuple[int, int]:
    """A hidden `col`'s columns; every column when its bounds cannot be read."""
    try:
        return int(low or ""), int(high or "")
    except ValueError:
        return 1, 1 << 14


def _letter(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _clean(header: object) -> str:
    """A header as one short printable line (it is quoted in a refusal)."""
    text = "" if header is None else str(header)
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:40]
