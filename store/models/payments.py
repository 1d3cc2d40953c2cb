"""Payment results returned by providers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, one_of

PAYMENT_STATUSES = ("paid", "failed", "reversed")


class PaymentImport(Base):
    """One provider return file applied to a list: who, when, which file (its sha256) and
    what it changed. Re-importing the same file is recognised by its hash."""

    __tablename__ = "payment_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("allowance_lists.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime]
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PaymentResult(Base):
    """The provider's outcome of one payment line, at most one per line (a unique line_ref).
    It moves only failed -> paid (a re-try) or paid -> reversed, never back, and is never
    deleted: the database refuses anything else (migration 0009)."""

    __tablename__ = "payment_results"
    __table_args__ = (
        CheckConstraint(one_of("status", PAYMENT_STATUSES), name="status_known"),
        CheckConstraint("status = 'failed' OR paid_at IS NOT NULL", name="paid_has_time"),
        CheckConstraint(
            "status = 'paid' OR (failure_reason IS NOT NULL AND length(failure_reason) > 0)",
            name="failure_has_reason",
        ),
        CheckConstraint("amount_bdt > 0", name="amount_positive"),
        UniqueConstraint("line_ref", name="one_result_per_line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("allowance_lists.id"), index=True)
    line_ref: Mapped[str] = mapped_column(String(32))
    household_id: Mapped[str] = mapped_column(String(64), index=True)
    amount_bdt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    provider_txn_id: Mapped[str | None] = mapped_column(String(64))
    # When the money reached the payee (kept when a payment is later reversed).
    paid_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(String(255))
    first_import_id: Mapped[int] = mapped_column(ForeignKey("payment_imports.id"))
    last_import_id: Mapped[int] = mapped_column(ForeignKey("payment_imports.id"))
    updated_at: Mapped[datetime]
