"""Rows, columns and sheets hidden in Excel are refused: nobody looking at the sheet saw them.
So are values made unseen without hiding anything: rows too low or columns too narrow to show
text, and cells whose style hides their value (`spreadsheet_styles`).

openpyxl's read-only mode does not give row or column flags, so the worksheet's XML part is
read again here, streaming, from the zip under the guards of `spreadsheet_guard`. Most sheets
hide nothing, and a byte search settles those without parsing: every encoding expat reads
but UTF-16 spells the attribute names in ASCII. Only a sheet where they may hide something
(or a DTD that could spell them otherwise) is parsed, one element at a time.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from allowances.spreadsheet_guard import UnseenLimits, parts_refusal, unseen_limits
from allowances.spreadsheet_styles import Dxf, Unseen, dxf_part, unseen_styles

SHOWN = 10  # hidden rows named in a refusal; the others are counted
BLOCK = 1 << 20
MARKS = (b"hidden", b"zeroHeight")  # row and column flags; rows hidden by default
PLAIN = (b'="0"', b'="false"')  # the forms that hide nothing (LibreOffice writes them)
SIZES = re.compile(rb"(\sht|defaultRowHeight|\swidth|defaultColWidth)\s*=\s*[\"']([^\"']{0,32})")
KEEP = 80  # overlap of blocks: longer than any mark or size attribute
NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)


def _tags(local: str) -> frozenset[str]:
    return frozenset(f"{ns} {local}" for ns in NAMESPACES)


ROW, COL, FORMAT, CELL = _tags("row"), _tags("col"), _tags("sheetFormatPr"), _tags("c")
CONDITIONAL, RULE = _tags("conditionalFormatting"), _tags("cfRule")
# Excel 2010's conditional formats, in the sheet's extension list: a rule carries its own
# differential style (x14:dxf, its children in the main namespace), the ranges follow the
# rules as the text of xm:sqref.
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
X14_CONDITIONAL, X14_DXF = f"{X14} conditionalFormatting", f"{X14} dxf"
X14_SQREF = "http://schemas.microsoft.com/office/excel/2006/main sqref"
X14_USED = X14.encode()  # a part without this namespace has no such rule
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
            unseen = unseen_styles(archive)
            limits = unseen_limits()
            with archive.open(part) as stream:
                plain = not unseen and _plain(stream, limits)
            scan = _Scan(headed, unseen, limits)
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
    if scan.rows_unseen:
        more = scan.rows_unseen - len(scan.unseen)
        has.append(
            "values that cannot be seen (text the colour of its fill or too small, or a "
            f"format that shows nothing) in row{'s' * (scan.rows_unseen > 1)} "
            f"{', '.join(map(str, scan.unseen))}" + (f" (and {more:,} more)" if more else "")
        )
    if scan.conditional:
        has.append(f"conditional formatting that hides values in {', '.join(scan.conditional)}")
    found = [state] if state else []
    if has:
        found.append(f"has {' and '.join(has)}")
    if not found:
        return None
    one = scan.rows_hidden + len(scan.columns) + bool(state) + scan.rows_unseen == 1
    one = one and not scan.conditional
    return (
        f'sheet "{title}" {" and ".join(found)}, which would be read unseen; unhide or delete '
        f"{'it' if one else 'them'} in the spreadsheet and import it again"
    )


def _plain(stream: IO[bytes], limits: UnseenLimits) -> bool:
    """True when the part cannot hide a row or column: each mark only in a form that hides
    nothing, no row height or column width too small to show text, no DTD, not UTF-16.
    Blocks overlap so a mark cut between two is read whole."""
    buf = stream.read(BLOCK)
    if buf[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in buf[:4]:
        return False
    while True:
        more = stream.read(BLOCK)
        end = max(len(buf) - KEEP, 0) if more else len(buf)  # marks starting before it
        if b"<!DOCTYPE" in buf or X14_USED in buf:
            return False
        for mark in (m for m in MARKS if m in buf):
            found = buf.count(mark, 0, end + len(mark) - 1)
            plain = sum(buf.count(mark + p, 0, end + len(mark + p) - 1) for p in PLAIN)
            if found != plain:
                return False
        if _too_small(buf, end, limits):
            return False
        if not more:
            return True
        buf = buf[end:] + more


def _too_small(buf: bytes, end: int, limits: UnseenLimits) -> bool:
    """A row height or column width (given or by default) under the limits, starting before
    `end`; a size that is not a number counts as too small (the parse decides)."""
    for match in SIZES.finditer(buf, 0, end + KEEP):
        if match.start() >= end:
            break
        name, value = match.group(1).strip(), match.group(2).decode("latin-1")
        rows = name in (b"ht", b"defaultRowHeight")
        if _small(value, limits.min_row_height_points if rows else limits.min_column_width_chars):
            return True
    return False


class _Scan:
    """Hidden rows that hold a value, hidden headed columns, and rows holding a value that
    cannot be seen, one element at a time."""

    def __init__(self, headed: dict[int, str], unseen: Unseen, limits: UnseenLimits) -> None:
        self.headed = headed
        self.unseen_styles = unseen
        self.limits = limits
        self.rows: list[int] = []  # the first SHOWN
        self.rows_hidden = 0
        self.unseen: list[int] = []  # the first SHOWN rows with an unseen value
        self.rows_unseen = 0
        self.columns: set[int] = set()  # filled by `read`
        self.conditional: list[str] = []  # ranges a hiding conditional format applies to
        self._ranges = ""  # the conditional format being read
        self._inline: list[Dxf] = []  # an x14 rule's own styles, while one is read
        self._inline_part = [""]
        self._in_inline = False
        self._x14_hides = False  # the x14 conditional format being read has a hiding rule
        self._sqref: list[str] | None = None  # its ranges' text, while xm:sqref is read
        self._x14_ranges = "?"
        width = max(headed, default=0) + 2
        self._starts = [0] * width  # hidden spans begun, per column
        self._shown = [0] * width  # spans of columns given a width that shows text
        self._narrow_default = False  # sheetFormatPr defaultColWidth too narrow
        self._row = 0
        self._hidden = False  # the current row is hidden and not yet counted
        self._row_unseen = False  # the current row already counted as unseen
        self._cell_unseen = False  # the current cell's style hides its value
        self._by_default = False  # sheetFormatPr zeroHeight: rows hidden unless sized
        self._low_default = False  # sheetFormatPr defaultRowHeight too low

    def read(self, stream: IO[bytes]) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        parser.ParseFile(stream)
        covering = shown = 0
        for column in range(len(self._starts)):
            covering += self._starts[column]
            shown += self._shown[column]
            narrow = self._narrow_default and shown <= 0
            if (covering > 0 or narrow) and column in self.headed:
                self.columns.add(column)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if self._in_inline:
            dxf_part(self._inline, self._inline_part, name.rsplit(" ", 1)[-1], attrs)
        elif name == X14_CONDITIONAL:
            self._x14_hides, self._sqref, self._x14_ranges = False, None, "?"
        elif name == X14_DXF:
            self._in_inline, self._inline = True, []
            dxf_part(self._inline, self._inline_part, "dxf", {})
        elif name == X14_SQREF:
            self._sqref = []
        elif name in CELL:
            style = _number(attrs.get("s") or "0")
            kind = attrs.get("t") or "n"
            self._cell_unseen = self.unseen_styles.hides(int(style or 0), kind)
        elif name in VALUE:
            self._value()
        elif name in ROW:
            self._row = _row_number(attrs.get("r"), self._row)
            low = _small(attrs.get("ht"), self.limits.min_row_height_points)
            self._hidden = (
                _true(attrs.get("hidden"))
                or low
                or (self._by_default and not _true(attrs.get("customHeight")))
                or (self._low_default and "ht" not in attrs)
            )
            self._row_unseen = False
            self._cell_unseen = False
        elif name in COL:
            self._column(attrs)
        elif name in CONDITIONAL:
            self._ranges = _clean(attrs.get("sqref", "?"))
        elif name in RULE and "dxfId" in attrs:
            dxf = _number(attrs["dxfId"])
            hides = dxf is not None and int(dxf) in self.unseen_styles.conditional
            if hides and self._ranges not in self.conditional and len(self.conditional) < SHOWN:
                self.conditional.append(self._ranges)
        elif name in FORMAT:
            self._by_default = _true(attrs.get("zeroHeight"))
            self._low_default = _small(
                attrs.get("defaultRowHeight"), self.limits.min_row_height_points
            )
            self._narrow_default = _small(
                attrs.get("defaultColWidth"), self.limits.min_column_width_chars
            )

    def _end(self, name: str) -> None:
        if name == X14_DXF:
            self._in_inline = False
            self._x14_hides = self._x14_hides or self.unseen_styles.inline_hides(self._inline[0])
        elif name == X14_SQREF and self._sqref is not None:
            self._x14_ranges, self._sqref = _clean("".join(self._sqref)) or "?", None
        elif name == X14_CONDITIONAL and self._x14_hides:
            ranges = self._x14_ranges
            if ranges not in self.conditional and len(self.conditional) < SHOWN:
                self.conditional.append(ranges)

    def _text(self, data: str) -> None:
        if self._sqref is not None and len(self._sqref) < SHOWN * 8:
            self._sqref.append(data)

    def _value(self) -> None:
        if self._hidden:
            self._hidden = False
            self._row_unseen = True  # counted once, as hidden
            self.rows_hidden += 1
            if len(self.rows) < SHOWN:
                self.rows.append(self._row)
        elif self._cell_unseen and not self._row_unseen:
            self._row_unseen = True
            self.rows_unseen += 1
            if len(self.unseen) < SHOWN:
                self.unseen.append(self._row)

    def _column(self, attrs: dict[str, str]) -> None:
        low, high = _span(attrs.get("min"), attrs.get("max"))
        low, high = max(low, 1), min(high, len(self._starts) - 2)
        if low > high:
            return
        narrow = "width" in attrs and _small(attrs["width"], self.limits.min_column_width_chars)
        spans = self._starts if _true(attrs.get("hidden")) or narrow else self._shown
        if spans is self._shown and "width" not in attrs:
            return  # no width of its own: the default decides
        spans[low] += 1
        spans[high + 1] -= 1


def _small(value: str | None, least: float) -> bool:
    """A size given and below `least` (or not a number)."""
    if value is None:
        return False
    size = _number(value)
    return size is None or size < least


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number else None  # NaN is no size


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
