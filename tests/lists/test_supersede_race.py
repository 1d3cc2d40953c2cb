"""An officer submits the system's draft while a tick is about to replace it
with one built on a newer evaluation (PostgreSQL: the tick read the draft before the submit
committed). The tick keeps the submitted list instead of failing on the database's guard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agam.core.errors import InvalidTransition
from allowances.lists import propose
from allowances.policy import load_policy
from store import list_repo
from store.db import Store
from store.models import AllowanceList, Evaluation

from .conftest import KURIGRAM, T0, UNIONS, seed


@pytest.fixture
def pg_store(database_url: str) -> Iterator[Store]:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: a tick's read cannot go stale")
    s = seed(Store(database_url))
    yield s
    s.dispose()


def _propose(session: Any, evaluation_id: int) -> AllowanceList:
    return propose(session, alert_id=1, district_pcode=KURIGRAM, union_codes=UNIONS,
                   union_intensity={}, policy=load_policy(), prepared_by="system",
                   at=T0 + timedelta(hours=evaluation_id), synthetic=True,
                   evaluation_id=evaluation_id)  # fmt: skip


def _draft_and_a_newer_evaluation(store: Store) -> int:
    """The system's draft from evaluation 1; evaluation 2 then makes it stale."""
    with store.session() as session:
        draft = _propose(session, 1).id
        session.add(Evaluation(input_key="k2", rule_set_id="ocha_cerf_flood_2025",
                               rule_set_version="1", stage="action", as_of=T0, state="met",
                               explanation="newer", created_at=T0))  # fmt: skip
    return draft


def test_a_submit_that_commits_first_keeps_its_list(pg_store: Store, principal_for: Any) -> None:
    draft = _draft_and_a_newer_evaluation(pg_store)
    officer = principal_for(pg_store, "officer.kurigram")
    with pg_store.session() as tick:
        seen = tick.get(AllowanceList, draft)  # the tick has read the untouched draft
        assert seen is not None
        assert seen.status == "draft"
        with pg_store.session() as person:  # ... and the submit commits before it writes
            list_repo.decide(person, draft, officer, "submit", T0 + timedelta(hours=2))
        kept = _propose(tick, 2)
        assert kept.id == draft
        assert kept.status == "submitted"
    with pg_store.read() as session:
        rows = session.execute(select(AllowanceList.id, AllowanceList.status)).all()
    assert [tuple(r) for r in rows] == [(draft, "submitted")]


def test_a_submit_after_the_tick_replaced_the_draft_is_refused_by_name(
    pg_store: Store, principal_for: Any
) -> None:
    draft = _draft_and_a_newer_evaluation(pg_store)
    officer = principal_for(pg_store, "officer.kurigram")
    with pg_store.session() as person:
        seen = person.get(AllowanceList, draft)  # the officer's page shows the draft
        assert seen is not None
        assert seen.status == "draft"
        with pg_store.session() as tick:  # ... and the tick replaces it first
            replaced_by = _propose(tick, 2).id
        with pytest.raises(InvalidTransition, match="is superseded; cannot submit"):
            list_repo.decide(person, draft, officer, "submit", T0 + timedelta(hours=3))
    with pg_store.read() as session:
        rows = session.execute(select(AllowanceList.id, AllowanceList.status)
                               .order_by(AllowanceList.id)).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [(draft, "superseded"), (replaced_by, "draft")]
