"""Issuing principals: the process secret that seals them. Imported only by the store's
verification functions (import-linter forbids it anywhere else); see store/identity.py."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.identity import Principal
    from store.models import User

_PROCESS_KEY = secrets.token_bytes(32)
VIA = ("password", "token", "session", "oidc")


def seal_of(user_id: int, username: str, role: str, districts: tuple[str, ...], via: str) -> str:
    message = "\x1f".join((str(user_id), username, role, ",".join(districts), via))
    return hmac.new(_PROCESS_KEY, message.encode(), hashlib.sha256).hexdigest()


def issue(user: User, via: str) -> Principal:
    """A principal for an account just verified: only user_repo, token_repo, session_repo
    and oidc_repo call this."""
    from store.identity import Principal  # identity imports this module for seal_of

    if via not in VIA:
        raise ValueError(f"unknown verification {via!r}")
    districts = tuple(sorted(user.districts or ()))
    return Principal(
        user.id,
        user.username,
        user.role,
        districts,
        user.display_name,
        via,
        seal_of(user.id, user.username, user.role, districts, via),
    )
