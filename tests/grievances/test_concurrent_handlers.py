"""Two handlers act on one grievance at once (PostgreSQL, where the second read it before
the first committed): the second is told by name that it was closed meanwhile, instead of
failing on the database's guard, and the history holds the one move that happened."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from agam.core.errors import InvalidTransition
from agam.core.settings import GrievanceSettings
from allowances import grievance_register as register
from allowances.grievances import NewGrievance
from store.db import Store
from store.models import Grievance, GrievanceEvent
from store.user_repo import authenticate

from .conftest import PASSWORD, T0, seed


@pytest.fixture
def pg_store(database_url: str) -> Iterator[Store]:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: a handler's read cannot go stale")
    s = seed(Store(database_url))
    yield s
    s.dispose()


def test_the_second_handler_sees_the_first_handlers_decision(pg_store: Store) -> None:
    handlers = {}
    for name in ("officer.kurigram", "dc.kurigram"):
        with pg_store.session() as session:
            handlers[name] = authenticate(session, name, PASSWORD, T0, "test").principal
    officer, dc = handlers["officer.kurigram"], handlers["dc.kurigram"]
    complaint = NewGrievance(received_at=T0, channel="hotline", category="non_payment",
                             household_id="SYN-H00001", description="not paid")  # fmt: skip
    with pg_store.session() as session:
        gid = register.record(session, officer, complaint, T0, GrievanceSettings()).id
        register.update(session, officer, gid, T0, action="start")
    with pg_store.session() as second:
        seen = second.get(Grievance, gid)  # the district administrator's page shows it open
        assert seen is not None
        assert seen.status == "in_progress"
        with pg_store.session() as first:  # ... and the officer resolves it first
            register.update(first, officer, gid, T0 + timedelta(hours=1), action="resolve",
                            reason="paid by Nagad")  # fmt: skip
        with pytest.raises(InvalidTransition, match="is resolved; closed ones are frozen"):
            register.update(second, dc, gid, T0 + timedelta(hours=2), action="reject",
                            reason="not eligible")  # fmt: skip
    with pg_store.read() as session:
        moves = session.scalars(select(GrievanceEvent.action).where(
            GrievanceEvent.grievance_id == gid).order_by(GrievanceEvent.id)).all()  # fmt: skip
        assert session.get(Grievance, gid).status == "resolved"  # type: ignore[union-attr]
    assert list(moves) == ["record", "start", "resolve"]
