"""deploy/postgres on a real PostgreSQL, as docs/operations.md tells an operator to run it:
setup.sh (twice: idempotent), `agam db upgrade` as the owner, `setup.sh grants`. Then

- every table of the migrated schema is classified in grants.sql exactly once, and a table
  that is not makes `setup.sh grants` fail;
- the app role's privileges are least: history insert-only, DELETE only where the code
  deletes, never TRUNCATE, TRIGGER or DDL; the reader never sees personal data;
- the app role runs everything the CLI, scheduler and dashboard do (registry import,
  evaluation, lists through every step to the payment file, grievances, outbox delivery,
  heartbeat, backup) and cannot switch the guards off or rewrite decisions or the audit log.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from psycopg.errors import InsufficientPrivilege

from agam.core.settings import load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.ingest import ingest
from allowances import registry_write as rw
from allowances.synthetic import generate_registry
from store import heartbeat_repo, outbox_repo
from store.models import Base, OutboxMessage
from tests.conftest import write_config, write_remal_bulletin

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "deploy" / "postgres" / "setup.sh"
GRANTS = ROOT / "deploy" / "postgres" / "grants.sql"
AGAM = [sys.executable, "-m", "agam.cli.main"]
PASSWORD = "a long password for roles"
FETCHED = datetime(2025, 5, 25, 9, 30, tzinfo=UTC)
AS_OF = "2025-05-25T12:00:00Z"
DISTRICT = "BD4047"  # Khulna: one of the districts the Remal-like bulletin puts at action

# What the code never changes once written (the brief of grants.sql, checked independently).
INSERT_ONLY = {
    "activation_keys",
    "alert_events",
    "allowance_lines",
    "allowance_payees",
    "audit_log",
    "beneficiary_history",
    "config_versions",
    "decisions",
    "evaluations",
    "forecast_runs",
    "grievance_events",
    "list_registry_pins",
    "payment_imports",
    "payment_snapshots",
    "registry_quarantine",
}
DELETES = {"sign_in_attempts", "union_exposure"}  # store/throttle.py, allowances/exposure.py
PERSONAL = {  # never readable by the reporting role
    "allowance_lines",
    "allowance_payees",
    "api_tokens",
    "audit_log",
    "beneficiaries",
    "beneficiary_history",
    "dashboard_sessions",
    "grievance_events",
    "grievances",
    "notification_outbox",
    "payment_results",
    "payment_snapshots",
    "registry_quarantine",
    "sign_in_attempts",
    "users",
}
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@dataclass
class Deployment:
    env: dict[str, str]  # ADMIN_URL and the AGAM_DB / AGAM_OWNER / AGAM_APP / AGAM_READER names
    site: Path

    def url(self, role: str) -> str:
        server = self.env["ADMIN_URL"].split("@", 1)[1].rsplit("/", 1)[0]
        return f"postgresql+psycopg://{self.env[role]}@{server}/{self.env['AGAM_DB']}"

    def as_role(self, role: str, **extra: str) -> dict[str, str]:
        config = self.site / "config.toml"
        return dict(self.env, AGAM_CONFIG=str(config), AGAM_DATABASE_URL=self.url(role), **extra)


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)


def agam(deployment: Deployment, *argv: str, role: str = "AGAM_APP") -> str:
    env = deployment.as_role(role, AGAM_PASSWORD=PASSWORD, AGAM_NEW_PASSWORD=PASSWORD)
    done = run([*AGAM, *argv], env)
    assert done.returncode == 0, (argv, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, (argv, done.stderr)
    return done.stdout


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    admin_url = os.environ.get("AGAM_TEST_POSTGRES_URL")
    if not admin_url or shutil.which("psql") is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL and psql are needed in CI")
        pytest.skip("no PostgreSQL cluster or psql")
    tag = uuid.uuid4().hex[:8]
    names = {
        "AGAM_DB": f"agam_{tag}",
        "AGAM_OWNER": f"owner_{tag}",
        "AGAM_APP": f"app_{tag}",
        "AGAM_READER": f"reader_{tag}",
    }
    env = dict(os.environ, ADMIN_URL=admin_url.replace("+psycopg", ""), **names)
    env.pop("AGAM_DATABASE_URL", None)
    tmp = tmp_path_factory.mktemp("pg-roles")
    drop = write_remal_bulletin(tmp / "bulletins")
    bmd = f"\n[feeds.bmd]\ninterval_minutes = 600\nmax_age_hours = 12\ndrop_folder = '{drop}'\n"
    fast = "\n[scheduler]\nheartbeat_interval_s = 0.5\nstale_after_s = 3\nstandby_poll_s = 0.2\n"
    site = write_config(tmp / "site", bmd + fast).parent
    deployed = Deployment(env, site)
    try:
        for _ in range(2):  # idempotent: the second run changes nothing and succeeds
            done = run(["bash", str(SETUP)], env)
            assert done.returncode == 0, done.stderr
        agam(deployed, "db", "upgrade", role="AGAM_OWNER")
        done = run(["bash", str(SETUP), "grants"], env)
        assert done.returncode == 0, done.stderr
        assert "every table classified" in done.stdout
        yield deployed
    finally:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{names["AGAM_DB"]}" WITH (FORCE)'))
            for role in ("AGAM_READER", "AGAM_APP", "AGAM_OWNER"):
                conn.execute(sa.text(f'DROP ROLE IF EXISTS "{names[role]}"'))
        admin.dispose()


def as_admin(deployment: Deployment) -> sa.Engine:
    url = deployment.env["ADMIN_URL"].rsplit("/", 1)[0] + "/" + deployment.env["AGAM_DB"]
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


def tables(deployment: Deployment) -> set[str]:
    engine = as_admin(deployment)
    with engine.connect() as conn:
        names = conn.scalars(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'agam'")
        ).all()
    engine.dispose()
    return set(names)


def privileges(deployment: Deployment, role: str) -> dict[str, set[str]]:
    engine = as_admin(deployment)
    held: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for table in tables(deployment):
            held[table] = {
                p
                for p in PRIVILEGES
                if conn.scalar(
                    sa.text("SELECT has_table_privilege(:r, :t, :p)"),
                    {"r": deployment.env[role], "t": f"agam.{table}", "p": p},
                )
            }
    engine.dispose()
    return held


def classified(section: str) -> list[str]:
    """Table names granted in one part of grants.sql: the app's (before the reader's
    `\\if`) or the reader's."""
    text = re.sub(r"--[^\n]*", "", GRANTS.read_text(encoding="utf-8"))
    app, reader = text.split("\\if :{?reader}", 1)
    return re.findall(r"\bagam\.(\w+)", app if section == "app" else reader)


def test_every_table_is_classified_in_grants_sql_exactly_once(deployment: Deployment) -> None:
    present = tables(deployment)
    named = classified("app")
    assert sorted(n for n in set(named) if named.count(n) > 1) == []
    assert set(named) == present  # no table left out, none that no longer exists
    assert present == set(Base.metadata.tables) | {"alembic_version"}  # models = migrations
    assert set(classified("reader")) <= present


def test_app_and_reader_privileges_are_least(deployment: Deployment) -> None:
    app = privileges(deployment, "AGAM_APP")
    assert all("SELECT" in held for held in app.values())
    assert {t for t, held in app.items() if held & {"TRUNCATE", "TRIGGER", "REFERENCES"}} == set()
    assert {t for t, held in app.items() if "DELETE" in held} == DELETES
    assert {t for t in INSERT_ONLY if app[t] != {"SELECT", "INSERT"}} == set()
    assert app["alembic_version"] == app["registry_edits"] == {"SELECT"}
    writable = set(app) - INSERT_ONLY - {"alembic_version", "registry_edits"}
    assert {t for t in writable if not {"INSERT", "UPDATE"} <= app[t]} == {
        "sign_in_attempts",
        "approval_policy",  # one row, updated in place
    }
    assert app["approval_policy"] == {"SELECT", "UPDATE"}
    reader = privileges(deployment, "AGAM_READER")
    assert {t for t, held in reader.items() if held - {"SELECT"}} == set()
    assert {t for t in PERSONAL if reader[t]} == set()
    assert {t for t in set(reader) - PERSONAL if not reader[t]} == set()


def test_a_table_grants_sql_does_not_classify_fails_the_grants(deployment: Deployment) -> None:
    engine = sa.create_engine(deployment.url("AGAM_OWNER"))
    with engine.begin() as conn:  # what a migration adding a table would do
        conn.execute(sa.text("CREATE TABLE agam.new_unclassified (id int PRIMARY KEY)"))
    try:
        done = run(["bash", str(SETUP), "grants"], deployment.env)
        assert done.returncode != 0
        assert "not classified in deploy/postgres/grants.sql: new_unclassified" in done.stderr
        assert privileges(deployment, "AGAM_APP")["alerts"] == {"SELECT", "INSERT", "UPDATE"}
        assert privileges(deployment, "AGAM_APP")["new_unclassified"] == set()  # rolled back
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE agam.new_unclassified"))
        engine.dispose()
    assert run(["bash", str(SETUP), "grants"], deployment.env).returncode == 0


def test_roles_are_separated(deployment: Deployment) -> None:
    engine = as_admin(deployment)
    env = deployment.env
    with engine.connect() as conn:
        owner = conn.scalar(
            sa.text("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'agam'")
        )
        assert owner == env["AGAM_OWNER"]
        flags = conn.execute(
            sa.text(
                "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolinherit, "
                "rolconfig FROM pg_roles WHERE rolname IN (:a, :r)"
            ),
            {"a": env["AGAM_APP"], "r": env["AGAM_READER"]},
        ).all()
        by_name = {row[0]: row for row in flags}
        assert not any(row[1] or row[2] or row[3] or row[4] for row in flags)
        assert "statement_timeout=10min" in by_name[env["AGAM_APP"]][5]
        assert "default_transaction_read_only=on" in by_name[env["AGAM_READER"]][5]
        public = conn.scalar(
            sa.text("SELECT has_schema_privilege(:a, 'public', 'CREATE')"), {"a": env["AGAM_APP"]}
        )
        assert public is False
    engine.dispose()


@pytest.mark.slow
def test_app_role_runs_every_step_and_cannot_rewrite_history(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = deployment
    agam(d, "db", "upgrade")  # at head already: a no-op the app role may run
    monkeypatch.setenv("AGAM_DATABASE_URL", d.url("AGAM_APP"))
    ctx = AppContext(load_settings(d.site / "config.toml"), clock=lambda: FETCHED)
    try:
        # Accounts: the first admin, then an officer and a district administrator (four eyes).
        agam(d, "users", "bootstrap", "admin.ops")
        for name, role in (("dmo.khulna", "officer"), ("dc.khulna", "district_admin")):
            user = f"{name} --role {role} --district {DISTRICT} --email {name}@example.org"
            agam(d, "users", "add", *user.split(), "--user", "admin.ops")
        agam(d, "users", "token", "create", "--name", "script", "--user", "dmo.khulna")
        # A registry (beneficiaries, history, exposure rebuilt: DELETE on union_exposure).
        registry = tmp_path / "registry.parquet"
        generate_registry(ctx.union_layer(), 3000, 1, registry, fmt="parquet", year=2025)
        agam(d, "registry", "import", str(registry), "--user", "admin.ops")
        # Feeds (fetched when the bulletin was current) and evaluation: forecast runs, alerts and
        # their events, activations and their keys, lists with pinned payees, the outbox.
        assert ingest(ctx, "bmd").outcome == "success"
        agam(d, "evaluate", "--as-of", AS_OF, "--json")
        alert_id, list_id, union = _alert_list_union(d)
        with ctx.store.session() as session:  # a message due now, as the watchdog would leave
            message = outbox_repo.enqueue(
                session,
                dedupe_key="roles-test",
                kind="scheduler",
                channel="email",
                recipient="admin.ops",
                subject="s",
                body="b",
                at=FETCHED,
            )
            assert message is not None
            message_id = message.id
        # The scheduler as the app role: the advisory lock, a heartbeat, the outbox delivered
        # (claimed FOR UPDATE SKIP LOCKED, settled: here "not configured").
        agam(d, "scheduler", "--for-seconds", "4")
        with ctx.store.read() as session:
            assert heartbeat_repo.get(session) is not None
            delivered = session.get(OutboxMessage, message_id)
            assert delivered is not None
            assert (delivered.status, delivered.attempts) == ("not_configured", 1)
        agam(d, "feeds", "status", "--json")
        # The list through every step to the payment file.
        agam(d, "lists", "submit", str(list_id), "--user", "dmo.khulna")
        agam(d, "lists", "approve", str(list_id), "--user", "dc.khulna")
        agam(d, *f"lists export {list_id} {tmp_path / 'pay'} --user dc.khulna --format csv".split())
        assert list((tmp_path / "pay").rglob("*_mfs_*.csv"))
        # The provider's return file (the import is recorded whole: insert-only for the app).
        back = _return_file(tmp_path / "pay", tmp_path / "return.csv")
        agam(d, "payments", "import-results", str(list_id), str(back), "--user", "dmo.khulna")
        # Grievances: recorded, then followed (the register's rows move, its history only grows).
        what = f"--channel hotline --category non_payment --alert {alert_id} --union {union}"
        agam(
            d, "grievances", "add", "--user", "dmo.khulna", *what.split(), "--description", "unpaid"
        )
        agam(d, "grievances", "update", "1", "--user", "dmo.khulna", "--status", "in_progress")
        agam(d, "audit", "verify")
        assert json.loads(agam(d, "db", "status", "--json"))
        agam(d, "db", "backup", str(tmp_path / "backup"))  # pg_dump as the app role
    finally:
        ctx.store.dispose()
    _assert_rows(d)
    _assert_refused(d)


def _return_file(exported: Path, path: Path) -> Path:
    """Every exported line paid now, as a provider returns it."""
    rows = []
    for name in sorted(exported.rglob("*.csv")):
        with name.open(encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    paid = {"status": "paid", "paid_at": datetime.now(UTC).isoformat(), "failure_reason": ""}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, [*rows[0], "provider_txn_id", *paid])
        writer.writeheader()
        writer.writerows(r | paid | {"provider_txn_id": f"T-{r['line_ref']}"} for r in rows)
    return path


def _alert_list_union(d: Deployment) -> tuple[int, int, str]:
    """The open alert of DISTRICT, its proposed list and a union of the district."""
    engine = sa.create_engine(d.url("AGAM_APP"))
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT a.id, max(l.id) FROM alerts a JOIN allowance_lists l ON l.alert_id = a.id"
                " WHERE a.district_pcode = :d AND a.status = 'open' GROUP BY a.id"
            ),
            {"d": DISTRICT},
        ).one()
        union = conn.scalar(
            sa.text("SELECT min(adm4_pcode) FROM beneficiaries WHERE adm4_pcode LIKE :p"),
            {"p": f"{DISTRICT}%"},
        )
    engine.dispose()
    return int(row[0]), int(row[1]), str(union)


def _assert_rows(d: Deployment) -> None:
    """Every table the newer issues added was written through the app role."""
    engine = sa.create_engine(d.url("AGAM_APP"))
    with engine.connect() as conn:
        tables = (
            "activations",
            "activation_keys",
            "notification_outbox",
            "scheduler_heartbeat",
            "grievances",
            "grievance_events",
            "allowance_payees",
            "decisions",
            "api_tokens",
            "union_exposure",
            "payment_imports",
            "payment_results",
        )
        empty = [t for t in tables if not conn.scalar(sa.text(f"SELECT count(*) FROM {t}"))]
        statuses = conn.scalars(sa.text("SELECT DISTINCT status FROM notification_outbox")).all()
    engine.dispose()
    assert empty == []
    assert "pending" not in statuses  # delivered (here: recorded as not configured)


def _refused_by_privilege(engine: sa.Engine, statement: str) -> None:
    with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError) as refused:
        conn.execute(sa.text(statement))
    assert isinstance(refused.value.orig, InsufficientPrivilege), (statement, refused.value)


def _assert_refused(d: Deployment) -> None:
    """Switching the guards off, DDL, TRUNCATE, rewriting decisions, the audit log or the
    schema revision: refused by privilege, whatever the data."""
    app = sa.create_engine(d.url("AGAM_APP"))
    reader = sa.create_engine(d.url("AGAM_READER"))
    try:
        for statement in (
            "ALTER TABLE allowance_lists DISABLE TRIGGER allowance_lists_step",
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
            "DROP TRIGGER decisions_authority ON decisions",
            "DROP TRIGGER grievance_events_append_only ON grievance_events",
            "TRUNCATE audit_log",
            "TRUNCATE allowance_lines",
            "DELETE FROM audit_log",
            "DELETE FROM decisions",
            "DELETE FROM alerts",
            "DELETE FROM grievance_events",
            "UPDATE audit_log SET actor = 'forged'",
            "UPDATE decisions SET username = 'x'",
            "UPDATE allowance_payees SET wallet_number = '01700000000'",
            "UPDATE allowance_lines SET amount_bdt = 1",
            "UPDATE alembic_version SET version_num = '0001'",
            "UPDATE registry_edits SET edits = edits + 1",
            "DELETE FROM list_registry_pins",
            # an edit outside an import: the owner's trigger counts it, which the app may not
            "UPDATE beneficiaries SET wallet_number = '01700000000'",
            "DELETE FROM beneficiaries",
            "CREATE TABLE agam.sneaky (i int)",
            "CREATE TABLE public.sneaky (i int)",
            "DROP TABLE alerts",
        ):
            _refused_by_privilege(app, statement)
        with app.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="allowance_lists"):
            conn.execute(sa.text("UPDATE allowance_lists SET status = 'draft'"))  # the guards
        with reader.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM alerts"))
        _refused_by_privilege(reader, "SELECT nid FROM beneficiaries")
        _refused_by_privilege(reader, "SELECT password_hash FROM users")
    finally:
        app.dispose()
        reader.dispose()


def test_a_bulk_load_drops_indexes_only_as_the_owner(deployment: Deployment) -> None:
    """A large first import as the app role (no DDL) loads with the indexes in place instead
    of failing on DROP INDEX; as the owner it drops the indexes (the unique id's among them,
    migration 0016) and the foreign key, and puts them back."""
    listed = sa.text(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'beneficiaries' "
        "UNION SELECT conname FROM pg_constraint WHERE conrelid = 'beneficiaries'::regclass"
    )
    for role, owner in (("AGAM_APP", False), ("AGAM_OWNER", True)):
        engine = sa.create_engine(deployment.url(role))
        try:
            with engine.connect() as conn:
                transaction = conn.begin()
                before = set(conn.scalars(listed))
                assert rw.owns_beneficiaries(conn) is owner
                with rw.bulk_load(conn, enabled=True, phase=lambda _: contextlib.nullcontext()):
                    during = set(conn.scalars(listed))
                assert set(conn.scalars(listed)) == before
                transaction.rollback()
        finally:
            engine.dispose()
        dropped = {
            "ix_beneficiaries_nid",
            "ix_beneficiaries_beneficiary_id",
            "fk_beneficiaries_import_id_registry_imports",
        }
        assert dropped <= before
        assert (dropped & during) == (set() if owner else dropped), role


def test_only_the_owner_refreshes_registry_statistics(deployment: Deployment) -> None:
    """ANALYZE after a large import runs as the owner; the app role (PostgreSQL 15 would only
    warn and skip) leaves it to autovacuum and the import still succeeds."""
    for role, owner in (("AGAM_APP", False), ("AGAM_OWNER", True)):
        engine = sa.create_engine(deployment.url(role))
        try:
            with engine.connect() as conn:
                assert rw.refresh_statistics(conn) is owner, role
                assert not conn.in_transaction()
        finally:
            engine.dispose()
