"""Dashboard sessions that survive a browser reload: a signed, expiring, revocable token.

The token is `<id>.<expires>.<secret>.<signature>`: the row id, its expiry (Unix seconds),
32 random bytes, and an HMAC over the three with a key kept outside the database (the
dashboard reads it from AGAM_SESSION_KEY or a file beside the data, owner-only). The row
keeps only the secret's sha256. A token is accepted while its signature, expiry and row agree,
the row is not revoked (sign-out, password reset, account disabled) and the account is
active; write access to the database alone does not let anyone forge one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from store import throttle
from store._principals import issue
from store.identity import Principal, require_active
from store.models import DashboardSession, User

MIN_KEY_BYTES = 32


def _sign(key: bytes, payload: str) -> str:
    mac = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def create(session: Session, principal: Principal, key: bytes, at: datetime) -> str:
    """A session token for a principal verified just now (password or OIDC)."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError("session key too short")
    user = require_active(session, principal)
    secret = secrets.token_urlsafe(32)
    expires = at + timedelta(hours=throttle.policy().sessions.hours)
    row = DashboardSession(
        user_id=user.id,
        secret_sha256=_digest(secret),
        created_at=at,
        expires_at=expires,
        via=principal.via,
    )
    session.add(row)
    session.flush()
    payload = f"{row.id}.{int(expires.timestamp())}.{secret}"
    return f"{payload}.{_sign(key, payload)}"


def _parse(token: str, key: bytes) -> tuple[int, datetime, str] | None:
    parts = token.split(".")
    if len(parts) != 4 or len(token) > 256:
        return None
    row_id, expires, secret, signature = parts
    if not hmac.compare_digest(_sign(key, f"{row_id}.{expires}.{secret}"), signature):
        return None
    if not (row_id.isdigit() and expires.isdigit()):
        return None
    return int(row_id), datetime.fromtimestamp(int(expires), UTC), secret


def _row(session: Session, token: str, key: bytes, at: datetime) -> DashboardSession | None:
    parsed = _parse(token, key)
    if parsed is None or parsed[1] <= at:
        return None
    row = session.get(DashboardSession, parsed[0])
    if row is None or row.revoked_at is not None or row.expires_at <= at:
        return None
    if not hmac.compare_digest(row.secret_sha256, _digest(parsed[2])):
        return None
    return row


def principal_for(session: Session, token: str, key: bytes, at: datetime) -> Principal | None:
    """The principal of a live session of an active account, else None."""
    row = _row(session, token, key, at)
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return issue(user, "session")


def revoke(session: Session, token: str, key: bytes, at: datetime) -> str | None:
    """Sign-out: the row is revoked, so the cookie is dead wherever it was copied. Returns
    the account's username (None: no live session)."""
    row = _row(session, token, key, at)
    if row is None:
        return None
    row.revoked_at = at
    user = session.get(User, row.user_id)
    return user.username if user is not None else None
