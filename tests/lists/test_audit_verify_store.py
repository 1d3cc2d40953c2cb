"""`agam audit verify` checks what the chain vouches for: decisions against their audit entries,
lists against their decisions, approved lines and payees against the approved hash. Each
tampering here, done with the database guards off (whoever holds the SQLite file, or the
PostgreSQL owner role), leaves the chain intact and is found by name."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text
from typer.testing import CliRunner

from agam.cli import audit_cmd
from agam.cli.main import app
from agam.pipeline.context import AppContext
from allowances.lists import amend, edit
from allowances.payment_files import export_list
from store import approval_policy, audit, line_rows, list_repo
from store.db import Store
from tests.lists.conftest import T0, add_open_alert, propose_draft
from tests.lists.test_payee_pinning import _approved, sign_in

T1 = datetime(2024, 7, 5, 6, 0, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture
def verify(
    store: Store, database_url: str, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    """`agam audit verify [args]` on the test's store -> (exit code, stdout, stderr). The
    command's own engine is disposed after it (a PostgreSQL connection left open warns)."""
    monkeypatch.setenv("AGAM_DATABASE_URL", database_url)
    made: list[AppContext] = []

    class Recorded(AppContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(audit_cmd, "AppContext", Recorded)

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["audit", "verify", *args])
        while made:
            made.pop().store.dispose()
        return result.exit_code, result.stdout, result.stderr

    return run


@contextmanager
def unguarded(store: Store, *tables: str) -> Iterator[Connection]:
    """A connection writing `tables` with their guards off: on SQLite their triggers dropped,
    on PostgreSQL as the superuser with triggers not fired (session_replication_role)."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in tables:
                names = conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                    {"t": table},
                ).scalars()
                for name in list(names):
                    conn.execute(text(f'DROP TRIGGER "{name}"'))
        yield conn


def _decision(store: Store, list_id: int, action: str) -> int:
    with store.read() as session:
        return int(
            session.execute(
                text("SELECT max(id) FROM decisions WHERE list_id = :l AND action = :a"),
                {"l": list_id, "a": action},
            ).scalar_one()
        )


def _audit_row(store: Store, list_id: int, action: str) -> int:
    with store.read() as session:
        return int(
            session.execute(
                text("SELECT max(id) FROM audit_log WHERE entity_id = :l AND action = :a"),
                {"l": str(list_id), "a": action},
            ).scalar_one()
        )


def _add_alert(store: Store, rule_set: str) -> int:
    """Another open Kurigram alert (another rule set), for lists left in other states."""
    with store.session() as session:
        return add_open_alert(session, rule_set, rule_set)


def test_a_store_with_lists_in_every_state_verifies(
    store: Store, verify: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    first = propose_draft(store, alert_id=1)
    with store.session() as session:  # edited (superseded), rejected, edited again
        second = edit(
            session,
            list_id=first,
            principal=officer,
            exclude={"SYN-H00000": "moved"},
            reason="moved away",
            at=T0,
        ).id
    with store.session() as session:
        list_repo.decide(session, second, officer, "submit", T0)
        list_repo.decide(session, second, dc, "reject", T0, "recount")
    with store.session() as session:
        third = edit(
            session,
            list_id=second,
            principal=officer,
            exclude={"SYN-H00001": "dup"},
            reason="duplicate",
            at=T0,
        ).id
    with store.session() as session:
        list_repo.decide(session, third, officer, "submit", T0)
        list_repo.decide(session, third, dc, "approve", T0)
    with store.engine.begin() as conn:  # the registry changes payees after the approval
        conn.execute(
            text("UPDATE beneficiaries SET wallet_number = '01999999999' WHERE wallet_number > ''")
        )
    with store.session() as session:
        amendment = amend(session, list_id=third, principal=officer, at=T1).id
    with store.session() as session:
        list_repo.decide(session, amendment, officer, "submit", T1)
        list_repo.decide(session, amendment, dc, "approve", T1)
    for _ in range(2):  # exported twice
        with store.session() as session:
            export_list(session, third, dc, "csv", tmp_path / "pay", T1)
    other = _add_alert(store, "test_rules_b")  # withdrawn by the system, then a draft
    withdrawn = propose_draft(store, alert_id=other, evaluation_id=1)
    draft = propose_draft(store, alert_id=other, evaluation_id=2)
    later = _add_alert(store, "test_rules_c")  # submitted with one of two approvals
    waiting = propose_draft(store, alert_id=later)
    admin = sign_in(store, "admin.a")
    with store.session() as session:
        approval_policy.set_approvals(session, admin, 2, T1)
        list_repo.decide(session, waiting, officer, "submit", T1)
        list_repo.decide(session, waiting, dc, "approve", T1)
    with store.read() as session:
        statuses = {
            i: list_repo.get_list(session, i).status
            for i in (first, second, third, amendment, withdrawn, draft, waiting)
        }
    assert statuses == {
        first: "superseded",
        second: "superseded",
        third: "exported",
        amendment: "approved",
        withdrawn: "superseded",
        draft: "draft",
        waiting: "submitted",
    }

    code, out, err = verify()
    assert code == 0, err
    assert "; 13 decisions match the log; 2 approved or exported lists re-hash" in out
    assert "(2 payment snapshots too)" in out
    code, out, err = verify("--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] is report["chain_ok"] is True
    assert report["decisions"] == {"checked": 13, "audit_entries": 13, "problems": []}
    assert report["lists"] == {"checked": 7, "rehashed": 2, "snapshots": 2, "problems": []}


def test_a_payee_changed_on_an_approved_list_is_found(
    store: Store, draft: Callable[[Store], int], verify: Callable[..., tuple[int, str, str]]
) -> None:
    list_id = _approved(store, draft)
    assert verify()[0] == 0
    with unguarded(store, "allowance_payees") as conn:
        conn.execute(
            text(
                "UPDATE allowance_payees SET wallet_number = '01999999999' "
                "WHERE list_id = :l AND rank = 1"
            ),
            {"l": list_id},
        )
    code, _, err = verify()
    assert code == 8
    approval = _decision(store, list_id, "approve")
    assert err.splitlines() == [
        f"error: list {list_id} (approved, approved by decision {approval}): its lines and "
        "pinned payees as stored now do not re-hash to the approved content hash; changed "
        "since the approval"
    ]


def test_an_amount_changed_on_an_exported_list_is_found(
    store: Store,
    draft: Callable[[Store], int],
    verify: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    list_id = _approved(store, draft)
    dc = sign_in(store, "dc.kurigram")
    with store.session() as session:
        export_list(session, list_id, dc, "csv", tmp_path, T1)
    with unguarded(store, "allowance_lines") as conn:
        conn.execute(
            text(
                "UPDATE allowance_lines SET amount_bdt = amount_bdt + 5000 "
                "WHERE list_id = :l AND rank = 2"
            ),
            {"l": list_id},
        )
    code, _, err = verify()
    assert code == 8
    assert f"error: list {list_id} (exported, approved by decision" in err
    assert "do not re-hash to the approved content hash" in err


def test_a_deleted_approval_is_found(
    store: Store, draft: Callable[[Store], int], verify: Callable[..., tuple[int, str, str]]
) -> None:
    list_id = _approved(store, draft)
    submit, approval = _decision(store, list_id, "submit"), _decision(store, list_id, "approve")
    with unguarded(store, "decisions", "allowance_lists", "payment_snapshots") as conn:
        conn.execute(text("DELETE FROM payment_snapshots WHERE list_id = :l"), {"l": list_id})
        conn.execute(
            text(
                "UPDATE allowance_lists SET status = 'submitted', approved_by = NULL, "
                "decided_at = NULL, last_decision_id = :d WHERE id = :l"
            ),
            {"d": submit, "l": list_id},
        )
        conn.execute(text("DELETE FROM decisions WHERE id = :d"), {"d": approval})
    code, _, err = verify()
    assert code == 8
    row = _audit_row(store, list_id, "list.approve")
    assert err.splitlines() == [
        f"error: audit log row {row} (list.approve of list {list_id} by dc.kurigram) at "
        "2024-07-04T06:00:00Z: no decision row records it"
    ]


def test_a_renamed_approver_is_found(
    store: Store, draft: Callable[[Store], int], verify: Callable[..., tuple[int, str, str]]
) -> None:
    list_id = _approved(store, draft)
    approval = _decision(store, list_id, "approve")
    with unguarded(store, "decisions", "allowance_lists") as conn:
        conn.execute(
            text("UPDATE decisions SET username = 'adc.kurigram' WHERE id = :d"), {"d": approval}
        )
        conn.execute(
            text("UPDATE allowance_lists SET approved_by = 'adc.kurigram' WHERE id = :l"),
            {"l": list_id},
        )
    code, _, err = verify()
    assert code == 8
    row = _audit_row(store, list_id, "list.approve")
    assert err.splitlines() == [
        f"error: decision {approval} (approve of list {list_id} by adc.kurigram) differs from "
        f"its audit entry, row {row}: actor 'dc.kurigram' in the log, 'adc.kurigram' in the "
        "decision"
    ]


def test_a_forged_decision_is_found(
    store: Store, draft: Callable[[Store], int], verify: Callable[..., tuple[int, str, str]]
) -> None:
    list_id = _approved(store, draft)
    with store.read() as session:
        approved = list_repo.get_list(session, list_id).content_sha256
    with unguarded(store, "decisions", "allowance_lists") as conn:
        conn.execute(
            text(
                "INSERT INTO decisions (list_id, action, username, role, content_sha256, at, "
                "from_status, to_status, via) VALUES (:l, 'export', 'dc.kurigram', "
                "'district_admin', :h, :at, 'approved', 'exported', 'password')"
            ),
            {"l": list_id, "h": approved, "at": T1.replace(tzinfo=None)},
        )
        conn.execute(
            text(
                "UPDATE allowance_lists SET status = 'exported', last_decision_id = "
                "(SELECT max(id) FROM decisions) WHERE id = :l"
            ),
            {"l": list_id},
        )
    code, _, err = verify()
    assert code == 8
    forged = _decision(store, list_id, "export")
    assert err.splitlines() == [
        f"error: decision {forged} (export of list {list_id} by dc.kurigram) at "
        "2024-07-05T06:00:00Z: no audit entry records it"
    ]


def test_many_problems_are_each_named_then_counted(
    store: Store, draft: Callable[[Store], int], verify: Callable[..., tuple[int, str, str]]
) -> None:
    list_id = _approved(store, draft)
    with store.read() as session:
        approved = list_repo.get_list(session, list_id).content_sha256
    with unguarded(store, "decisions") as conn:
        for _ in range(25):
            conn.execute(
                text(
                    "INSERT INTO decisions (list_id, action, username, role, content_sha256, "
                    "at) VALUES (:l, 'export', 'dc.kurigram', 'district_admin', :h, :at)"
                ),
                {"l": list_id, "h": approved, "at": T1.replace(tzinfo=None)},
            )
    code, out, err = verify("--json")
    assert code == 8
    lines = err.splitlines()
    assert len(lines) == 21
    assert lines[-1] == "error: and 7 more"  # 25 unrecorded, the list not exported, 2 more
    report = json.loads(out)
    assert report["ok"] is False
    assert report["chain_ok"] is True
    assert report["problem_count"] == 27


def _as_before_0005(store: Store, list_id: int, steps: list[tuple[str, str]], row: dict) -> None:
    """Write `list_id`'s decisions and audit entries as the releases before migration 0005 did
    (no from/to status, no via, no last decision; hash version 1), and its row as they left it."""
    with store.read() as session:
        district = list_repo.get_list(session, list_id).district_pcode
        digest = line_rows.list_digest(session, list_id, 1)
    with unguarded(store, "decisions", "allowance_lists") as conn:
        for action, username in steps:
            conn.execute(
                text(
                    "INSERT INTO decisions (list_id, action, username, role, reason, "
                    "content_sha256, at) VALUES (:l, :a, :u, :r, :why, :h, :at)"
                ),
                {
                    "l": list_id,
                    "a": action,
                    "u": username,
                    "r": "officer" if action == "submit" else "district_admin",
                    "why": "recount" if action == "reject" else None,
                    "h": digest,
                    "at": T0.replace(tzinfo=None),
                },
            )
        conn.execute(
            text(
                "UPDATE allowance_lists SET status = :s, submitted_by = :sub, approved_by = :a, "
                "second_approved_by = :a2, content_sha256 = :h, hash_version = 1, "
                "last_decision_id = NULL WHERE id = :l"
            ),
            {**row, "h": digest, "l": list_id},
        )
    after = {"submit": "submitted", "approve_first": "submitted", "reject": "rejected"}
    with store.session() as session:
        for action, username in steps:
            audit.append(
                session,
                at=T0,
                actor=username,
                action=f"list.{action}",
                entity="allowance_list",
                entity_id=list_id,
                payload={
                    "status": after.get(action, "approved"),
                    "content_sha256": digest,
                    "reason": "recount" if action == "reject" else None,
                    "district": district,
                },
            )


def test_approvers_as_the_releases_before_0005_left_them_verify(
    store: Store, verify: Callable[..., tuple[int, str, str]]
) -> None:
    """Before 0005 a rejection cleared the approver columns, and an approval after a first
    approval, with the second approver switched off in between, replaced the first approver.
    An upgraded store keeps those rows; they are honest, not tampered with."""
    rejected = propose_draft(store, alert_id=1)
    _as_before_0005(
        store,
        rejected,
        [("submit", "officer.kurigram"), ("approve_first", "dc.kurigram"), ("reject", "dc.b")],
        {"s": "rejected", "sub": "officer.kurigram", "a": None, "a2": None},
    )
    approved = propose_draft(store, alert_id=_add_alert(store, "test_rules_b"))
    _as_before_0005(
        store,
        approved,
        [("submit", "officer.kurigram"), ("approve_first", "dc.kurigram"), ("approve", "dc.b")],
        {"s": "approved", "sub": "officer.kurigram", "a": "dc.b", "a2": None},
    )
    code, out, err = verify()
    assert code == 0, err
    assert "; 6 decisions match the log; 1 approved or exported lists re-hash" in out


def test_approvers_cleared_since_0005_are_found(
    store: Store, verify: Callable[..., tuple[int, str, str]]
) -> None:
    """Since 0005 a rejection keeps the first approver: clearing it is found."""
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    list_id = propose_draft(store, alert_id=1)
    admin = sign_in(store, "admin.a")
    with store.session() as session:
        approval_policy.set_approvals(session, admin, 2, T1)
        list_repo.decide(session, list_id, officer, "submit", T1)
        list_repo.decide(session, list_id, dc, "approve", T1)
    with store.session() as session:
        list_repo.decide(session, list_id, dc, "reject", T1, "recount")
    assert verify()[0] == 0
    with unguarded(store, "allowance_lists") as conn:
        conn.execute(
            text("UPDATE allowance_lists SET approved_by = NULL WHERE id = :l"), {"l": list_id}
        )
    code, _, err = verify()
    assert code == 8
    assert err.splitlines() == [
        f"error: list {list_id}: approved_by is None, its decisions name 'dc.kurigram'"
    ]
