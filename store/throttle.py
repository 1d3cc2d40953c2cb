"""Growing waits after failed sign-ins: per account and client, per client, per account.

Never a lock-out: each key only makes the next attempt wait, and the account-wide wait is
capped low (data/sign_in.toml), so an attacker elsewhere can slow a district administrator
down by seconds but not shut them out. Keys are sha256 hashes of what was typed and of the
client, so a password typed into the user-name field is never stored.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from store.models import SignInAttempt

POLICY_FILE = Path(__file__).resolve().parent / "data" / "sign_in.toml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rule(_Frozen):
    free_failures: int = Field(ge=0)
    first_delay_seconds: float = Field(gt=0)
    max_delay_seconds: float = Field(gt=0)

    def delay_s(self, failures: int) -> float:
        over = failures - self.free_failures
        if over <= 0:
            return 0.0
        return float(min(self.first_delay_seconds * 2 ** min(over - 1, 30), self.max_delay_seconds))


class Sessions(_Frozen):
    hours: float = Field(gt=0)


class Tokens(_Frozen):
    max_days: int = Field(gt=0)


class Retention(_Frozen):
    attempts_days: int = Field(gt=0)


class SignInPolicy(_Frozen):
    version: str
    window_minutes: int = Field(gt=0)
    pair: Rule
    client: Rule
    account: Rule
    sessions: Sessions
    tokens: Tokens
    retention: Retention


@lru_cache(maxsize=1)
def policy() -> SignInPolicy:
    return SignInPolicy.model_validate(tomllib.loads(POLICY_FILE.read_text(encoding="utf-8")))


def key(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Keys:
    account: str
    client: str

    @classmethod
    def of(cls, typed_name: str, client: str) -> Keys:
        return cls(key(typed_name.strip().lower()), key(client))


def _remaining_s(
    session: Session, rule: Rule, where: list[ColumnElement[bool]], reset: bool, at: datetime
) -> float:
    since = at - timedelta(minutes=policy().window_minutes)
    if reset:
        last_ok = session.scalar(
            select(func.max(SignInAttempt.at)).where(
                *where, SignInAttempt.ok.is_(True), SignInAttempt.at <= at
            )
        )
        if last_ok is not None and last_ok > since:
            since = last_ok
    count, last = session.execute(
        select(func.count(), func.max(SignInAttempt.at)).where(
            *where,
            SignInAttempt.ok.is_(False),
            SignInAttempt.at > since,
            SignInAttempt.at <= at,
        )
    ).one()
    if not count:
        return 0.0
    return max(0.0, (last + timedelta(seconds=rule.delay_s(count)) - at).total_seconds())


def wait_s(session: Session, keys: Keys, at: datetime) -> float:
    """Seconds before this client may try this account again (0: now)."""
    p = policy()
    account = SignInAttempt.account_key == keys.account
    client = SignInAttempt.client_key == keys.client
    return max(
        _remaining_s(session, p.pair, [account, client], True, at),
        # a client's own successes do not reset it: one valid account must not cover spraying
        _remaining_s(session, p.client, [client], False, at),
        _remaining_s(session, p.account, [account], True, at),
    )


def record(session: Session, keys: Keys, at: datetime, ok: bool) -> None:
    """Note an attempt. A success is written only when it resets failures of the account (a
    routine sign-in writes nothing)."""
    if ok:
        since = at - timedelta(minutes=policy().window_minutes)
        failed = session.scalar(
            select(func.count()).where(
                SignInAttempt.account_key == keys.account,
                SignInAttempt.ok.is_(False),
                SignInAttempt.at > since,
            )
        )
        if not failed:
            return
    session.add(SignInAttempt(at=at, account_key=keys.account, client_key=keys.client, ok=ok))
    old = at - timedelta(days=policy().retention.attempts_days)
    session.execute(
        delete(SignInAttempt).where(
            SignInAttempt.account_key == keys.account, SignInAttempt.at < old
        )
    )
    session.flush()
