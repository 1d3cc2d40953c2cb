"""Would an import of N households fit this machine? Measured at N/40 and N/10, then
extrapolated to N.

`python -m benchmarks.registry --households 40000000` asks this first (any N above
CALIBRATE_ABOVE): two SYNTHETIC registries of N/40 and N/10 households are generated and
imported by Agam alone, each import in a new process, on SQLite and (unless skipped)
PostgreSQL, measuring the time, the importing process's peak RSS and the disk the run
takes (SQLite: the run's folder sampled every half second, registry file, stage, the
anonymous spill and parts, database and write-ahead log included, SQLite's own sort files in
the system's temp folder not; PostgreSQL: the database's size after the import, its
write-ahead log excluded). A straight line through the two points gives the figures at
N, printed as EXTRAPOLATED. The full run keeps Agam's database and the pandas baseline's of
each back end (about as large) until it ends and times both (`--skip-baseline`: Agam's
alone), so it goes ahead only if twice (once) the back ends' disk fits within DISK_SHARE of
what is free, twice (once) their time within
`--max-minutes`, and the largest peak RSS within MEMORY_SHARE of the machine's memory.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa

CALIBRATE_ABOVE = 10_000_000  # households; up to here a run is simply made
FRACTIONS = (40, 10)  # calibration runs at N/40 and N/10
DISK_SHARE = 0.8
MEMORY_SHARE = 0.8
SAMPLE_SECONDS = 0.5


@dataclass(frozen=True)
class Run:
    households: int
    rows: int
    seconds: float
    peak_mb: float
    disk_bytes: int


def folder_bytes(folder: Path) -> int:
    """The bytes of the files under `folder`, named or not: an import's spill and parts are
    unlinked at once, so they are found among the open files of this process and its
    children (the import runs in one)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except FileNotFoundError:  # a file removed while walking
                continue
    return total + anonymous_bytes(folder)


def anonymous_bytes(folder: Path) -> int:
    """The bytes of unlinked files of `folder` still open in this process or its children."""
    inside = str(folder.resolve())
    total = 0
    for pid in [os.getpid(), *_children()]:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:  # gone, or no /proc
            continue
        for fd in fds:
            link = f"/proc/{pid}/fd/{fd}"
            try:
                target = os.readlink(link)
                if target.startswith(inside) and target.endswith(" (deleted)"):
                    total += os.stat(link).st_size
            except OSError:  # closed meanwhile
                continue
    return total


def _children() -> list[int]:
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:  # field 4: the parent's pid
            found.append(int(entry))
    return found


@contextmanager
def peak_disk(folder: Path) -> Iterator[Callable[[], int]]:
    """Samples the bytes under `folder` until the block ends; gives the largest seen."""
    peak = [folder_bytes(folder)]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            peak[0] = max(peak[0], folder_bytes(folder))

    worker = threading.Thread(target=sample, daemon=True)
    worker.start()
    try:
        yield lambda: peak[0]
    finally:
        stop.set()
        worker.join()
        peak[0] = max(peak[0], folder_bytes(folder))


def postgres_bytes(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
            )
    finally:
        engine.dispose()


def extrapolate(small: Run, large: Run, households: int) -> Run:
    """The straight line through two runs, at `households`."""
    span = large.households - small.households

    def at(a: float, b: float) -> float:
        return a + (b - a) * (households - small.households) / span

    return Run(
        households,
        round(at(small.rows, large.rows)),
        at(small.seconds, large.seconds),
        at(small.peak_mb, large.peak_mb),
        round(at(small.disk_bytes, large.disk_bytes)),
    )


def machine_memory_mb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20


def predicted_line(backend: str, predicted: Run) -> None:
    print(
        f"  {backend:10} EXTRAPOLATED to {predicted.households:,} households "
        f"({predicted.rows:,} rows): {predicted.seconds:,.0f} s, peak RSS "
        f"{predicted.peak_mb:,.0f} MB (goal <= 2,048 MB), disk {predicted.disk_bytes / 1e9:,.1f} GB"
    )


def fits(predicted: list[Run], free_bytes: int, max_minutes: float, baseline: bool = True) -> bool:
    """Would the full run (Agam, and the baseline unless skipped, on every back end) fit?
    Printed."""
    memory = machine_memory_mb()
    runs = 2 if baseline else 1
    disk = runs * sum(run.disk_bytes for run in predicted)
    seconds = runs * sum(run.seconds for run in predicted)
    peak = max(run.peak_mb for run in predicted)
    checks = {
        "disk": disk <= DISK_SHARE * free_bytes,
        "memory": peak <= MEMORY_SHARE * memory,
        "time": seconds <= max_minutes * 60,
    }
    print(
        f"  full run (Agam{' and pandas' if baseline else ' alone'} on {len(predicted)} "
        f"back end(s)): about "
        f"{disk / 1e9:,.1f} GB of disk ({free_bytes / 1e9:,.1f} GB free), peak RSS "
        f"{peak:,.0f} MB ({memory:,.0f} MB memory), {seconds / 60:,.0f} min (budget "
        f"{max_minutes:,.0f} min) -> "
        + ", ".join(f"{name} {'fits' if ok else 'does NOT fit'}" for name, ok in checks.items())
    )
    return all(checks.values())


def report(run: Run, backend: str) -> None:
    print(
        f"  {backend:10} measured {run.households:>12,} households ({run.rows:,} rows): "
        f"{run.seconds:8.1f} s, peak RSS {run.peak_mb:7,.0f} MB, "
        f"disk {run.disk_bytes / 1e9:6.2f} GB"
    )


def calibrate(
    households: int,
    folder: Path,
    generate: Callable[[int, Path], object],
    imports: dict[str, Callable[[Path, Path], tuple[float, float, int]]],
    max_minutes: float,
    baseline: bool = True,
) -> bool:
    """Measure at N/40 and N/10 per back end (`imports`: backend -> (registry, run folder)
    -> (seconds, peak MB, disk bytes)), extrapolate to N; True if the full run fits."""
    free = shutil.disk_usage(folder).free
    runs: dict[str, list[Run]] = {name: [] for name in imports}
    for divisor in FRACTIONS:
        size = households // divisor
        registry = folder / f"calibration_{size}.parquet"
        generate(size, registry)
        rows = pq.ParquetFile(registry).metadata.num_rows
        for backend, run_import in imports.items():
            run_folder = folder / f"{backend}_{size}"
            run_folder.mkdir()
            seconds, peak, disk = run_import(registry, run_folder)
            run = Run(size, rows, seconds, peak, disk + registry.stat().st_size)
            report(run, backend)
            runs[backend].append(run)
            shutil.rmtree(run_folder)
        registry.unlink()
    predicted = []
    for backend, (small, large) in runs.items():
        predicted.append(extrapolate(small, large, households))
        predicted_line(backend, predicted[-1])
    return fits(predicted, free, max_minutes, baseline)
