"""Local accounts: validation, argon2 hashes, throttled sign-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agam.core.errors import StoreError
from store.db import Store
from store.user_repo import MAX_FAILED, add_user, authenticate, get_user, set_disabled

T0 = datetime(2024, 7, 4, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'agam.sqlite3'}")
    s.upgrade()
    with s.session() as session:
        add_user(
            session,
            username="dc.jamalpur",
            role="district_admin",
            districts=["BD4539"],
            password="correct horse battery",
            display_name="DC Jamalpur",
            at=T0,
        )
    return s


def test_password_is_hashed_not_stored(store: Store) -> None:
    with store.session() as session:
        user = get_user(session, "dc.jamalpur")
        assert user.password_hash is not None
        assert "correct horse" not in user.password_hash
        assert user.password_hash.startswith("$argon2")


def test_sign_in_and_scope(store: Store) -> None:
    with store.session() as session:
        result = authenticate(session, "dc.jamalpur", "correct horse battery", T0)
    assert result.principal is not None
    assert result.principal.covers("BD4539")
    assert not result.principal.covers("BD5549")


def test_failed_sign_ins_are_throttled(store: Store) -> None:
    for _ in range(MAX_FAILED):
        with store.session() as session:
            assert authenticate(session, "dc.jamalpur", "wrong", T0).principal is None
    with store.session() as session:
        locked = authenticate(session, "dc.jamalpur", "correct horse battery", T0)
    assert locked.principal is None
    assert "too many" in locked.message
    with store.session() as session:
        later = authenticate(
            session, "dc.jamalpur", "correct horse battery", T0 + timedelta(minutes=16)
        )
    assert later.principal is not None


def test_disabled_and_unknown_users_are_refused_alike(store: Store) -> None:
    with store.session() as session:
        set_disabled(session, "dc.jamalpur", True)
    with store.session() as session:
        a = authenticate(session, "dc.jamalpur", "correct horse battery", T0)
        b = authenticate(session, "nobody", "correct horse battery", T0)
    assert a.principal is None
    assert b.principal is None
    assert a.message == b.message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "Bad Name"}, "username"),
        ({"role": "king"}, "role"),
        ({"districts": ["Jamalpur"]}, "district P-codes"),
        ({"districts": []}, "at least one district"),
        ({"password": "short"}, "at least 10"),
        ({"username": "dc.jamalpur"}, "exists"),
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


def test_users_cli(config_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from agam.cli.main import app

    runner = CliRunner()
    monkeypatch.setenv("AGAM_NEW_PASSWORD", "a long password")
    add = runner.invoke(
        app,
        [
            "users",
            "add",
            "officer.kurigram",
            "--role",
            "officer",
            "--district",
            "BD5549",
            "--name",
            "DMO Kurigram",
        ],
    )
    assert add.exit_code == 0, add.stderr
    listed = json.loads(runner.invoke(app, ["users", "list", "--json"]).stdout)
    assert listed == [
        {
            "username": "officer.kurigram",
            "name": "DMO Kurigram",
            "role": "officer",
            "districts": ["BD5549"],
            "disabled": False,
        }
    ]
    assert "hash" not in runner.invoke(app, ["users", "list", "--json"]).stdout
    assert runner.invoke(app, ["users", "disable", "officer.kurigram"]).exit_code == 0
    assert runner.invoke(app, ["users", "disable", "ghost"]).exit_code == 1
    bad = runner.invoke(app, ["users", "add", "x y", "--role", "officer"])
    assert bad.exit_code == 8
    verified = runner.invoke(app, ["audit", "verify", "--json"])
    assert verified.exit_code == 0
    assert json.loads(verified.stdout)["entries"] == 2
