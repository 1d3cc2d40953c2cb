"""How many administrators approve a list is the store's, not the config of whoever decides:
a config asking for two raises it, a lone approver with a config saying one still gives only
the first approval, only an admin lowers it (audited), and the database refuses an approval
that skips the first of two."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DatabaseError

from agam.core.errors import PermissionDenied
from store import approval_policy, audit, list_repo
from store.db import Store
from tests.lists.test_approvals import T0, _propose, principal
from tests.lists.test_approvals import _sign_in_before_writing as _sign_in_before_writing


def required(store: Store) -> int:
    with store.read() as session:
        return approval_policy.approvals_required(session)


def test_the_lone_approver_s_config_cannot_lower_two_approvals(store: Store) -> None:
    list_id = _propose(store)
    assert required(store) == 1
    with store.session() as session:  # the deployment's config asks for two
        list_repo.decide(
            session, list_id, principal(store, "officer.kurigram"), "submit", T0,
            second_approval=True,
        )  # fmt: skip
    assert required(store) == 2
    with store.session() as session:  # the approver's own config says one
        first = list_repo.decide(session, list_id, principal(store, "dc.kurigram"), "approve", T0)
        assert (first.status, first.approved_by) == ("submitted", "dc.kurigram")
    with store.session() as session:
        done = list_repo.decide(session, list_id, principal(store, "adc.kurigram"), "approve", T0)
        assert (done.status, done.second_approved_by) == ("approved", "adc.kurigram")
    with store.read() as session:
        [raised] = audit.entries_for(session, "approvals.set")
        assert (raised.actor, raised.payload) == ("system", {"from": 1, "to": 2, "via": "config"})


def test_the_database_refuses_an_approval_that_skips_the_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_id = _propose(store)
    with store.session() as session:
        approval_policy.set_approvals(session, principal(store, "admin.a"), 2, T0)
        list_repo.decide(session, list_id, principal(store, "officer.kurigram"), "submit", T0)
    monkeypatch.setattr(approval_policy, "require_at_least", lambda session, n, at: 1)
    with pytest.raises(DatabaseError, match="requires two approvals"), store.session() as s:
        list_repo.decide(s, list_id, principal(store, "dc.kurigram"), "approve", T0)


def test_only_an_admin_lowers_it(store: Store) -> None:
    with store.session() as session:
        approval_policy.set_approvals(session, principal(store, "admin.a"), 2, T0)
    with pytest.raises(PermissionDenied), store.session() as session:
        approval_policy.set_approvals(session, principal(store, "dc.kurigram"), 1, T0)
    assert required(store) == 2
    with store.session() as session:
        approval_policy.set_approvals(session, principal(store, "admin.a"), 1, T0)
    assert required(store) == 1
