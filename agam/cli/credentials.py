"""Who is acting at the CLI, proven before anything is done.

A command that acts for a person signs in first: `--user NAME` (or $AGAM_USER) with the
password typed at a prompt or taken from $AGAM_PASSWORD for scripts, or a personal API token
in $AGAM_TOKEN (`agam users token create`). No credentials, wrong ones or a disabled account:
one line on stderr, exit 9, nothing done, and the attempt in the audit log.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from typing import Annotated

import typer

from agam.core.errors import NotAuthenticated
from agam.pipeline.context import AppContext
from store import token_repo, user_repo
from store.identity import Principal

PASSWORD_ENV = "AGAM_PASSWORD"  # noqa: S105 (the variable's name, not a secret)
TOKEN_ENV = "AGAM_TOKEN"  # noqa: S105
NEW_PASSWORD_ENV = "AGAM_NEW_PASSWORD"  # noqa: S105
UserOption = Annotated[
    str | None,
    typer.Option(
        "--user",
        envvar="AGAM_USER",
        help="the acting account (password prompted or $AGAM_PASSWORD); or set $AGAM_TOKEN",
    ),
]
NO_CREDENTIALS = (
    "no credentials: give --user NAME and type the password (or set AGAM_PASSWORD), "
    "or set AGAM_TOKEN"
)


def client_label() -> str:
    """Who is at the keyboard, as far as the machine knows (throttling and audit)."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = f"uid{os.getuid()}"
    return f"cli:{who}@{socket.gethostname()}"


def interactive() -> bool:
    return sys.stdin.isatty()


def _refuse(ctx: AppContext, reason: str, typed: str, message: str) -> NotAuthenticated:
    with ctx.store.session() as session:
        user_repo.refuse(
            session,
            at=ctx.now(),
            channel="cli",
            reason=reason,
            client=client_label(),
            user=None,
            typed=typed,
        )
    return NotAuthenticated(message)


def sign_in(ctx: AppContext, user: str | None, *, password_only: bool = False) -> Principal:
    """The acting principal, or NotAuthenticated (the attempt is audited either way)."""
    ctx.store.upgrade()
    client = client_label()
    token = os.environ.get(TOKEN_ENV)
    if token and not password_only:
        with ctx.store.session() as session:
            result = token_repo.authenticate_token(session, token, ctx.now(), client)
        if result.principal is not None and user and user != result.principal.username:
            raise _refuse(ctx, "token of another account", user, "AGAM_TOKEN is not --user's")
    else:
        if not user:
            raise _refuse(ctx, "no credentials", "", NO_CREDENTIALS)
        password = os.environ.get(PASSWORD_ENV)
        if password is None:
            if not interactive():
                raise _refuse(ctx, "no credentials", user, NO_CREDENTIALS)
            password = typer.prompt(f"Password for {user}", hide_input=True, err=True)
        with ctx.store.session() as session:
            result = user_repo.authenticate(session, user, password, ctx.now(), client)
    if result.principal is None:
        raise NotAuthenticated(result.message)
    return result.principal


def new_password(prompt: str = "New password") -> str:
    """A password for an account being created or reset: $AGAM_NEW_PASSWORD or typed twice."""
    password = os.environ.get(NEW_PASSWORD_ENV)
    if password is not None:
        return password
    if not interactive():
        raise NotAuthenticated(f"set {NEW_PASSWORD_ENV} or run interactively to type it")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True, err=True))
