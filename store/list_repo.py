"""Allowance lists: creation with pinned payees, the decisions, content hashes.

Every decision is checked here, in the same transaction that writes it, whatever the caller
(CLI, dashboard, tests): the acting account is re-read (active, role, district), the step must
be in agam.core.transitions, and the decision row is written before the list changes. The
database checks the same again (store/list_guards.py): the UI hiding a button is a
convenience, not the control.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agam.core.errors import InvalidTransition, NotFound, PermissionDenied
from agam.core.transitions import (
    FOUR_EYES_ACTIONS,
    LIST_ACTION_ROLES,
    LIST_TRANSITIONS,
    SYSTEM_ACTOR,
    next_list_status,
)
from agam.core.typed_text import unfit_text
from store import approval_policy, audit, frames, line_rows, payee_repo, payment_snapshot
from store.bulk_rows import insert_frame
from store.identity import Principal, require_active
from store.list_hash import digest_of_columns
from store.models import Alert, AllowanceLine, AllowanceList, Decision
from store.row_locks import reread_locked

__all__ = ["LIST_TRANSITIONS", "decide"]
_CREATED_BY = {"reissue": "list.reissue"}  # the audit action of a new list made from another
HASH_VERSION = 2


def line_refs(list_id: int, ranks: pd.Series) -> pd.Series:
    """Each line's stable reference, quoted back by a provider's return file: L<list>-<rank>."""
    return f"L{list_id}-" + ranks.astype("int64").astype(str)


def content_hash(lines: Iterable[tuple[Any, ...]], version: int = HASH_VERSION) -> str:
    """sha256 over the canonical lines in rank order. Version 1: line fields only (lists
    decided before payees were pinned); version 2: also the line reference and every pinned
    payee field, so an approval covers who is paid and where."""
    digest = hashlib.sha256()
    for rank, household, beneficiary, union, amount, included, *rest in lines:
        text = f"{rank}|{household}|{beneficiary}|{union}|{amount}|{int(included)}"
        if version >= 2:
            text += "|" + "\x1f".join("" if v is None else str(v) for v in rest)
        digest.update((text + "\n").encode())
    return digest.hexdigest()


def list_hash(session: Session, list_id: int, version: int = HASH_VERSION) -> str:
    """`content_hash` of the stored lines, as the database prints them (store.line_rows)."""
    return line_rows.list_digest(session, list_id, version)


def create_list(
    session: Session,
    *,
    alert_id: int,
    district_pcode: str,
    lines: pd.DataFrame,
    policy: dict[str, Any],
    amount_per_household_bdt: int,
    prepared_by: str,
    at: datetime,
    synthetic: bool = False,
    supersedes: AllowanceList | None = None,
    edit_reason: str | None = None,
    amends: AllowanceList | None = None,
    payees_from: AllowanceList | None = None,
    evaluation_id: int | None = None,
    kind: str | None = None,
) -> AllowanceList:
    """A draft with its lines and their payees, pinned from the registry now, or (an edit:
    the same lines, some excluded) kept from `payees_from`. `amends` makes it an amendment of
    an approved list (or, with `kind="reissue"`, a re-issue of its failed payments); an edit
    keeps its predecessor's kind."""
    newest = session.scalar(
        select(func.max(AllowanceList.revision)).where(
            AllowanceList.alert_id == alert_id, AllowanceList.district_pcode == district_pcode
        )
    )
    included = lines.loc[lines["included"].astype(bool)]
    amends_id = amends.id if amends is not None else None
    if amends_id is None and supersedes is not None:
        amends_id = supersedes.amends_id
    if kind is None and supersedes is not None:
        kind = supersedes.kind
    if kind is None:
        kind = "amendment" if amends_id is not None else "proposal"
    row = AllowanceList(
        alert_id=alert_id,
        district_pcode=district_pcode,
        revision=(newest or 0) + 1,
        status="draft",
        policy=policy,
        amount_per_household_bdt=amount_per_household_bdt,
        households=len(included),
        total_bdt=int(included["amount_bdt"].sum()),
        prepared_by=prepared_by,
        created_at=at,
        synthetic=synthetic,
        supersedes_id=supersedes.id if supersedes is not None else None,
        edit_reason=edit_reason,
        kind=kind,
        amends_id=amends_id,
        hash_version=HASH_VERSION,
        # the evaluation whose unions it covers (an edit keeps its predecessor's)
        evaluation_id=evaluation_id
        if evaluation_id is not None or supersedes is None
        else supersedes.evaluation_id,
    )
    session.add(row)
    session.flush()
    frame = lines.drop(columns=["line_ref"], errors="ignore").assign(list_id=row.id)
    frame["line_ref"] = line_refs(row.id, frame["rank"])
    insert_frame(session.connection(), AllowanceLine.__table__, frame)  # type: ignore[arg-type]
    if payees_from is not None:
        payee_repo.copy_payees(session, payees_from.id, row.id)
        pin = payee_repo.registry_pin(session, payees_from.id)
    else:
        pin = frames.registry_version(session)  # first: the payees are at least as new
        payee_repo.snapshot_from_registry(session, row.id, at)
    payee_repo.record_pin(session, row.id, pin)
    audit.append(
        session,
        at=at,
        actor=prepared_by,
        action=_CREATED_BY.get(kind, "list.amend") if amends is not None else "list.propose",
        entity="allowance_list",
        entity_id=row.id,
        payload={
            "alert_id": alert_id,
            "district": district_pcode,
            "revision": row.revision,
            "households": row.households,
            "total_bdt": row.total_bdt,
            "supersedes": row.supersedes_id,
            "amends": row.amends_id,
            "reason": edit_reason,
        },
    )
    return row


def get_list(session: Session, list_id: int, *, for_update: bool = False) -> AllowanceList:
    """The list; `for_update` reads it again with its row locked (PostgreSQL) to decide on it:
    a decision or the tick's withdrawal committed since it was read is then seen, not
    overwritten into a refusal by the database's guard."""
    if for_update:
        row = reread_locked(session, AllowanceList, list_id)
    else:
        row = session.get(AllowanceList, list_id)
    if row is None:
        raise NotFound(f"no allowance list {list_id}")
    return row


def raw_lines(session: Session, list_id: int) -> pd.DataFrame:
    """The stored lines, as created (id and list_id included), in rank order."""
    return frames.list_lines(session, list_id)


def lines_frame(
    session: Session,
    list_id: int,
    *,
    included_only: bool = False,
    limit: int | None = None,
    changed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Lines for review: each with its masked pinned payee and, where the registry changed
    that payee since the snapshot, the names of the fields that changed (`changed`, as
    `payee_repo.changes` gives it, when the caller has read it already). A review page reads
    only the lines it shows (`included_only`, the first `limit`)."""
    lines = frames.list_lines(session, list_id, included_only=included_only, limit=limit)
    bounds = (int(lines["rank"].min()), int(lines["rank"].max())) if limit and len(lines) else None
    payees = payee_repo.masked(session, list_id, bounds)
    if changed is None:
        changed = payee_repo.changes_since_pinning(session, list_id)
    fields = changed[["rank", "changed"]]
    out = lines.merge(payees, on="rank", how="left").merge(fields, on="rank", how="left")
    for column in ("payee", *payee_repo.MASKED_PAYEE):  # "" for a line without a payee
        out[column] = out[column].fillna("")
    out["payee_changed"] = out.pop("changed").fillna("")
    return out


def line_count(session: Session, list_id: int) -> int:
    """How many lines a list has, included or not."""
    stmt = select(func.count()).where(AllowanceLine.list_id == list_id)
    return int(session.scalar(stmt) or 0)


def decide(
    session: Session,
    list_id: int,
    principal: Principal,
    action: str,
    at: datetime,
    reason: str | None = None,
    *,
    second_approval: bool = False,
    digest_of: Callable[[int], str] | None = None,
    payable: Callable[[list[Any]], str | None] | None = None,
) -> AllowanceList:
    """submit / approve / reject / export / edit, checked against the acting account (as
    stored now), the transition table, four-eyes and the content hash.

    A list needs two different district administrators when the store says so
    (store.approval_policy; `second_approval`, from the config, raises the store's number,
    never lowers it): the first approval is recorded and the list stays submitted until the
    second. `digest_of(version)`
    computes the content hash instead of `list_hash` (the export reads its rows once for the
    hash and the files, in this transaction). The approval that makes a list approved reads
    the lines as columns once, checks their hash and seals them (store.payment_snapshot):
    payment-ready when `payable(columns)` names the export's checks they passed, else in
    rank order."""
    row = get_list(session, list_id, for_update=True)
    user = require_active(
        session,
        principal,
        LIST_ACTION_ROLES.get(action, ()),
        district=row.district_pcode,
        doing=f"{action} lists",
    )
    required = approval_policy.require_at_least(session, 2 if second_approval else 1, at)
    if action == "approve" and required == 2 and row.approved_by is None:
        action = "approve_first"
    new_status = next_list_status(row.status, action)
    if new_status is None:
        raise InvalidTransition(f"list {list_id} is {row.status}; cannot {action}")
    if action in ("reject", "edit") and not (reason or "").strip():
        raise InvalidTransition(f"to {action} a list needs a reason")
    if reason is not None and (why := unfit_text(reason)):
        raise InvalidTransition(f"a reason is {why}")
    if action in FOUR_EYES_ACTIONS and user.username in (row.submitted_by, row.prepared_by):
        raise PermissionDenied("the person who prepared or submitted a list cannot decide it")
    if action == "approve" and user.username == row.approved_by:
        raise PermissionDenied("the second approval must come from another administrator")
    sealing = new_status == "approved" and row.status != "approved"
    columns: list[Any] = []
    if sealing:  # one read: the hash checked and the snapshot sealed
        columns = line_rows.hashed_columns(session, list_id)
        digest = digest_of_columns(columns, row.hash_version)
    else:
        digest = (digest_of or (lambda v: list_hash(session, list_id, v)))(row.hash_version)
    if action not in ("submit", "edit") and digest != row.content_sha256:
        what = "its approved hash; not exported" if action == "export" else "its submission"
        raise InvalidTransition(f"list {list_id} does not match {what}; resubmit it")
    pieces: list[payment_snapshot.Piece] = []
    sealed_sha256 = None
    if sealing:
        checked = payable(columns) if payable is not None else None
        pieces = payment_snapshot.pieces(columns, line_rows.HASHED_NAMES, checked)
        if checked is not None:
            sealed_sha256 = payment_snapshot.bytes_digest([data for _, data in pieces])
    sealed_parts = len(pieces) if sealing else None
    decision = Decision(
        list_id=list_id,
        action=action,
        username=user.username,
        role=user.role,
        reason=reason,
        content_sha256=digest,
        at=at,
        from_status=row.status,
        to_status=new_status,
        via=principal.via,
    )
    if sealing:
        decision.sealed_parts = sealed_parts
        if sealed_sha256 is not None:
            decision.sealed_sha256 = sealed_sha256
    session.add(decision)
    session.flush()  # the decision first: the database accepts the list change only after it
    _apply(row, action, user.username, digest, at)
    row.status = new_status
    row.last_decision_id = decision.id
    audit.append(
        session,
        at=at,
        actor=user.username,
        action=f"list.{action}",
        entity="allowance_list",
        entity_id=list_id,
        payload={
            "status": new_status,
            "content_sha256": digest,
            "reason": reason,
            "district": row.district_pcode,
            "via": principal.via,
            **({"sealed_parts": sealed_parts} if sealing else {}),
            **({"sealed_sha256": sealed_sha256} if sealed_sha256 else {}),
        },
    )
    session.flush()
    if sealing:  # the list is approved now: the database accepts its snapshot
        payment_snapshot.seal(session, list_id, digest, pieces, at)
    return row


def withdraw_system_draft(
    session: Session, row: AllowanceList, at: datetime, payload: dict[str, Any]
) -> None:
    """The system withdraws a draft it prepared that nobody has decided on (the alert moved to
    a newer evaluation); a decision like any other, which the database checks."""
    if row.status != "draft" or row.prepared_by != SYSTEM_ACTOR or row.last_decision_id:
        raise InvalidTransition(f"list {row.id} is not an untouched system draft")
    decision = Decision(
        list_id=row.id,
        action="withdraw",
        username=SYSTEM_ACTOR,
        role=SYSTEM_ACTOR,
        reason=str(payload.get("reason") or ""),
        content_sha256=None,
        at=at,
        from_status=row.status,
        to_status="superseded",
        via="system",
    )
    session.add(decision)
    session.flush()
    row.status = "superseded"
    row.last_decision_id = decision.id
    audit.append(
        session,
        at=at,
        actor=SYSTEM_ACTOR,
        action="list.superseded",
        entity="allowance_list",
        entity_id=row.id,
        payload=payload,
    )
    session.flush()


def _apply(row: AllowanceList, action: str, username: str, digest: str, at: datetime) -> None:
    """The columns each decision sets (the database allows exactly these)."""
    if action == "submit":
        row.submitted_by = username
        row.content_sha256 = digest
    elif action == "approve_first":
        row.approved_by = username
    elif action == "approve" and row.approved_by is not None:
        row.second_approved_by = username
        row.decided_at = at
    elif action == "approve":
        row.approved_by = username
        row.decided_at = at
    elif action == "reject":
        row.decided_at = at


def batch_id(row: AllowanceList) -> str:
    """The payment batch of a list revision, as its files and the provider's return name it."""
    return f"AGAM-{row.district_pcode}-A{row.alert_id}-L{row.id}R{row.revision}"


def approval(session: Session, list_id: int) -> Decision | None:
    """The decision that approved a list (the last approve), if any."""
    stmt = (
        select(Decision)
        .where(Decision.list_id == list_id, Decision.action == "approve")
        .order_by(Decision.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def exports(session: Session, list_id: int) -> list[Decision]:
    """Every export of a list's payment files, oldest first."""
    stmt = select(Decision).where(Decision.list_id == list_id, Decision.action == "export")
    return list(session.scalars(stmt.order_by(Decision.id)))


def rejection(session: Session, list_id: int) -> Decision | None:
    """The decision that rejected a list, if it was rejected."""
    stmt = select(Decision).where(Decision.list_id == list_id, Decision.action == "reject")
    return session.scalars(stmt.order_by(Decision.id.desc()).limit(1)).first()


def amendments_of(session: Session, list_id: int) -> list[AllowanceList]:
    stmt = select(AllowanceList).where(AllowanceList.amends_id == list_id)
    return list(session.scalars(stmt.order_by(AllowanceList.id)))


def amended_refs(
    session: Session, list_id: int, statuses: tuple[str, ...], kind: str | None = None
) -> dict[str, int]:
    """Line refs of `list_id` replaced by an amendment (or a re-issue; of `kind` only when
    given) in one of `statuses` -> that list's id."""
    lists = select(AllowanceList.id).where(
        AllowanceList.amends_id == list_id, AllowanceList.status.in_(statuses)
    )
    if kind is not None:
        lists = lists.where(AllowanceList.kind == kind)
    ids = list(session.scalars(lists))
    if not ids:  # the lines are read by their list: a join let SQLite scan every line
        return {}
    stmt = select(AllowanceLine.amends_line_ref, AllowanceLine.list_id).where(
        AllowanceLine.list_id.in_(ids), AllowanceLine.included.is_(True)
    )
    return {str(ref): int(aid) for ref, aid in session.execute(stmt) if ref}


def paid_households(session: Session, alert_id: int, exclude_list: int | None = None) -> set[str]:
    """Households already on an approved or exported list of this alert's activation (the
    hazard event: every alert it grouped across stage changes, stand-downs and re-raises);
    of this alert alone when it has no activation (alerts stored before activations)."""
    alerts = activation_alerts(alert_id)
    stmt = (
        select(AllowanceLine.household_id)
        .join(AllowanceList, AllowanceList.id == AllowanceLine.list_id)
        .where(
            AllowanceList.alert_id.in_(alerts),
            AllowanceList.status.in_(("approved", "exported")),
            AllowanceLine.included.is_(True),
        )
    )
    if exclude_list is not None:
        stmt = stmt.where(AllowanceList.id != exclude_list)
    return set(session.scalars(stmt))


def activation_alerts(alert_id: int) -> Select[int]:
    """The ids of every alert of `alert_id`'s activation (just itself when it has none)."""
    activation = select(Alert.activation_id).where(Alert.id == alert_id).scalar_subquery()
    return select(Alert.id).where(
        (Alert.id == alert_id) | ((Alert.activation_id == activation) & activation.is_not(None))
    )


def latest_revision(session: Session, alert_id: int, district: str) -> AllowanceList | None:
    """The newest proposal (not amendment) of an alert's district."""
    stmt = (
        select(AllowanceList)
        .where(
            AllowanceList.alert_id == alert_id,
            AllowanceList.district_pcode == district,
            AllowanceList.kind == "proposal",
        )
        .order_by(AllowanceList.revision.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def registry_is_synthetic(session: Session) -> bool:
    """True when every imported registry batch was synthetic (lists are labelled so)."""
    from store.models import RegistryImport

    flags = set(session.scalars(select(RegistryImport.synthetic)))
    return flags == {True}


def lists_for(session: Session, district_pcodes: list[str] | None = None) -> list[AllowanceList]:
    stmt = select(AllowanceList)
    if district_pcodes is not None:
        stmt = stmt.where(AllowanceList.district_pcode.in_(district_pcodes))
    return list(session.scalars(stmt.order_by(AllowanceList.id.desc())))
