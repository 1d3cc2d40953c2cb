"""A return file row the csv module cannot read is named by its row number."""

from __future__ import annotations

from pathlib import Path

import pytest

from agam.core.errors import PaymentFileError
from allowances.payment_returns import read_return_file

HEADER = "line_ref,amount_bdt,status,provider_txn_id,paid_at,failure_reason\n"
ROW = "L5-{n},5000,paid,T{n},2026-07-04T12:05:00+06:00,\n"


def test_a_field_too_long_for_the_csv_module_names_its_row(tmp_path: Path) -> None:
    rows = [ROW.format(n=n) for n in (1, 2)] + [ROW.format(n=3)[:-2] + "x" * 200_000 + "\n"]
    path = tmp_path / "return.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    with pytest.raises(PaymentFileError, match=r"^return\.csv: row 4: cannot be read \(field "):
        read_return_file(path)
