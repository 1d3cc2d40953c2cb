"""Allowance lists, their lines, pinned payees and decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base


class AllowanceList(Base):
    __tablename__ = "allowance_lists"
    __table_args__ = (
        UniqueConstraint("alert_id", "district_pcode", "revision", name="alert_district_rev"),
        CheckConstraint(
            "approved_by IS NULL OR submitted_by IS NULL OR approved_by <> submitted_by",
            name="four_eyes",
        ),
        CheckConstraint(
            "status IN ('draft','submitted','approved','rejected','superseded','exported')",
            name="status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    district_pcode: Mapped[str] = mapped_column(String(16), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    amount_per_household_bdt: Mapped[int] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer, default=0)
    total_bdt: Mapped[int] = mapped_column(BigInteger, default=0)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    prepared_by: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    second_approved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("allowance_lists.id"))
    edit_reason: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    # "proposal" (from an alert) or "amendment" (payees changed after approval of amends_id).
    kind: Mapped[str] = mapped_column(String(16), default="proposal")
    amends_id: Mapped[int | None] = mapped_column(Integer)
    # 1: lines only (lists decided before payee pinning); 2: lines and their pinned payees.
    hash_version: Mapped[int] = mapped_column(Integer, default=2)
    # Every change of a list row is one decision: the database checks this is the newest one.
    last_decision_id: Mapped[int | None] = mapped_column(Integer)
    # The evaluation whose unions the list covers (the alert's evaluation when it was proposed).
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"))


class AllowanceLine(Base):
    __tablename__ = "allowance_lines"
    __table_args__ = (
        UniqueConstraint("list_id", "household_id", name="one_payment_per_hh"),
        Index("uq_allowance_lines_line_ref", "line_ref", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # looked up through one_payment_per_hh (its leading column); no index of its own. Its
    # list must exist and be a draft when a line is added: checked by the guards (migration
    # 0012), not a foreign key checked row by row.
    list_id: Mapped[int] = mapped_column(Integer)
    beneficiary_id: Mapped[str] = mapped_column(String(64))
    household_id: Mapped[str] = mapped_column(String(64))
    adm4_pcode: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    priority_score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    amount_bdt: Mapped[int] = mapped_column(Integer)
    included: Mapped[bool] = mapped_column(Boolean, default=True)
    exclusion_reason: Mapped[str | None] = mapped_column(Text)
    # Stable reference a payment provider's return file quotes (L<list id>-<rank>).
    line_ref: Mapped[str | None] = mapped_column(String(32))
    # On an amendment: the approved line whose payee this line replaces.
    amends_line_ref: Mapped[str | None] = mapped_column(String(32))


class AllowancePayee(Base):
    """The payment identity of an included line, copied from the registry when the list is
    proposed. Covered by the list's content hash; payment files are written from here only."""

    __tablename__ = "allowance_payees"
    __table_args__ = (UniqueConstraint("list_id", "rank", name="one_payee_per_line"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # one_payee_per_line; the list is checked by the guards, like a line's
    list_id: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    beneficiary_id: Mapped[str] = mapped_column(String(64))
    programme: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str | None] = mapped_column(String(128))
    name_bn: Mapped[str | None] = mapped_column(String(128))
    nid: Mapped[str | None] = mapped_column(String(17))
    birth_registration: Mapped[str | None] = mapped_column(String(17))
    sex: Mapped[str] = mapped_column(String(8))
    birth_year: Mapped[int] = mapped_column(Integer)
    ward: Mapped[str | None] = mapped_column(String(16))
    village: Mapped[str | None] = mapped_column(String(128))
    payment_channel: Mapped[str] = mapped_column(String(16))
    mfs_provider: Mapped[str | None] = mapped_column(String(16))
    wallet_number: Mapped[str | None] = mapped_column(String(11))
    bank_account: Mapped[str | None] = mapped_column(String(32))
    routing_number: Mapped[str | None] = mapped_column(String(9))
    post_office_code: Mapped[str | None] = mapped_column(String(16))
    source_row_sha256: Mapped[str] = mapped_column(String(64))
    snapshot_at: Mapped[datetime]


class PaymentSnapshot(Base):
    """An approved list's lines with their pinned payees, sealed in the approval's transaction:
    Arrow IPC parts of the text columns the content hash is computed from (every line, in rank
    order). Payment files are written from here; the export re-computes the hash from these
    bytes. Written only while the list is approved with this hash, never changed or deleted
    (database guards, migration 0014)."""

    __tablename__ = "payment_snapshots"

    list_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0, 1, ... in rank order
    content_sha256: Mapped[str] = mapped_column(String(64))  # the approved list hash
    line_rows: Mapped[int] = mapped_column(Integer)
    arrow_ipc: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_at: Mapped[datetime]


class Decision(Base):
    __tablename__ = "decisions"
    # Columns a decision does not set are left out of its INSERT (and not read back), so
    # stores at older revisions (the migration tests seed them) take the same code.
    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("allowance_lists.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # a key of LIST_ACTION_ROLES
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]
    # The step this decision takes (checked by the database against LIST_TRANSITIONS).
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    via: Mapped[str | None] = mapped_column(String(16))  # how the decider was verified
    # Set by the approval that makes a list approved: its payment-snapshot parts (0015).
    sealed_parts: Mapped[int | None] = mapped_column(server_default=text("NULL"))
    # The sha256 of a payment-ready snapshot's bytes, set by the approval sealing it (0026).
    sealed_sha256: Mapped[str | None] = mapped_column(String(64), server_default=text("NULL"))


class ListRegistryPin(Base):
    """The registry version (`store.frames.registry_version`) a list's payees were pinned at,
    written with the list and never changed (0026). An export whose registry is still at this
    version knows no pinned payee differs from it without comparing them."""

    __tablename__ = "list_registry_pins"

    list_id: Mapped[int] = mapped_column(
        ForeignKey("allowance_lists.id"), primary_key=True, autoincrement=False
    )
    registry_imports: Mapped[int] = mapped_column(Integer)
    newest_import_id: Mapped[int] = mapped_column(Integer)
    registry_edits: Mapped[int] = mapped_column(BigInteger)


class ApprovalPolicy(Base):
    """How many district administrators approve a list: kept in the store (one row), so an
    approver's own config.toml cannot lower it; the database checks approvals against it."""

    __tablename__ = "approval_policy"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("approvals_required IN (1, 2)", name="one_or_two"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    approvals_required: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime]
