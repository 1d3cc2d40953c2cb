"""Which content each rule set and allowance policy version had when it was first used.

An evaluation records its rule set's id and version, a list its policy's. The first use of a
version stores the loaded content (canonical JSON) and its sha256 here, in the transaction
that uses it; the same version with other content is refused after that, so a threshold or
an amount edited without a new version is never judged, or shown, as the version before it.
The database never lets a row change (migration 0020).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agam.core.errors import ConfigError
from agam.core.timeutil import format_dhaka
from store.models import ConfigVersion

Kind = Literal["rule_set", "allowance_policy"]
WHAT = {"rule_set": "rule set", "allowance_policy": "allowance policy"}


@dataclass(frozen=True)
class Fingerprint:
    kind: Kind
    config_id: str
    version: str
    content: str  # canonical JSON
    sha256: str


def fingerprint(
    kind: Kind, config_id: str, version: str, content: Mapping[str, Any]
) -> Fingerprint:
    """`content`: the loaded model as JSON-ready values (`model_dump(mode="json")`); keys
    sorted, so the same meaning gives the same hash whatever the file's order or comments."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Fingerprint(kind, config_id, version, text, digest)


def conflicts(session: Session, prints: Iterable[Fingerprint]) -> list[str]:
    """Why each of `prints` may not be used: its version was first used with other content."""
    problems = []
    for found in prints:
        stored = session.get(ConfigVersion, (found.kind, found.config_id, found.version))
        if stored is not None and stored.content_sha256 != found.sha256:
            problems.append(_conflict(found, stored))
    return problems


def _conflict(found: Fingerprint, stored: ConfigVersion) -> str:
    what = WHAT[found.kind]
    return (
        f"{what} {found.config_id} version {found.version} was first used on "
        f"{format_dhaka(stored.first_used_at)} with other content (sha256 "
        f"{stored.content_sha256[:12]}…, now {found.sha256[:12]}…): give the changed {what} a "
        "new version"
    )


def check(session: Session, prints: Iterable[Fingerprint]) -> None:
    """One ConfigError naming every version of `prints` first used with other content."""
    problems = conflicts(session, prints)
    if problems:
        raise ConfigError("; ".join(problems))


def record(session: Session, prints: Iterable[Fingerprint], at: datetime) -> None:
    """In the caller's transaction: store each version used for the first time; refuse
    (`check`) when one was used before with other content."""
    prints = list(prints)
    check(session, prints)
    for found in prints:
        key = (found.kind, found.config_id, found.version)
        if session.get(ConfigVersion, key) is not None:
            continue
        try:
            with session.begin_nested():  # another process may record it a moment before
                row = ConfigVersion(kind=found.kind, config_id=found.config_id,
                                    version=found.version, content_sha256=found.sha256,
                                    content=found.content, first_used_at=at)  # fmt: skip
                session.add(row)
        except IntegrityError:
            stored = session.get(ConfigVersion, key, populate_existing=True)
            if stored is None:
                raise
            if stored.content_sha256 != found.sha256:
                raise ConfigError(_conflict(found, stored)) from None


def recorded_contents(session: Session, kind: Kind) -> list[dict[str, Any]]:
    """The content of every version of `kind` recorded at its first use whose content still
    matches its hash (a row changed behind the guards is left out)."""
    rows = session.scalars(select(ConfigVersion).where(ConfigVersion.kind == kind))
    return [
        json.loads(row.content)
        for row in rows
        if hashlib.sha256(row.content.encode("utf-8")).hexdigest() == row.content_sha256
    ]


def recorded(session: Session) -> list[ConfigVersion]:
    """Every recorded version, by kind, id and first use."""
    order = (ConfigVersion.kind.desc(), ConfigVersion.config_id, ConfigVersion.first_used_at)
    return list(session.scalars(select(ConfigVersion).order_by(*order)))
