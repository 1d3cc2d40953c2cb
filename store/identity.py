"""Who is acting: a `Principal` the store issues only after verifying an identity.

The store's sign-in functions (password, API token, dashboard session, OIDC subject) are the
only callers of `store._principals.issue` (import-linter forbids every other package from
importing that module). Each principal carries a seal, an HMAC keyed with a secret that
lives only in this process, so a `Principal(...)` built anywhere else, or one whose role or
districts were altered, is refused. The seal is not the control on its own: every decision
re-reads the account inside its own transaction (`require_active`) and acts on the stored
role and districts, so a principal issued before an account was disabled or changed is
refused too.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from agam.core.errors import PermissionDenied
from agam.core.transitions import NATIONAL_ROLES
from store._principals import seal_of
from store.models import User


@dataclass(frozen=True)
class Principal:
    """A verified identity: the only one the domain layers accept."""

    user_id: int
    username: str
    role: str
    districts: tuple[str, ...]
    display_name: str
    via: str  # how it was verified: password | token | session | oidc
    seal: str = field(repr=False, compare=False)

    def covers(self, district_pcode: str) -> bool:
        return district_pcode in self.districts


def is_sealed(principal: Principal) -> bool:
    expected = seal_of(
        principal.user_id, principal.username, principal.role, principal.districts, principal.via
    )
    return hmac.compare_digest(expected, principal.seal)


def require_active(
    session: Session,
    principal: Principal,
    roles: tuple[str, ...] | None = None,
    district: str | None = None,
    doing: str = "act",
) -> User:
    """The acting account, re-read in the caller's transaction: sealed by this process,
    still active, with the role and districts it signed in with. Raises PermissionDenied."""
    if not isinstance(principal, Principal) or not is_sealed(principal):
        raise PermissionDenied("not a verified identity; sign in again")
    user = session.get(User, principal.user_id, populate_existing=True)
    if user is None or user.username != principal.username or user.disabled:
        raise PermissionDenied(f"account {principal.username} is disabled or unknown")
    if user.role != principal.role or tuple(sorted(user.districts or ())) != principal.districts:
        raise PermissionDenied(f"account {principal.username} changed since sign-in; sign in again")
    if roles is not None and user.role not in roles:
        raise PermissionDenied(f"{user.username} ({user.role}) may not {doing}")
    national = user.role in NATIONAL_ROLES
    if district is not None and not national and district not in (user.districts or ()):
        raise PermissionDenied(f"{user.username} may not {doing} of district {district}")
    return user
