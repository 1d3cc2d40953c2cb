"""Personal API tokens for scripts (`AGAM_TOKEN`): random, shown once, kept as sha256 only,
expiring, revocable; they die with the account (disable, password reset).

A token is created only by a password sign-in (`via == "password"`): a stolen token cannot
mint more tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from agam.core.errors import NotFound, PermissionDenied, StoreError
from store import audit, throttle
from store._principals import issue
from store.identity import Principal, require_active
from store.models import ApiToken, User
from store.user_repo import SignIn, refuse

PREFIX = "agam_"
REFUSED = "invalid, expired or revoked token"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session, actor: Principal, name: str, at: datetime, days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for the acting account; returns the row and the token (shown once)."""
    user = require_active(session, actor, doing="create tokens")
    if actor.via != "password":
        raise PermissionDenied("create tokens after signing in with your password")
    limit = throttle.policy().tokens.max_days
    days = limit if days is None else days
    if not 0 < days <= limit:
        raise StoreError(f"token lifetime: 1 to {limit} days")
    if not name.strip() or len(name) > 64:
        raise StoreError("token name: 1 to 64 characters")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name.strip(),
        token_sha256=_digest(token),
        prefix=token[:12],
        created_at=at,
        expires_at=at + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        at=at,
        actor=user.username,
        action="token.create",
        entity="api_token",
        entity_id=row.id,
        payload={
            "name": row.name,
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        },
    )
    return row, token


def tokens_of(
    session: Session, actor: Principal, everyone: bool = False
) -> list[tuple[ApiToken, str]]:
    """(token, username) of the acting account, or of every account for an admin."""
    user = require_active(session, actor, ("admin",) if everyone else None, doing="list all tokens")
    stmt = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if not everyone:
        stmt = stmt.where(ApiToken.user_id == user.id)
    return [(t, u) for t, u in session.execute(stmt.order_by(ApiToken.id))]


def revoke_token(session: Session, actor: Principal, token_id: int, at: datetime) -> ApiToken:
    user = require_active(session, actor, doing="revoke tokens")
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != user.id and user.role != "admin"):
        raise NotFound(f"no token {token_id} of yours")
    if row.revoked_at is None:
        row.revoked_at = at
    audit.append(
        session,
        at=at,
        actor=user.username,
        action="token.revoke",
        entity="api_token",
        entity_id=token_id,
        payload={},
    )
    return row


def authenticate_token(session: Session, token: str, at: datetime, client: str) -> SignIn:
    """A principal for a valid token of an active account; failures throttled and audited."""
    keys = throttle.Keys.of("token:" + token[:12], client)
    wait = throttle.wait_s(session, keys, at)
    if wait > 0:
        refuse(session, at=at, channel="token", reason="throttled", client=client, user=None)
        return SignIn(None, f"too many failed sign-ins; try again in {int(wait) + 1} s", wait)
    row = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == _digest(token))).first()
    user = session.get(User, row.user_id) if row is not None else None
    reason = None
    if row is None or user is None:
        reason = "unknown token"
    elif row.revoked_at is not None:
        reason = "revoked token"
    elif row.expires_at is not None and row.expires_at <= at:
        reason = "expired token"
    elif user.disabled:
        reason = "disabled"
    throttle.record(session, keys, at, ok=reason is None)
    if reason is not None or row is None or user is None:
        refuse(session, at=at, channel="token", reason=reason or "unknown token", client=client,
               user=user)  # fmt: skip
        return SignIn(None, REFUSED)
    row.last_used_at = at
    return SignIn(issue(user, "token"), "ok")
