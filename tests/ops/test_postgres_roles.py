"""deploy/postgres/setup.sh on a real PostgreSQL: the owner role migrates, the app role runs
the pipeline and can neither change the schema nor rewrite the audit log."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "deploy" / "postgres" / "setup.sh"
AGAM = [sys.executable, "-m", "agam.cli.main"]


@pytest.fixture
def cluster() -> Iterator[dict[str, str]]:
    admin_url = os.environ.get("AGAM_TEST_POSTGRES_URL")
    if not admin_url or shutil.which("psql") is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL and psql are needed in CI")
        pytest.skip("no PostgreSQL cluster or psql")
    tag = uuid.uuid4().hex[:8]
    names = {"AGAM_DB": f"agam_{tag}", "AGAM_OWNER": f"owner_{tag}", "AGAM_APP": f"app_{tag}"}
    base = admin_url.replace("postgresql+psycopg://", "postgresql://")
    env = dict(os.environ, ADMIN_URL=base, **names)
    yield env
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{names["AGAM_DB"]}" WITH (FORCE)'))
        for role in (names["AGAM_APP"], names["AGAM_OWNER"]):
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


def role_url(env: dict[str, str], role: str) -> str:
    server = env["ADMIN_URL"].split("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+psycopg://{env[role]}@{server}/{env['AGAM_DB']}"


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_owner_migrates_app_runs_with_least_privilege(
    cluster: dict[str, str], config_path: Path
) -> None:
    for step in ([], [], ["grants"]):  # setup twice: idempotent
        if step == ["grants"]:
            owner = dict(cluster, AGAM_CONFIG=str(config_path))
            owner["AGAM_DATABASE_URL"] = role_url(cluster, "AGAM_OWNER")
            upgraded = run([*AGAM, "db", "upgrade"], owner)
            assert upgraded.returncode == 0, upgraded.stderr
        done = run(["bash", str(SETUP), *step], cluster)
        assert done.returncode == 0, done.stderr
    app_env = dict(cluster, AGAM_CONFIG=str(config_path))
    app_env["AGAM_DATABASE_URL"] = role_url(cluster, "AGAM_APP")
    app_env["AGAM_NEW_PASSWORD"] = app_env["AGAM_PASSWORD"] = "a long password"
    for argv in (
        ["users", "bootstrap", "admin.ops"],
        [
            "users",
            "add",
            "dmo.kurigram",
            "--role",
            "officer",
            "--district",
            "BD5549",
            "--user",
            "admin.ops",
        ],
        ["evaluate", "--json"],
        ["feeds", "status", "--json"],
        ["audit", "verify"],
        ["db", "status"],
    ):
        done = run([*AGAM, *argv], app_env)
        assert done.returncode == 0, (argv, done.stderr)
    engine = sa.create_engine(app_env["AGAM_DATABASE_URL"])
    try:
        for statement in (
            "UPDATE audit_log SET actor = 'forged'",
            "DELETE FROM audit_log",
            "DELETE FROM alerts",
            "CREATE TABLE agam.sneaky (i int)",
            "DROP TABLE alerts",
            "UPDATE alembic_version SET version_num = '0001'",
        ):
            with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError):
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()
