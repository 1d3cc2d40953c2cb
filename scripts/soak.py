"""Soak Agam: the scheduler at a short interval plus concurrent CLI readers and writers.

    python scripts/soak.py --data-dir /tmp/soak --seconds 60 [--database-url URL]

Prepares a store (union layer, demo accounts, a small SYNTHETIC registry), serves the bundled
flood and cyclone scenarios from a local HTTP server whose scenario clock loops quickly (so
every feed keeps bringing new forecasts), runs `agam scheduler` with every feed at a few
seconds' interval, and N loops of CLI commands against the same store. At the end it reports
exit codes, tracebacks, whether the scheduler died by a signal, duplicate open alerts and
whether the audit chain verifies. Exit status 0 only when nothing went wrong.

Local only (127.0.0.1); no internet. The soak test (tests/ops/test_soak.py) drives it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

AGAM = [sys.executable, "-m", "agam.cli.main"]
SPEED_SCENARIO_S_PER_S = 3 * 3600.0  # scenario seconds per real second
TRACEBACK = r"Traceback.{0,1500}"
DROPPING_DONE = threading.Event()  # stops the thread that drops BMD bulletins


@dataclass
class Tally:
    runs: int = 0
    failures: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)
    slowest_s: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, proc: subprocess.CompletedProcess[str], seconds: float) -> None:
        with self.lock:
            self.runs += 1
            self.slowest_s[name] = max(self.slowest_s.get(name, 0.0), round(seconds, 1))
            key = f"{name}:{proc.returncode}"
            self.codes[key] = self.codes.get(key, 0) + 1
            text = proc.stderr or ""
            if "Traceback" in text:
                self.tracebacks.append(f"{name}: {text[-1500:]}")
            # A feed fetch may fail as a feed (exit 5: upstream had nothing yet); a person
            # closing an alert the pipeline closed a moment before is refused (exit 8,
            # "only open alerts close"), as is submitting a draft the pipeline replaced a
            # moment before ("is superseded; cannot submit"); anything else that is not 0 is
            # a failure of Agam.
            expected = (0, 5) if name.startswith("fetch-") else (0,)
            raced = (name == "alerts-close" and "only open alerts close" in text) or (
                name == "lists-submit" and "is superseded; cannot submit" in text
            )
            if proc.returncode not in expected and not raced:
                self.failures.append(f"{name} -> {proc.returncode}: {text.strip()[-300:]}")


def write_config(folder: Path, base_url: str, interval_s: float, database_url: str) -> Path:
    drop = folder / "bmd-drop"
    text = f"""
[app]
data_dir = "var"
log_level = "WARNING"

[database]
url = "{database_url}"
busy_timeout_ms = 5000

[notifications]
enabled = false

[scheduler]
heartbeat_interval_s = 1
stale_after_s = 60

[feeds.ffwc]
interval_seconds = {interval_s}
max_age_hours = 100000
base_url = "{base_url}/ffwc/data_load/"
retries = 0

[feeds.glofas]
interval_seconds = {interval_s}
max_age_hours = 100000
mirror_url = "{base_url}/glofas/glofas_{{date:%Y%m%d}}.nc"
retries = 0

[feeds.gdacs]
interval_seconds = {interval_s}
max_age_hours = 100000
base_url = "{base_url}/gdacs/gdacsapi/api/"
retries = 0

[feeds.bmd]
interval_seconds = {interval_s}
max_age_hours = 100000
drop_folder = "{drop}"
"""
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def prepare(config: Path, households: int) -> dict[str, Any]:
    """Store, union layer, demo accounts, registry and the rendered scenario manifests."""
    from agam.core.settings import load_settings
    from agam.pipeline.context import AppContext
    from agam.pipeline.demo import ensure_demo_accounts, ensure_synthetic_registry
    from agam.scenarios.player import play, prepare_files
    from agam.scenarios.spec import load_scenario

    settings = load_settings(config)
    ctx = AppContext(settings)
    ctx.prepare()
    passwords = ensure_demo_accounts(ctx)
    ensure_synthetic_registry(ctx, households)
    manifests = {}
    for name in ("flood", "cyclone"):
        # Played once on scenario time: the store then holds a season that `evaluate
        # --as-of` can judge again and again while the scheduler keeps fetching.
        play(settings, name)
        spec = load_scenario(name)
        manifests[name] = (spec, prepare_files(spec, settings.data_dir / "scenarios" / spec.id))
    drop = config.parent / "bmd-drop"
    drop.mkdir(exist_ok=True)
    ctx.store.dispose()
    return {"manifests": manifests, "drop": drop, "admin_password": passwords["admin.demo"]}


def looping_clock(start: datetime, end: datetime, t0: float) -> datetime:
    span = (end - start).total_seconds()
    offset = ((time.monotonic() - t0) * SPEED_SCENARIO_S_PER_S) % span
    return start + timedelta(seconds=offset)


def serve(manifests: dict[str, Any], drop: Path) -> tuple[ThreadingHTTPServer, str]:
    """Answer as GloFAS / FFWC / GDACS would at a looping scenario time; BMD bulletins are
    dropped into the folder as their scenario time passes."""
    t0 = time.monotonic()
    flood_spec, flood = manifests["flood"]
    cyclone_spec, cyclone = manifests["cyclone"]
    glofas = sorted(
        (p for p in flood.items if p.route.startswith("/glofas/")), key=lambda p: p.published_at
    )

    def clock_for(path: str) -> tuple[Any, datetime]:
        if path.startswith("/gdacs"):
            return cyclone, looping_clock(cyclone_spec.play_from, cyclone_spec.play_to, t0)
        return flood, looping_clock(flood_spec.play_from, flood_spec.play_to, t0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            manifest, now = clock_for(self.path)
            if self.path.startswith("/glofas/"):  # any date: the run current at scenario time
                done = [p for p in glofas if p.published_at <= now]
                item = done[-1] if done else None
            else:
                item = manifest.current(self.path, now)
            if item is None:
                body = b'{"detail": "Not found."}'
                self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            body = (manifest.folder / item.path).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", item.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", f'"{item.sha256[:32]}"')
            self.send_header("Last-Modified", format_datetime(item.published_at, usegmt=True))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def drop_bulletins() -> None:
        while not DROPPING_DONE.is_set():
            now = looping_clock(cyclone_spec.play_from, cyclone_spec.play_to, t0)
            for item in cyclone.items:
                target = drop / Path(item.path).name
                if item.route == "drop/bmd" and item.published_at <= now and not target.exists():
                    shutil.copyfile(cyclone.folder / item.path, target)
            DROPPING_DONE.wait(1)

    DROPPING_DONE.clear()
    threading.Thread(target=drop_bulletins, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def season_time() -> datetime:
    """A moment of the played flood or cyclone season, by the wall clock: writers judging
    it keep raising, escalating and standing down alerts."""
    seasons = [
        (datetime(2026, 5, 15, 12, tzinfo=UTC), datetime(2026, 5, 21, tzinfo=UTC)),
        (datetime(2026, 6, 22, tzinfo=UTC), datetime(2026, 7, 5, tzinfo=UTC)),
    ]
    start, end = seasons[int(time.time() / 20) % 2]
    hours = int((end - start).total_seconds() // 3600)
    return start + timedelta(hours=int(time.time() * 7) % hours)


def cli_loop(config: Path, name: str, args: list[str], stop: threading.Event, tally: Tally) -> None:
    env = dict(os.environ, AGAM_CONFIG=str(config))
    while not stop.is_set():
        as_of = season_time().isoformat()
        argv = [a.replace("{as_of}", as_of) for a in args]
        began = time.monotonic()
        proc = subprocess.run(
            [*AGAM, *argv], capture_output=True, text=True, env=env, timeout=600, check=False
        )
        tally.record(name, proc, time.monotonic() - began)


def run_recorded(
    name: str, argv: list[str], env: dict[str, str], tally: Tally
) -> subprocess.CompletedProcess[str]:
    began = time.monotonic()
    proc = subprocess.run([*AGAM, *argv], capture_output=True, text=True, env=env, check=False)
    tally.record(name, proc, time.monotonic() - began)
    return proc


def proposed_draft(stdout: str) -> int | None:
    """The list id `lists propose --json` printed, if that list is a draft."""
    try:
        row = json.loads(stdout)
        return int(row["list_id"]) if row.get("status") == "draft" else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def open_alert_ids(config: Path) -> list[int]:
    env = dict(os.environ, AGAM_CONFIG=str(config))
    proc = subprocess.run(
        [*AGAM, "alerts", "list", "--json"], capture_output=True, text=True, env=env, check=False
    )
    try:
        return [int(a["alert_id"]) for a in json.loads(proc.stdout) if a.get("status") == "open"]
    except (ValueError, TypeError, KeyError):
        return []


def store_counts(config: Path) -> dict[str, int]:
    from sqlalchemy import func, select

    from agam.core.settings import load_settings
    from store.db import Store
    from store.models import AlertEvent, AllowanceList, FeedRun

    store = Store(load_settings(config).database_url)
    with store.read() as session:
        counts = {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (
                ("feed_runs", FeedRun),
                ("alert_events", AlertEvent),
                ("lists", AllowanceList),
            )
        }
    store.dispose()
    return counts


def duplicate_open_alerts(config: Path) -> int:
    from sqlalchemy import func, select

    from agam.core.settings import load_settings
    from store.db import Store
    from store.models import Alert

    store = Store(load_settings(config).database_url)
    with store.session() as session:
        stmt = (
            select(Alert.rule_set_id, Alert.district_pcode, func.count())
            .where(Alert.status == "open")
            .group_by(Alert.rule_set_id, Alert.district_pcode)
            .having(func.count() > 1)
        )
        dupes = len(list(session.execute(stmt)))
    store.dispose()
    return dupes


READERS = [
    ("alerts-list", ["alerts", "list", "--json"]),
    ("feeds-status", ["feeds", "status", "--json"]),
    ("audit-verify", ["audit", "verify", "--json"]),
    ("db-status", ["db", "status", "--json"]),
]
WRITERS = [
    ("evaluate", ["evaluate", "--json"]),
    ("evaluate-as-of", ["evaluate", "--json", "--as-of", "{as_of}"]),
    ("fetch-ffwc", ["feeds", "fetch", "ffwc", "--json"]),
    ("fetch-gdacs", ["feeds", "fetch", "gdacs", "--json"]),
    ("fetch-bmd", ["feeds", "fetch", "bmd", "--json"]),
]


def soak(
    folder: Path,
    seconds: float,
    loops: int,
    interval_s: float,
    database_url: str,
    households: int,
) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    # The server must exist before the config names it: bind first, then prepare.
    config = write_config(folder, "http://127.0.0.1:1", interval_s, database_url)
    prepared = prepare(config, households)
    server, base_url = serve(prepared["manifests"], prepared["drop"])
    config = write_config(folder, base_url, interval_s, database_url)
    before = store_counts(config)
    env = dict(os.environ, AGAM_CONFIG=str(config))
    # the administrator standing alerts down signs in like anyone (never on the command line)
    admin_env = dict(env, AGAM_PASSWORD=prepared["admin_password"])
    scheduler = subprocess.Popen(
        [*AGAM, "scheduler", "--for-seconds", str(seconds)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    stop = threading.Event()
    tally = Tally()
    plan = [*READERS, *WRITERS]
    threads = [
        threading.Thread(
            target=cli_loop, args=(config, *plan[i % len(plan)], stop, tally), daemon=True
        )
        for i in range(loops)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and scheduler.poll() is None:
        # People racing the pipeline: an officer proposes the list of an open alert and an
        # administrator submits it (the scheduler may be replacing that draft just then), an
        # administrator stands one down (the next evaluation raises it again).
        open_ids = open_alert_ids(config)
        for name, argv in (
            ("lists-propose", ["lists", "propose", "--json"]),
            ("alerts-close", ["alerts", "close", "--user", "admin.demo", "--reason", "soak"]),
        ):
            if not open_ids:
                break
            alert_id = str(open_ids.pop(0))
            argv = [*argv[:2], alert_id, *argv[2:]]
            proc = run_recorded(name, argv, admin_env if name == "alerts-close" else env, tally)
            draft = proposed_draft(proc.stdout) if name == "lists-propose" else None
            if draft is not None:
                submit = ["lists", "submit", str(draft), "--user", "admin.demo"]
                run_recorded("lists-submit", submit, admin_env, tally)
        time.sleep(1)
    stop.set()
    for t in threads:
        t.join(timeout=600)
    try:
        _, scheduler_err = scheduler.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        scheduler.send_signal(signal.SIGTERM)
        _, scheduler_err = scheduler.communicate(timeout=60)
    DROPPING_DONE.set()  # the bulletin thread ends with the soak, not with the process
    server.shutdown()
    server.server_close()
    audit = subprocess.run(
        [*AGAM, "audit", "verify", "--json"], capture_output=True, text=True, env=env, check=False
    )
    sched_tracebacks = scheduler_err.count("Traceback")
    after = store_counts(config)
    return {
        "feed_runs": after["feed_runs"] - before["feed_runs"],
        "alert_changes": after["alert_events"] - before["alert_events"],
        "lists_added": after["lists"] - before["lists"],
        "seconds": seconds,
        "cli_runs": tally.runs,
        "exit_codes": dict(sorted(tally.codes.items())),
        "slowest_s": dict(sorted(tally.slowest_s.items())),
        "failures": tally.failures[:20],
        "failure_count": len(tally.failures),
        "tracebacks": len(tally.tracebacks) + sched_tracebacks,
        "traceback_samples": (
            tally.tracebacks + re.findall(r"Traceback.{0,1500}", scheduler_err, re.S)
        )[:3],
        "scheduler_returncode": scheduler.returncode,
        "scheduler_stderr_tail": scheduler_err[-2000:],
        "duplicate_open_alerts": duplicate_open_alerts(config),
        "audit_ok": audit.returncode == 0,
        "audit": audit.stdout.strip()[-500:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--loops", type=int, default=20)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--households", type=int, default=3000)
    args = parser.parse_args()
    report = soak(
        args.data_dir, args.seconds, args.loops, args.interval, args.database_url, args.households
    )
    print(json.dumps(report, indent=1))
    ok = (
        report["tracebacks"] == 0
        and report["failure_count"] == 0
        and report["scheduler_returncode"] == 0
        and report["duplicate_open_alerts"] == 0
        and report["audit_ok"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
