"""Pinned payees: the payment identity of each included line, copied from the registry when a
list is proposed, compared with the registry later, and the only source of payment files.

Personal data stays in the store: reviews get a masked payee ("mfs bkash 01*******78") and the
names of the fields that changed, never the values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, case, insert, literal, or_, select
from sqlalchemy.orm import Session

from agam.core.masking import mask_identifier
from store import frames
from store.bulk_rows import driver_rows
from store.models import AllowanceLine, AllowancePayee, Beneficiary, ListRegistryPin

# What a payment file carries about the recipient, in the order the content hash uses.
PAYEE_FIELDS = (
    "beneficiary_id",
    "programme",
    "name_en",
    "name_bn",
    "nid",
    "birth_registration",
    "sex",
    "birth_year",
    "ward",
    "village",
    "payment_channel",
    "mfs_provider",
    "wallet_number",
    "bank_account",
    "routing_number",
    "post_office_code",
)
# What a reviewer sees of a pinned payee (`masked`): numbers masked, no name or NID.
MASKED_PAYEE = ("payee_channel", "payee_provider", "payee_account", "payee_routing",
                "payee_office")  # fmt: skip
# A change to any of these after the snapshot is a change of who, or where, is paid.
IDENTITY_FIELDS = (
    "name_en",
    "name_bn",
    "nid",
    "birth_registration",
    "payment_channel",
    "mfs_provider",
    "wallet_number",
    "bank_account",
    "routing_number",
    "post_office_code",
)
REMOVED = "removed from the registry"


def snapshot_from_registry(
    session: Session, list_id: int, at: datetime, ranks: list[int] | None = None
) -> None:
    """Copy the current registry record of each included line (or of `ranks`) of a draft."""
    line = AllowanceLine
    source = (
        select(
            line.list_id,
            line.rank,
            *(getattr(Beneficiary, f) for f in PAYEE_FIELDS),
            Beneficiary.row_sha256,
            literal(at, type_=AllowancePayee.__table__.c.snapshot_at.type),
        )
        .join(Beneficiary, Beneficiary.beneficiary_id == line.beneficiary_id)
        .where(line.list_id == list_id, line.included.is_(True))
    )
    if ranks is not None:
        source = source.where(line.rank.in_(ranks))
    columns = ["list_id", "rank", *PAYEE_FIELDS, "source_row_sha256", "snapshot_at"]
    session.execute(insert(AllowancePayee).from_select(columns, source))


def copy_payees(session: Session, from_list: int, to_list: int) -> None:
    """A new revision keeps the pinned payees of the lines it still includes."""
    p, line = AllowancePayee, AllowanceLine
    source = (
        select(
            literal(to_list),
            p.rank,
            *(getattr(p, f) for f in PAYEE_FIELDS),
            p.source_row_sha256,
            p.snapshot_at,
        )
        .join(
            line,
            and_(
                line.list_id == to_list,
                line.rank == p.rank,
                line.beneficiary_id == p.beneficiary_id,
            ),
        )
        .where(p.list_id == from_list, line.included.is_(True))
    )
    columns = ["list_id", "rank", *PAYEE_FIELDS, "source_row_sha256", "snapshot_at"]
    session.execute(insert(AllowancePayee).from_select(columns, source))


def hash_columns() -> tuple[list[Any], list[Any]]:
    """The hashed columns: the line's, then its reference and pinned payee fields."""
    line, p = AllowanceLine, AllowancePayee
    head = [line.rank, line.household_id, line.beneficiary_id, line.adm4_pcode,
            line.amount_bdt, line.included]  # fmt: skip
    rest = [line.line_ref, line.amends_line_ref, *(getattr(p, f) for f in PAYEE_FIELDS)]
    return head, rest


def hash_rows(list_id: int) -> Select[tuple[object, ...]]:
    """Lines with their payee fields (empty for lines without a payee), in rank order."""
    line, p = AllowanceLine, AllowancePayee
    head, rest = hash_columns()
    return (
        select(*head, *rest)
        .outerjoin(p, and_(p.list_id == line.list_id, p.rank == line.rank))
        .where(line.list_id == list_id)
        .order_by(line.rank)
    )


def registry_pin(session: Session, list_id: int) -> tuple[int, int, int] | None:
    """The registry version the list's payees were pinned at (None: not recorded)."""
    pin = session.get(ListRegistryPin, list_id)
    if pin is None:
        return None
    return pin.registry_imports, pin.newest_import_id, pin.registry_edits


def record_pin(session: Session, list_id: int, pin: tuple[int, int, int] | None) -> None:
    """Record the registry version a new list's payees were pinned at (`registry_pin`)."""
    if pin is not None:
        imports, newest, edits = pin
        session.add(ListRegistryPin(list_id=list_id, registry_imports=imports,
                                    newest_import_id=newest, registry_edits=edits))  # fmt: skip


def changes_since_pinning(session: Session, list_id: int) -> pd.DataFrame:
    """`changes`, without comparing a single payee when the registry version has not moved
    since the list's payees were pinned (no import, no edit outside one): every pinned payee
    is then still its registry record."""
    pin = registry_pin(session, list_id)
    if pin is not None and frames.registry_version(session) == pin:
        return pd.DataFrame(columns=["rank", "line_ref", "beneficiary_id", "changed"])
    return changes(session, list_id)


def changes(session: Session, list_id: int) -> pd.DataFrame:
    """Per pinned line whose registry record now differs: rank, line_ref, beneficiary_id and
    `changed` (the names of the identity fields that differ, or REMOVED)."""
    p, b, line = AllowancePayee, Beneficiary, AllowanceLine
    differs = [
        case((getattr(p, f).is_distinct_from(getattr(b, f)), literal(f)), else_=literal(""))
        for f in IDENTITY_FIELDS
    ]
    stmt = (
        select(p.rank, line.line_ref, p.beneficiary_id, b.id.label("registry_id"), *differs)
        .join(line, and_(line.list_id == p.list_id, line.rank == p.rank))
        .outerjoin(b, b.beneficiary_id == p.beneficiary_id)
        .where(
            p.list_id == list_id,
            or_(
                b.id.is_(None),
                *(getattr(p, f).is_distinct_from(getattr(b, f)) for f in IDENTITY_FIELDS),
            ),
        )
        .order_by(p.rank)
    )
    rows = session.execute(stmt).all()
    out = [
        {
            "rank": r[0],
            "line_ref": r[1],
            "beneficiary_id": r[2],
            "changed": REMOVED if r[3] is None else ", ".join(f for f in r[4:] if f),
        }
        for r in rows
    ]
    return pd.DataFrame(out, columns=["rank", "line_ref", "beneficiary_id", "changed"])


def masked(session: Session, list_id: int, ranks: tuple[int, int] | None = None) -> pd.DataFrame:
    """Each pinned line's payee as an approver may see it: rank, MASKED_PAYEE (channel,
    provider, masked account and routing numbers, post office) and `payee`, those as one
    English text (`describe_masked`). With `ranks`, only those from the first to the last of that
    pair."""
    p = AllowancePayee
    fields = ("payment_channel", "mfs_provider", "wallet_number", "bank_account",
              "routing_number", "post_office_code")  # fmt: skip
    stmt = select(p.rank, *(getattr(p, f) for f in fields)).where(p.list_id == list_id)
    if ranks is not None:
        stmt = stmt.where(p.rank.between(*ranks))
    with driver_rows(session, stmt) as cursor:  # plain tuples: no SQLAlchemy row per payee
        rows = [(r[0], *masked_fields(*r[1:])) for r in cursor.fetchall()]
    texts = [describe_masked(*r[1:]) for r in rows]
    frame = pd.DataFrame(rows, columns=["rank", *MASKED_PAYEE], dtype=object)
    frame["payee"] = pd.Series(texts, index=frame.index, dtype=object)  # text even when empty
    return frame.astype({"rank": "int64"})


def masked_fields(
    channel: str,
    provider: str | None,
    wallet: str | None,
    account: str | None,
    routing: str | None,
    office: str | None,
) -> tuple[str, str, str, str, str]:
    """A pinned payee's MASKED_PAYEE values: the account is the masked wallet (MFS) or bank
    account; a field the channel does not use is empty."""
    if channel == "mfs":
        return channel, provider or "", mask_identifier(wallet or ""), "", ""
    if channel == "bank":
        return channel, "", mask_identifier(account or ""), mask_identifier(routing or ""), ""
    return channel, "", "", "", office or ""


def describe_masked(channel: str, provider: str, account: str, routing: str, office: str) -> str:
    """MASKED_PAYEE values as one English text: 'mfs nagad 01*******01', 'bank 12*****89
    routing 0*****7', 'post 9375'; "" for none."""
    if channel == "mfs":
        return f"mfs {provider or '?'} {account}"
    if channel == "bank":
        return f"bank {account} routing {routing}"
    return f"{channel} {office}".strip()
