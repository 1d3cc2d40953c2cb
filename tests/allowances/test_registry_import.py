"""Registry import: one clear error per defect, all-or-nothing, quarantine, updates, formats."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from agam.core.errors import RegistryError
from allowances import registry_read
from allowances.registry_import import import_registry
from boundaries.layer import UnionLayer
from store.db import Store
from store.models import Beneficiary, BeneficiaryHistory, RegistryImport, RegistryQuarantine

T1 = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)
T2 = datetime(2025, 7, 1, 4, 0, tzinfo=UTC)
EXPECTED_DEFECTS = {
    (4, "nid"): "12 digits, expected 10, 13 or 17",
    (5, "adm4_pcode"): "unknown union code",
    (6, "wallet_number"): "10 digits, expected 11",
    (7, "beneficiary_id"): "same beneficiary_id as row 2",
    (8, "sex"): "required",
    (9, "village"): "not valid UTF-8",
    (10, "name_en"): "formula",
}
# Personal values in the defect file that must never be echoed.
PERSONAL = [
    "0123456789",
    "০১২৩৪৫৬৭৮৯",
    "199012345678",
    "01712345678",
    "0171234567",
    "01812345678",
    "Rahima",
    "রহিমা",
    "Karim",
    "Habib",
    "HYPERLINK",
    "http://x",
    "1990123456789",
]


def _beneficiaries(store: Store) -> dict[str, Beneficiary]:
    with store.session() as session:
        return {b.beneficiary_id: b for b in session.scalars(select(Beneficiary))}


def test_each_defect_gives_one_clear_error_and_changes_nothing(
    store: Store,
    union_layer: UnionLayer,
    defects_csv: Path,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
    snapshot: Callable[[Store], dict[str, tuple[int, str]]],
) -> None:
    import_registry(store, write_csv("base.csv", [make_row()]), union_layer, at=T1)
    before = snapshot(store)
    report = import_registry(store, defects_csv, union_layer, at=T2)
    assert report.status == "rejected"
    assert report.errors_total == len(report.errors) == len(EXPECTED_DEFECTS)
    found = {(e.row, e.field): e for e in report.errors}
    assert set(found) == set(EXPECTED_DEFECTS)
    for key, reason in EXPECTED_DEFECTS.items():
        assert reason in found[key].reason
        assert str(found[key]).startswith(f"defects.csv row {key[0]} field {key[1]}: ")
    assert snapshot(store) == before
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    assert not [p for p in PERSONAL if p in text]


def test_quarantine_imports_only_valid_rows_and_stores_no_values(
    store: Store, union_layer: UnionLayer, defects_csv: Path
) -> None:
    report = import_registry(store, defects_csv, union_layer, quarantine=True, at=T1)
    assert report.status == "imported"
    assert (report.total, report.inserted, report.quarantined) == (12, 5, 7)
    assert set(_beneficiaries(store)) == {"B001", "B002", "B010", "B011", "B012"}
    with store.session() as session:
        held = session.scalars(select(RegistryQuarantine)).all()
        imp = session.scalars(select(RegistryImport)).one()
        assert {(q.row_number, q.field) for q in held} == set(EXPECTED_DEFECTS)
        assert imp.rows_quarantined == 7
        assert imp.rows_imported == 5
        stored = json.dumps([q.reason for q in held] + [imp.report], ensure_ascii=False)
    assert not [p for p in PERSONAL if p in stored]


def test_reimport_is_a_noop(store: Store, union_layer: UnionLayer, defects_csv: Path) -> None:
    first = import_registry(store, defects_csv, union_layer, quarantine=True, at=T1)
    again = import_registry(store, defects_csv, union_layer, quarantine=True, at=T2)
    assert again.status == "already_imported"
    assert again.import_id == first.import_id
    assert again.inserted == again.updated == 0


def test_updated_extract_updates_and_keeps_history(
    store: Store,
    union_layer: UnionLayer,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
) -> None:
    v1 = [
        make_row(beneficiary_id="R1", wallet_number="01711000001"),
        make_row(beneficiary_id="R2", wallet_number="01711000002", nid="2990123456789"),
    ]
    first = import_registry(store, write_csv("v1.csv", v1), union_layer, at=T1)
    assert first.inserted == 2
    v2 = [
        make_row(beneficiary_id="R1", wallet_number="01711000001"),  # unchanged
        make_row(beneficiary_id="R2", wallet_number="01911000002", nid="2990123456789"),
        make_row(beneficiary_id="R3", wallet_number="01711000003", nid="3990123456789"),
    ]
    second = import_registry(store, write_csv("v2.csv", v2), union_layer, at=T2)
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 1)
    rows = _beneficiaries(store)
    assert rows["R2"].wallet_number == "01911000002"
    assert rows["R2"].import_id == second.import_id
    assert rows["R1"].import_id == first.import_id  # untouched
    assert rows["R1"].updated_at == T1
    with store.session() as session:
        history = session.scalars(select(BeneficiaryHistory)).all()
    assert len(history) == 1
    assert history[0].beneficiary_id == "R2"
    assert history[0].import_id == second.import_id
    assert history[0].superseded_at == T2
    assert history[0].record["wallet_number"] == "01711000002"


def test_bangla_digits_and_separators_are_normalised(
    store: Store, union_layer: UnionLayer, defects_csv: Path
) -> None:
    import_registry(store, defects_csv, union_layer, quarantine=True, at=T1)
    rows = _beneficiaries(store)
    assert rows["B001"].wallet_number == "01712345678"
    assert rows["B001"].nid == "0123456789"  # leading zero kept
    assert rows["B001"].char_resident is True
    assert rows["B001"].disability is False
    assert rows["B001"].female_headed is True  # হ্যাঁ
    assert rows["B002"].nid == "1990123456789"
    assert rows["B002"].sex == "female"
    assert rows["B010"].wallet_number == "01812345678"  # +88 01812-345678
    assert rows["B010"].programme == "disability"  # "PWD"
    assert rows["B012"].programme == "mcbp"  # "Mother & Child Benefit"
    assert rows["B011"].wallet_number is None
    assert rows["B011"].routing_number == "123456789"


def test_duplicates_across_programmes_are_reported_masked(
    store: Store, union_layer: UnionLayer, defects_csv: Path
) -> None:
    report = import_registry(store, defects_csv, union_layer, quarantine=True, at=T1)
    groups = {g.kind: g for g in report.duplicates}
    assert groups["wallet"].masked == "01*******78"
    assert groups["wallet"].records == (("B002", "widow"), ("B010", "disability"))
    assert groups["nid"].records == (("B001", "old_age"), ("B010", "disability"))
    assert groups["nid"].masked == "01******89"
    assert all(g.cross_programme for g in report.duplicates)
    assert report.duplicate_counts["wallet_cross_programme"] == 1
    assert not report.errors or report.errors_total == 7  # duplicates are warnings, not errors


def test_dry_run_reports_but_changes_nothing(
    store: Store,
    union_layer: UnionLayer,
    defects_csv: Path,
    snapshot: Callable[[Store], dict[str, tuple[int, str]]],
) -> None:
    before = snapshot(store)
    report = import_registry(store, defects_csv, union_layer, dry_run=True, at=T1)
    assert report.status == "dry_run"
    assert report.import_id is None
    assert report.inserted == 5
    assert report.errors_total == 7
    assert report.duplicate_counts["nid"] == 1
    assert snapshot(store) == before


def test_xlsx_input(
    store: Store,
    union_layer: UnionLayer,
    tmp_path: Path,
    make_row: Callable[..., str],
    header: list[str],
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    lines = [
        make_row(beneficiary_id="X1"),
        make_row(beneficiary_id="X2", nid="2990123456789", wallet_number="01711000002"),
        make_row(beneficiary_id="X3", nid="3990123456789", wallet_number="01711000003"),
    ]
    sheet.append(header)
    for line in lines:
        sheet.append(line.split(","))
    sheet["J3"] = True  # a real boolean cell (disability of X2)
    sheet["M3"] = 2  # a number cell (children_under5)
    sheet["F4"] = '=HYPERLINK("http://x","y")'  # a formula cell (name_en of X3)
    path = tmp_path / "extract.xlsx"
    book.save(path)
    report = import_registry(store, path, union_layer, quarantine=True, at=T1)
    assert [(e.row, e.field) for e in report.errors] == [(4, "name_en")]
    rows = _beneficiaries(store)
    assert set(rows) == {"X1", "X2"}
    assert rows["X2"].disability is True
    assert rows["X2"].children_under5 == 2


def test_parquet_input_rows_counted_from_one(
    store: Store,
    union_layer: UnionLayer,
    tmp_path: Path,
    make_row: Callable[..., str],
    header: list[str],
) -> None:
    lines = [make_row(beneficiary_id="P1"), make_row(beneficiary_id="P2", nid="12345")]
    frame = pd.DataFrame([line.split(",") for line in lines], columns=header)
    frame["children_under5"] = [0, 1]  # typed column, read as text
    path = tmp_path / "extract.parquet"
    frame.to_parquet(path)
    report = import_registry(store, path, union_layer, at=T1)
    assert report.status == "rejected"
    assert [(e.row, e.field) for e in report.errors] == [(2, "nid")]


def test_unreadable_files_raise_one_line_errors(
    store: Store, union_layer: UnionLayer, tmp_path: Path
) -> None:
    missing = tmp_path / "cols.csv"
    missing.write_text("beneficiary_id,programme\nB1,old_age\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"cols.csv row 1: missing column\(s\): household_id"):
        import_registry(store, missing, union_layer)
    other = tmp_path / "list.json"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(RegistryError, match="unsupported file type"):
        import_registry(store, other, union_layer)


def test_a_row_longer_than_a_read_block_is_one_line_error_naming_where(
    store: Store,
    union_layer: UnionLayer,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
    snapshot: Callable[[Store], dict[str, tuple[int, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cell far longer than Arrow's read block (an unclosed quote runs to the end of the
    file) raised Arrow's own error as a traceback. Now: the file, the last line read, why,
    and never the row's values; the store untouched."""
    monkeypatch.setattr(registry_read, "CSV_BLOCK_BYTES", 4096)
    good = [make_row(beneficiary_id=f"B{i}", household_id=f"H{i}") for i in range(60)]
    huge = make_row(beneficiary_id="B99", name_en='"' + "Rahima " * 2000 + '"')
    path = write_csv("long.csv", [*good, huge, *good[:3]])
    before = snapshot(store)
    with pytest.raises(RegistryError) as raised:
        import_registry(store, path, union_layer, at=T1)
    message = str(raised.value)
    assert message.startswith("long.csv: cannot be read as CSV after line 61: a row longer")
    assert "a row longer than 4 KB (an unclosed quote" in message
    assert "Rahima" not in message
    assert snapshot(store) == before


def test_a_csv_with_classic_mac_line_ends_imports_like_any_other(
    store: Store,
    union_layer: UnionLayer,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
    tmp_path: Path,
) -> None:
    """Excel's "CSV (Macintosh)" ends lines with CR alone: the header read failed with
    Python's csv error as a traceback."""
    rows = [make_row(beneficiary_id=f"B{i}", household_id=f"H{i}") for i in range(5)]
    unix = write_csv("unix.csv", rows)
    mac = tmp_path / "mac.csv"
    mac.write_bytes(unix.read_bytes().replace(b"\n", b"\r"))
    report = import_registry(store, mac, union_layer, at=T1)
    assert (report.status, report.inserted, report.errors_total) == ("imported", 5, 0)
    assert set(_beneficiaries(store)) == {f"B{i}" for i in range(5)}


def test_a_header_without_a_line_end_is_refused(
    store: Store, union_layer: UnionLayer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_read, "HEADER_BYTES", 64)
    path = tmp_path / "one_line.csv"
    path.write_bytes(b"beneficiary_id," * 10)
    with pytest.raises(RegistryError, match=r"one_line.csv row 1: over 1 MB without a line end"):
        import_registry(store, path, union_layer)


def test_a_parquet_file_damaged_after_its_first_records_is_one_line_error(
    store: Store,
    union_layer: UnionLayer,
    tmp_path: Path,
    make_row: Callable[..., str],
    header: list[str],
    snapshot: Callable[[Store], dict[str, tuple[int, str]]],
) -> None:
    """A page corrupted in transfer (footer intact) raised Arrow's OSError as a traceback
    once the reading reached it."""
    lines = [make_row(beneficiary_id=f"P{i}", household_id=f"H{i}") for i in range(400)]
    frame = pd.DataFrame([line.split(",") for line in lines], columns=header)
    path = tmp_path / "extract.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=100, compression="snappy")
    data = bytearray(path.read_bytes())
    page = pq.ParquetFile(path).metadata.row_group(2).column(0).data_page_offset
    for at in range(page + 30, page + 330):
        data[at] ^= 0x5A
    path.write_bytes(bytes(data))
    before = snapshot(store)
    with pytest.raises(RegistryError) as raised:
        import_registry(store, path, union_layer, at=T1, chunk_rows=100)
    assert str(raised.value).startswith(
        "extract.parquet: not a readable Parquet file after record 200: "
    )
    assert str(raised.value).endswith("its data is damaged (OSError); nothing imported")
    assert snapshot(store) == before
