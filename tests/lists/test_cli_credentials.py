"""Every CLI decision proves who is acting: no credentials, a wrong password, a disabled
account or one person taking both steps is refused with one line, nothing is written and the
attempt is audited; with credentials (password, prompt or token) it works."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from agam.cli import credentials
from agam.cli.main import app
from agam.core.settings import Settings
from store import audit
from store.db import Store
from store.models import AllowanceList, Decision
from store.user_repo import get_user

runner = CliRunner()
PASSWORD = "a long test password"


@pytest.fixture
def list_id(seeded_settings: Settings) -> str:
    result = runner.invoke(app, ["lists", "propose", "1", "--json"])
    assert result.exit_code == 0, result.stderr
    return "1"


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> tuple[int, str]:
    base = {"AGAM_PASSWORD": None, "AGAM_TOKEN": None, "AGAM_USER": None}
    result = runner.invoke(app, list(args), env=base | (env or {}), input=stdin)
    return result.exit_code, result.stderr


def state(settings: Settings) -> tuple[str, int]:
    with Store(settings.database_url).session() as session:
        row = session.get(AllowanceList, 1)
        decisions = session.scalar(select(func.count()).select_from(Decision))
        return row.status, decisions


def audited(settings: Settings, action: str) -> list[dict[str, object]]:
    with Store(settings.database_url).session() as session:
        return [dict(e.payload, actor=e.actor) for e in audit.entries_for(session, action)]


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_refused_without_credentials_wrong_password_or_disabled(
    seeded_settings: Settings, list_id: str
) -> None:
    code, err = run("lists", "submit", list_id)
    assert code == 9
    assert "no credentials" in one_line(err)
    code, err = run("lists", "submit", list_id, "--user", "officer.kurigram")  # no TTY, no env
    assert (code, "no credentials" in one_line(err)) == (9, True)
    code, err = run(
        "lists", "submit", list_id, "--user", "officer.kurigram", env={"AGAM_PASSWORD": "nope"}
    )
    assert (code, one_line(err)) == (9, "error: unknown user or wrong password")
    with Store(seeded_settings.database_url).session() as session:
        get_user(session, "officer.kurigram").disabled = True
    code, err = run(
        "lists", "submit", list_id, "--user", "officer.kurigram", env={"AGAM_PASSWORD": PASSWORD}
    )
    assert (code, one_line(err)) == (9, "error: unknown user or wrong password")
    assert state(seeded_settings) == ("draft", 0)  # nothing written
    reasons = [e["reason"] for e in audited(seeded_settings, "auth.failed")]
    assert reasons == ["no credentials", "no credentials", "wrong password", "disabled"]


def test_one_person_cannot_take_both_steps(seeded_settings: Settings, list_id: str) -> None:
    officer = {"AGAM_PASSWORD": PASSWORD}
    code, err = run("lists", "submit", list_id, "--user", "officer.kurigram", env=officer)
    assert code == 0, err
    # the officer names the administrator: the administrator's password is needed
    code, err = run(
        "lists", "approve", list_id, "--user", "dc.kurigram", env={"AGAM_PASSWORD": "x" * 12}
    )
    assert (code, one_line(err)) == (9, "error: unknown user or wrong password")
    # the officer as themselves: not their step
    code, err = run("lists", "approve", list_id, "--user", "officer.kurigram", env=officer)
    assert code == 8
    assert "officer.kurigram (officer) may not approve lists" in one_line(err)
    assert state(seeded_settings) == ("submitted", 1)
    refused = audited(seeded_settings, "list.approve.refused")
    assert [(e["actor"], "may not approve" in str(e["reason"])) for e in refused] == [
        ("officer.kurigram", True)
    ]
    # promoted to district administrator, the submitter still cannot approve their own list
    with Store(seeded_settings.database_url).session() as session:
        get_user(session, "officer.kurigram").role = "district_admin"
    code, err = run("lists", "approve", list_id, "--user", "officer.kurigram", env=officer)
    assert code == 8
    assert "prepared or submitted" in one_line(err)
    code, err = run("lists", "approve", list_id, "--user", "dc.kurigram", env=officer)
    assert code == 0, err
    assert state(seeded_settings) == ("approved", 2)


def test_interactive_password_prompt(
    seeded_settings: Settings, list_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credentials, "interactive", lambda: True)
    code, err = run("lists", "submit", list_id, "--user", "officer.kurigram", stdin="wrong pw\n")
    assert code == 9
    code, err = run("lists", "submit", list_id, "--user", "officer.kurigram", stdin=PASSWORD + "\n")
    assert code == 0, err
    assert PASSWORD not in err
    assert state(seeded_settings) == ("submitted", 1)


def test_personal_tokens_shown_once_revocable(seeded_settings: Settings, list_id: str) -> None:
    officer = {"AGAM_USER": "officer.kurigram", "AGAM_PASSWORD": PASSWORD}
    created = runner.invoke(app, ["users", "token", "create", "--name", "cron"], env=officer)
    assert created.exit_code == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("agam_")
    listed = runner.invoke(app, ["users", "token", "list", "--json"], env=officer)
    assert token not in listed.stdout
    assert token[:12] in listed.stdout
    with_token = {"AGAM_TOKEN": token}
    code, err = run("lists", "submit", list_id, "--user", "dc.kurigram", env=with_token)
    assert (code, "not --user's" in one_line(err)) == (9, True)
    code, err = run("lists", "submit", list_id, env=with_token)
    assert code == 0, err
    code, _ = run("lists", "approve", list_id, env=with_token)
    assert code == 8  # the officer's token is the officer
    # a token never becomes a password or an account (it would outlive its revocation)
    takeover = with_token | {"AGAM_NEW_PASSWORD": "Takeover-Passw0rd-2026"}
    for args in (
        ("users", "reset-password", "officer.kurigram"),
        ("users", "reset-password", "officer.kurigram", "--user", "officer.kurigram"),
        ("users", "add", "mole", "--role", "officer", "--district", "BD5549"),
    ):
        code, err = run(*args, env=takeover)
        assert code == 9, (args, err)
    code, _ = run("users", "token", "list", env=officer)
    assert code == 0  # the password is unchanged
    assert runner.invoke(app, ["users", "token", "revoke", "1"], env=officer).exit_code == 0
    code, err = run("alerts", "close", "1", "--reason", "x", env=with_token)
    assert (code, one_line(err)) == (9, "error: invalid, expired or revoked token")
    assert state(seeded_settings) == ("submitted", 1)


def test_accounts_are_managed_by_admins_only(seeded_settings: Settings) -> None:
    new = {"AGAM_NEW_PASSWORD": "the first admin pw"}
    assert run("users", "bootstrap", "root", env=new)[0] == 8  # the seed holds an admin
    admin = {"AGAM_USER": "admin.a", "AGAM_PASSWORD": PASSWORD, "AGAM_NEW_PASSWORD": PASSWORD}
    officer = admin | {"AGAM_USER": "officer.kurigram"}
    add = ("users", "add", "dc.new", "--role", "district_admin", "--district", "BD5549")
    code, err = run(*add, env=officer)
    assert (code, "may not manage users" in one_line(err)) == (8, True)
    assert run(*add, env=admin)[0] == 0
    code, err = run("users", "add", "dc.nowhere", "--role", "district_admin", "--district",
                    "BD9999", env=admin)  # fmt: skip
    assert (code, one_line(err)) == (8, "error: no district BD9999 in the union layer")
    code, err = run("users", "add", "dc.rtl", "--role", "officer", "--name", "Admin \u202eLTR",
                    env=admin)  # fmt: skip
    assert (code, "display name" in one_line(err)) == (8, True)
    assert run("users", "disable", "dc.new", env=officer)[0] == 8
    assert run("users", "disable", "dc.new", env=admin)[0] == 0
    code, err = run(
        "users",
        "reset-password",
        "officer.kurigram",
        env=officer | {"AGAM_NEW_PASSWORD": "a new long pw"},
    )
    assert code == 0, err
    assert run("users", "list", env=officer | {"AGAM_PASSWORD": "a new long pw"})[0] == 8
    refused = audited(seeded_settings, "user.add.refused")
    assert [e["actor"] for e in refused] == ["officer.kurigram", "admin.a", "admin.a"]


def test_bootstrap_creates_the_first_admin_of_an_empty_store(config_path: object) -> None:
    new = {"AGAM_NEW_PASSWORD": "the first admin pw"}
    assert run("users", "bootstrap", "root", env=new)[0] == 0
    code, err = run("users", "bootstrap", "eve", env=new)
    assert (code, "an admin exists" in one_line(err)) == (8, True)
    listed = runner.invoke(
        app,
        ["users", "list", "--json"],
        env={"AGAM_USER": "root", "AGAM_PASSWORD": "the first admin pw"},
    )
    assert listed.exit_code == 0
    assert '"root"' in listed.stdout


def test_approvals_are_set_by_an_admin_in_the_store(
    seeded_settings: Settings, list_id: str
) -> None:
    result = runner.invoke(app, ["lists", "approvals"])
    assert "approved by 1 district administrator" in result.stdout
    dc = {"AGAM_USER": "dc.kurigram", "AGAM_PASSWORD": PASSWORD}
    assert run("lists", "approvals", "two", env=dc)[0] == 8
    admin = {"AGAM_USER": "admin.a", "AGAM_PASSWORD": PASSWORD}
    result = runner.invoke(app, ["lists", "approvals", "two"], env=admin)
    assert result.exit_code == 0, result.stderr
    assert "approved by 2 district administrator" in result.stdout
    officer = {"AGAM_USER": "officer.kurigram", "AGAM_PASSWORD": PASSWORD}
    assert run("lists", "submit", list_id, env=officer)[0] == 0
    approved = runner.invoke(app, ["lists", "approve", list_id], env=dc)  # config says one
    assert "first approval recorded by dc.kurigram" in approved.stdout
    assert state(seeded_settings)[0] == "submitted"
