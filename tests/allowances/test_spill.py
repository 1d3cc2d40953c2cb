"""The import's spill: rows written once as Arrow IPC, read back whole or by column, by
several readers at once (through /proc) or one after another on the shared handle."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from allowances.registry_staging import Spill, Staging

ROWS = pa.table({"_index": list(range(250)), "name_bn": [f"নাম {i}" for i in range(250)],
                 "nid": [None if i % 7 == 0 else f"{i:017d}" for i in range(250)]})  # fmt: skip


def _written(staging: Staging) -> Spill:
    spill = staging.spill()
    for start in range(0, ROWS.num_rows, 100):
        spill.append(ROWS.slice(start, 100))
    spill.finish()
    return spill


def test_rows_come_back_whole_or_by_column_in_order(tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        spill = _written(staging)
        assert pa.Table.from_batches(list(spill.batches())).equals(ROWS)
        both = zip(spill.batches(["nid"]), spill.batches(["_index", "nid"]), strict=True)
        for nid_only, with_index in both:  # two readers open at once
            assert nid_only.schema.names == ["nid"]
            assert nid_only.column(0).equals(with_index.column(1))
        with pytest.raises(KeyError, match="not in the spill"):
            next(spill.batches(["wallet_number"]))


def test_without_proc_the_shared_handle_is_read_again_not_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Spill, "reopens", property(lambda self: False))
    with Staging(tmp_path) as staging:
        spill = _written(staging)
        first = pa.Table.from_batches(list(spill.batches(["name_bn"])))
        again = pa.Table.from_batches(list(spill.batches(["name_bn"])))
    assert first.equals(again)
    assert first.column("name_bn").to_pylist() == ROWS.column("name_bn").to_pylist()
