"""Soak: the scheduler at a 2 s interval plus concurrent CLI readers and writers for 60 s, on
SQLite and on PostgreSQL (scripts/soak.py, everything local). Zero tracebacks, zero
duplicate open alerts, no command failing for a lock, the audit chain intact.

Slow (about 3 minutes per database on 2 cores), and run in CI like every other test.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "soak.py"
SOAK_SECONDS = 60.0
LOOPS = 8  # concurrent CLI loops (2 cores here; `scripts/soak.py --loops 20` by hand)


def load_soak() -> Any:
    spec = importlib.util.spec_from_file_location("agam_soak", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["agam_soak"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_soak(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGAM_DATABASE_URL", raising=False)
    monkeypatch.delenv("AGAM_DATA_DIR", raising=False)
    monkeypatch.delenv("AGAM_CONFIG", raising=False)
    soak = load_soak()
    url = "" if database_url.startswith("sqlite") else database_url
    report = soak.soak(tmp_path / "soak", SOAK_SECONDS, LOOPS, 2.0, url, 2000)
    summary = json.dumps({k: v for k, v in report.items() if k != "scheduler_stderr_tail"})
    assert report["tracebacks"] == 0, report["traceback_samples"]
    assert report["failure_count"] == 0, (report["failures"], report["slowest_s"])
    assert report["scheduler_returncode"] == 0, report["scheduler_stderr_tail"]
    assert report["duplicate_open_alerts"] == 0
    assert report["audit_ok"], report["audit"]
    assert report["cli_runs"] >= LOOPS, summary  # the loops really ran
    assert report["feed_runs"] > 0, summary
    assert report["alert_changes"] > 0, summary  # writers really changed alerts
