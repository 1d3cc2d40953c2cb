"""A person closing an alert while an evaluation writes alerts cannot deadlock (PostgreSQL).

The evaluation's transaction holds the audit chain from its first entry and then locks the
next district's alert; the close takes the chain before the alert it closes, so it waits
for the evaluation instead of holding that alert against it (the soak found the deadlock).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from store import alert_repo, audit
from store.db import Store
from store.models import Alert, Evaluation
from store.user_repo import add_user
from tests.conftest import PASSWORD

AT = datetime(2025, 7, 4, 6, 0, tzinfo=UTC)


def _alerts(store: Store) -> tuple[int, int]:
    with store.session() as session:
        evaluation = Evaluation(input_key="lock-order", rule_set_id="ocha_cerf_flood_2025",
                                rule_set_version="1", stage="action", as_of=AT, state="met",
                                explanation="test", created_at=AT)  # fmt: skip
        session.add(evaluation)
        session.flush()
        ids = []
        for district in ("BD5549", "BD4539"):
            alert = Alert(rule_set_id="ocha_cerf_flood_2025", rule_set_version="1",
                          district_pcode=district, stage="action", status="open", opened_at=AT,
                          updated_at=AT, first_evaluation_id=evaluation.id,
                          last_evaluation_id=evaluation.id, affected_unions=[])  # fmt: skip
            session.add(alert)
            session.flush()
            ids.append(alert.id)
        add_user(session, username="officer.x", role="officer", districts=["BD4539"],
                 password=PASSWORD, display_name="officer", at=AT)  # fmt: skip
    return ids[0], ids[1]


def test_a_close_waits_for_the_chain_before_it_holds_the_alert(
    database_url: str, principal_for: Any
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: no row locks to order")
    store = Store(database_url)
    store.upgrade()
    first, second = _alerts(store)
    officer = principal_for(store, "officer.x")
    outcome: dict[str, object] = {}

    with store.session() as evaluation:  # as an evaluation: one alert, its entry, the next
        evaluation.execute(text("SET LOCAL lock_timeout = '20s'"))
        evaluation.scalars(select(Alert).where(Alert.id == first).with_for_update()).one()
        audit.append(evaluation, at=AT, actor="system", action="alert.updated",
                     entity="alert", entity_id=first)  # fmt: skip

        def close() -> None:
            try:
                with store.session() as session:
                    alert_repo.close_alert(session, second, officer, "stood down", AT)
                    audit.append(session, at=AT, actor="officer.x", action="alert.closed",
                                 entity="alert", entity_id=second)  # fmt: skip
                outcome["closed"] = True
            except Exception as exc:  # reported by the assertion below
                outcome["error"] = exc

        closer = threading.Thread(target=close)
        closer.start()
        closer.join(timeout=3)  # the close is now waiting (for the chain, with the fix)
        assert closer.is_alive()
        locked = evaluation.scalars(select(Alert).where(Alert.id == second).with_for_update())
        assert locked.one().status == "open"  # the evaluation gets the next alert: no deadlock
    closer.join(timeout=30)
    assert outcome == {"closed": True}
    with store.session() as session:
        assert session.get(Alert, second).status == "closed"  # type: ignore[union-attr]
    store.dispose()
