"""Append-only, hash-chained audit log.

entry_hash = sha256(prev_hash || canonical JSON of the entry). UPDATE and DELETE are refused by
database triggers; `verify` recomputes the chain and names the first row that does not match.
The chain is tamper-evident, not tamper-proof: whoever can write the database can delete the
newest rows, or edit a row and recompute every hash after it, and the chain still verifies.
`checkpoint` anchors it outside: a signed {entries, last id, head hash, time} kept elsewhere
(e.g. in the committee's minutes); `verify_checkpoint` then finds deleted tail rows (fewer
entries than the checkpoint counted) and a recomputed chain (a different hash at that
position). Refused actions are audited too (`refusals_recorded`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session, SessionTransaction

from agam.core.errors import AgamError
from agam.core.timeutil import iso_utc
from store.models import AuditEntry

if TYPE_CHECKING:
    from store.db import Store

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x41474D  # advisory lock id serialising appends on PostgreSQL
_PENDING = "agam_audit_pending"  # session.info key: entries waiting for the commit


def canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    payload: dict[str, Any],
) -> str:
    body = canonical(
        {
            "at": iso_utc(at),
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "payload": payload,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def head(session: Session) -> str:
    last = session.scalars(
        select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return last or GENESIS


def lock_chain(session: Session) -> None:
    """Take the chain's lock (PostgreSQL; held to the end of the transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add one entry to the caller's transaction. Never put personal data in `payload`.

    The entry is chained and written when the transaction commits (`_write_pending`), after
    everything else it changed: the chain's lock is then the last lock the transaction takes
    and is held only for its commit. Taken at the first entry, it was held while a long
    evaluation went on to lock alerts and lists, and a short writer holding one of those rows
    while it waited for the chain deadlocked with it; every sign-in waited for the tick too.
    A rolled-back transaction's entries are dropped with it."""
    entry = (at, actor, action, entity, str(entity_id), dict(payload or {}))
    session.info.setdefault(_PENDING, []).append(entry)


def _write_pending(session: Session) -> None:
    """Chain and insert the transaction's entries, in the order they were appended."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # every other change first, so no row lock is taken under the chain's
    lock_chain(session)
    prev = head(session)
    for at, actor, action, entity, entity_id, data in pending:
        digest = entry_hash(prev, at, actor, action, entity, entity_id, data)
        session.add(AuditEntry(at=at, actor=actor, action=action, entity=entity,
                               entity_id=entity_id, payload=data, prev_hash=prev,
                               entry_hash=digest))  # fmt: skip
        prev = digest
    session.flush()


def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (a savepoint keeps them)
        session.info.pop(_PENDING, None)


event.listen(Session, "before_commit", _write_pending)
event.listen(Session, "after_transaction_end", _drop_pending)


def entries_for(session: Session, action: str, entity_id: str | None = None) -> list[AuditEntry]:
    """Entries of one action (and entity id), oldest first."""
    stmt = select(AuditEntry).where(AuditEntry.action == action)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    return list(session.scalars(stmt.order_by(AuditEntry.id)))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head: str
    bad_id: int | None = None
    reason: str | None = None


def verify(session: Session) -> ChainReport:
    prev = GENESIS
    count = 0
    for row in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        count += 1
        if row.prev_hash != prev:
            return ChainReport(
                False, count, prev, row.id, "prev_hash does not link to the row before"
            )
        expected = entry_hash(
            prev, row.at, row.actor, row.action, row.entity, row.entity_id, row.payload
        )
        if row.entry_hash != expected:
            return ChainReport(False, count, prev, row.id, "content does not match its hash")
        prev = row.entry_hash
    return ChainReport(True, count, prev)


def last_action_at(session: Session, actor: str, action: str, before: datetime) -> datetime | None:
    """When `actor` last did `action` before `before` (e.g. the previous sign-in)."""
    stmt = (
        select(AuditEntry.at)
        .where(AuditEntry.actor == actor, AuditEntry.action == action, AuditEntry.at < before)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


@contextmanager
def refusals_recorded(
    store: Store,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    payload: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Run a decision; if it is refused (any AgamError), its transaction is rolled back and
    the refusal is audited in a transaction of its own, then the error goes on."""
    try:
        yield
    except AgamError as exc:
        with store.session() as session:
            append(
                session,
                at=at,
                actor=actor,
                action=f"{action}.refused",
                entity=entity,
                entity_id=entity_id,
                payload={**(payload or {}), "reason": str(exc)},
            )
        raise


CHECKPOINT_VERSION = 1


def checkpoint(session: Session, at: datetime) -> dict[str, Any]:
    """{entries, last_id, head, at}: what the log holds now, to keep outside the database."""
    entries = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    last = session.execute(
        select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return {
        "version": CHECKPOINT_VERSION,
        "entries": int(entries),
        "last_id": int(last[0]) if last else 0,
        "head": str(last[1]) if last else GENESIS,
        "at": iso_utc(at),
    }


def _mac(data: dict[str, Any], key: bytes) -> str:
    body = canonical({k: v for k, v in data.items() if k != "hmac_sha256"})
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_checkpoint(data: dict[str, Any], key: bytes) -> dict[str, Any]:
    return {**data, "hmac_sha256": _mac(data, key)}


def checkpoint_signed(data: dict[str, Any], key: bytes) -> bool:
    given = data.get("hmac_sha256")
    return isinstance(given, str) and hmac.compare_digest(given, _mac(data, key))


def verify_checkpoint(session: Session, data: dict[str, Any]) -> ChainReport:
    """The chain verifies AND still holds the checkpoint's entries with the same head."""
    report = verify(session)
    if not report.ok:
        return report
    entries, when = int(data["entries"]), data.get("at", "?")
    if report.entries < entries:
        return ChainReport(
            False,
            report.entries,
            report.head,
            None,
            f"{entries - report.entries} entries deleted since the checkpoint of {when} "
            f"(it counted {entries}, the log has {report.entries})",
        )
    if entries == 0:
        return report
    row = session.execute(
        select(AuditEntry.id, AuditEntry.entry_hash)
        .order_by(AuditEntry.id)
        .offset(entries - 1)
        .limit(1)
    ).one()
    if row[0] != data["last_id"] or row[1] != data["head"]:
        return ChainReport(
            False,
            report.entries,
            report.head,
            int(row[0]),
            f"entry {entries} differs from the checkpoint of {when}: "
            "the log was rewritten and its chain recomputed",
        )
    return report
