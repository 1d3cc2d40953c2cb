"""What people type into a grievance is kept as plain text: names with a text-direction
override are refused, notes and reasons are bounded, and an assignee that does not exist
gets the same answer as one that exists elsewhere (no list of accounts by guessing)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agam.core.errors import InvalidTransition, PermissionDenied
from allowances import grievance_register as register
from allowances.grievances import MAX_TEXT
from store.db import Store

from .conftest import T0
from .test_lifecycle import SETTINGS, new, update, who
from .test_lifecycle import _sign_in_first as _sign_in_first


@pytest.mark.parametrize("name", ["Rahima \u202eLTR", "Rahima\x00Khatun", "\u2066Rahima\u2069"])
def test_a_name_that_would_read_otherwise_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="text-direction"):
        new(complainant_name=name)


def test_bangla_joiners_are_kept() -> None:
    name = "র\u200dযাব"  # ZWJ shapes a Bangla conjunct
    assert new(complainant_name=name).complainant_name == name


def test_notes_and_reasons_are_plain_and_bounded(store: Store) -> None:
    with store.session() as session:
        register.record(session, who(store, "officer.kurigram"), new(), T0, SETTINGS)
    with pytest.raises(InvalidTransition, match="note: at most 2,000 characters"):
        update(store, "officer.kurigram", 1, note="x" * (MAX_TEXT + 1))
    with pytest.raises(InvalidTransition, match="reason: control or text-direction"):
        update(store, "officer.kurigram", 1, action="start", reason="ok\u202e")
    assert update(store, "officer.kurigram", 1, note="called back").status == "open"


def test_an_unknown_assignee_reads_like_one_of_another_district(store: Store) -> None:
    with store.session() as session:
        register.record(session, who(store, "officer.kurigram"), new(), T0, SETTINGS)
    for name in ("nobody.here", "dc.jamalpur"):
        with pytest.raises(PermissionDenied, match=f"{name} does not handle"):
            update(store, "officer.kurigram", 1, assign_to=name)
