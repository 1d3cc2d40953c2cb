"""Rows, columns and sheets hidden in Excel (by hand or by an autofilter) are refused in a
registry extract and in a payment provider's return file: the person who looked at the sheet
never saw them. The refusal names the file, the sheet and the rows or columns, and nothing is
stored; once they are unhidden the same file imports. A hidden row without cells is no
refusal."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select

from agam.core.errors import PaymentFileError, RegistryError
from allowances import spreadsheet_hidden
from allowances.lists import decide_list
from allowances.payment_files import export_payment_files
from allowances.payment_results import import_results
from allowances.payment_returns import read_return_file
from allowances.registry_import import import_registry
from allowances.spreadsheet_guard import unseen_limits
from boundaries.layer import UnionLayer
from store.db import Store
from store.models import Beneficiary, PaymentImport, PaymentResult
from tests.lists.conftest import T0, propose_draft, seed

UNHIDE = "in the spreadsheet and import it again; nothing imported"
LIMITS = unseen_limits()


def registry_book(header: list[str], lines: list[str]) -> tuple[openpyxl.Workbook, Worksheet]:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Households"
    sheet.append(header)
    for line in lines:
        sheet.append(line.split(","))
    return book, sheet


def saved(book: openpyxl.Workbook, path: Path) -> Path:
    book.save(path)
    return path


def ids(store: Store) -> set[str]:
    with store.session() as session:
        return set(session.scalars(select(Beneficiary.beneficiary_id)))


@pytest.fixture
def extract(make_row: Callable[..., str], header: list[str]) -> tuple[openpyxl.Workbook, Worksheet]:
    """Thirty beneficiaries X1..X30 on rows 2..31."""
    lines = [
        make_row(beneficiary_id=f"X{i}", nid=f"{1990123456700 + i}", wallet_number=f"0181{i:07d}")
        for i in range(1, 31)
    ]
    return registry_book(header, lines)


def test_hidden_registry_rows_are_refused_naming_file_sheet_and_rows_and_nothing_is_stored(
    store: Store,
    union_layer: UnionLayer,
    tmp_path: Path,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
    snapshot: Callable[[Store], dict[str, tuple[int, str]]],
    extract: tuple[openpyxl.Workbook, Worksheet],
) -> None:
    import_registry(store, write_csv("base.csv", [make_row()]), union_layer)
    before = snapshot(store)
    book, sheet = extract
    for row in (3, *range(10, 22)):
        sheet.row_dimensions[row].hidden = True
    path = saved(book, tmp_path / "extract.xlsx")
    with pytest.raises(RegistryError) as refused:
        import_registry(store, path, union_layer, quarantine=True)
    assert str(refused.value) == (
        'extract.xlsx: sheet "Households" has hidden rows 3, 10, 11, 12, 13, 14, 15, 16, 17, 18 '
        "(and 3 more), which would be read unseen; unhide or delete them " + UNHIDE
    )
    assert snapshot(store) == before
    for row in (3, *range(10, 22)):
        sheet.row_dimensions[row].hidden = False
    import_registry(store, saved(book, path), union_layer, quarantine=True)
    assert ids(store) == {"R001"} | {f"X{i}" for i in range(1, 31)}


def test_a_row_hidden_by_an_autofilter_is_refused(
    store: Store, union_layer: UnionLayer, tmp_path: Path, extract: Any
) -> None:
    book, sheet = extract
    sheet.auto_filter.ref = "A1:W31"
    sheet.auto_filter.add_filter_column(0, ["X1", "X2", "X3"])  # keeps rows 2-4 on screen
    for row in range(5, 32):
        sheet.row_dimensions[row].hidden = True
    path = saved(book, tmp_path / "filtered.xlsx")
    with pytest.raises(RegistryError, match=r'^filtered\.xlsx: sheet "Households" has hidden rows '
                       r"5, 6, .*, 14 \(and 17 more\), which would be read unseen"):  # fmt: skip
        import_registry(store, path, union_layer)
    assert ids(store) == set()


def test_a_hidden_column_with_a_header_is_refused_and_an_empty_hidden_row_is_not(
    store: Store, union_layer: UnionLayer, tmp_path: Path, extract: Any
) -> None:
    book, sheet = extract
    sheet.column_dimensions["F"].hidden = True  # name_en
    sheet.row_dimensions[40].hidden = True  # no cells
    sheet.column_dimensions["Z"].hidden = True  # no header: not read
    sheet["B5"] = "hidden"  # the word in a cell is no flag
    path = saved(book, tmp_path / "columns.xlsx")
    with pytest.raises(RegistryError) as refused:
        import_registry(store, path, union_layer)
    assert str(refused.value) == (
        'columns.xlsx: sheet "Households" has hidden column F (name_en), which would be read '
        "unseen; unhide or delete it " + UNHIDE
    )
    assert ids(store) == set()
    sheet.column_dimensions["F"].hidden = False
    sheet["B5"] = "old_age"
    import_registry(store, saved(book, path), union_layer)
    assert len(ids(store)) == 30


@pytest.mark.parametrize(
    ("state", "said"),
    [("hidden", "is hidden"), ("veryHidden", "is very hidden (only a macro can show it)")],
)
def test_a_hidden_first_sheet_is_refused(
    store: Store, union_layer: UnionLayer, tmp_path: Path, extract: Any, state: str, said: str
) -> None:
    book, sheet = extract
    sheet.sheet_state = state
    book.create_sheet("Notes")  # a workbook shows at least one sheet
    sheet.row_dimensions[7].hidden = True
    path = saved(book, tmp_path / "sheet.xlsx")
    with pytest.raises(RegistryError) as refused:
        import_registry(store, path, union_layer)
    assert str(refused.value) == (
        f'sheet.xlsx: sheet "Households" {said} and has hidden row 7, which would be read '
        "unseen; unhide or delete them " + UNHIDE
    )
    assert ids(store) == set()


def test_rows_hidden_by_default_are_refused_unless_given_a_height(
    store: Store, union_layer: UnionLayer, tmp_path: Path, extract: Any
) -> None:
    """Excel's "hide every other row" writes zeroHeight: only rows with a height show."""
    book, sheet = extract
    sheet.sheet_format.zeroHeight = True
    for row in range(1, 31):
        sheet.row_dimensions[row].height = 15
    path = saved(book, tmp_path / "default.xlsx")
    with pytest.raises(RegistryError, match=r"has hidden row 31, which would be read unseen"):
        import_registry(store, path, union_layer)
    sheet.row_dimensions[31].height = 15
    import_registry(store, saved(book, path), union_layer)
    assert len(ids(store)) == 30


RETURN_EXTRA = ["status", "provider_txn_id", "paid_at", "failure_reason"]
PAID_AT = "2024-07-04T12:05:00+06:00"


@pytest.fixture
def paying(tmp_path: Path, principal_for: Callable[..., Any]) -> tuple[Store, int, Any]:
    """A seeded SQLite store with one list approved and exported, and its officer."""
    store = seed(Store(f"sqlite:///{tmp_path / 'pay.sqlite3'}"))
    list_id = propose_draft(store)
    decide_list(store, list_id, principal_for(store, "officer.kurigram"), "submit", T0)
    decide_list(store, list_id, principal_for(store, "dc.kurigram"), "approve", T0)
    return store, list_id, principal_for(store, "officer.kurigram")


def return_book(store: Store, list_id: int, outdir: Path, who: Any) -> openpyxl.Workbook:
    """The exported lines, each reported paid, on sheet "payments"."""
    result = export_payment_files(store, list_id, who, "csv", outdir, T0)
    lines: list[dict[str, str]] = []
    for f in result.manifest["files"]:
        with (result.folder / f["file"]).open(encoding="utf-8") as handle:
            lines.extend(csv.DictReader(handle))
    header = list(dict.fromkeys(name for line in lines for name in line)) + RETURN_EXTRA
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "payments"
    sheet.append(header)
    for line in lines:
        paid = {"status": "paid", "provider_txn_id": f"TXN-{line['line_ref']}", "paid_at": PAID_AT}
        sheet.append([(line | paid).get(name, "") for name in header])
    return book


def counts(store: Store) -> tuple[int, int]:
    with store.session() as session:
        return (
            session.scalar(select(func.count()).select_from(PaymentResult)) or 0,
            session.scalar(select(func.count()).select_from(PaymentImport)) or 0,
        )


def test_a_return_file_with_a_hidden_row_is_refused_and_applies_once_unhidden(
    paying: tuple[Store, int, Any], tmp_path: Path, principal_for: Callable[..., Any]
) -> None:
    store, list_id, officer = paying
    book = return_book(store, list_id, tmp_path / "out", principal_for(store, "dc.kurigram"))
    sheet = book.active
    lines = sheet.max_row - 1
    sheet.row_dimensions[4].hidden = True
    path = saved(book, tmp_path / "return.xlsx")
    with pytest.raises(PaymentFileError) as refused:
        import_results(store, list_id, officer, path, T0)
    assert str(refused.value) == (
        'return.xlsx: sheet "payments" has hidden row 4, which would be read unseen; unhide or '
        "delete it " + UNHIDE
    )
    assert counts(store) == (0, 0)
    sheet.row_dimensions[4].hidden = False
    report = import_results(store, list_id, officer, saved(book, path), T0)
    assert report.applied == lines > 3
    assert counts(store) == (lines, 1)


def test_a_return_file_with_a_hidden_column_or_sheet_is_refused(tmp_path: Path) -> None:
    header = ["line_ref", "amount_bdt", *RETURN_EXTRA, "wallet_number"]
    book = openpyxl.Workbook()
    first = book.active
    first.title = "payments_1"
    first.append(header)
    first.append(["L1-1", 500, "paid", "T1", PAID_AT, "", "01711000001"])
    first.column_dimensions["G"].hidden = True
    path = saved(book, tmp_path / "r.xlsx")
    with pytest.raises(PaymentFileError, match=r'^r\.xlsx: sheet "payments_1" has hidden column '
                       r"G \(wallet_number\), which would be read unseen"):  # fmt: skip
        read_return_file(path)
    first.column_dimensions["G"].hidden = False
    second = book.create_sheet("payments_2")
    second.append(header)
    second.append(["L1-2", 500, "paid", "T2", PAID_AT, "", "01711000002"])
    second.sheet_state = "veryHidden"
    with pytest.raises(PaymentFileError, match=r'^r\.xlsx: sheet "payments_2" is very hidden'):
        read_return_file(saved(book, path))
    second.sheet_state = "visible"
    assert [r.row for r in read_return_file(saved(book, path))] == [2, 2]


def test_flags_that_hide_nothing_pass_and_hidden_true_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LibreOffice writes hidden="false" on every row: no refusal. A part is searched in
    blocks (small here) that overlap, so a flag cut between two is still seen."""
    monkeypatch.setattr(spreadsheet_hidden, "BLOCK", 32)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["line_ref", "amount_bdt", *RETURN_EXTRA])
    for i in range(1, 30):
        sheet.append([f"L1-{i}", 500, "paid", f"T{i}", PAID_AT, ""])
    source = saved(book, tmp_path / "source.xlsx")

    def rewritten(name: str, row_3: bytes) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(source) as inner, zipfile.ZipFile(path, "w") as out:
            for item in inner.infolist():
                data = inner.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"<row ", b'<row hidden="false" ')
                    data = data.replace(b'<row hidden="false" r="3"', b'<row r="3" ' + row_3)
                    data = data.replace(b"<sheetFormatPr ", b'<sheetFormatPr zeroHeight="0" ')
                out.writestr(item, data)
        return path

    with pytest.raises(PaymentFileError, match=r'sheet "Sheet" has hidden row 3, which would'):
        read_return_file(rewritten("true.xlsx", b'hidden="true"'))
    assert len(read_return_file(rewritten("false.xlsx", b'hidden="0"'))) == 29


@pytest.mark.parametrize("block", [17, 18, 32, 1 << 20])
def test_a_flag_cut_between_two_blocks_is_still_seen(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spreadsheet_hidden, "BLOCK", block)
    shown = b'<row r="1" hidden="false"><c><v>1</v></c></row><row hidden="0"/>'
    for pad in range(40):
        for text, plain in [
            (shown * 3, True),
            (shown + b'<row r="9" hidden="1">' + shown, False),
            (b'<sheetFormatPr zeroHeight="1"/>', False),
            (b"<!DOCTYPE w [<!ENTITY x 'y'>]>", False),
            (shown + b'<row r="9" ht="15" customHeight="1">' + shown, True),
            (shown + b'<row r="9" ht="0.5" customHeight="1">' + shown, False),
            (b'<cols><col min="2" max="2" width="0" customWidth="1"/></cols>', False),
            (b'<sheetFormatPr defaultRowHeight="1"/>', False),
        ]:
            assert spreadsheet_hidden._plain(io.BytesIO(b" " * pad + text), LIMITS) is plain
    utf16 = io.BytesIO('<row hidden="0"/>'.encode("utf-16"))
    assert spreadsheet_hidden._plain(utf16, LIMITS) is False
