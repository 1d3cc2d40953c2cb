"""Registry import, list proposal and payment-file export at scale: Agam vs plain pandas.

The registry is SYNTHETIC (allowances.synthetic, sized by the 2022 census) on the real union
layer. Agam's import validates every row, normalises identifiers, deduplicates and writes in
one transaction; the pandas baseline only reads the file and appends it to SQLite with
`to_sql` (no validation), which is what a quick script would do.

    python -m benchmarks.registry [--households 500000] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from allowances.policy import load_policy
from allowances.registry_import import import_registry
from allowances.synthetic import generate_registry
from allowances.targeting import household_lines
from boundaries.layer import load_union_layer
from store.db import Store


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=500_000)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    layer = load_union_layer()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        gen_s, _ = timed(
            lambda: generate_registry(layer, args.households, 7, tmp / "registry.parquet")
        )
        rows = len(pd.read_parquet(tmp / "registry.parquet", columns=["beneficiary_id"]))
        print(
            f"SYNTHETIC registry: {rows:,} beneficiaries in {args.households:,} households "
            f"(generated in {gen_s:.1f} s)"
        )
        store = Store(f"sqlite:///{tmp / 'agam.sqlite3'}")
        store.upgrade()
        imp_s, report = timed(lambda: import_registry(store, tmp / "registry.parquet", layer))
        print(
            f"  agam import (validate + dedupe + write + exposure): {imp_s:7.2f} s, "
            f"{rows / imp_s:9,.0f} rows/s, peak RSS {peak_mb():,.0f} MB, status "
            f"{report.status}"
        )
        if not args.skip_baseline:
            engine = sa.create_engine(f"sqlite:///{tmp / 'baseline.sqlite3'}")
            base_s, _ = timed(
                lambda: pd.read_parquet(tmp / "registry.parquet").to_sql(
                    "beneficiaries", engine, index=False, chunksize=50_000
                )
            )
            print(
                f"  pandas read_parquet + to_sql (no validation):       {base_s:7.2f} s, "
                f"{rows / base_s:9,.0f} rows/s   ratio agam/pandas {imp_s / base_s:.1f}x"
            )
        frame = pd.read_parquet(tmp / "registry.parquet")
        policy = load_policy()
        prop_s, lines = timed(lambda: household_lines(frame, {}, policy, 2025))
        base_prop_s, _ = timed(
            lambda: frame.groupby("household_id").first().reset_index().sort_values("household_id")
        )
        print(
            f"  agam propose ({len(lines):,} household lines, score + reasons + cap): "
            f"{prop_s:6.2f} s   pandas groupby-first baseline {base_prop_s:6.2f} s"
        )
        out = tmp / "payments.csv"
        columns = list(lines.columns)

        def write_csv() -> None:
            with out.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                writer.writerows(lines.itertuples(index=False, name=None))

        exp_s, _ = timed(write_csv)
        base_exp_s, _ = timed(lambda: lines.to_csv(tmp / "baseline.csv", index=False))
        print(
            f"  payment CSV of {len(lines):,} lines: agam csv writer {exp_s:6.2f} s, "
            f"pandas to_csv {base_exp_s:6.2f} s"
        )
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
