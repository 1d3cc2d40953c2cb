"""A spreadsheet handed in (a registry extract, a payment provider's return file) is judged
as a zip before openpyxl opens it: a zip bomb is refused at once, naming the file, and a
real workbook passes."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from agam.core.errors import PaymentFileError, RegistryError
from allowances import spreadsheet_guard
from allowances.payment_returns import read_return_file
from allowances.registry_read import open_reader
from allowances.spreadsheet_guard import xlsx_limits, xlsx_refusal

BOMB_BYTES = 64 * 1024 * 1024  # 64 MiB of one repeated byte: deflates about 1,000 times


def workbook(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def bomb(path: Path) -> Path:
    """A real workbook whose first sheet is replaced by 64 MiB of blank XML: the zip is a
    few dozen kilobytes."""
    source = workbook(path.with_name("source.xlsx"), ["line_ref", "status"], [["L1", "paid"]])
    with zipfile.ZipFile(source) as inner, zipfile.ZipFile(path, "w") as out:
        for item in inner.infolist():
            data = inner.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * BOMB_BYTES, 1)
            out.writestr(item.filename, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_a_real_workbook_passes(tmp_path: Path) -> None:
    rows = [[f"AGAM-L{i}", "paid"] for i in range(2_000)]
    assert xlsx_refusal(workbook(tmp_path / "ok.xlsx", ["line_ref", "status"], rows)) is None
    assert xlsx_refusal(tmp_path / "missing.xlsx") is None  # the reader says it is missing
    (tmp_path / "text.xlsx").write_text("line_ref,status\n", "utf-8")
    assert xlsx_refusal(tmp_path / "text.xlsx") is None  # the reader says it is no workbook


def test_a_zip_bomb_is_refused_before_either_reader_opens_it(tmp_path: Path) -> None:
    path = bomb(tmp_path / "returns.xlsx")
    assert path.stat().st_size < 1_000_000
    with pytest.raises(PaymentFileError, match=r"returns\.xlsx: part xl/worksheets/sheet1\.xml"):
        read_return_file(path)
    with pytest.raises(RegistryError, match=r"returns\.xlsx: .*a zip bomb, not a workbook"):
        open_reader(path, 1_000)


def test_the_part_count_and_the_unpacked_size_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workbook(tmp_path / "extract.xlsx", ["beneficiary_id"], [["B1"]])
    with zipfile.ZipFile(path) as archive:
        parts = len(archive.infolist())
        unpacked = sum(p.file_size for p in archive.infolist())
    few = replace(xlsx_limits(), max_entries=parts - 1)
    monkeypatch.setattr(spreadsheet_guard, "xlsx_limits", lambda: few)
    with pytest.raises(RegistryError, match=rf"has {parts} parts, over the {parts - 1} limit"):
        open_reader(path, 1_000)
    small = replace(xlsx_limits(), max_uncompressed_bytes=unpacked - 1)
    monkeypatch.setattr(spreadsheet_guard, "xlsx_limits", lambda: small)
    with pytest.raises(PaymentFileError, match=f"unpacks to {unpacked:,} bytes"):
        read_return_file(path)


RETURN_HEADER = ["line_ref", "amount_bdt", "status", "provider_txn_id", "paid_at",
                 "failure_reason"]  # fmt: skip


def return_rows(count: int) -> list[list[object]]:
    return [[f"L1-{i}", 5000, "paid", f"T{i}", "2026-07-02T10:00:00+06:00", ""]
            for i in range(count)]  # fmt: skip


def test_a_return_file_over_its_row_limit_is_refused_whole(tmp_path: Path) -> None:
    limits = replace(spreadsheet_guard.return_file_limits(), max_rows=50)
    book = workbook(tmp_path / "r.xlsx", RETURN_HEADER, return_rows(51))
    csv_path = tmp_path / "r.csv"
    csv_path.write_text(
        "\n".join(",".join(map(str, r)) for r in [RETURN_HEADER, *return_rows(51)]), "utf-8"
    )
    for path in (book, csv_path):
        with pytest.raises(PaymentFileError, match=rf"{path.name}: more than 50 rows"):
            read_return_file(path, limits)
    at_limit = workbook(tmp_path / "ok.xlsx", RETURN_HEADER, return_rows(50))
    assert len(read_return_file(at_limit, limits)) == 50


def test_a_return_csv_over_its_byte_limit_is_refused_before_it_is_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(",".join(RETURN_HEADER) + "\n" + "x" * 5_000 + "\n", "utf-8")
    limits = replace(spreadsheet_guard.return_file_limits(), max_csv_bytes=4_096)
    with pytest.raises(PaymentFileError, match=r"huge\.csv: 5,\d{3} bytes, over the 4,096-byte"):
        read_return_file(path, limits)
    shipped = spreadsheet_guard.return_file_limits()
    assert shipped.max_csv_bytes >= 100 * 1024 * 1024
    assert shipped.max_rows >= 1_000_000
