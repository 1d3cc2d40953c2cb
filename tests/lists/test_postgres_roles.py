"""scripts/pg_roles.sql, as docs/security.md tells an operator to run it: the application role
takes every step through the store, and cannot switch the guards off, truncate history or
rewrite decisions (PostgreSQL only)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, ProgrammingError

from allowances.payment_files import export_list
from store import list_repo
from store.db import Store
from store.user_repo import authenticate

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
PASSWORD = "a long test password"


def _as(url: str, role: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}"


def _superuser(url: str, *statements: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


def test_app_role_decides_through_the_store_only(
    database_url: str, tmp_path: Path, seeders: tuple[Any, Any], draft: Any
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL roles")
    database = database_url.rsplit("/", 1)[1]
    _superuser(
        database_url,
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agam_owner') "
        "THEN CREATE ROLE agam_owner LOGIN; END IF; END $$",
        f'ALTER DATABASE "{database}" OWNER TO agam_owner',
        "ALTER SCHEMA public OWNER TO agam_owner",
    )
    owner = seeders[0](Store(_as(database_url, "agam_owner")))  # migrated and seeded by the owner
    _superuser(database_url, (ROOT / "scripts" / "pg_roles.sql").read_text(encoding="utf-8"))

    app = Store(_as(database_url, "agam_app"))
    app.upgrade()  # at head already: a no-op the application role may run
    list_id = draft(app)
    with app.session() as session:
        officer = authenticate(session, "officer.kurigram", PASSWORD, T0, "t").principal
        dc = authenticate(session, "dc.kurigram", PASSWORD, T0, "t").principal
    with app.session() as session:
        list_repo.decide(session, list_id, officer, "submit", T0)
        list_repo.decide(session, list_id, dc, "approve", T0)
        export_list(session, list_id, dc, "csv", tmp_path / "pay", T0)
    for sql in (
        "ALTER TABLE allowance_lists DISABLE TRIGGER allowance_lists_step",
        "DROP TRIGGER decisions_authority ON decisions",
        "TRUNCATE audit_log",
        "DELETE FROM decisions",
        "UPDATE decisions SET username = 'x'",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "UPDATE allowance_lists SET status = 'draft'",
    ):
        with pytest.raises((ProgrammingError, DatabaseError)), app.engine.begin() as conn:
            conn.execute(sa.text(sql))
    app.dispose()
    owner.dispose()
