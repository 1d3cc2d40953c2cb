"""Migration 0024: the guards cannot be fooled by a temporary table, and a payment result or
import is accepted only for a line and list it can belong to.

On PostgreSQL a session's temporary tables come first in the lookup of an unqualified name,
and the app role may create them (a registry import does). Before 0024 a temporary
`allowance_lists` saying "draft" let lines into an approved list, and a temporary
`approval_policy` saying one let a single approval through where the store requires two.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DatabaseError

from agam.core.errors import InvalidTransition
from allowances.payment_files import export_payment_files
from allowances.payment_results import import_results
from store import list_repo
from store.db import Store
from tests.lists.test_list_membership import LINE, _downgrade, _superseded_and_draft
from tests.lists.test_payee_pinning import T0, _approved, sign_in

FROZEN = "lines of a submitted or decided list are frozen"
TWO_NEEDED = "this store requires two approvals"
NO_LINE = "a payment result names an included line of its exported list"
NO_LIST = "a payment import is recorded only for a list whose payment files were prepared"
APPROVE = (
    "INSERT INTO decisions (list_id, action, username, role, content_sha256, at, from_status, "
    "to_status, via, sealed_parts) SELECT id, 'approve', 'dc.kurigram', 'district_admin', "
    "content_sha256, :at, 'submitted', 'approved', 'password', 1 FROM allowance_lists "
    "WHERE id = :id"
)
IMPORT = (
    "INSERT INTO payment_imports (list_id, file_name, sha256, imported_by, imported_at, "
    "synthetic, summary) VALUES (:id, 'return.csv', :sha, 'officer.kurigram', :at, true, '{}')"
)
RESULT = (
    "INSERT INTO payment_results (list_id, line_ref, household_id, amount_bdt, status, "
    "provider_txn_id, paid_at, first_import_id, last_import_id, updated_at) "
    "VALUES (:id, :ref, :hh, :amount, 'paid', 'T1', :at, :imp, :imp, :at)"
)


def _postgres(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("temporary tables shadow a schema's tables on PostgreSQL only")


def _shadow(conn: Connection, table: str, change: str) -> None:
    """A temporary copy of `table` under the same name, changed by `change`."""
    conn.execute(text(f"CREATE TEMPORARY TABLE {table} AS SELECT * FROM {table}"))
    conn.execute(text(f"UPDATE pg_temp.{table} SET {change}"))


def _line_into_shadowed_list(store: Store, list_id: int) -> None:
    with store.engine.begin() as conn:
        _shadow(conn, "allowance_lists", "status = 'draft'")
        conn.execute(text(LINE), {"id": list_id, "ref": "L-shadow"})


def _single_approval_under_shadowed_policy(store: Store, list_id: int) -> None:
    with store.engine.begin() as conn:
        _shadow(conn, "approval_policy", "approvals_required = 1")
        conn.execute(text(APPROVE), {"id": list_id, "at": T0})


def test_a_temporary_table_does_not_unfreeze_an_approved_list(
    store: Store, draft: Callable[[Store], int]
) -> None:
    _postgres(store)
    list_id = _approved(store, draft)
    with pytest.raises(DatabaseError, match=FROZEN):
        _line_into_shadowed_list(store, list_id)
    _downgrade(store.engine, "0023")  # what 0024 closed: the guard read the temporary copy
    _line_into_shadowed_list(store, list_id)
    with store.engine.connect() as conn:
        added = conn.execute(
            text("SELECT count(*) FROM allowance_lines WHERE line_ref = 'L-shadow'")
        )
        assert added.scalar_one() == 1


def test_a_temporary_policy_does_not_skip_the_first_approval(
    store: Store, draft: Callable[[Store], int]
) -> None:
    _postgres(store)
    list_id = draft(store)
    with store.session() as session:
        list_repo.decide(session, list_id, sign_in(store, "officer.kurigram"), "submit", T0)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE approval_policy SET approvals_required = 2"))
    with pytest.raises(DatabaseError, match=TWO_NEEDED):
        _single_approval_under_shadowed_policy(store, list_id)
    _downgrade(store.engine, "0023")
    _single_approval_under_shadowed_policy(store, list_id)


def test_every_function_of_the_schema_searches_it_before_temporary_tables(store: Store) -> None:
    """A migration that re-creates a function (CREATE OR REPLACE drops its settings) must pin
    its search_path again; this finds one that does not."""
    _postgres(store)
    with store.engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        settings = dict(
            conn.execute(
                text(
                    "SELECT p.proname, coalesce(array_to_string(p.proconfig, ';'), '') "
                    "FROM pg_proc p JOIN pg_language g ON g.oid = p.prolang "
                    "WHERE p.pronamespace = current_schema()::regnamespace "
                    "AND g.lanname = 'plpgsql'"
                )
            ).all()
        )
    assert len(settings) >= 15
    assert {n: s for n, s in settings.items() if s != f"search_path={schema}, pg_temp"} == {}


def _first_line(store: Store, list_id: int) -> tuple[str, str, int]:
    with store.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT line_ref, household_id, amount_bdt FROM allowance_lines "
                "WHERE list_id = :id AND included ORDER BY rank LIMIT 1"
            ),
            {"id": list_id},
        ).one()
    return str(row[0]), str(row[1]), int(row[2])


def _insert(store: Store, sql: str, **params: object) -> int | None:
    with store.engine.begin() as conn:
        conn.execute(text(sql), {"at": T0, **params})
        return conn.execute(text("SELECT max(id) FROM payment_imports")).scalar_one()


def _exported(store: Store, list_id: int, folder: Path) -> None:
    export_payment_files(store, list_id, sign_in(store, "dc.kurigram"), "csv", folder, T0)


def test_payment_results_name_a_line_of_a_list_that_pays(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    unsubmitted, approved = _superseded_and_draft(store)  # one list that pays, one that never will
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    with store.session() as session:
        list_repo.decide(session, approved, officer, "submit", T0)
        list_repo.decide(session, approved, dc, "approve", T0)
    with pytest.raises(DatabaseError, match=NO_LIST):
        _insert(store, IMPORT, id=unsubmitted, sha="a" * 64)
    with pytest.raises(DatabaseError, match=NO_LIST):  # approved, never sent: nothing returns
        _insert(store, IMPORT, id=approved, sha="a" * 64)
    _exported(store, approved, tmp_path)
    imp = _insert(store, IMPORT, id=approved, sha="b" * 64)
    ref, household, amount = _first_line(store, approved)
    line = {"id": approved, "ref": ref, "hh": household, "amount": amount, "imp": imp}
    for forged in (
        {"ref": "L-nowhere"},  # no such line
        {"hh": "SYN-H-OTHER"},  # another household
        {"amount": amount * 10},  # another amount
        {"id": unsubmitted, "ref": _first_line(store, unsubmitted)[0]},  # a list that does not pay
    ):
        with pytest.raises(DatabaseError, match=NO_LINE):
            _insert(store, RESULT, **{**line, **forged})
    _insert(store, RESULT, **line)
    _downgrade(store.engine, "0023")  # before 0024 any result was accepted
    _insert(store, RESULT, **{**line, "ref": "L-nowhere"})


def test_a_payment_import_is_never_changed_after_it_is_written(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    """The app role may only insert imports on PostgreSQL; both stores refuse a change."""
    list_id = _approved(store, draft)
    _exported(store, list_id, tmp_path)
    imp = _insert(store, IMPORT, id=list_id, sha="c" * 64)
    for change in ("UPDATE payment_imports SET summary = '{}' WHERE id = :imp",
                   "DELETE FROM payment_imports WHERE id = :imp"):  # fmt: skip
        with pytest.raises(DatabaseError, match="payment_imports is append-only"):
            _insert(store, change, imp=imp)
    _downgrade(store.engine, "0023")
    _insert(store, "DELETE FROM payment_imports WHERE id = :imp", imp=imp)


def test_results_wait_for_the_payment_files(
    store: Store, draft: Callable[[Store], int], tmp_path: Path
) -> None:
    """A provider returns what it was sent: an approved list never exported takes no return
    file (it would mark households paid with no payment made, and block the export)."""
    list_id = _approved(store, draft)
    back = tmp_path / "return.csv"
    back.write_text("line_ref,amount_bdt,status,provider_txn_id,paid_at,failure_reason\n")
    officer = sign_in(store, "officer.kurigram")
    with pytest.raises(InvalidTransition, match="its payment files were never prepared"):
        import_results(store, list_id, officer, back, T0)
    with pytest.raises(DatabaseError, match=NO_LIST):
        _insert(store, IMPORT, id=list_id, sha="d" * 64)
    _downgrade(store.engine, "0024")  # 0024 took an approved list's import
    _insert(store, IMPORT, id=list_id, sha="d" * 64)
