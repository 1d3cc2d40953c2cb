"""OpenID Connect sign-in: accounts are bound to the provider's subject (`sub`), never found
by e-mail alone.

An admin invites an account (role, districts, e-mail, no password). The first sign-in whose
verified e-mail matches exactly one open invitation binds that account to the provider's
issuer and subject; from then on only that subject signs in to it. A subject that is not bound,
a missing or unverified e-mail, an e-mail without an open invitation (or with more than one),
and a disabled account are refused; every refusal is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import audit
from store._principals import issue
from store.models import User
from store.user_repo import SignIn, refuse

REFUSED = "this sign-in is not enabled for Agam; ask an administrator for an invitation"


def _verified(claims: Mapping[str, Any]) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _refused(session: Session, at: datetime, reason: str, client: str, user: User | None) -> SignIn:
    refuse(session, at=at, channel="oidc", reason=reason, client=client, user=user)
    return SignIn(None, REFUSED)


def sign_in(session: Session, claims: Mapping[str, Any], at: datetime, client: str) -> SignIn:
    """A principal for the provider's identity, binding an invitation on first use."""
    subject = str(claims.get("sub") or "").strip()
    issuer = str(claims.get("iss") or "").strip() or None
    if not subject:
        return _refused(session, at, "no subject claim", client, None)
    bound = session.scalars(select(User).where(User.oidc_subject == subject)).first()
    if bound is not None:
        if bound.oidc_issuer and issuer and bound.oidc_issuer != issuer:
            return _refused(session, at, "subject bound to another issuer", client, None)
        if bound.disabled:
            return _refused(session, at, "disabled", client, bound)
        return SignIn(issue(bound, "oidc"), "ok")
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        return _refused(session, at, "unknown subject, no e-mail claim", client, None)
    if not _verified(claims):
        return _refused(session, at, "unknown subject, e-mail not verified", client, None)
    invited = list(
        session.scalars(
            select(User).where(
                func.lower(User.email) == email,
                User.oidc_subject.is_(None),
                User.invited_at.is_not(None),
            )
        )
    )
    if len(invited) != 1:
        why = "no open invitation" if not invited else "several invitations"
        return _refused(session, at, f"unknown subject, {why} for the e-mail", client, None)
    user = invited[0]
    if user.disabled:
        return _refused(session, at, "disabled", client, user)
    user.oidc_subject = subject
    user.oidc_issuer = issuer
    user.linked_at = at
    audit.append(
        session,
        at=at,
        actor=user.username,
        action="user.oidc_linked",
        entity="user",
        entity_id=user.username,
        payload={"issuer": issuer},
    )
    session.flush()
    return SignIn(issue(user, "oidc"), "ok")
