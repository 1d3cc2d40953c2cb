"""Values made unseen without the hidden flag are refused like hidden rows: text the colour of
its fill (white on white, a faint grey, a theme's white), a font too small to read, a number
format that shows nothing (`;;;`) or paints the value white, a row too low or a column too
narrow to show text. Colours people really use pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Color, Font, PatternFill

from agam.core.errors import PaymentFileError, RegistryError
from allowances.payment_returns import read_return_file
from allowances.registry_import import import_registry
from boundaries.layer import UnionLayer
from store.db import Store
from tests.allowances.test_spreadsheet_hidden import RETURN_EXTRA, UNHIDE, ids, saved

PAID_AT = "2024-07-04T12:05:00+06:00"
HEADER = ["line_ref", "amount_bdt", *RETURN_EXTRA, "wallet_number"]


def returns(rows: int = 9) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "payments"
    sheet.append(HEADER)
    for i in range(1, rows + 1):
        sheet.append([f"L1-{i}", 500, "paid", f"T{i}", PAID_AT, "", f"0171100000{i}"])
    return book


def styled(book: openpyxl.Workbook, row: int, **style: Any) -> openpyxl.Workbook:
    for cell in book.active[row]:
        for name, value in style.items():
            setattr(cell, name, value)
    return book


UNSEEN_IDS = ["white", "theme-white", "faint", "white-fill", "navy", "black-fill", "tiny",
              "format", "format-white", "empty-literals", "padding-only"]  # fmt: skip
UNSEEN_ROW_7 = (
    r'^r\.xlsx: sheet "payments" has values that cannot be seen \(text the colour of its fill '
    r"or too small, or a format that shows nothing\) in row 7, which would be read unseen"
)


@pytest.mark.parametrize(
    "style",
    [
        {"font": Font(color="FFFFFF")},  # white on no fill (white)
        {"font": Font(color=Color(theme=0))},  # the theme's "Background 1"
        {"font": Font(color="F2F2F2")},  # a grey too faint to read (contrast 1.1)
        {"font": Font(color="FFFFFF", size=11), "fill": PatternFill("solid", "FFFFFF")},
        {"font": Font(color="000080"), "fill": PatternFill("solid", "000080")},  # navy on navy
        {"fill": PatternFill("solid", "000000")},  # automatic (black) text on black
        {"font": Font(size=1)},
        {"number_format": ";;;"},
        {"number_format": "[White]General;[White]General;[White]General;[White]@"},
        {"number_format": '"";"";"";""'},  # empty text for every kind of value
        {"number_format": '_-;[Red]_-* ;" ";_)'},  # padding and blanks only
    ],
    ids=UNSEEN_IDS,
)
def test_a_row_whose_values_cannot_be_seen_is_refused(tmp_path: Path, style: Any) -> None:
    book = styled(returns(), 7, **style)
    with pytest.raises(PaymentFileError, match=UNSEEN_ROW_7):
        read_return_file(saved(book, tmp_path / "r.xlsx"))


@pytest.mark.parametrize(
    "style",
    [
        {"font": Font(color="FF0000")},  # red on white
        {"font": Font(color="808080")},  # grey, readable (contrast 3.9)
        {"font": Font(color="000000"), "fill": PatternFill("solid", "FFFF00")},  # highlighted
        {"font": Font(color="FFFFFF"), "fill": PatternFill("solid", "1F4E78")},  # a header band
        {"font": Font(size=8)},
        {"number_format": "0.00"},
        {"number_format": "[Red]0;[Blue]-0;0;@"},
        {"number_format": '_-* #,##0_-;-* #,##0_-;_-* "-"_-;_-@_-'},  # Excel's accounting
        {"number_format": '0" BDT";-0" BDT";"nil";@" (checked)"'},
    ],
    ids=[
        "red",
        "grey",
        "yellow-fill",
        "white-on-blue",
        "small",
        "decimals",
        "colours",
        "accounting",
        "literals",
    ],
)
def test_colours_and_formats_people_use_pass(tmp_path: Path, style: Any) -> None:
    book = styled(returns(), 7, **style)
    assert len(read_return_file(saved(book, tmp_path / "r.xlsx"))) == 9


def test_rows_too_low_and_columns_too_narrow_are_refused(tmp_path: Path) -> None:
    book = returns()
    sheet = book.active
    sheet.row_dimensions[4].height = 0.5
    sheet.row_dimensions[6].height = 3
    sheet.row_dimensions[8].height = 9  # small, readable
    path = saved(book, tmp_path / "r.xlsx")
    with pytest.raises(PaymentFileError, match=r'"payments" has hidden rows 4, 6, which would'):
        read_return_file(path)
    sheet.row_dimensions[4].height = sheet.row_dimensions[6].height = 15
    sheet.column_dimensions["G"].width = 0.2  # wallet_number
    with pytest.raises(PaymentFileError, match=r"has hidden column G \(wallet_number\), which"):
        read_return_file(saved(book, path))
    sheet.column_dimensions["G"].width = 14
    assert len(read_return_file(saved(book, path))) == 9


def test_a_default_column_width_too_narrow_hides_every_column_without_its_own(
    tmp_path: Path,
) -> None:
    book = returns()
    sheet = book.active
    sheet.sheet_format.defaultColWidth = 0.1
    for letter in "ABCDEF":
        sheet.column_dimensions[letter].width = 12
    with pytest.raises(PaymentFileError, match=r"has hidden column G \(wallet_number\), which"):
        read_return_file(saved(book, tmp_path / "r.xlsx"))


def test_a_registry_row_in_white_text_is_refused_and_imports_once_shown(
    store: Store,
    union_layer: UnionLayer,
    tmp_path: Path,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
    snapshot: Callable[[Store], dict[str, tuple[int, str]]],
    header: list[str],
) -> None:
    import_registry(store, write_csv("base.csv", [make_row()]), union_layer)
    before = snapshot(store)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Households"
    sheet.append(header)
    for i in range(1, 11):
        fields = {"nid": f"{1990123456700 + i}", "wallet_number": f"0181{i:07d}"}
        sheet.append(make_row(beneficiary_id=f"W{i}", **fields).split(","))
    for cell in sheet[5]:
        cell.font = Font(color="FFFFFF")
    path = saved(book, tmp_path / "extract.xlsx")
    with pytest.raises(RegistryError) as refused:
        import_registry(store, path, union_layer, quarantine=True)
    assert str(refused.value) == (
        'extract.xlsx: sheet "Households" has values that cannot be seen (text the colour of '
        "its fill or too small, or a format that shows nothing) in row 5, which would be read "
        "unseen; unhide or delete it " + UNHIDE
    )
    assert snapshot(store) == before
    for cell in sheet[5]:
        cell.font = Font()
    import_registry(store, saved(book, path), union_layer)
    assert ids(store) == {"R001"} | {f"W{i}" for i in range(1, 11)}


def _refused_for_a_conditional_format(path: Path) -> None:
    with pytest.raises(PaymentFileError) as refused:
        read_return_file(path)
    assert str(refused.value).startswith(
        f'{path.name}: sheet "payments" has conditional formatting that hides values in '
        "A2:G10, which would be read unseen"
    )


@pytest.mark.parametrize(
    ("rule", "hides"),
    [
        ({"font": Font(color="FFFFFF")}, True),
        ({"fill": PatternFill(bgColor="000000", fill_type="solid")}, True),  # black text on black
        ({"font": Font(color="FF0000")}, False),  # duplicates in red, as people do
        ({"fill": PatternFill(bgColor="FFFF00", fill_type="solid")}, False),
    ],
    ids=["white", "black-fill", "red", "yellow-fill"],
)
def test_conditional_formatting_that_hides_values_is_refused(
    tmp_path: Path, rule: dict[str, Any], hides: bool
) -> None:
    """A rule that is always true whitens every row while the cells' own styles look plain."""
    book = returns()
    book.active.conditional_formatting.add("A2:G10", FormulaRule(formula=["TRUE"], **rule))
    path = saved(book, tmp_path / "r.xlsx")
    if not hides:
        assert len(read_return_file(path)) == 9
        return
    _refused_for_a_conditional_format(path)


X14_RULE = (
    '<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    "<x14:conditionalFormattings><x14:conditionalFormatting "
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:cfRule type="expression" priority="1" id="{00000000-0000-0000-0000-000000000001}">'
    "<xm:f>TRUE</xm:f><x14:dxf>{style}</x14:dxf></x14:cfRule>"
    "<xm:sqref>A2:G10</xm:sqref></x14:conditionalFormatting></x14:conditionalFormattings>"
    "</ext></extLst>"
)


def _with_x14_rule(path: Path, style: str) -> Path:
    """The workbook at `path` with an Excel 2010 conditional format (openpyxl cannot write
    one) applying `style` to every row, as the last child of the sheet."""
    import zipfile

    out = path.with_name(f"x14_{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", X14_RULE.replace("{style}", style).encode()
                                    + b"</worksheet>")  # fmt: skip
            target.writestr(item, data)
    return out


@pytest.mark.parametrize(
    ("style", "hides"),
    [
        ('<font><color rgb="FFFFFFFF"/></font>', True),
        ('<fill><patternFill><bgColor rgb="FF000000"/></patternFill></fill>', True),
        ('<numFmt numFmtId="164" formatCode=";;;"/>', True),
        ('<font><color theme="0"/></font>', True),  # the theme's white
        ('<font><color rgb="FFFF0000"/></font>', False),
    ],
    ids=["white", "black-fill", "format", "theme-white", "red"],
)
def test_an_excel_2010_conditional_format_that_hides_values_is_refused(
    tmp_path: Path, style: str, hides: bool
) -> None:
    """Excel writes a rule with its own style into the sheet's extension list; it whitens
    every row as the older rules do."""
    path = _with_x14_rule(saved(returns(), tmp_path / "r.xlsx"), style)
    if not hides:  # read; openpyxl itself drops the rule it cannot apply
        with pytest.warns(UserWarning, match="Conditional Formatting extension"):
            assert len(read_return_file(path)) == 9
        return
    _refused_for_a_conditional_format(path)
