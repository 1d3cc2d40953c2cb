"""`agam users add|list|disable`: local accounts, roles and district scopes."""

from __future__ import annotations

import os
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
from agam.core.errors import StoreError
from agam.pipeline.context import AppContext
from store import audit, user_repo

app = typer.Typer(help="Local accounts, roles and districts.", no_args_is_help=True)
PASSWORD_ENV = "AGAM_NEW_PASSWORD"  # noqa: S105 (the variable name, not a secret)


@app.command("add")
@handle_errors
def add(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option("--role", help="committee|officer|district_admin|admin")],
    district: Annotated[list[str] | None, typer.Option("--district", help="ADM2 P-code")] = None,
    name: Annotated[str, typer.Option("--name")] = "",
    email: Annotated[str | None, typer.Option("--email")] = None,
    config: ConfigOption = None,
) -> None:
    """Add an account; the password is prompted (or read from $AGAM_NEW_PASSWORD)."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    password = os.environ.get(PASSWORD_ENV) or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    with ctx.store.session() as session:
        user = user_repo.add_user(
            session,
            username=username,
            role=role,
            districts=list(district or []),
            password=password,
            display_name=name,
            at=ctx.now(),
            email=email,
        )
        audit.append(
            session,
            at=ctx.now(),
            actor="cli",
            action="user.add",
            entity="user",
            entity_id=user.username,
            payload={"role": role, "districts": user.districts},
        )
    console.print(f"added {username} ({role})", markup=False)


@app.command("list")
@handle_errors
def list_users(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Accounts with role, districts and state (never password hashes)."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    with ctx.store.read() as session:
        rows: list[dict[str, Any]] = [
            {
                "username": u.username,
                "name": u.display_name,
                "role": u.role,
                "districts": list(u.districts),
                "disabled": u.disabled,
            }
            for u in user_repo.list_users(session)
        ]
    if as_json:
        emit_json(rows)
        return
    table = Table("username", "name", "role", "districts", "state")
    for r in rows:
        table.add_row(
            r["username"],
            r["name"],
            r["role"],
            ", ".join(r["districts"]) or "—",
            "disabled" if r["disabled"] else "active",
        )
    console.print(table)


@app.command("disable")
@handle_errors
def disable(username: Annotated[str, typer.Argument()], config: ConfigOption = None) -> None:
    """Disable an account (it can no longer sign in; history keeps its name)."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    with ctx.store.session() as session:
        user = user_repo.set_disabled(session, username, True)
        if user is None:
            raise StoreError(f"no user {username!r}")
        audit.append(
            session,
            at=ctx.now(),
            actor="cli",
            action="user.disable",
            entity="user",
            entity_id=username,
            payload={},
        )
    console.print(f"disabled {username}", markup=False)
