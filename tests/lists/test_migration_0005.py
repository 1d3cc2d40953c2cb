"""Upgrading a store with lists to 0005 (SQLite and PostgreSQL): payees are pinned from the
registry as it stands, lists decided before keep hash version 1 and still export, drafts
move to version 2, lines get their references, and new lists cannot be version 1."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from allowances.payment_files import export_list
from store import list_repo, user_repo
from store.db import Store, migrate

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
PASSWORD = "a long test password"


def _sql(store: Store, sql: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


class _OldSchemaSession:
    """Enough of a Session for the seeders: each object inserted with the columns its set
    values fill that exist in the old schema (later migrations add the others)."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.pending = conn, []
        inspector = sa.inspect(conn)
        self.present = {
            t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
        }

    def add(self, obj: Any) -> None:
        self.pending.append(obj)

    def add_all(self, objs: Any) -> None:
        self.pending.extend(objs)

    def flush(self) -> None:
        for obj in self.pending:
            table = obj.__table__
            values = {
                c.name: getattr(obj, c.key)
                for c in table.columns
                if c.name in self.present[table.name] and getattr(obj, c.key) is not None
            }
            result = self.conn.execute(table.insert().values(**values))
            if "id" in table.columns and result.inserted_primary_key:
                obj.id = result.inserted_primary_key[0]
        self.pending = []


def _old_store(url: str, seed_registry: Any) -> Store:
    store = Store(url)
    migrate(store.engine, "0004")
    for name, role in (("officer.k", "officer"), ("dc.k", "district_admin")):
        _sql(
            store,
            "INSERT INTO users (username, display_name, role, districts, password_hash, "
            "language, disabled, failed_logins, created_at) VALUES (:u, :u, :r, :d, :h, 'en', "
            ":f, 0, :at)",
            u=name,
            r=role,
            d='["BD5549"]',
            h=user_repo._hasher.hash(PASSWORD),
            f=False,
            at=T0,
        )
    with store.engine.begin() as conn:  # the models are newer than 0004: plain inserts
        old = _OldSchemaSession(conn)
        seed_registry(old)
        old.flush()
    for list_id in (1, 2):
        _sql(
            store,
            "INSERT INTO allowance_lists (alert_id, district_pcode, revision, status, policy, "
            "amount_per_household_bdt, households, total_bdt, prepared_by, created_at, synthetic) "
            "VALUES (1, 'BD5549', :rev, 'draft', '{}', 5000, 2, 10000, 'system', :at, :syn)",
            rev=list_id,
            at=T0,
            syn=True,
        )
        for rank in (1, 2):
            person = (list_id - 1) * 2 + rank - 1
            _sql(
                store,
                "INSERT INTO allowance_lines (list_id, beneficiary_id, household_id, adm4_pcode, "
                "rank, priority_score, reasons, amount_bdt, included) VALUES (:l, :b, :h, "
                "'BD55490911', :r, 1.0, '[]', 5000, :inc)",
                l=list_id,
                b=f"SYN-B{person:05d}",
                h=f"SYN-H{person:05d}",
                r=rank,
                inc=True,
            )
    lines = [
        (r, f"SYN-H{r - 1:05d}", f"SYN-B{r - 1:05d}", "BD55490911", 5000, True) for r in (1, 2)
    ]
    _sql(
        store,
        "UPDATE allowance_lists SET status = 'submitted', submitted_by = 'officer.k', "
        "content_sha256 = :h WHERE id = 1",
        h=list_repo.content_hash(lines, version=1),
    )
    _sql(store, "UPDATE allowance_lists SET status = 'approved', approved_by = 'dc.k' WHERE id = 1")
    _sql(
        store,
        "INSERT INTO decisions (list_id, action, username, role, content_sha256, at) "
        "SELECT 1, 'approve', 'dc.k', 'district_admin', content_sha256, :at FROM allowance_lists "
        "WHERE id = 1",
        at=T0,
    )
    return store


def test_upgrade_pins_payees_and_keeps_old_approvals_exportable(
    database_url: str, tmp_path: Path, seeders: tuple[Any, Any]
) -> None:
    store = _old_store(database_url, seeders[1])
    store.upgrade()
    with store.engine.connect() as conn:
        versions = dict(conn.execute(text("SELECT id, hash_version FROM allowance_lists")).all())
        refs = [
            r for (r,) in conn.execute(text("SELECT line_ref FROM allowance_lines ORDER BY id"))
        ]
        pinned = conn.execute(text("SELECT count(*) FROM allowance_payees")).scalar_one()
    assert versions == {1: 1, 2: 2}
    assert refs == ["L1-1", "L1-2", "L2-1", "L2-2"]
    assert pinned == 4
    with pytest.raises(DatabaseError):
        _sql(store, "SELECT failed_logins FROM users")
    with store.session() as session:
        dc = user_repo.authenticate(session, "dc.k", PASSWORD, T0, "t").principal
    with store.session() as session:
        result = export_list(session, 1, dc, "csv", tmp_path / "pay", T0)
    assert (result.manifest["rows"], result.manifest["hash_version"]) == (2, 1)
    assert result.manifest["written_from"] == "list_lines"
    with pytest.raises(DatabaseError, match="parts its approval recorded"):  # 0015
        _sql(
            store,
            "INSERT INTO payment_snapshots (list_id, part, content_sha256, line_rows, "
            "arrow_ipc, sealed_at) SELECT id, 0, content_sha256, 0, :b, :at "
            "FROM allowance_lists WHERE id = 1",
            b=b"x",
            at=T0,
        )
    with pytest.raises(DatabaseError, match="hash version 2"):
        _sql(
            store,
            "INSERT INTO allowance_lists (alert_id, district_pcode, revision, status, policy, "
            "amount_per_household_bdt, households, total_bdt, prepared_by, created_at, "
            "synthetic, kind, hash_version) VALUES (1, 'BD5549', 9, 'draft', '{}', 5000, 0, 0, "
            "'x', :at, :syn, 'proposal', 1)",
            at=T0,
            syn=True,
        )
    store.dispose()
