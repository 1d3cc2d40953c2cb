"""A grievance from hotline call to resolution: status table, overdue flags against the clock,
who sees the complainant, and what the audit log and the database prove (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from agam.core.errors import InvalidTransition, NotFound, PermissionDenied
from agam.core.settings import GrievanceSettings
from allowances import grievance_register as register
from allowances.grievances import NewGrievance
from store import audit
from store.db import Store
from store.models import AuditEntry
from store.user_repo import Principal, authenticate

from .conftest import ACCOUNTS, CHILMARI, KURIGRAM, NAME, PASSWORD, PHONE, T0

SETTINGS = GrievanceSettings()  # non_payment: 72 h, warning from 80 %


_SIGNED_IN: dict[tuple[int, str], Principal] = {}


@pytest.fixture(autouse=True)
def _sign_in_first(request: pytest.FixtureRequest) -> None:
    """Every account signs in before the test opens its own write transaction (one inside
    another would wait for itself on SQLite); the store re-reads the account at each step."""
    _SIGNED_IN.clear()
    if "store" not in request.fixturenames:
        return
    store = request.getfixturevalue("store")
    for username, _role, _districts in ACCOUNTS:
        with store.session() as session:
            principal = authenticate(session, username, PASSWORD, T0, "test").principal
        assert principal is not None
        _SIGNED_IN[(id(store), username)] = principal


def who(store: Store, username: str) -> Principal:
    return _SIGNED_IN[(id(store), username)]


def new(**kw: object) -> NewGrievance:
    data: dict[str, object] = dict(
        received_at=T0 - timedelta(hours=1),
        channel="hotline",
        category="non_payment",
        household_id="SYN-H00001",
        description=f"{NAME} says the allowance did not arrive on {PHONE}",
        complainant_name=NAME,
        complainant_phone="+88 017-1234-5678",
    )
    data.update(kw)
    return NewGrievance(**data)


def listing(store: Store, username: str, hours: float, reveal: bool = False) -> list[dict]:
    with store.session() as session:
        return register.listing(
            session, who(store, username), T0 + timedelta(hours=hours), SETTINGS, reveal=reveal
        )


def update(store: Store, username: str, hours: float, **kw: object):
    with store.session() as session:
        return register.update(session, who(store, username), 1, T0 + timedelta(hours=hours), **kw)


def test_grievance_lifecycle_overdue_and_visibility(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with store.session() as session:
        row = register.record(session, who(store, "officer.kurigram"), new(), T0, SETTINGS)
        assert (row.id, row.status, row.adm4_pcode, row.district_pcode) == (
            1,
            "open",
            CHILMARI,  # from the household's registry record
            KURIGRAM,
        )
        assert row.complainant_phone == PHONE  # normalised: +88 and dashes gone
        assert row.due_at == T0 + timedelta(hours=71)  # received 1 h before T0, 72 h target

    # Role-scoped visibility.
    with pytest.raises(PermissionDenied, match="aggregates only"):
        listing(store, "committee.a", 1)
    assert listing(store, "dc.jamalpur", 1) == []  # another district: not even the row
    masked = listing(store, "officer.kurigram", 1)[0]  # a handler, not asking: masked
    assert masked["complainant_name"] == "R***** K*****"
    assert masked["complainant_phone"] == "01*******78"
    assert masked["description"] == "(restricted)"
    shown = listing(store, "officer.kurigram", 1, reveal=True)[0]
    assert (shown["complainant_name"], shown["complainant_phone"]) == (NAME, PHONE)
    assert shown["details_visible"] is True
    desk = listing(store, "officer.national", 1, reveal=True)[0]  # sees the row, not the person
    assert desk["details_visible"] is False
    assert NAME not in json.dumps(desk, default=str)
    assert PHONE not in json.dumps(desk, default=str)
    admin = listing(store, "admin", 1, reveal=True)[0]
    assert admin["complainant_name"] == NAME
    with store.session() as session:
        viewed = audit.entries_for(session, "grievance.details_viewed")
    assert [(e.actor, e.payload["grievance_ids"]) for e in viewed] == [
        ("officer.kurigram", [1]),
        ("admin", [1]),
    ]

    # Others cannot act on it.
    # Another district's grievance: the same answer as an unknown number (its district unsaid).
    with pytest.raises(NotFound) as elsewhere:
        update(store, "dc.jamalpur", 2, action="start")
    with pytest.raises(NotFound) as unknown:
        update(store, "dc.jamalpur", 999, action="start")
    assert str(elsewhere.value) == str(unknown.value).replace("999", "2")
    assert "BD5549" not in str(elsewhere.value)
    with store.session() as session, pytest.raises(NotFound, match=r"no grievance 2$"):
        register.history(session, who(store, "dc.jamalpur"), 2)
    with pytest.raises(PermissionDenied, match="aggregates only"):
        update(store, "committee.a", 2, action="start")
    # Another district's household: the same answer as an unknown one (its district unsaid).
    with store.session() as session, pytest.raises(InvalidTransition) as refused:
        register.record(session, who(store, "dc.jamalpur"), new(), T0, SETTINGS)
    assert "needs a union" in str(refused.value)
    assert "BD5549" not in str(refused.value)

    # The status table: no jumping straight to resolved; reasons where required.
    with pytest.raises(InvalidTransition, match="open cannot resolve"):
        update(store, "officer.kurigram", 2, action="resolve", reason="paid")
    assert update(store, "officer.kurigram", 2, action="start").status == "in_progress"
    with pytest.raises(PermissionDenied, match=r"dc\.jamalpur does not handle"):
        update(store, "officer.kurigram", 3, assign_to="dc.jamalpur")
    assert update(store, "officer.kurigram", 3, assign_to="dc.kurigram").assigned_to == (
        "dc.kurigram"
    )
    with pytest.raises(InvalidTransition, match="needs a reason"):
        update(store, "dc.kurigram", 4, action="reject")

    # Overdue against the clock: due soon after 80 % of 72 h, overdue after 72 h.
    at_50h, at_60h, at_75h = (listing(store, "dc.kurigram", h)[0] for h in (49, 59, 74))
    assert (at_50h["due_soon"], at_50h["overdue"]) == (False, False)
    assert (at_60h["due_soon"], at_60h["overdue"]) == (True, False)
    assert (at_75h["due_soon"], at_75h["overdue"]) == (False, True)

    closed = update(store, "dc.kurigram", 80, action="resolve", reason="paid again via Nagad")
    assert (closed.status, closed.closing_reason) == ("resolved", "paid again via Nagad")
    after = listing(store, "dc.kurigram", 100)[0]
    assert (after["overdue"], after["closed_late"], after["hours_open"]) == (False, True, 81.0)

    # Closed grievances are frozen, in code and in the database.
    with pytest.raises(InvalidTransition, match="frozen"):
        update(store, "dc.kurigram", 90, note="one more thing")
    for statement in (
        "UPDATE grievances SET status = 'open' WHERE id = 1",
        "UPDATE grievances SET assigned_to = 'mallory' WHERE id = 1",
        "DELETE FROM grievances WHERE id = 1",
        "UPDATE grievance_events SET actor = 'mallory'",
        "DELETE FROM grievance_events",
    ):
        with pytest.raises(DatabaseError), store.engine.begin() as conn:
            conn.execute(text(statement))

    # History and audit: every change, in order; no personal data in the audit log or logs.
    with store.session() as session:
        steps = [
            (e["action"], e["from_status"], e["to_status"])
            for e in register.history(session, who(store, "dc.kurigram"), 1)
        ]
        desk_notes = register.history(session, who(store, "officer.national"), 1)
        entries = session.query(AuditEntry).filter(AuditEntry.entity == "grievance").all()
        assert audit.verify(session).ok
    assert steps == [
        ("record", None, "open"),
        ("start", "open", "in_progress"),
        ("assign", "in_progress", "in_progress"),
        ("resolve", "in_progress", "resolved"),
    ]
    assert desk_notes[-1]["note"] == "(restricted)"
    assert [e.action for e in entries] == [
        "grievance.recorded",
        "grievance.details_viewed",
        "grievance.details_viewed",
        "grievance.start",
        "grievance.assigned",
        "grievance.resolve",
    ]
    dumped = json.dumps([e.payload for e in entries], ensure_ascii=False)
    for secret in (NAME, PHONE, "Rahima", "Nagad", "allowance did not arrive"):
        assert secret not in dumped
        assert secret not in caplog.text


def test_status_table_is_enforced_by_the_database(store: Store) -> None:
    with store.session() as session:
        register.record(session, who(store, "admin"), new(), T0, SETTINGS)
    with pytest.raises(DatabaseError), store.engine.begin() as conn:
        conn.execute(  # open -> resolved skips in_progress
            text(
                "UPDATE grievances SET status = 'resolved', closed_at = recorded_at, "
                "closing_reason = 'x' WHERE id = 1"
            )
        )
    with pytest.raises(DatabaseError), store.engine.begin() as conn:
        conn.execute(text("UPDATE grievances SET status = 'bogus' WHERE id = 1"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("complainant_phone", "12345", "Bangladesh mobile number"),
        ("adm4_pcode", "Chilmari", "union P-code"),
        ("category", "theft", "category"),
        ("description", "   ", "description"),
        ("household_id", "H 1; DROP", "household_id"),
    ],
)
def test_bad_input_is_refused_before_storage(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        new(**{field: value})


def test_union_or_known_household_needed(store: Store) -> None:
    officer = who(store, "officer.kurigram")
    with store.session() as session, pytest.raises(InvalidTransition, match="needs a union"):
        register.record(session, officer, new(household_id="NOT-ON-ROLLS"), T0, SETTINGS)
    with store.session() as session:
        row = register.record(
            session,
            officer,
            new(household_id="NOT-ON-ROLLS", adm4_pcode=CHILMARI, category="exclusion"),
            T0,
            SETTINGS,
        )
        assert row.sla_hours == SETTINGS.sla_hours.exclusion
    with store.session() as session, pytest.raises(InvalidTransition, match="another district"):
        register.record(  # a Kurigram household filed under a Jamalpur union by its handler
            session, who(store, "dc.jamalpur"), new(adm4_pcode="BD45390711"), T0, SETTINGS
        )
    with store.session() as session, pytest.raises(InvalidTransition, match="future"):
        register.record(session, officer, new(received_at=T0 + timedelta(hours=2)), T0, SETTINGS)
