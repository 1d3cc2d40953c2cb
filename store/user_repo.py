"""Local accounts: argon2 password hashes, roles and district scopes, sign-in throttling."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agam.core.errors import NotFound, StoreError
from store.models import User

ROLES = ("committee", "officer", "district_admin", "admin")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
DISTRICT = re.compile(r"^BD\d{4}$")
MAX_FAILED = 5
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is acting: the only identity the domain layers accept."""

    username: str
    role: str
    districts: tuple[str, ...]
    display_name: str = ""

    def covers(self, district_pcode: str) -> bool:
        return district_pcode in self.districts


def to_principal(user: User) -> Principal:
    return Principal(user.username, user.role, tuple(user.districts or ()), user.display_name)


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
) -> User:
    if not USERNAME.match(username):
        raise StoreError(f"username {username!r}: use 2–63 lowercase letters, digits, . _ -")
    if role not in ROLES:
        raise StoreError(f"role {role!r}: one of {', '.join(ROLES)}")
    bad = [d for d in districts if not DISTRICT.match(d)]
    if bad:
        raise StoreError(f"district P-codes must look like BD4539, not {', '.join(bad)}")
    if role == "district_admin" and not districts:
        raise StoreError("a district administrator needs at least one district")
    if password is not None and len(password) < 10:
        raise StoreError("password: at least 10 characters")
    if session.scalars(select(User).where(User.username == username)).first():
        raise StoreError(f"user {username!r} exists")
    user = User(
        username=username,
        role=role,
        districts=sorted(set(districts)),
        display_name=display_name or username,
        email=email,
        password_hash=_hasher.hash(password) if password else None,
        created_at=at,
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


def set_disabled(session: Session, username: str, disabled: bool) -> User:
    user = get_user(session, username)
    user.disabled = disabled
    return user


@dataclass(frozen=True)
class SignIn:
    principal: Principal | None
    message: str


def authenticate(session: Session, username: str, password: str, at: datetime) -> SignIn:
    """Check a password. Failures are counted (the caller commits); after MAX_FAILED the
    account is locked for LOCKOUT. Returns rather than raises so the count is kept."""
    refused = SignIn(None, "unknown user or wrong password")
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or user.disabled or not user.password_hash:
        _hasher_dummy_verify(password)
        return refused
    if user.locked_until is not None and at < user.locked_until:
        return SignIn(None, "too many failed sign-ins; try again later")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED:
            user.locked_until = at + LOCKOUT
            user.failed_logins = 0
        return refused
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return SignIn(to_principal(user), "ok")


_DUMMY = _hasher.hash("agam-timing-equaliser")


def _hasher_dummy_verify(password: str) -> None:
    """Spend the same time for unknown users as for wrong passwords."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY, password)
