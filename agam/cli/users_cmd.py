"""`agam users …`: accounts, roles and district scopes, invitations, passwords, API tokens.

`bootstrap` creates the first admin of a store that has none; everything else signs in first
(agam/cli/credentials.py) and, except one's own password and tokens, needs an admin.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from agam.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    emit_json,
    handle_errors,
    settings_for,
)
from agam.cli.credentials import UserOption, new_password, sign_in
from agam.core.timeutil import iso_utc
from agam.pipeline.context import AppContext
from store import audit, token_repo, user_repo
from store.identity import require_active

app = typer.Typer(help="Local accounts, roles and districts.", no_args_is_help=True)
token_app = typer.Typer(help="Personal API tokens (for scripts: AGAM_TOKEN).", no_args_is_help=True)
app.add_typer(token_app, name="token")
RoleOption = Annotated[str, typer.Option("--role", help="committee|officer|district_admin|admin")]
DistrictOption = Annotated[list[str] | None, typer.Option("--district", help="ADM2 P-code")]
NameOption = Annotated[str, typer.Option("--name")]


def _audited(ctx: AppContext, actor: str, action: str, target: str) -> Any:
    return audit.refusals_recorded(
        ctx.store, at=ctx.now(), actor=actor, action=action, entity="user", entity_id=target
    )


@app.command("bootstrap")
@handle_errors
def bootstrap(
    username: Annotated[str, typer.Argument()],
    name: NameOption = "",
    config: ConfigOption = None,
) -> None:
    """Create the first admin of a store without one (refused once an admin exists); the
    password is typed twice (or read from $AGAM_NEW_PASSWORD)."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    password = new_password()
    with _audited(ctx, username, "user.bootstrap", username), ctx.store.session() as session:
        user_repo.bootstrap_admin(
            session, username=username, password=password, display_name=name, at=ctx.now()
        )
    console.print(f"created the first admin, {username}", markup=False)


@app.command("add")
@handle_errors
def add(
    username: Annotated[str, typer.Argument()],
    role: RoleOption,
    district: DistrictOption = None,
    name: NameOption = "",
    email: Annotated[str | None, typer.Option("--email")] = None,
    user: UserOption = None,
    config: ConfigOption = None,
) -> None:
    """An admin adds an account with a password (typed twice, or $AGAM_NEW_PASSWORD). Needs
    the admin's password: an API token never makes new credentials."""
    ctx = AppContext(settings_for(config))
    actor = sign_in(ctx, user, password_only=True)
    password = new_password(f"Password for {username}")
    with _audited(ctx, actor.username, "user.add", username), ctx.store.session() as session:
        user_repo.admin_add_user(
            session,
            actor,
            username=username,
            role=role,
            districts=list(district or []),
            password=password,
            display_name=name,
            at=ctx.now(),
            email=email,
            known_districts=_districts(ctx),
        )
    console.print(f"added {username} ({role})", markup=False)


@app.command("invite")
@handle_errors
def invite(
    username: Annotated[str, typer.Argument()],
    email: Annotated[str, typer.Option("--email", help="the address the provider verifies")],
    role: RoleOption,
    district: DistrictOption = None,
    name: NameOption = "",
    user: UserOption = None,
    config: ConfigOption = None,
) -> None:
    """An admin invites an organisation (OIDC) account: the first sign-in with this verified
    e-mail binds it to the provider's subject; later sign-ins match the subject only. Needs
    the admin's password, not an API token."""
    ctx = AppContext(settings_for(config))
    actor = sign_in(ctx, user, password_only=True)
    with _audited(ctx, actor.username, "user.invite", username), ctx.store.session() as session:
        user_repo.admin_add_user(
            session,
            actor,
            username=username,
            role=role,
            districts=list(district or []),
            password=None,
            display_name=name,
            at=ctx.now(),
            email=email,
            known_districts=_districts(ctx),
        )
    console.print(f"invited {username} ({role}) at {email}", markup=False)


def _districts(ctx: AppContext) -> set[str]:
    """The district P-codes of the union layer: an account's districts must be among them."""
    return set(ctx.union_layer().frame["adm2_pcode"].astype(str))


@app.command("list")
@handle_errors
def list_users(
    user: UserOption = None, config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """Accounts with role, districts and state (never password hashes); admins only."""
    ctx = AppContext(settings_for(config))
    actor = sign_in(ctx, user)
    with ctx.store.read() as session:
        require_active(session, actor, ("admin",), doing="list accounts")
        rows: list[dict[str, Any]] = [
            {
                "username": u.username,
                "name": u.display_name,
                "role": u.role,
                "districts": list(u.districts),
                "disabled": u.disabled,
                "sign_in": "oidc" if u.oidc_subject else "invited" if u.invited_at else "password",
            }
            for u in user_repo.list_users(session)
        ]
    if as_json:
        emit_json(rows)
        return
    table = Table("username", "name", "role", "districts", "sign-in", "state")
    for r in rows:
        table.add_row(
            r["username"],
            r["name"],
            r["role"],
            ", ".join(r["districts"]) or "—",
            r["sign_in"],
            "disabled" if r["disabled"] else "active",
        )
    console.print(table)


def _set_disabled(username: str, disabled: bool, user: str | None, config: Any) -> None:
    ctx = AppContext(settings_for(config))
    actor = sign_in(ctx, user)
    action = "user.disable" if disabled else "user.enable"
    with _audited(ctx, actor.username, action, username), ctx.store.session() as session:
        user_repo.set_disabled(session, actor, username, disabled, ctx.now())
    console.print(f"{'disabled' if disabled else 'enabled'} {username}", markup=False)


@app.command("disable")
@handle_errors
def disable(
    username: Annotated[str, typer.Argument()],
    user: UserOption = None,
    config: ConfigOption = None,
) -> None:
    """Disable an account: it can no longer sign in and its sessions and tokens end at once
    (history keeps its name)."""
    _set_disabled(username, True, user, config)


@app.command("enable")
@handle_errors
def enable(
    username: Annotated[str, typer.Argument()],
    user: UserOption = None,
    config: ConfigOption = None,
) -> None:
    """Enable a disabled account again (its old tokens stay revoked)."""
    _set_disabled(username, False, user, config)


@app.command("reset-password")
@handle_errors
def reset_password(
    username: Annotated[str, typer.Argument()],
    user: UserOption = None,
    config: ConfigOption = None,
) -> None:
    """Set a new password (admins for anyone, everyone for themselves); the account's
    dashboard sessions and API tokens end. Needs the actor's current password: a leaked API
    token must not become a password."""
    ctx = AppContext(settings_for(config))
    actor = sign_in(ctx, user, password_only=True)
    password = new_password(f"New password for {username}")
    action = "user.reset_password"
    with _audited(ctx, actor.username, action, username), ctx.store.session() as session:
        user_repo.reset_password(session, actor, username, password, ctx.now())
    console.print(f"password of {username} reset; its sessions and tokens ended", markup=False)


@token_app.command("create")
@handle_errors
def token_create(
    name: Annotated[str, typer.Option("--name", help="what the token is for")],
    days: Annotated[
        int | None, typer.Option("--days", help="lifetime (default: the maximum)")
    ] = None,
    user: UserOption = None,
    config: ConfigOption = None,
) -> None:
    """A personal API token for scripts (sign in with your password). Shown once: only its
    hash is kept. Use it as AGAM_TOKEN."""
    ctx = AppContext(settings_for(config))
    actor = sign_in(ctx, user, password_only=True)
    with ctx.store.session() as session:
        row, token = token_repo.create_token(session, actor, name, ctx.now(), days)
        expires = iso_utc(row.expires_at) if row.expires_at else "never"
    console.print(f"token {row.id} ({name}) for {actor.username}, expires {expires}:", markup=False)
    console.print(token, markup=False, highlight=False, soft_wrap=True)


@token_app.command("list")
@handle_errors
def token_list(
    everyone: Annotated[
        bool, typer.Option("--all", help="every account's tokens (admins)")
    ] = False,
    user: UserOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Your tokens (or everyone's): id, name, prefix, dates; never the token."""
    ctx = AppContext(settings_for(config))
    actor = sign_in(ctx, user)
    with ctx.store.read() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": t.id,
                "username": username,
                "name": t.name,
                "prefix": t.prefix,
                "created_at": iso_utc(t.created_at),
                "expires_at": iso_utc(t.expires_at) if t.expires_at else None,
                "last_used_at": iso_utc(t.last_used_at) if t.last_used_at else None,
                "revoked": t.revoked_at is not None,
            }
            for t, username in token_repo.tokens_of(session, actor, everyone)
        ]
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "account", "name", "prefix", "expires", "last used", "state")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["username"],
            r["name"],
            r["prefix"] + "…",
            r["expires_at"] or "—",
            r["last_used_at"] or "—",
            "revoked" if r["revoked"] else "active",
        )
    console.print(table)


@token_app.command("revoke")
@handle_errors
def token_revoke(
    token_id: Annotated[int, typer.Argument()],
    user: UserOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke one of your tokens (admins: anyone's)."""
    ctx = AppContext(settings_for(config))
    actor = sign_in(ctx, user)
    with ctx.store.session() as session:
        token_repo.revoke_token(session, actor, token_id, ctx.now())
    console.print(f"token {token_id} revoked", markup=False)
