"""The database enforces the list's steps (SQLite and PostgreSQL): status moves only along the
transition table, each step backed by its newest decision row, written by an active account
of the right role and district, never by the preparer or submitter. And the service layer
accepts only principals the store issued, as the accounts are stored now."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from agam.core.errors import PermissionDenied
from agam.core.transitions import LIST_TRANSITIONS
from store import list_guards, list_repo
from store.db import Store
from store.identity import Principal
from store.user_repo import authenticate, get_user

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
KURIGRAM = "BD5549"
UNIONS = ["BD55490911", "BD55490923", "BD55490947"]
PASSWORD = "a long test password"


def sign_in(store: Store, username: str) -> Principal:
    with store.session() as session:
        result = authenticate(session, username, PASSWORD, T0, "test")
    assert result.principal is not None, result.message
    return result.principal


def _submitted(store: Store, draft: Callable[[Store], int]) -> int:
    list_id = draft(store)
    officer = sign_in(store, "officer.kurigram")
    with store.session() as session:
        list_repo.decide(session, list_id, officer, "submit", T0)
    return list_id


def _sql(store: Store, sql: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


def _row(store: Store, list_id: int) -> dict[str, Any]:
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM allowance_lists WHERE id = :id"), {"id": list_id})
        return dict(row.mappings().one())


def _decision(store: Store, list_id: int, **fields: Any) -> None:
    row = _row(store, list_id)
    values = {
        "list_id": list_id,
        "action": "approve",
        "username": "dc.kurigram",
        "role": "district_admin",
        "content_sha256": row["content_sha256"],
        "at": "2024-07-04 06:00:00",
        "from_status": row["status"],
        "to_status": "approved",
        "via": "password",
    } | fields
    approval = values["action"] == "approve" and values["to_status"] == "approved"
    values["sealed_parts"] = 1 if approval else None  # an approval records its seal (0015)
    _sql(
        store,
        "INSERT INTO decisions (list_id, action, username, role, content_sha256, at, "
        "from_status, to_status, via, sealed_parts) VALUES (:list_id, :action, :username, "
        ":role, :content_sha256, :at, :from_status, :to_status, :via, :sealed_parts)",
        **values,
    )


def test_raw_update_from_draft_to_approved_is_refused(
    store: Store, draft: Callable[[Store], int]
) -> None:
    list_id = draft(store)
    with store.session() as session:
        digest = list_repo.list_hash(session, list_id)
    with pytest.raises(DatabaseError, match="transition table"):
        _sql(
            store,
            "UPDATE allowance_lists SET status = 'approved', approved_by = 'dc.kurigram', "
            "content_sha256 = :h WHERE id = :id",
            h=digest,
            id=list_id,
        )
    with pytest.raises(DatabaseError, match="transition table"):
        _sql(store, "UPDATE allowance_lists SET status = 'approved' WHERE id = :id", id=list_id)
    assert _row(store, list_id)["status"] == "draft"


def test_raw_update_without_its_decision_is_refused(
    store: Store, draft: Callable[[Store], int]
) -> None:
    list_id = _submitted(store, draft)
    with pytest.raises(DatabaseError, match="newest decision"):
        _sql(
            store,
            "UPDATE allowance_lists SET status = 'approved', approved_by = 'dc.kurigram' "
            "WHERE id = :id",
            id=list_id,
        )
    with pytest.raises(DatabaseError, match="newest decision"):
        _sql(store, "UPDATE allowance_lists SET content_sha256 = 'x' WHERE id = :id", id=list_id)
    assert _row(store, list_id)["status"] == "submitted"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"from_status": "draft"}, "not a step"),  # not the list's status
        ({"to_status": "exported"}, "not a step"),  # submitted -approve-> exported: not in table
        ({"username": "officer.kurigram", "role": "officer"}, "role and district"),
        ({"username": "dc.jamalpur"}, "role and district"),  # another district
        ({"username": "dc.kurigram", "role": "admin"}, "role and district"),  # not its role
        ({"username": "nobody"}, "role and district"),
        ({"content_sha256": "0" * 64}, "content hash"),
    ],
)
def test_forged_decision_rows_are_refused(
    store: Store, draft: Callable[[Store], int], fields: dict[str, str], message: str
) -> None:
    list_id = _submitted(store, draft)
    with pytest.raises(DatabaseError, match=message):
        _decision(store, list_id, **fields)


def test_disabled_or_self_deciding_accounts_cannot_write_decisions(
    store: Store, draft: Callable[[Store], int]
) -> None:
    list_id = _submitted(store, draft)
    _sql(store, "UPDATE users SET disabled = :t WHERE username = 'dc.kurigram'", t=True)
    with pytest.raises(DatabaseError, match="role and district"):
        _decision(store, list_id)
    # the officer who submitted is promoted to district administrator: still not the approver
    _sql(store, "UPDATE users SET role = 'district_admin' WHERE username = 'officer.kurigram'")
    with pytest.raises(DatabaseError, match="prepared or submitted"):
        _decision(store, list_id, username="officer.kurigram")


def test_a_decision_is_used_once_and_only_for_its_step(
    store: Store, draft: Callable[[Store], int]
) -> None:
    list_id = _submitted(store, draft)
    dc = sign_in(store, "dc.kurigram")
    with store.session() as session:
        list_repo.decide(session, list_id, dc, "approve", T0)
    approved = _row(store, list_id)
    # replaying the approval to export, or rewriting the approver, needs a new decision
    for sql in (
        "UPDATE allowance_lists SET status = 'exported' WHERE id = :id",
        "UPDATE allowance_lists SET approved_by = 'adc.kurigram' WHERE id = :id",
        "UPDATE allowance_lists SET last_decision_id = last_decision_id WHERE id = :id",
    ):
        with pytest.raises(DatabaseError):
            _sql(store, sql, id=list_id)
    assert _row(store, list_id) == approved


def test_the_store_refuses_principals_it_did_not_issue(
    store: Store, draft: Callable[[Store], int]
) -> None:
    list_id = _submitted(store, draft)
    officer = sign_in(store, "officer.kurigram")
    forged = Principal(
        officer.user_id, "dc.kurigram", "district_admin", (KURIGRAM,), "", "password", "x"
    )
    promoted = dataclasses.replace(officer, role="district_admin")  # seal no longer matches
    for fake in (forged, promoted):
        with pytest.raises(PermissionDenied, match="not a verified identity"), store.session() as s:
            list_repo.decide(s, list_id, fake, "approve", T0)
    assert _row(store, list_id)["status"] == "submitted"


def test_the_store_rereads_the_account_at_each_decision(
    store: Store, draft: Callable[[Store], int]
) -> None:
    list_id = _submitted(store, draft)
    dc = sign_in(store, "dc.kurigram")
    with store.session() as session:
        get_user(session, "dc.kurigram").disabled = True
    with pytest.raises(PermissionDenied, match="disabled"), store.session() as session:
        list_repo.decide(session, list_id, dc, "approve", T0)
    with store.session() as session:
        user = get_user(session, "dc.kurigram")
        user.disabled = False
        user.districts = ["BD4539"]
    with pytest.raises(PermissionDenied, match="changed since sign-in"), store.session() as s:
        list_repo.decide(s, list_id, dc, "approve", T0)
    moved = sign_in(store, "dc.kurigram")
    with pytest.raises(PermissionDenied, match="district BD5549"), store.session() as s:
        list_repo.decide(s, list_id, moved, "approve", T0)


def test_a_promoted_submitter_cannot_approve(store: Store, draft: Callable[[Store], int]) -> None:
    list_id = _submitted(store, draft)
    with store.session() as session:
        get_user(session, "officer.kurigram").role = "district_admin"
    promoted = sign_in(store, "officer.kurigram")
    with pytest.raises(PermissionDenied, match="prepared or submitted"), store.session() as s:
        list_repo.decide(s, list_id, promoted, "approve", T0)


def test_guards_are_generated_from_the_transition_table(
    store: Store, draft: Callable[[Store], int]
) -> None:
    """The installed guard names every pair of the table, and nothing else decides."""
    dialect = store.engine.dialect.name
    with store.engine.connect() as conn:
        if dialect == "sqlite":
            installed = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'decisions_authority'")
            ).scalar_one()
            assert installed == list_guards.sqlite_statements()[0]
        else:
            installed = conn.execute(
                text("SELECT prosrc FROM pg_proc WHERE proname = 'agam_decision_authority'")
            ).scalar_one()
    for (status, action), new in LIST_TRANSITIONS.items():
        step = (
            f"NEW.from_status = '{status}' AND NEW.action = '{action}' AND NEW.to_status = '{new}'"
        )
        assert step in installed
