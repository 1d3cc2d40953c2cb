"""Accounts: validation, argon2 hashes, sign-in that resists abuse without locking anyone out,
API tokens and dashboard sessions, administration by admins only."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from agam.core.errors import PermissionDenied, StoreError
from store import audit, session_repo, throttle, token_repo, user_repo
from store.db import Store
from store.models import AuditEntry
from store.user_repo import add_user, authenticate, get_user

T0 = datetime(2024, 7, 4, tzinfo=UTC)
PASSWORD = "correct horse battery"
KEY = b"k" * 32


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'agam.sqlite3'}")
    s.upgrade()
    with s.session() as session:
        user_repo.bootstrap_admin(
            session, username="admin", password=PASSWORD, display_name="Admin", at=T0
        )
        add_user(
            session,
            username="dc.jamalpur",
            role="district_admin",
            districts=["BD4539"],
            password=PASSWORD,
            display_name="DC Jamalpur",
            at=T0,
        )
    return s


def sign_in(
    store: Store, name: str, password: str = PASSWORD, at: datetime = T0, client: str = "a"
):
    with store.session() as session:
        return authenticate(session, name, password, at, client)


def failures(store: Store) -> list[AuditEntry]:
    with store.session() as session:
        return audit.entries_for(session, "auth.failed")


def test_password_is_hashed_not_stored(store: Store) -> None:
    with store.session() as session:
        user = get_user(session, "dc.jamalpur")
        assert user.password_hash is not None
        assert "correct horse" not in user.password_hash
        assert user.password_hash.startswith("$argon2")


def test_sign_in_and_scope(store: Store) -> None:
    result = sign_in(store, "dc.jamalpur")
    assert result.principal is not None
    assert result.principal.covers("BD4539")
    assert not result.principal.covers("BD5549")
    assert result.principal.via == "password"


def test_failed_sign_ins_wait_longer_and_longer_but_never_lock_out(store: Store) -> None:
    pair = throttle.policy().pair
    at = T0
    for _ in range(pair.free_failures):  # the free failures: no wait at all
        assert sign_in(store, "dc.jamalpur", "wrong", at).wait_s == 0
    waits = []
    for _ in range(4):
        assert sign_in(store, "dc.jamalpur", "wrong", at).principal is None
        refused = sign_in(store, "dc.jamalpur", PASSWORD, at)  # even the right password waits
        assert refused.principal is None
        waits.append(refused.wait_s)
        at += timedelta(seconds=refused.wait_s)
    assert waits == sorted(waits)
    assert waits[-1] > waits[0] > 0
    # the attacker's client waits; the real user elsewhere waits at most the account cap
    elsewhere = sign_in(store, "dc.jamalpur", PASSWORD, at, client="b")
    assert elsewhere.wait_s <= throttle.policy().account.max_delay_seconds
    later = at + timedelta(seconds=elsewhere.wait_s)
    assert sign_in(store, "dc.jamalpur", PASSWORD, later, client="b").principal is not None
    # a success resets the account: the attacker's next guess does not wait on it
    assert sign_in(store, "dc.jamalpur", "wrong", later + timedelta(hours=2)).wait_s == 0


def test_unknown_users_and_wrong_passwords_get_the_same_answer_and_are_audited(
    store: Store,
) -> None:
    answers = [
        sign_in(store, "dc.jamalpur", "wrong password"),
        sign_in(store, "nobody", "wrong password"),
        sign_in(store, PASSWORD, "wrong password"),  # a password typed as the user name
    ]
    assert {(a.principal, a.message, a.wait_s) for a in answers} == {(None, user_repo.REFUSED, 0.0)}
    logged = failures(store)
    assert [e.actor for e in logged] == ["dc.jamalpur", "unknown", "unknown"]
    assert [e.payload["reason"] for e in logged] == [
        "wrong password",
        "unknown user",
        "unknown user",
    ]
    with store.engine.connect() as conn:
        stored = " ".join(
            str(r)
            for table in ("audit_log", "sign_in_attempts")
            for r in conn.execute(text(f"SELECT * FROM {table}"))
        )
    assert "correct horse" not in stored
    assert "nobody" not in stored


def test_unknown_names_are_throttled_like_real_ones(store: Store) -> None:
    for name in ("dc.jamalpur", "ghost"):
        for _ in range(throttle.policy().pair.free_failures + 1):
            sign_in(store, name, "wrong", client="x")
    real, ghost = (
        sign_in(store, "dc.jamalpur", "x", client="x"),
        sign_in(store, "ghost", "x", client="x"),
    )
    assert real.wait_s == ghost.wait_s > 0
    assert real.message == ghost.message


def test_disabled_and_unknown_users_are_refused_alike(store: Store) -> None:
    admin = sign_in(store, "admin").principal
    with store.session() as session:
        user_repo.set_disabled(session, admin, "dc.jamalpur", True, T0)
    a = sign_in(store, "dc.jamalpur")
    b = sign_in(store, "nobody")
    assert a.principal is None
    assert b.principal is None
    assert a.message == b.message
    assert failures(store)[0].payload["reason"] == "disabled"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "Bad Name"}, "username"),
        ({"role": "king"}, "role"),
        ({"districts": ["Jamalpur"]}, "district P-codes"),
        ({"districts": []}, "at least one district"),
        ({"password": "short"}, "at least 10"),
        ({"password": "aaaaaaaaaa"}, "too easy to guess"),
        ({"password": "ababababab"}, "too easy to guess"),
        ({"password": "1234567890"}, "too easy to guess"),
        ({"password": "QWERTYUIOP"}, "too easy to guess"),
        ({"password": "Someone is here"}, "must not contain the user name"),
        ({"districts": ["BD9999"], "known_districts": {"BD4539"}}, "no district BD9999"),
        ({"display_name": "Admin \u202eLTR"}, "display name"),
        ({"username": "dc.jamalpur"}, "exists"),
        ({"email": "not-an-address"}, "e-mail"),
    ],
)
def test_bad_accounts_are_refused(store: Store, kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "username": "someone",
        "role": "district_admin",
        "districts": ["BD4539"],
        "password": "long enough pw",
        "display_name": "x",
        "at": T0,
    }
    base.update(kwargs)
    with pytest.raises(StoreError, match=message), store.session() as session:
        add_user(session, **base)  # type: ignore[arg-type]


def test_only_admins_manage_accounts_and_bootstrap_happens_once(store: Store) -> None:
    dc = sign_in(store, "dc.jamalpur").principal
    admin = sign_in(store, "admin").principal
    with pytest.raises(PermissionDenied, match="an admin exists"), store.session() as session:
        user_repo.bootstrap_admin(
            session, username="eve", password=PASSWORD, display_name="", at=T0
        )
    with pytest.raises(PermissionDenied, match="manage users"), store.session() as session:
        user_repo.admin_add_user(
            session, dc, username="eve", role="admin", districts=[], password=PASSWORD,
            display_name="", at=T0,
        )  # fmt: skip
    with pytest.raises(PermissionDenied, match="manage users"), store.session() as session:
        user_repo.set_disabled(session, dc, "admin", True, T0)
    with pytest.raises(PermissionDenied, match="own account"), store.session() as session:
        user_repo.set_disabled(session, admin, "admin", True, T0)
    with store.session() as session:
        user_repo.admin_add_user(
            session, admin, username="dmo", role="officer", districts=["BD4539"], password=None,
            display_name="", at=T0, email="dmo@example.org",
        )  # fmt: skip
        assert get_user(session, "dmo").invited_at == T0


def test_tokens_are_hashed_expire_and_die_with_the_account(store: Store) -> None:
    dc = sign_in(store, "dc.jamalpur").principal
    with store.session() as session:
        row, token = token_repo.create_token(session, dc, "nightly export", T0, days=30)
        assert token not in str(session.execute(select(row.__class__)).all())
    with store.session() as session:
        ok = token_repo.authenticate_token(session, token, T0, "script")
    assert ok.principal is not None
    assert ok.principal.via == "token"
    with pytest.raises(PermissionDenied, match="password"), store.session() as session:
        token_repo.create_token(session, ok.principal, "more", T0)  # a token mints no tokens
    with store.session() as session:
        assert (
            token_repo.authenticate_token(session, token, T0 + timedelta(days=31), "s").principal
            is None
        )
        assert token_repo.authenticate_token(session, token + "x", T0, "s").principal is None
    admin = sign_in(store, "admin").principal
    with store.session() as session:
        user_repo.set_disabled(session, admin, "dc.jamalpur", True, T0)
    with store.session() as session:
        user_repo.set_disabled(session, admin, "dc.jamalpur", False, T0)
    with store.session() as session:  # revoked at disable: re-enabling does not revive it
        assert token_repo.authenticate_token(session, token, T0, "script").principal is None
    assert [e.payload["reason"] for e in failures(store)][-1] == "revoked token"


def test_dashboard_sessions_are_signed_expiring_and_revocable(store: Store) -> None:
    dc = sign_in(store, "dc.jamalpur").principal
    with store.session() as session:
        token = session_repo.create(session, dc, KEY, T0)
    later = T0 + timedelta(hours=1)
    with store.session() as session:
        assert session_repo.principal_for(session, token, KEY, later).username == "dc.jamalpur"
        assert session_repo.principal_for(session, token, b"o" * 32, later) is None  # other key
        row_id, expires, secret, sig = token.split(".")
        forged = f"{row_id}.{int(expires) + 86400}.{secret}.{sig}"
        assert session_repo.principal_for(session, forged, KEY, later) is None
        expiry = T0 + timedelta(hours=throttle.policy().sessions.hours)
        assert session_repo.principal_for(session, token, KEY, expiry) is None
        assert session_repo.revoke(session, token, KEY, later) == "dc.jamalpur"
    with store.session() as session:
        assert session_repo.principal_for(session, token, KEY, later) is None


def test_password_reset_ends_sessions(store: Store) -> None:
    dc = sign_in(store, "dc.jamalpur").principal
    with store.session() as session:
        token = session_repo.create(session, dc, KEY, T0)
    with store.session() as session:
        user_repo.reset_password(session, dc, "dc.jamalpur", "a brand new password", T0)
    with store.session() as session:
        assert session_repo.principal_for(session, token, KEY, T0) is None
    assert sign_in(store, "dc.jamalpur", "a brand new password").principal is not None
    forged = dataclasses.replace(dc, username="admin")
    with pytest.raises(PermissionDenied, match="verified"), store.session() as session:
        user_repo.reset_password(session, forged, "admin", "taken over now", T0)


def test_demo_plants_no_accounts_in_a_store_with_others(settings: object) -> None:
    from agam.pipeline.context import AppContext
    from agam.pipeline.demo import DEMO_ACCOUNTS, ensure_demo_accounts

    ctx = AppContext(settings)  # type: ignore[arg-type]
    ctx.store.upgrade()
    created = ensure_demo_accounts(ctx)
    assert set(created) == {name for name, *_ in DEMO_ACCOUNTS}
    assert ensure_demo_accounts(ctx) == {}  # re-running is safe
    other = AppContext(
        settings.model_copy(
            update={
                "app": settings.app.model_copy(  # type: ignore[attr-defined]
                    update={"data_dir": settings.data_dir / "real"}
                )
            }
        )
    )  # type: ignore[attr-defined]
    other.settings.data_dir.mkdir(parents=True)
    other.store.upgrade()
    with other.store.session() as session:
        user_repo.bootstrap_admin(
            session, username="root", password=PASSWORD, display_name="", at=T0
        )
    assert ensure_demo_accounts(other) == {}
