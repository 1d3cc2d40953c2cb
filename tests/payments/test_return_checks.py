"""A return row is this line's result only if it pays the exported batch and account, at a
time between the approval and the import: a provider that paid another wallet, a row of
another batch, or a payment dated in the future or before approval is not applied."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from allowances.payment_results import import_results
from store.db import Store
from tests.payments.test_payment_results import T0, approved_and_exported, result, write_return


def test_rows_that_are_not_this_line_s_payment_are_refused(
    store: Store, draft_id: int, who: Callable[[str], Any], tmp_path: Path, outdir: Path
) -> None:
    exported = approved_and_exported(store, draft_id, who, outdir)
    mfs = [r for r in exported if r["wallet_number"]]
    rows = [
        result(mfs[0], "paid", paid_at="2099-01-01T00:00:00+06:00"),
        result(mfs[1], "paid", paid_at="2024-07-01T00:00:00+06:00"),
        result(mfs[2], "paid", wallet_number="01999999999"),
        result(mfs[3], "paid", batch_id=mfs[3]["batch_id"].replace("R1", "R9")),
        result(mfs[4], "paid", wallet_number=mfs[4]["wallet_number"].lstrip("0")),  # Excel
    ]
    report = import_results(
        store, draft_id, who("officer.kurigram"), write_return(tmp_path / "r.csv", rows), T0
    )
    reasons = [r["reason"] for r in report.judgement.rejected]
    assert reasons == [
        "paid_at is later than now",
        "paid_at is before the list was approved",
        f"wallet_number differs from the exported payee of {mfs[2]['line_ref']}",
        f"batch_id {mfs[3]['batch_id'].replace('R1', 'R9')!r} is not this list's "
        f"{mfs[3]['batch_id']}",
    ]
    assert report.applied == 1  # the wallet whose leading zero a spreadsheet dropped
