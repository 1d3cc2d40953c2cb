"""Registry import and list proposal at scale: Agam vs plain pandas, SQLite and PostgreSQL.

The registry is SYNTHETIC (allowances.synthetic, sized by the 2022 census) on the real union
layer. Agam's import validates every row, normalises identifiers, deduplicates and writes in
one transaction; the pandas baseline only reads the file and appends it with `to_sql` to the
same kind of database (no validation), which is what a quick script would do. PostgreSQL runs
on a throwaway cluster (benchmarks.pg). The payment file is in benchmarks.export.

    python -m benchmarks.registry [--households 500000] [--skip-postgres] [--skip-propose]
                                  [--max-minutes 60] [--shuffled]

The generator writes beneficiary ids in ascending order, which is the cheapest order for any
index on them; `--shuffled` imports the same rows in a random order, as a registry exported
by district or by enrolment date would come (both sides get the same file).

Above 10 M households (e.g. `--households 40000000`) the import is first measured at N/40
and N/10 and extrapolated to N (benchmarks.registry_scale); the full run is made only if the
extrapolation fits this machine's disk, memory and `--max-minutes`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from allowances.policy import load_policy
from allowances.registry_import import import_registry
from allowances.synthetic import generate_registry
from allowances.targeting import household_lines
from benchmarks import registry_scale
from benchmarks.pg import fresh_database, postgres_cluster
from boundaries.layer import load_union_layer
from store.db import Store

BASELINE_BATCH_ROWS = 100_000
SHUFFLED_ROW_GROUP = 250_000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def streamed_to_sql(registry: Path, engine: sa.Engine) -> None:
    """The baseline: the file's row batches appended with pandas `to_sql`, one batch in
    memory at a time (a whole 10 M-household frame would not fit in 16 GB)."""
    parquet = pq.ParquetFile(registry, pre_buffer=False)  # one batch held, not the file
    for batch in parquet.iter_batches(batch_size=BASELINE_BATCH_ROWS):
        batch.to_pandas().to_sql("beneficiaries", engine, index=False, if_exists="append")


def agam_import(url: str, registry: Path) -> tuple[float, str, float]:
    """In a fresh process: (seconds, status, that process's peak RSS in MB)."""
    layer = load_union_layer()
    store = Store(url)
    store.upgrade()
    try:
        seconds, report = timed(lambda: import_registry(store, registry, layer))
    finally:
        store.dispose()
    return seconds, report.status, peak_mb()


def pandas_to_sql(url: str, registry: Path) -> tuple[float, float]:
    engine = sa.create_engine(url)
    try:
        seconds, _ = timed(lambda: streamed_to_sql(registry, engine))
    finally:
        engine.dispose()
    return seconds, peak_mb()


def in_new_process(func: Callable[..., Any], *args: Any) -> Any:
    """Run `func` in a fresh interpreter, so its peak memory is its own."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(func, *args).result()


def _sqlite_calibration(registry: Path, folder: Path) -> tuple[float, float, int]:
    with registry_scale.peak_disk(folder) as disk:
        seconds, _, peak = in_new_process(
            agam_import, f"sqlite:///{folder / 'agam.sqlite3'}", registry
        )
    return seconds, peak, disk()


def _postgres_calibration(admin: str, registry: Path) -> tuple[float, float, int]:
    with fresh_database(admin) as url:
        seconds, _, peak = in_new_process(agam_import, url, registry)
        return seconds, peak, registry_scale.postgres_bytes(url)


def _fits_at_full_size(args: argparse.Namespace, layer: Any) -> bool:
    """registry_scale's calibration for the back ends asked for."""
    cluster = nullcontext(None) if args.skip_postgres else postgres_cluster()
    with tempfile.TemporaryDirectory() as folder, cluster as admin:
        imports: dict[str, Callable[[Path, Path], tuple[float, float, int]]] = {
            "sqlite": _sqlite_calibration
        }
        if admin is not None:
            imports["postgresql"] = lambda registry, _: _postgres_calibration(admin, registry)
        return registry_scale.calibrate(
            args.households,
            Path(folder),
            lambda n, path: generate_registry(layer, n, 7, path),
            imports,
            args.max_minutes,
            baseline=not args.skip_baseline,
        )


def import_vs_to_sql(url: str, baseline_url: str | None, registry: Path, rows: int) -> None:
    """Agam's validated import into `url` vs pandas to_sql into `baseline_url` (same engine;
    None: Agam's alone), each in its own new process."""
    imp_s, status, agam_peak = in_new_process(agam_import, url, registry)
    backend = sa.make_url(url).get_backend_name()
    print(
        f"  {backend:10} agam import (validate + dedupe + write + exposure): {imp_s:7.2f} s, "
        f"{rows / imp_s:9,.0f} rows/s, status {status}, peak RSS {agam_peak:,.0f} MB "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    if baseline_url is None:
        return
    base_s, base_peak = in_new_process(pandas_to_sql, baseline_url, registry)
    print(
        f"  {backend:10} pandas to_sql per 100k-row batch (no validation):  {base_s:7.2f} s, "
        f"{rows / base_s:9,.0f} rows/s, peak RSS {base_peak:,.0f} MB   "
        f"ratio pandas/agam {base_s / imp_s:.2f}x (load average {os.getloadavg()[0]:.2f})"
    )


def shuffle_rows(path: Path, seed: int = 5) -> None:
    """Rewrite the Parquet file at `path` with its rows in a random (seeded) order."""
    table = pq.read_table(path)
    order = np.random.default_rng(seed).permutation(table.num_rows)
    shuffled = path.with_suffix(".shuffled.parquet")
    pq.write_table(table.take(order), shuffled, row_group_size=SHUFFLED_ROW_GROUP)
    shuffled.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=500_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-propose", action="store_true")
    parser.add_argument("--max-minutes", type=float, default=60.0)
    parser.add_argument("--shuffled", action="store_true", help="rows in a random order")
    parser.add_argument(
        "--skip-baseline", action="store_true", help="Agam's import alone (half the disk)"
    )
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    layer = load_union_layer()
    if args.households > registry_scale.CALIBRATE_ABOVE and not _fits_at_full_size(args, layer):
        print(f"  not run at {args.households:,} households: the extrapolation above stands")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        registry = tmp / "registry.parquet"
        gen_s, _ = timed(lambda: generate_registry(layer, args.households, 7, registry))
        if args.shuffled:
            shuffle_rows(registry)
        rows = pq.ParquetFile(registry).metadata.num_rows
        print(
            f"SYNTHETIC registry: {rows:,} beneficiaries in {args.households:,} households "
            f"(generated in {gen_s:.1f} s{'; rows shuffled' if args.shuffled else ''})"
        )
        baseline = None if args.skip_baseline else f"sqlite:///{tmp / 'baseline.sqlite3'}"
        import_vs_to_sql(f"sqlite:///{tmp / 'agam.sqlite3'}", baseline, registry, rows)
        if not args.skip_postgres:
            with (
                postgres_cluster() as admin,
                fresh_database(admin) as url,
                fresh_database(admin) as pg_baseline,
            ):
                import_vs_to_sql(url, None if args.skip_baseline else pg_baseline, registry, rows)
        print(f"  peak RSS of the benchmark process itself (generation) {peak_mb():,.0f} MB")
        if args.skip_propose:
            return 0
        frame = pd.read_parquet(registry)
        policy = load_policy()
        prop_s, lines = timed(lambda: household_lines(frame, {}, policy, 2025))
        base_prop_s, _ = timed(
            lambda: frame.groupby("household_id").first().reset_index().sort_values("household_id")
        )
        print(
            f"  agam propose ({len(lines):,} household lines, score + reasons + cap): "
            f"{prop_s:6.2f} s   pandas groupby-first baseline {base_prop_s:6.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
