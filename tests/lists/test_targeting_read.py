"""The proposal's read of the registry: exactly the beneficiaries of the unions asked for,
and on SQLite visited in table order (rowids from the union index, then the rows)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from store import frames
from store.db import Store
from store.models import Beneficiary
from tests.lists.conftest import UNIONS


def test_the_read_gives_the_beneficiaries_of_the_unions_asked_for(store: Store) -> None:
    asked = [UNIONS[0], UNIONS[2], *(f"BD99{i:06d}" for i in range(600))]  # two statements
    with store.session() as session:
        frame = frames.beneficiaries_for_unions(session, asked)
        expected = set(
            session.scalars(
                select(Beneficiary.beneficiary_id).where(Beneficiary.adm4_pcode.in_(asked))
            )
        )
    assert expected
    assert set(frame["beneficiary_id"]) == expected
    assert len(frame) == len(expected)
    assert list(frame.columns) == list(frames.TARGETING_COLUMNS)
    assert frame["disability"].dtype == bool
    assert frame["birth_year"].dtype == "int64"


def test_sqlite_visits_the_rows_in_rowid_order(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    stmt = frames.targeting_rows(UNIONS, "sqlite")
    compiled = stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    with store.engine.connect() as conn:
        plan = [str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
    assert plan[0] == "SEARCH beneficiaries USING INTEGER PRIMARY KEY (rowid=?)", plan
    assert any("COVERING INDEX ix_beneficiaries_adm4_pcode" in step for step in plan), plan
