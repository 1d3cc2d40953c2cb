"""What `agam audit verify` checks besides the chain: the decisions against the log, the lists
against their decisions, and approved content against its hash.

The chain vouches for its own rows only. Whoever drops the database guards can still change a
decision, delete one, forge one, or change an approved list's lines or payees. Each decision
row is written with one audit entry in the same transaction (`list_repo.decide`, and
`withdraw_system_draft`), so here every decision must have its entry and every such entry its
decision; each list's status must be the one its newest decision left; and an approved or
exported list's lines and pinned payees, and its sealed payment snapshot, must re-hash to the
content hash its approval recorded. Lists are read one at a time: memory stays bounded by the
largest list's snapshot (a few MB per 100,000 lines, compressed).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agam.core.errors import InvalidTransition
from agam.core.timeutil import iso_utc
from agam.core.transitions import LIST_TRANSITIONS
from store import line_rows, payment_snapshot
from store.list_hash import digest_of_columns, hash_into
from store.models import AllowanceList, AuditEntry, Decision

KEPT = 1000  # problems kept in the report (all are counted)
STATUS_AFTER = {action: status for (_, action), status in LIST_TRANSITIONS.items()}
PAID_STATUSES = ("approved", "exported")
_ENTITY = "allowance_list"
_HIDDEN = object()  # a payload field the entry does not have: not compared


def audit_action(action: str) -> str:
    """The audit action written with a decision of `action`."""
    return "list.superseded" if action == "withdraw" else f"list.{action}"


@dataclass
class StoreReport:
    decisions: int = 0  # decision rows, each matched to its audit entry
    entries: int = 0  # audit entries of decisions
    lists: int = 0  # lists checked against their decisions
    rehashed: int = 0  # approved or exported lists re-hashed to their approvals
    snapshots: int = 0  # sealed payment snapshots re-hashed too
    decision_problems: list[str] = field(default_factory=list)
    list_problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def problems(self) -> list[str]:
        return [*self.decision_problems, *self.list_problems]

    def _found(self, kind: list[str], problem: str) -> None:
        self.problem_count += 1
        if len(self.decision_problems) + len(self.list_problems) < KEPT:
            kind.append(problem)

    def bad_decision(self, problem: str) -> None:
        self._found(self.decision_problems, problem)

    def bad_list(self, problem: str) -> None:
        self._found(self.list_problems, problem)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decisions": {
                "checked": self.decisions,
                "audit_entries": self.entries,
                "problems": self.decision_problems,
            },
            "lists": {
                "checked": self.lists,
                "rehashed": self.rehashed,
                "snapshots": self.snapshots,
                "problems": self.list_problems,
            },
            "problem_count": self.problem_count,
        }


@dataclass(frozen=True)
class _Decision:
    id: int
    list_id: int
    action: str
    username: str
    content_sha256: str | None
    at: datetime
    from_status: str | None
    to_status: str | None
    via: str | None
    reason: str | None
    sealed_parts: int | None
    sealed_sha256: str | None

    def names(self) -> str:
        return f"decision {self.id} ({self.action} of list {self.list_id} by {self.username})"


@dataclass(frozen=True)
class _Entry:
    id: int
    list_id: int
    action: str
    actor: str
    at: datetime
    payload: dict[str, Any]

    def names(self) -> str:
        return f"audit log row {self.id} ({self.action} of list {self.list_id} by {self.actor})"


def _decisions(session: Session) -> dict[int, list[_Decision]]:
    d = Decision
    stmt = select(
        d.id,
        d.list_id,
        d.action,
        d.username,
        d.content_sha256,
        d.at,
        d.from_status,
        d.to_status,
        d.via,
        d.reason,
        d.sealed_parts,
        d.sealed_sha256,
    ).order_by(d.id)
    grouped: dict[int, list[_Decision]] = defaultdict(list)
    for row in session.execute(stmt):
        grouped[row.list_id].append(_Decision(*tuple(row)))
    return grouped


def _entries(session: Session, report: StoreReport) -> dict[int, list[_Entry]]:
    """The audit entries a decision writes, by list id."""
    actions = sorted({audit_action(a) for a in STATUS_AFTER})
    e = AuditEntry
    stmt = (
        select(e.id, e.entity_id, e.action, e.actor, e.at, e.payload)
        .where(e.entity == _ENTITY, e.action.in_(actions))
        .order_by(e.id)
    )
    grouped: dict[int, list[_Entry]] = defaultdict(list)
    for row_id, entity_id, action, actor, at, payload in session.execute(stmt):
        if not str(entity_id).isdigit():
            report.bad_decision(
                f"audit log row {row_id} ({action}): names no list ({entity_id!r})",
            )
            continue
        data = payload if isinstance(payload, dict) else {}
        grouped[int(entity_id)].append(_Entry(row_id, int(entity_id), action, actor, at, data))
    return grouped


def _key_differences(d: _Decision, e: _Entry) -> list[str]:
    """What tells a decision from the entry written with it: action, actor, time, hash."""
    sha = e.payload.get("content_sha256", _HIDDEN)
    pairs = [
        ("action", e.action, audit_action(d.action)),
        ("actor", e.actor, d.username),
        ("time", iso_utc(e.at), iso_utc(d.at)),
        ("content hash", sha, sha if sha is _HIDDEN else d.content_sha256),
    ]
    return [_differs(name, log, row) for name, log, row in pairs if log != row]


def _other_differences(d: _Decision, e: _Entry) -> list[str]:
    """The rest the entry records (status, reason, via, sealed parts), where both have it."""
    p = e.payload
    pairs = [
        ("status", p.get("status", _HIDDEN), d.to_status),
        ("via", p.get("via", _HIDDEN), d.via),
        ("sealed parts", p.get("sealed_parts", _HIDDEN), d.sealed_parts),
        ("sealed bytes", p.get("sealed_sha256", _HIDDEN), d.sealed_sha256),
    ]
    out = [
        _differs(n, log, row)
        for n, log, row in pairs
        if log is not _HIDDEN and row is not None and log != row
    ]
    if "reason" in p and (p["reason"] or "") != (d.reason or ""):
        out.append(_differs("reason", p["reason"], d.reason))
    return out


def _differs(name: str, log: Any, row: Any) -> str:
    return f"{name} {_short(log)} in the log, {_short(row)} in the decision"


def _short(value: Any) -> str:
    if value is _HIDDEN or value is None:
        return "none"
    text = str(value)
    return repr(text[:16] + "…" if len(text) == 64 else text)


def match_decisions(report: StoreReport, decisions: list[_Decision], entries: list[_Entry]) -> None:
    """One list's decisions against its audit entries, both oldest first: each decision takes
    the first free entry that records the same step (action, actor, time, content hash);
    what is left is paired by action to say what differs, or reported alone."""
    free = list(entries)
    left: list[_Decision] = []
    for d in decisions:
        entry = next((e for e in free if not _key_differences(d, e)), None)
        if entry is None:
            left.append(d)
            continue
        free.remove(entry)
        if other := _other_differences(d, entry):
            report.bad_decision(
                f"{d.names()} differs from its audit entry, row {entry.id}: " + "; ".join(other)
            )
    for d in left:
        entry = next((e for e in free if e.action == audit_action(d.action)), None)
        if entry is None:
            report.bad_decision(f"{d.names()} at {iso_utc(d.at)}: no audit entry records it")
            continue
        free.remove(entry)
        what = "; ".join(_key_differences(d, entry) + _other_differences(d, entry))
        report.bad_decision(f"{d.names()} differs from its audit entry, row {entry.id}: {what}")
    for e in free:
        report.bad_decision(f"{e.names()} at {iso_utc(e.at)}: no decision row records it")


def _check_walk(
    report: StoreReport, row: Any, decisions: list[_Decision], entries: list[_Entry]
) -> None:
    """The decisions step along the transition table from draft, and the list row is where
    its newest decision left it: status, last decision, who submitted and approved, hash."""
    before = "draft"
    for d in decisions:
        if d.from_status is not None and d.from_status != before:
            report.bad_list(
                f"list {row.id}: decision {d.id} ({d.action}) starts from "
                f"{d.from_status}, the decision before it left the list {before}"
            )
        after = STATUS_AFTER.get(d.action)
        if after is None or (d.to_status is not None and d.to_status != after):
            report.bad_list(
                f"list {row.id}: decision {d.id} is not a step of the "
                f"transition table ({d.action} to {d.to_status})"
            )
        before = d.to_status or after or before
    newest = decisions[-1] if decisions else None
    expected = STATUS_AFTER.get(newest.action, "?") if newest else "draft"
    if row.status != expected:
        because = f"its newest decision ({newest.id}, {newest.action})" if newest else "no decision"
        report.bad_list(f"list {row.id} is {row.status}, but {because} leaves it {expected}")
    recorded = row.last_decision_id is not None or row.hash_version >= 2  # 0005 on
    if newest is not None and row.last_decision_id != newest.id and recorded:
        report.bad_list(
            f"list {row.id}: names decision {row.last_decision_id} as its "
            f"last, its newest decision is {newest.id}"
        )
    _check_deciders(report, row, decisions, entries)


def _newest(decisions: list[_Decision], action: str) -> _Decision | None:
    return next((d for d in reversed(decisions) if d.action == action), None)


def _before_0005(d: _Decision, entries: list[_Entry]) -> bool:
    """A decision the releases before migration 0005 wrote: neither the row nor its audit
    entry records the step (no from/to status, no via). The entry is chained, so a decision
    written since cannot be made to look like one of these."""
    if d.to_status is not None or d.via is not None:
        return False
    return any(
        not _key_differences(d, e) and "via" not in e.payload and "status" in e.payload
        for e in entries
    )


Approvers = dict[str, str | None]  # column -> the name it must hold


def _approvers(decisions: list[_Decision], entries: list[_Entry]) -> list[Approvers]:
    """The approver columns the list's decisions leave, as the release that wrote them set
    them; more than one choice where that release's choice hung on its config. Before 0005 a
    rejection cleared both columns, and an approval after a first approval, with the second
    approver switched off in between, replaced the first approver and left no second."""
    first, approve = _newest(decisions, "approve_first"), _newest(decisions, "approve")
    reject = _newest(decisions, "reject")
    if first is not None and reject is not None and _before_0005(reject, entries):
        return [{"approved_by": None, "second_approved_by": None}]
    if approve is None:
        return [{"approved_by": first.username}] if first else [{}]
    if first is None:
        return [{"approved_by": approve.username, "second_approved_by": None}]
    choices: list[Approvers] = [
        {"approved_by": first.username, "second_approved_by": approve.username}
    ]
    if _before_0005(approve, entries):
        choices.append({"approved_by": approve.username, "second_approved_by": None})
    return choices


def _check_deciders(
    report: StoreReport, row: Any, decisions: list[_Decision], entries: list[_Entry]
) -> None:
    submit = _newest(decisions, "submit")
    expected = [("submitted_by", submit.username if submit else None)]
    choices = _approvers(decisions, entries)
    fits = next((c for c in choices if all(getattr(row, k) == v for k, v in c.items())), None)
    expected += list((fits or choices[0]).items())
    for column, name in expected:
        if getattr(row, column) != name:
            report.bad_list(
                f"list {row.id}: {column} is {getattr(row, column)!r}, its decisions name {name!r}"
            )
    if submit is None:
        return
    for d in decisions:
        if d.action != "edit" and d.content_sha256 != row.content_sha256:
            report.bad_list(
                f"list {row.id}: decision {d.id} ({d.action}) "
                "names another content hash than the list row"
            )


def _check_content(report: StoreReport, session: Session, row: Any, approval: _Decision) -> None:
    """The lines and pinned payees as stored now, and the sealed snapshot, re-hash to the
    content hash the approval recorded."""
    approved = approval.content_sha256
    where = f"list {row.id} ({row.status}, approved by decision {approval.id})"
    now = line_rows.list_digest(session, row.id, row.hash_version)
    if now != approved:
        report.bad_list(
            f"{where}: its lines and pinned payees as stored now do not "
            "re-hash to the approved content hash; changed since the approval"
        )
    else:
        report.rehashed += 1
    try:
        parts = payment_snapshot.sealed_parts(session, row.id, approved, approval.sealed_parts)
        if parts is None:  # approved before snapshots were sealed
            return
        if approval.sealed_sha256 is not None:  # payment-ready: its bytes, then its lines
            payment_snapshot.check_sealed_bytes(row.id, parts, approval.sealed_sha256)
            names = line_rows.HASHED_NAMES
            columns = payment_snapshot.decoded_columns(row.id, parts, names)
            ranked = payment_snapshot.in_rank_order(columns, names)
            sealed = digest_of_columns(ranked, row.hash_version)
        else:
            sealed = _snapshot_digest(row.id, parts, row.hash_version)
    except InvalidTransition as refused:
        report.bad_list(f"{where}: {str(refused).removesuffix('; not exported')}")
        return
    if sealed != approved:
        report.bad_list(
            f"{where}: its payment snapshot does not re-hash to the approved content hash"
        )
    else:
        report.snapshots += 1


def _snapshot_digest(list_id: int, parts: list[payment_snapshot.Part], version: int) -> str:
    """The content hash of the snapshot's parts, decoded and hashed one part at a time."""
    digest = hashlib.sha256()
    for part in parts:
        columns = payment_snapshot.decoded_columns(list_id, [part], line_rows.HASHED_NAMES)
        hash_into(digest, columns, version)
    return digest.hexdigest()


def verify_store(
    session: Session, progress: Callable[[int, int], None] | None = None
) -> StoreReport:
    """Every check above, every problem counted. `progress(done, total)` is told after each
    approved or exported list is re-hashed."""
    report = StoreReport()
    decisions = _decisions(session)
    entries = _entries(session, report)
    report.decisions = sum(len(v) for v in decisions.values())
    report.entries = sum(len(v) for v in entries.values())
    for list_id in sorted(set(decisions) | set(entries)):
        match_decisions(report, decisions.get(list_id, []), entries.get(list_id, []))
    a = AllowanceList
    stmt = select(
        a.id,
        a.status,
        a.content_sha256,
        a.hash_version,
        a.submitted_by,
        a.approved_by,
        a.second_approved_by,
        a.last_decision_id,
    ).order_by(a.id)
    rows = session.execute(stmt).all()
    known = {row.id for row in rows}
    for list_id in sorted(set(decisions) - known):
        report.bad_list(f"decision(s) of list {list_id}: no such list")
    paid = sum(1 for row in rows if row.status in PAID_STATUSES)
    done = 0
    for row in rows:
        report.lists += 1
        own = decisions.get(row.id, [])
        _check_walk(report, row, own, entries.get(row.id, []))
        if row.status not in PAID_STATUSES:
            continue
        approval = _newest(own, "approve")
        if approval is None:
            report.bad_list(f"list {row.id} is {row.status} with no approval")
        else:
            _check_content(report, session, row, approval)
        done += 1
        if progress is not None:
            progress(done, paid)
    return report
