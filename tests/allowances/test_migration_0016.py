"""Migration 0016 on SQLite and PostgreSQL: beneficiary ids stay unique (now by a named index
a first load can drop and rebuild), every stored row is kept, and the downgrade puts the
table constraint back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from allowances import registry_write as rw
from store.db import Store, migrate
from tests.lists.test_list_membership import _downgrade

T0 = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
INDEX, CONSTRAINT = "ix_beneficiaries_beneficiary_id", "uq_beneficiaries_beneficiary_id"


def _insert(store: Store, beneficiary_id: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO beneficiaries (beneficiary_id, programme, household_id, sex, "
                "birth_year, disability, female_headed, pregnant_lactating, children_under5, "
                "char_resident, adm4_pcode, payment_channel, import_id, row_sha256, updated_at) "
                "VALUES (:b, 'OAA', :b, 'F', 1950, FALSE, TRUE, FALSE, 0, FALSE, 'BD55490911', "
                "'mfs', 1, :h, :at)"
            ),
            {"b": beneficiary_id, "h": "0" * 64, "at": T0},
        )


def _rows(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT * FROM beneficiaries ORDER BY id")).all()


def _uniqueness(store: Store) -> tuple[set[str], set[str]]:
    """(unique index names, unique constraint names) on beneficiaries.beneficiary_id."""
    inspector = sa.inspect(store.engine)
    indexes = {
        i["name"]
        for i in inspector.get_indexes("beneficiaries")
        if i["unique"] and i["column_names"] == ["beneficiary_id"]
    }
    constraints = {
        c["name"]
        for c in inspector.get_unique_constraints("beneficiaries")
        if c["column_names"] == ["beneficiary_id"]
    }
    return indexes, constraints


def test_ids_stay_unique_by_an_index_a_first_load_rebuilds(database_url: str) -> None:
    store = Store(database_url)
    try:
        migrate(store.engine, "0015")
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO registry_imports (id, file_name, sha256, rows_total, "
                    "rows_imported, rows_quarantined, imported_at, imported_by, synthetic, "
                    "report) VALUES (1, 'r.csv', :s, 2, 2, 0, :at, 'admin', TRUE, '{}')"
                ),
                {"s": "1" * 64, "at": T0},
            )
        for beneficiary_id in ("SYN-B2", "SYN-B1"):
            _insert(store, beneficiary_id)
        before = _rows(store)
        assert _uniqueness(store)[1] == {CONSTRAINT}

        store.upgrade()
        assert _rows(store) == before
        assert _uniqueness(store) == ({INDEX}, set())
        assert INDEX in {i.name for i in rw.BENEFICIARIES.indexes}  # dropped by a first load
        with pytest.raises(IntegrityError):
            _insert(store, "SYN-B1")

        _downgrade(store.engine, "0015")
        assert _rows(store) == before
        assert _uniqueness(store)[1] == {CONSTRAINT}
        with pytest.raises(IntegrityError):
            _insert(store, "SYN-B2")
        store.upgrade()
        assert _uniqueness(store) == ({INDEX}, set())
    finally:
        store.dispose()
