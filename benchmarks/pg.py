"""A fresh PostgreSQL database for a benchmark run, dropped afterwards.

Reuses the cluster in AGAM_TEST_POSTGRES_URL when set; otherwise starts a throwaway cluster
with scripts/pg_test_cluster.sh (as the test suite does: 127.0.0.1, trust, fsync=off, so the
figures exclude the cost of flushing to disk) and stops it at the end.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg_test_cluster.sh"


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """The admin URL of a running cluster (reused, or started and stopped here)."""
    if url := os.environ.get("AGAM_TEST_POSTGRES_URL"):
        yield url
        return
    folder = tempfile.mkdtemp(prefix="agam-pg-bench-")
    env = {**os.environ, "AGAM_PG_DIR": folder}
    out = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    try:
        yield out.strip().split("=", 1)[1]
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, check=False)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the cluster; its URL."""
    name = f"agam_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
