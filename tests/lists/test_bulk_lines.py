"""List lines written with the driver's executemany read back exactly as the ORM wrote them:
JSON reasons, booleans, NULLs from NaN and None, on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from sqlalchemy import insert, select

from store import bulk_rows
from store.bulk_rows import insert_frame
from store.db import Store
from store.models import AllowanceLine, AllowanceList

from .conftest import T0


def _empty_list(store: Store, revision: int) -> int:
    with store.session() as session:
        row = AllowanceList(
            alert_id=1, district_pcode="BD5549", revision=revision, status="draft", policy={},
            amount_per_household_bdt=5000, households=0, total_bdt=0, prepared_by="system",
            created_at=T0, synthetic=True, kind="proposal", hash_version=2,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return int(row.id)


def _lines(list_id: int, offset: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "list_id": list_id,
            "beneficiary_id": [f"B{offset + i}" for i in range(3)],
            "household_id": [f"H{offset + i}" for i in range(3)],
            "adm4_pcode": "BD55490911",
            "rank": [1, 2, 3],
            "priority_score": [3.5, 2.0, 0.5],
            "reasons": [["person with disability (+3)"], [], ["ঘর (+1)", 'x "q"']],
            "amount_bdt": [5000, 5000, 0],
            "included": [True, True, False],
            "exclusion_reason": [None, math.nan, "beyond the district cap of 2 households"],
            "line_ref": [f"L{list_id}-{r}" for r in (1, 2, 3)],
            "amends_line_ref": None,
            "not_a_column": "ignored",
        }
    )


def _read(store: Store, list_id: int) -> list[tuple[object, ...]]:
    with store.read() as session:
        rows = session.scalars(
            select(AllowanceLine).where(AllowanceLine.list_id == list_id).order_by("rank")
        )
        return [
            (r.rank, r.household_id, r.priority_score, r.reasons, r.amount_bdt, r.included,
             r.exclusion_reason, r.line_ref, r.amends_line_ref)
            for r in rows
        ]  # fmt: skip


def test_bulk_lines_read_back_as_the_orm_wrote_them(store: Store) -> None:
    bulk_id, orm_id = _empty_list(store, 1), _empty_list(store, 2)
    with store.session() as session:
        written = insert_frame(session.connection(), AllowanceLine.__table__, _lines(bulk_id, 0))
        frame = _lines(orm_id, 10).drop(columns=["not_a_column"])
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        session.execute(insert(AllowanceLine), records)
    assert written == 3
    bulk, orm = _read(store, bulk_id), _read(store, orm_id)
    assert bulk == [
        (1, "H0", 3.5, ["person with disability (+3)"], 5000, True, None, f"L{bulk_id}-1", None),
        (2, "H1", 2.0, [], 5000, True, None, f"L{bulk_id}-2", None),
        (3, "H2", 0.5, ["ঘর (+1)", 'x "q"'], 0, False,
         "beyond the district cap of 2 households", f"L{bulk_id}-3", None),
    ]  # fmt: skip
    # everything but the identifiers is stored as the ORM stores it
    assert [r[2:7] for r in bulk] == [r[2:7] for r in orm]


def test_an_empty_text_stays_empty_and_a_missing_one_null(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL gets the lines as CSV: "" must not become NULL, nor NULL "", and text with
    quotes, separators and line breaks must arrive as it was."""
    list_id = _empty_list(store, 1)
    lines = _lines(list_id, 0).assign(
        exclusion_reason=["", None, 'a, "b"\nc'],
        amends_line_ref=[None, "", "L9-1"],
    )
    if store.engine.dialect.name == "postgresql":  # the CSV path, not rows
        monkeypatch.setattr(bulk_rows, "insert_tuples", None)
    with store.session() as session:
        insert_frame(session.connection(), AllowanceLine.__table__, lines)
    stored = [(r[6], r[8]) for r in _read(store, list_id)]
    assert stored == [("", None), (None, ""), ('a, "b"\nc', "L9-1")]
