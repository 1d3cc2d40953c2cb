"""A spreadsheet handed in by people is checked as a zip before any reader opens it.

An .xlsx is a zip of XML parts. A few megabytes can unpack to gigabytes of XML (a "zip
bomb"), which openpyxl would parse for hours while holding the import or the dashboard. The
sizes a zip declares for its parts bound what reading them may produce (Python's zip reader
stops there), so they are judged first, against `data/spreadsheet_limits.toml`. A CSV's
separator is read from its header line the same way for registry and return files.
"""

from __future__ import annotations

import tomllib
import zipfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class XlsxLimits:
    max_entries: int
    max_uncompressed_bytes: int
    max_ratio: float
    ratio_from_bytes: int


@dataclass(frozen=True)
class ReturnFileLimits:
    max_csv_bytes: int
    max_rows: int
    paid_at_skew_minutes: int


@dataclass(frozen=True)
class UnseenLimits:
    min_text_contrast_ratio: float
    min_font_points: float
    min_row_height_points: float
    min_column_width_chars: float


@cache
def _limits() -> dict[str, dict[str, Any]]:
    text = resources.files("allowances").joinpath("data", "spreadsheet_limits.toml")
    return tomllib.loads(text.read_text("utf-8"))


def xlsx_limits() -> XlsxLimits:
    return XlsxLimits(**_limits()["xlsx"])


def return_file_limits() -> ReturnFileLimits:
    return ReturnFileLimits(**_limits()["return_file"])


def unseen_limits() -> UnseenLimits:
    return UnseenLimits(**_limits()["unseen"])


def xlsx_refusal(path: Path, limits: XlsxLimits | None = None) -> str | None:
    """Why the workbook at `path` is refused before it is opened, or None. A file that is not
    a zip is left to the reader, which says so in its own words."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return None
    return parts_refusal(parts, limits)


def parts_refusal(parts: list[zipfile.ZipInfo], limits: XlsxLimits | None = None) -> str | None:
    """Why a workbook with these zip parts is refused, or None: the guard of `xlsx_refusal`
    for a zip already open (read from it, not from the path again)."""
    limits = limits or xlsx_limits()
    if len(parts) > limits.max_entries:
        return f"the workbook has {len(parts):,} parts, over the {limits.max_entries:,} limit"
    total = sum(p.file_size for p in parts)
    if total > limits.max_uncompressed_bytes:
        return (
            f"the workbook unpacks to {total:,} bytes, over the "
            f"{limits.max_uncompressed_bytes:,}-byte limit"
        )
    for part in parts:
        if part.file_size < limits.ratio_from_bytes:
            continue
        ratio = part.file_size / max(part.compress_size, 1)
        if ratio > limits.max_ratio:
            return (
                f"part {part.filename} unpacks to {ratio:,.0f} times its packed size, over "
                f"the {limits.max_ratio:,.0f} limit (a zip bomb, not a workbook)"
            )
    return None


def csv_delimiter(header_line: str) -> str:
    """A CSV file's separator from its header line: the comma; else a semicolon or a tab, as
    Excel writes CSV where the comma is a decimal mark."""
    if "," in header_line:
        return ","
    return ";" if ";" in header_line else ("\t" if "\t" in header_line else ",")
