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
