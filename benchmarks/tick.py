"""The scheduler's tick at scale: evaluate, reconcile alerts and propose lists, one run.

A SYNTHETIC national registry of `--households` (allowances.synthetic on the real unions) is
generated and imported in a separate process (not timed here: benchmarks.registry times it),
then the bundled flood scenario is played through the real feed jobs (recorded upstream
formats served from a local HTTP server, an accelerated clock). Every evaluation the feed
jobs run - judge the triggers on the 5,160 unions, reconcile alerts, write CAP, propose the
lists of the districts that reached a proposing stage - is timed, with the households it put
on lists. There is no other library to compare a tick with: the figures are set against the
goals of issue 16 (a tick <= 10 s and <= 2 GB with a 10 M-household registry).

    python -m benchmarks.tick [--households 1000000] [--scenario flood] [--database-url URL]
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.registry import peak_mb

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Tick:
    seconds: float
    changes: int
    households_added: int
    rss_mb: float
    phases: dict[str, float] = field(default_factory=dict)


# What a proposing tick spends its time on: (module, function, label). Summed over threads:
# on PostgreSQL the reads and scoring of the next district run beside the writes.
PHASES = (
    ("store.frames", "beneficiaries_for_unions", "registry reads"),
    ("allowances.lists", "household_lines", "scoring"),
    ("store.list_repo", "create_list", "lines and payees"),
)


@contextmanager
def timed_phases() -> Iterator[dict[str, float]]:
    """Seconds spent in each of PHASES while inside, from any thread."""
    spent: dict[str, float] = dict.fromkeys((label for *_, label in PHASES), 0.0)
    lock = threading.Lock()
    patched = []
    for module_name, name, label in PHASES:
        module = importlib.import_module(module_name)
        real = getattr(module, name)

        def timed(*args: Any, _real: Any = real, _label: str = label, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _real(*args, **kwargs)
            finally:
                with lock:
                    spent[_label] += time.perf_counter() - start

        setattr(module, name, timed)
        patched.append((module, name, real))
    try:
        yield spent
    finally:
        for module, name, real in patched:
            setattr(module, name, real)


def _settings(data_dir: Path, database_url: str | None) -> Any:
    os.environ["AGAM_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["AGAM_DATABASE_URL"] = database_url
    from agam.core.settings import load_settings
    from hazard_feeds import registry  # noqa: F401 - registers the [feeds.*] models

    return load_settings(REPO / "config.toml")


def _import(data_dir: str, database_url: str | None, households: int) -> tuple[float, float]:
    """In a new process: prepare the store and import the registry; (seconds, peak MB)."""
    from agam.pipeline.context import AppContext
    from agam.pipeline.demo import ensure_synthetic_registry

    ctx = AppContext(_settings(Path(data_dir), database_url))
    ctx.prepare()
    start = time.perf_counter()
    ensure_synthetic_registry(ctx, households)
    ctx.store.dispose()
    return time.perf_counter() - start, peak_mb()


def imported(data_dir: str, database_url: str | None, households: int) -> tuple[float, float]:
    """`_import` in a new process (its memory is not the caller's): (seconds, peak MB)."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(_import, data_dir, database_url, households).result()


def _households_on_lists(ctx: Any) -> int:
    from sqlalchemy import func, select

    from store.models import AllowanceList

    with ctx.store.read() as session:
        return int(session.scalar(select(func.coalesce(func.sum(AllowanceList.households), 0))))


def _play(settings: Any, scenario: str) -> tuple[list[Tick], str]:
    """Play the scenario, timing every evaluation (the tick) the feed jobs run."""
    from agam.pipeline import evaluate
    from agam.pipeline.context import AppContext
    from agam.scenarios.player import play

    ticks: list[Tick] = []
    real = evaluate.run_evaluation
    counter = AppContext(settings)
    backend = counter.store.engine.dialect.name

    def timed(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        before = _households_on_lists(counter)
        with timed_phases() as phases:
            start = time.perf_counter()
            result = real(ctx, *args, **kwargs)
            seconds = time.perf_counter() - start
        added = _households_on_lists(counter) - before
        ticks.append(Tick(seconds, len(result[1]), added, peak_mb(), dict(phases)))
        return result

    evaluate.run_evaluation = timed  # type: ignore[assignment]
    try:
        play(settings, scenario)
    finally:
        evaluate.run_evaluation = real  # type: ignore[assignment]
        counter.store.dispose()
    return ticks, backend


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--scenario", default="flood")
    parser.add_argument("--database-url", default=os.environ.get("AGAM_BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    with tempfile.TemporaryDirectory() as folder:
        import_s, import_mb = imported(folder, args.database_url, args.households)
        print(
            f"SYNTHETIC registry of {args.households:,} households generated and imported in "
            f"{import_s:.1f} s (own process, peak {import_mb:,.0f} MB; not part of the tick)"
        )
        settings = _settings(Path(folder), args.database_url)
        started = time.perf_counter()
        ticks, backend = _play(settings, args.scenario)
        played_s = time.perf_counter() - started
    _report(ticks, played_s, backend)
    return 0


def _report(ticks: list[Tick], played_s: float, backend: str) -> None:
    if not ticks:
        print("no evaluation ran: the scenario produced no new forecast")
        return
    proposing = [t for t in ticks if t.households_added]
    quiet = [t.seconds for t in ticks if not t.households_added]
    slowest = max(ticks, key=lambda t: t.seconds)
    print(f"{backend}: {len(ticks)} ticks in a scenario played in {played_s:.1f} s")
    print(f"  first tick (cold: union context, rule sets): {ticks[0].seconds:6.2f} s")
    if quiet:
        print(
            f"  ticks that proposed nothing: median {statistics.median(quiet):6.2f} s, "
            f"max {max(quiet):6.2f} s ({len(quiet)} ticks)"
        )
    for tick in proposing:
        print(
            f"  tick that put {tick.households_added:,} households on lists "
            f"({tick.changes} alert changes): {tick.seconds:6.2f} s"
        )
        spent = ", ".join(f"{label} {seconds:.2f} s" for label, seconds in tick.phases.items())
        print(f"    of which {spent} (summed over threads)")
    print(
        f"  slowest tick {slowest.seconds:.2f} s (goal <= 10 s); peak RSS of the playing "
        f"process {max(t.rss_mb for t in ticks):,.0f} MB (goal <= 2,048 MB); "
        f"load average now {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
