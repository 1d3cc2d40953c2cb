"""`benchmarks.registry --shuffled` imports the same rows in another order."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.registry import shuffle_rows


def test_shuffled_file_holds_the_same_rows_in_another_order(tmp_path: Path) -> None:
    path = tmp_path / "registry.parquet"
    ids = [f"SYN-{i:010d}" for i in range(1_000)]
    pq.write_table(pa.table({"beneficiary_id": ids, "n": list(range(1_000))}), path)
    shuffle_rows(path)
    table = pq.read_table(path)
    assert table.column("beneficiary_id").to_pylist() != ids
    assert sorted(table.to_pylist(), key=lambda r: r["n"]) == [
        {"beneficiary_id": b, "n": n} for n, b in enumerate(ids)
    ]
    assert not list(tmp_path.glob("*.shuffled.parquet"))
