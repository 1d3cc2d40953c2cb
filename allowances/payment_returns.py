"""Provider return files: the exported payment rows plus `status`, `provider_txn_id`, `paid_at`
and `failure_reason`, read as text (CSV or XLSX) and judged row by row against the approved
lines and the results already stored.

`judge` is pure: it says, for each row, whether it applies a new result, changes a stored one
along the allowed moves (failed -> paid, paid -> reversed), changes nothing, or is rejected,
and why, with the row number a person sees in the file. Nothing here writes.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from agam.core.errors import PaymentFileError
from agam.core.masking import mask_numbers
from agam.core.timeutil import ensure_utc
from allowances.cell_hygiene import unsafe_cells
from allowances.spreadsheet_guard import (
    ReturnFileLimits,
    csv_delimiter,
    return_file_limits,
    xlsx_refusal,
)
from allowances.spreadsheet_hidden import hidden_refusal

REQUIRED = ("line_ref", "amount_bdt", "status", "provider_txn_id", "paid_at", "failure_reason")
CHECKED_TEXT = ("line_ref", "status", "provider_txn_id", "paid_at", "failure_reason")
STATUSES = ("paid", "failed", "reversed")
# (stored status, file status) the results may take; the same status again changes nothing.
MOVES = {(None, "paid"), (None, "failed"), (None, "reversed"), ("failed", "paid"),
         ("paid", "reversed")}  # fmt: skip
LINE_REF = re.compile(r"^L(\d+)-(\d+)$")
MAX_HEADER_CHARS = 1 << 16  # the header line read to find the separator
MAX_TEXT = {"provider_txn_id": 64, "failure_reason": 255}


@dataclass(frozen=True)
class ReturnRow:
    row: int  # as a spreadsheet shows it: the header is row 1
    sheet: str | None
    cells: Mapping[str, str]


@dataclass(frozen=True)
class Line:
    """An approved, exported line: what a result must match."""

    household_id: str
    beneficiary_id: str
    amount_bdt: int
    accounts: Mapping[str, str] = field(default_factory=dict)  # the payee's, as exported


@dataclass(frozen=True)
class Expected:
    """What every row of this list's return must say: its batch, and payment times between
    the approval and the import (plus the provider's clock skew)."""

    batch_id: str
    paid_from: datetime
    paid_until: datetime


@dataclass(frozen=True)
class Stored:
    status: str
    provider_txn_id: str | None
    paid_at: datetime | None
    failure_reason: str | None


@dataclass(frozen=True)
class Change:
    row: int
    line_ref: str
    from_status: str | None
    result: Stored


@dataclass
class Judgement:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    unmatched: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, row: ReturnRow, ref: str, why: str, *, unmatched: bool = False) -> None:
        self.rejected.append({"row": row.row, "sheet": row.sheet, "line_ref": ref, "reason": why})
        self.unmatched += int(unmatched)


def read_return_file(path: Path, limits: ReturnFileLimits | None = None) -> list[ReturnRow]:
    """Every row of a CSV or XLSX return file as text cells, blank rows skipped. A file that
    cannot be read, lacks a column or is over the limits of `spreadsheet_limits.toml` is
    refused whole, naming the file and the column or limit."""
    limits = limits or return_file_limits()
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _check_csv_size(path, limits.max_csv_bytes)
        found = _csv_rows(path)
    elif suffix == ".xlsx":
        found = _xlsx_rows(path)
    else:
        raise PaymentFileError(f"{path.name}: a return file is .csv or .xlsx")
    rows: list[ReturnRow] = []
    for row in found:
        if len(rows) == limits.max_rows:
            raise PaymentFileError(
                f"{path.name}: more than {limits.max_rows:,} rows (the limit is in "
                "spreadsheet_limits.toml); nothing imported"
            )
        rows.append(row)
    return rows


def _check_csv_size(path: Path, max_bytes: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PaymentFileError(f"{path.name}: cannot be read ({exc.strerror})") from None
    if size > max_bytes:
        raise PaymentFileError(
            f"{path.name}: {size:,} bytes, over the {max_bytes:,}-byte limit for a return "
            "file; nothing imported"
        )


def _check_header(path: Path, header: list[str], sheet: str | None = None) -> list[str]:
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        where = f" (sheet {sheet})" if sheet else ""
        raise PaymentFileError(f"{path.name}{where}: missing column(s) {', '.join(missing)}")
    return names


def _csv_rows(path: Path) -> Iterator[ReturnRow]:
    number = 0  # the last row read whole (1: the header)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = handle.readline(MAX_HEADER_CHARS)
            handle.seek(0)
            reader = csv.reader(handle, delimiter=csv_delimiter(header))
            names = _check_header(path, next(reader, []))
            number = 1
            for number, record in enumerate(reader, start=2):
                if any(cell.strip() for cell in record):
                    yield ReturnRow(number, None, dict(zip(names, record, strict=False)))
    except UnicodeDecodeError as exc:
        raise PaymentFileError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:  # e.g. a field over the csv module's 131,072 characters
        raise PaymentFileError(f"{path.name}: row {number + 1}: cannot be read ({exc})") from None
    except OSError as exc:
        raise PaymentFileError(f"{path.name}: cannot be read ({exc})") from None


def _xlsx_rows(path: Path) -> Iterator[ReturnRow]:
    from openpyxl import load_workbook

    refusal = xlsx_refusal(path)
    if refusal is not None:
        raise PaymentFileError(f"{path.name}: {refusal}; nothing imported")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise PaymentFileError(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    try:
        for sheet in book.worksheets:
            values = sheet.iter_rows(values_only=True)
            header = next(values, None)
            if header is None:
                continue
            texts = [_text(c) for c in header]
            hidden = hidden_refusal(path, sheet, texts)
            if hidden is not None:
                values.close()  # it holds the zip open
                raise PaymentFileError(f"{path.name}: {hidden}; nothing imported")
            names = _check_header(path, texts, sheet.title)
            for number, record in enumerate(values, start=2):
                cells = [_text(c) for c in record]
                if any(c.strip() for c in cells):
                    yield ReturnRow(number, sheet.title, dict(zip(names, cells, strict=False)))
    finally:
        book.close()


def _text(value: Any) -> str:
    """A cell as text. A spreadsheet date without a zone stays naive, and is refused later."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_time(text: str) -> datetime:
    """ISO-8601 with a UTC offset (or Z), as UTC. ValueError names what is wrong."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"paid_at {text!r} is not an ISO-8601 time") from None
    if value.tzinfo is None:
        raise ValueError(f"paid_at {text!r} has no UTC offset (write e.g. +06:00 or Z)")
    return ensure_utc(value)


def _unsafe(rows: list[ReturnRow]) -> dict[int, str]:
    """Row position -> the first text field holding a formula-like or control character."""
    found: dict[int, str] = {}
    for name in CHECKED_TEXT:
        cells = pa.array([r.cells.get(name, "") for r in rows], pa.string())
        control, formula = unsafe_cells(cells)
        for i in (control | formula).nonzero()[0]:
            found.setdefault(int(i), name)
    return found


def judge(
    rows: list[ReturnRow],
    list_id: int,
    lines: Mapping[str, Line],
    stored: Mapping[str, Stored],
    reissued: Mapping[str, int],
    expected: Expected | None = None,
) -> Judgement:
    """What each row would do. `lines`: the list's exported lines by reference; `stored`: the
    results already held; `reissued`: lines re-issued on a live list (ref -> that list);
    `expected`: the batch and the window payment times fall in."""
    out = Judgement()
    refs = Counter(r.cells.get("line_ref", "").strip() for r in rows)
    unsafe = _unsafe(rows)
    for position, row in enumerate(rows):
        ref = row.cells.get("line_ref", "").strip()

        if position in unsafe:
            out.reject(row, ref, f"{unsafe[position]} holds a formula-like or control character")
            continue
        match = LINE_REF.match(ref)
        if match is None:
            out.reject(row, ref, "not a line reference of an Agam payment file", unmatched=True)
            continue
        if int(match.group(1)) != list_id:
            out.reject(
                row, ref, f"a result for list {match.group(1)}, not list {list_id}", unmatched=True
            )
            continue
        line = lines.get(ref)
        if line is None:
            out.reject(
                row,
                ref,
                f"no line {ref} in the exported payment file of list {list_id}",
                unmatched=True,
            )
            continue
        if refs[ref] > 1:
            out.reject(
                row, ref, f"line {ref} appears {refs[ref]} times in the file; none of them applied"
            )
            continue
        try:
            result = _result(row, line, expected)
        except ValueError as exc:
            out.reject(row, ref, str(exc))
            continue
        _move(out, row, ref, result, stored.get(ref), reissued.get(ref))
    return out


def _digits_alike(a: str, b: str) -> bool:
    """The same account, also when a spreadsheet dropped the leading zeros of a number."""
    return a == b or (a.isdigit() and b.isdigit() and a.lstrip("0") == b.lstrip("0"))


def _same_payee(cells: Mapping[str, str], line: Line, expected: Expected | None) -> None:
    """The row pays the batch and the account that were exported, or it is not this line's
    result (a provider that paid another wallet has not paid this payee)."""
    if expected is not None and cells.get("batch_id") and cells["batch_id"] != expected.batch_id:
        raise ValueError(f"batch_id {cells['batch_id']!r} is not this list's {expected.batch_id}")
    for name, exported in line.accounts.items():
        given = cells.get(name, "")
        if given and not _digits_alike(given, exported):
            raise ValueError(f"{name} differs from the exported payee of {cells['line_ref']}")


def _paid_in_window(paid_at: datetime, expected: Expected | None) -> None:
    if expected is None:
        return
    if paid_at < expected.paid_from:
        raise ValueError("paid_at is before the list was approved")
    if paid_at > expected.paid_until:
        raise ValueError("paid_at is later than now")


def _result(row: ReturnRow, line: Line, expected: Expected | None = None) -> Stored:
    cells = {k: (v or "").strip() for k, v in row.cells.items()}
    _same_payee(cells, line, expected)
    status = cells["status"].lower()
    if status not in STATUSES:
        raise ValueError(f"status {cells['status']!r} is not one of {', '.join(STATUSES)}")
    amount = cells["amount_bdt"]
    if not amount.isdigit() or int(amount) != line.amount_bdt:
        raise ValueError(f"amount_bdt {amount!r} differs from the approved {line.amount_bdt}")
    for name, value in (("household_id", line.household_id),
                        ("beneficiary_id", line.beneficiary_id)):  # fmt: skip
        if cells.get(name) and cells[name] != value:
            raise ValueError(f"{name} does not match line {cells['line_ref']}")
    for name, limit in MAX_TEXT.items():
        if len(cells[name]) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    txn, reason = cells["provider_txn_id"] or None, mask_numbers(cells["failure_reason"]) or None
    if status in ("paid", "reversed") and txn is None:
        raise ValueError(f"a {status} line needs provider_txn_id")
    if status in ("failed", "reversed") and reason is None:
        raise ValueError(f"a {status} line needs failure_reason")
    paid_at = None
    if status != "failed" or cells["paid_at"]:
        if not cells["paid_at"]:
            raise ValueError(f"a {status} line needs paid_at")
        paid_at = parse_time(cells["paid_at"])
        _paid_in_window(paid_at, expected)
    if status == "failed":
        paid_at, txn = None, None  # a failed payment reached nobody
    return Stored(status, txn, paid_at, reason if status != "paid" else None)


def _move(
    out: Judgement,
    row: ReturnRow,
    ref: str,
    result: Stored,
    old: Stored | None,
    reissue: int | None,
) -> None:
    before = old.status if old else None
    if old is not None and old.status == result.status:
        if old == result or result.status == "failed":
            out.unchanged += 1  # a failure reported again (even in other words) is no news
        else:
            out.reject(
                row, ref, f"differs from the stored {old.status} result of {ref}; not applied"
            )
        return
    if (before, result.status) not in MOVES:
        out.reject(row, ref, f"refused: {ref} cannot move from {before} to {result.status}")
        return
    if before == "failed" and reissue is not None:
        out.reject(
            row,
            ref,
            f"refused: {ref} was re-issued on list {reissue}; paying it here would pay twice",
        )
        return
    if old is not None and result.status == "reversed":
        if result.provider_txn_id != old.provider_txn_id:
            out.reject(
                row,
                ref,
                f"the reversal names transaction {result.provider_txn_id}, not the payment's",
            )
            return
        result = Stored("reversed", old.provider_txn_id, old.paid_at, result.failure_reason)
    out.changes.append(Change(row.row, ref, before, result))
