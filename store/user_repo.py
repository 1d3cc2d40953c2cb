"""Accounts: argon2 passwords, roles and district scopes, sign-in, administration.

Signing in is the only way to obtain a `Principal` (store.identity): by password here, by API
token (token_repo), dashboard session (session_repo) or OIDC subject (oidc_repo). Every
failure is throttled (store.throttle), answered with the same words whether the account
exists or not, and audited. Managing accounts needs an active admin, checked in the same
transaction; the first admin of an empty store comes from `bootstrap_admin`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from agam.core.errors import NotFound, PermissionDenied, StoreError
from agam.core.typed_text import unfit_text
from store import audit, throttle
from store._principals import issue
from store.identity import Principal, require_active
from store.models import ApiToken, DashboardSession, User

__all__ = ["Principal"]

MAX_DISPLAY_NAME = 128  # the column's length
ROLES = ("committee", "officer", "district_admin", "admin")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
DISTRICT = re.compile(r"^BD\d{4}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
MIN_PASSWORD = 10
MIN_DISTINCT = 5  # different characters in a password
WEAK_RUNS = ("0123456789012345678901234567890", "abcdefghijklmnopqrstuvwxyz",
             "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb")  # fmt: skip
REFUSED = "unknown user or wrong password"
ADMIN = ("admin",)

_hasher = PasswordHasher()


@dataclass(frozen=True)
class SignIn:
    principal: Principal | None
    message: str
    wait_s: float = 0.0


def _check(
    username: str,
    role: str,
    districts: list[str],
    email: str | None,
    known_districts: Collection[str] | None = None,
    display_name: str = "",
) -> None:
    if not USERNAME.match(username):
        raise StoreError(f"username {username!r}: use 2–63 lowercase letters, digits, . _ -")
    if role not in ROLES:
        raise StoreError(f"role {role!r}: one of {', '.join(ROLES)}")
    bad = [d for d in districts if not DISTRICT.match(d)]
    if bad:
        raise StoreError(f"district P-codes must look like BD4539, not {', '.join(bad)}")
    unknown = sorted(set(districts) - set(known_districts)) if known_districts else []
    if unknown:
        raise StoreError(f"no district {', '.join(unknown)} in the union layer")
    if role == "district_admin" and not districts:
        raise StoreError("a district administrator needs at least one district")
    if why := unfit_text(display_name, MAX_DISPLAY_NAME):
        raise StoreError(f"display name: {why}")
    if email is not None and not EMAIL.match(email):
        raise StoreError("e-mail: not an address")


def _check_password(password: str, username: str) -> None:
    """Long, not one or two characters repeated, not a keyboard or alphabet run, not the
    account's name (NIST SP 800-63B: length and known-weak checks, no composition rules)."""
    if len(password) < MIN_PASSWORD:
        raise StoreError(f"password: at least {MIN_PASSWORD} characters")
    folded = password.casefold()
    if len(set(folded)) < MIN_DISTINCT or any(folded in run for run in WEAK_RUNS):
        raise StoreError("password: too easy to guess (a repeated character or a keyboard run)")
    if username.casefold() in folded:
        raise StoreError("password: must not contain the user name")


def add_user(
    session: Session,
    *,
    username: str,
    role: str,
    districts: list[str],
    password: str | None,
    display_name: str,
    at: datetime,
    email: str | None = None,
    created_by: str | None = None,
    invited: bool = False,
    known_districts: Collection[str] | None = None,
) -> User:
    """Create an account (no authorisation here: see admin_add_user, bootstrap_admin).
    `known_districts`: the district P-codes of the union layer, when the caller has it."""
    _check(username, role, districts, email, known_districts, display_name)
    if password is not None:
        _check_password(password, username)
    if session.scalars(select(User).where(User.username == username)).first():
        raise StoreError(f"user {username!r} exists")
    user = User(
        username=username,
        role=role,
        districts=sorted(set(districts)),
        display_name=display_name or username,
        email=email.lower() if email else None,
        password_hash=_hasher.hash(password) if password else None,
        created_at=at,
        created_by=created_by,
        invited_at=at if invited else None,
        password_changed_at=at if password else None,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def bootstrap_admin(
    session: Session, *, username: str, password: str, display_name: str, at: datetime
) -> User:
    """The first admin of a store without one; refused once any admin exists."""
    if session.get_bind().dialect.name == "postgresql":  # two bootstraps at once: one wins
        session.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
    admins = session.scalar(select(func.count()).select_from(User).where(User.role == "admin"))
    if admins:
        raise PermissionDenied("an admin exists already; ask an admin to add accounts")
    user = add_user(
        session,
        username=username,
        role="admin",
        districts=[],
        password=password,
        display_name=display_name,
        at=at,
        created_by="bootstrap",
    )
    audit.append(
        session,
        at=at,
        actor=username,
        action="user.bootstrap",
        entity="user",
        entity_id=username,
        payload={"role": "admin"},
    )
    return user


def admin_add_user(
    session: Session,
    actor: Principal,
    *,
    username: str,
    role: str,
    districts: list[str],
    password: str | None,
    display_name: str,
    at: datetime,
    email: str | None = None,
    known_districts: Collection[str] | None = None,
) -> User:
    """An admin adds an account: with a password, or (no password, an e-mail) an invitation
    that the first OIDC sign-in with that verified e-mail takes up."""
    require_active(session, actor, ADMIN, doing="manage users")
    invited = password is None
    if invited and not email:
        raise StoreError("an account without a password is an invitation: give its e-mail")
    user = add_user(
        session,
        username=username,
        role=role,
        districts=districts,
        password=password,
        display_name=display_name,
        at=at,
        email=email,
        created_by=actor.username,
        invited=invited,
        known_districts=known_districts,
    )
    audit.append(
        session,
        at=at,
        actor=actor.username,
        action="user.invite" if invited else "user.add",
        entity="user",
        entity_id=username,
        payload={"role": role, "districts": user.districts},
    )
    return user


def revoke_credentials(session: Session, user_id: int, at: datetime) -> None:
    """End every dashboard session and API token of an account."""
    for model in (DashboardSession, ApiToken):
        session.execute(
            update(model)
            .where(model.user_id == user_id, model.revoked_at.is_(None))
            .values(revoked_at=at)
        )


def set_disabled(
    session: Session, actor: Principal, username: str, disabled: bool, at: datetime
) -> User:
    """An admin disables (sessions and tokens end at once) or re-enables an account."""
    require_active(session, actor, ADMIN, doing="manage users")
    if disabled and username == actor.username:
        raise PermissionDenied("an admin cannot disable their own account")
    user = get_user(session, username)
    user.disabled = disabled
    if disabled:
        revoke_credentials(session, user.id, at)
    audit.append(
        session,
        at=at,
        actor=actor.username,
        action="user.disable" if disabled else "user.enable",
        entity="user",
        entity_id=username,
        payload={},
    )
    return user


def reset_password(
    session: Session, actor: Principal, username: str, password: str, at: datetime
) -> User:
    """An admin (or the account itself) sets a new password; its sessions and tokens end."""
    roles = None if username == actor.username else ADMIN
    require_active(session, actor, roles, doing="reset others' passwords")
    _check_password(password, username)
    user = get_user(session, username)
    user.password_hash = _hasher.hash(password)
    user.password_changed_at = at
    revoke_credentials(session, user.id, at)
    audit.append(
        session,
        at=at,
        actor=actor.username,
        action="user.reset_password",
        entity="user",
        entity_id=username,
        payload={},
    )
    return user


def refuse(
    session: Session,
    *,
    at: datetime,
    channel: str,
    reason: str,
    client: str,
    user: User | None,
    typed: str = "",
) -> None:
    """Audit a refused sign-in. An unknown name is kept only as a short hash (it may be a
    password typed into the wrong field)."""
    payload = {"channel": channel, "reason": reason, "client": client}
    if user is None and typed:
        payload["name_sha256"] = throttle.key(typed.strip().lower())[:16]
    audit.append(
        session,
        at=at,
        actor=user.username if user is not None else "unknown",
        action="auth.failed",
        entity="user",
        entity_id=user.username if user is not None else "unknown",
        payload=payload,
    )


def authenticate(
    session: Session, username: str, password: str, at: datetime, client: str = "unknown"
) -> SignIn:
    """Check a password. Returns (never raises) so the caller commits the throttle record and
    the audit entry of a failure. Unknown, disabled and wrong look the same from outside."""
    keys = throttle.Keys.of(username, client)
    wait = throttle.wait_s(session, keys, at)
    user = session.scalars(select(User).where(User.username == username.strip().lower())).first()
    if wait > 0:
        refuse(session, at=at, channel="password", reason="throttled", client=client, user=user,
               typed=username)  # fmt: skip
        return SignIn(None, f"too many failed sign-ins; try again in {int(wait) + 1} s", wait)
    reason = _password_problem(user, password)
    throttle.record(session, keys, at, ok=reason is None)
    if reason is not None or user is None:
        refuse(session, at=at, channel="password", reason=reason or "unknown user",
               client=client, user=user, typed=username)  # fmt: skip
        return SignIn(None, REFUSED)
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    return SignIn(issue(user, "password"), "ok")


def _password_problem(user: User | None, password: str) -> str | None:
    """Why the password does not open this account (None: it does). Spends one argon2
    verification whatever the case, so timing does not tell unknown from wrong."""
    if user is None or not user.password_hash:
        _dummy_verify(password)
        return "unknown user" if user is None else "no password (OIDC account)"
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return "wrong password"
    return "disabled" if user.disabled else None


_DUMMY = _hasher.hash("agam-timing-equaliser")


def _dummy_verify(password: str) -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY, password)
