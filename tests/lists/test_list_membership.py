"""Every line and payee belongs to an existing list, and rows of a list that is not a draft
cannot be added, moved in or out, changed or deleted: checked by the database's guards (per
statement on PostgreSQL, per row on SQLite) since migration 0012 took the foreign keys off."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from allowances.lists import edit
from store import approval_policy, config_versions, frames, list_repo, payee_repo
from store.db import Store, alembic_config, head_revision, schema_revision
from store.user_repo import authenticate
from tests.lists.conftest import PASSWORD, propose_draft, seed

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
LINE = (
    "INSERT INTO allowance_lines (list_id, beneficiary_id, household_id, adm4_pcode, rank, "
    "priority_score, reasons, amount_bdt, included, line_ref) "
    "VALUES (:id, 'B', 'H-new', 'BD55490911', 999, 0, '[]', 0, false, :ref)"
)
PAYEE = (
    "INSERT INTO allowance_payees (list_id, rank, beneficiary_id, programme, sex, birth_year, "
    "payment_channel, source_row_sha256, snapshot_at) "
    "SELECT :id, 999, beneficiary_id, programme, sex, birth_year, payment_channel, "
    "source_row_sha256, snapshot_at FROM allowance_payees LIMIT 1"
)


def _refused(store: Store, sql: str, match: str, **params: object) -> None:
    with pytest.raises(DatabaseError, match=match), store.engine.begin() as conn:
        conn.execute(text(sql), params)


def _superseded_and_draft(store: Store) -> tuple[int, int]:
    """A proposed list and the draft that an edit made of it (the first is superseded)."""
    first = propose_draft(store)
    with store.session() as session:
        officer = authenticate(session, "officer.kurigram", PASSWORD, T0, "test").principal
    assert officer is not None
    with store.session() as session:
        second = edit(
            session,
            list_id=first,
            principal=officer,
            exclude={"SYN-H00001": "moved away"},
            reason="field check",
            at=T0,
        ).id
    return first, second


def test_rows_of_a_list_that_does_not_exist_are_refused(store: Store) -> None:
    propose_draft(store)
    _refused(store, LINE, "lines must belong to an existing allowance list", id=999, ref="L-x")
    _refused(store, PAYEE, "payees must belong to an existing allowance list", id=999)
    draft = propose_draft(store)
    _refused(
        store,
        "UPDATE allowance_lines SET list_id = 999 WHERE list_id = :id",
        "lines must belong to an existing allowance list",
        id=draft,
    )


def test_a_draft_s_rows_cannot_be_moved_into_a_list_that_left_draft(store: Store) -> None:
    superseded, draft = _superseded_and_draft(store)
    with store.session() as session:
        before = list_repo.list_hash(session, superseded)
    with store.engine.begin() as conn:  # a draft's rows may still be added (rank 999)
        conn.execute(text(LINE), {"id": draft, "ref": "L-new"})
        conn.execute(text(PAYEE), {"id": draft})
    for table, what in (("allowance_lines", "lines"), ("allowance_payees", "payees")):
        _refused(
            store,
            f"UPDATE {table} SET list_id = :old WHERE list_id = :new AND rank = 999",
            f"{what} of a submitted or decided list are frozen",
            old=superseded,
            new=draft,
        )
    _refused(store, LINE, "lines of a submitted or decided list are frozen", id=superseded, ref="L")
    with store.session() as session:
        assert list_repo.list_hash(session, superseded) == before


def test_a_list_with_rows_cannot_be_deleted_or_renumbered(store: Store) -> None:
    draft = propose_draft(store)
    _refused(
        store,
        "DELETE FROM allowance_lists WHERE id = :id",
        "an allowance list with lines or payees cannot be deleted",
        id=draft,
    )
    with pytest.raises(DatabaseError), store.engine.begin() as conn:
        conn.execute(text("UPDATE allowance_lists SET id = 999 WHERE id = :id"), {"id": draft})
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM allowance_lists")).scalar() == 1


def test_postgresql_holds_a_list_while_its_lines_are_being_added(store: Store) -> None:
    """The guard holds the list FOR SHARE (as the foreign key did): while one transaction is
    adding lines, another cannot change the list row (e.g. submit it) until the first ends."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    draft = propose_draft(store)
    with store.engine.connect() as adding, store.engine.connect() as deciding:
        adding.execute(text(LINE), {"id": draft, "ref": "L-new"})  # not committed yet
        deciding.execute(text("SET lock_timeout = '300ms'"))
        with pytest.raises(DatabaseError, match="lock timeout"):
            deciding.execute(
                text("UPDATE allowance_lists SET edit_reason = 'x' WHERE id = :id"), {"id": draft}
            )
        deciding.rollback()
        adding.rollback()


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _counts(store: Store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        lines = conn.execute(text("SELECT count(*) FROM allowance_lines")).scalar_one()
        payees = conn.execute(text("SELECT count(*) FROM allowance_payees")).scalar_one()
    return lines, payees


def test_upgrading_a_store_with_lists_keeps_them_and_their_guards(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = seed(Store(database_url), "0011")
    with monkeypatch.context() as before_0020:  # lists of 0011 recorded no policy version
        before_0020.setattr(config_versions, "record", lambda *_args: None)
        # and knew no store-held approval policy (0023): one approval, as configured then
        before_0020.setattr(approval_policy, "require_at_least", lambda *_args: 1)
        # and neither counted registry edits nor pinned a list's registry version (0026)
        before_0020.setattr(frames, "registry_edits", lambda *_args: 0)
        before_0020.setattr(payee_repo, "record_pin", lambda *_args: None)
        before_0020.setattr(payee_repo, "registry_pin", lambda *_args: None)
        superseded, draft = _superseded_and_draft(store)
    with store.session() as session:
        hashes = [list_repo.list_hash(session, i) for i in (superseded, draft)]
    counts = _counts(store)
    assert min(counts) > 0

    store.upgrade()  # 0012: SQLite copies both tables to drop their foreign keys
    assert schema_revision(store.engine) == head_revision()
    assert _counts(store) == counts
    with store.session() as session:
        assert [list_repo.list_hash(session, i) for i in (superseded, draft)] == hashes
    _refused(store, LINE, "lines must belong to an existing allowance list", id=999, ref="L-x")
    _refused(store, LINE, "lines of a submitted or decided list are frozen", id=superseded, ref="L")
    _refused(store, "DELETE FROM allowance_lists WHERE id = :id", "cannot be deleted", id=draft)

    _downgrade(store.engine, "0011")  # the foreign keys and the old guards come back
    assert _counts(store) == counts
    _refused(store, LINE, "(?i)foreign key", id=999, ref="L-x")
    _refused(store, LINE, "lines of a submitted or decided list are frozen", id=superseded, ref="L")
    store.upgrade()
    assert _counts(store) == counts
    store.dispose()
