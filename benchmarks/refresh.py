"""A monthly registry refresh: the validated re-import of an extract in which a share of the
records changed, vs pandas `to_sql` replacing the whole table with the new file, in one run.

A SYNTHETIC registry of N households is imported first (not timed). The refresh file is the
same rows with `--changed-percent` of them given another village (chosen at random, seed 3),
so each changed record is updated, its old version kept in `beneficiary_history`, and the
exposure of its household's union brought up to date. The baseline is what an operator
without Agam would run: the new file's batches written with pandas `to_sql` into a fresh
table (no validation, no history, no exposure, no duplicate check). Both on SQLite and on
PostgreSQL (a throwaway cluster started as `benchmarks.pg` does, or `AGAM_TEST_POSTGRES_URL`).

    python -m benchmarks.refresh [--households 1000000] [--changed-percent 5] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from allowances.synthetic import generate_registry
from benchmarks.pg import fresh_database, postgres_cluster
from benchmarks.registry import agam_import, in_new_process, pandas_to_sql
from boundaries.layer import load_union_layer


def changed_copy(source: Path, target: Path, percent: float, seed: int = 3) -> int:
    """`source` with `percent` of its rows given another village; returns how many."""
    table = pq.read_table(source)
    rng = np.random.default_rng(seed)
    picked = np.zeros(table.num_rows, dtype=bool)
    picked[rng.choice(table.num_rows, int(table.num_rows * percent / 100), replace=False)] = True
    index = table.schema.get_field_index("village")
    village = table.column(index)
    moved = pc.binary_join_element_wise(pc.fill_null(village, ""), " Para", "")
    table = table.set_column(index, "village", pc.if_else(pa.array(picked), moved, village))
    pq.write_table(table, target)
    return int(picked.sum())


def _refresh(url: str, first: Path, refresh: Path) -> tuple[float, float]:
    in_new_process(agam_import, url, first)
    seconds, status, peak = in_new_process(agam_import, url, refresh)
    assert status == "imported", status
    return seconds, peak


def _print(backend: str, agam_s: float, peak: float, base_s: float) -> None:
    print(f"{backend}: refresh {agam_s:7.1f} s (peak {peak:,.0f} MB) vs pandas to_sql of the "
          f"whole new file {base_s:7.1f} s: {base_s / agam_s:.2f}x  "
          f"(load average now {os.getloadavg()[0]:.2f})")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--changed-percent", type=float, default=5.0)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        first, refresh = tmp / "registry.parquet", tmp / "refresh.parquet"
        generate_registry(load_union_layer(), args.households, 7, first)
        changed = changed_copy(first, refresh, args.changed_percent)
        rows = pq.ParquetFile(first).metadata.num_rows
        print(f"SYNTHETIC registry: {args.households:,} households, {rows:,} rows; "
              f"{changed:,} rows changed in the refresh")  # fmt: skip
        agam_s, peak = _refresh(f"sqlite:///{tmp / 'agam.sqlite3'}", first, refresh)
        base_s, _ = in_new_process(pandas_to_sql, f"sqlite:///{tmp / 'base.sqlite3'}", refresh)
        _print("sqlite", agam_s, peak, base_s)
        if not args.skip_postgres:
            with postgres_cluster() as admin:
                with fresh_database(admin) as url:
                    agam_s, peak = _refresh(url, first, refresh)
                with fresh_database(admin) as base_url:
                    base_s, _ = in_new_process(pandas_to_sql, base_url, refresh)
            _print("postgresql", agam_s, peak, base_s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
