"""Grievances and their events."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, one_of

GRIEVANCE_STATUSES = ("open", "in_progress", "resolved", "referred", "rejected")
GrievanceCategory = Literal[
    "exclusion",
    "inclusion_error",
    "non_payment",
    "wrong_amount",
    "data_correction",
    "conduct",
    "other",
]
GrievanceChannel = Literal["hotline", "union_digital_centre", "civil_society", "office", "other"]
GRIEVANCE_CATEGORIES: tuple[str, ...] = get_args(GrievanceCategory)
GRIEVANCE_CHANNELS: tuple[str, ...] = get_args(GrievanceChannel)


class Grievance(Base):
    """One complaint in the register. Complainant details are optional, minimal (name, phone)
    and shown only to those who handle grievances of the district; status changes follow
    the table in allowances/grievances.py, which the database enforces as well."""

    __tablename__ = "grievances"
    __table_args__ = (
        CheckConstraint(one_of("status", GRIEVANCE_STATUSES), name="status_known"),
        CheckConstraint(one_of("category", GRIEVANCE_CATEGORIES), name="category_known"),
        CheckConstraint(one_of("channel", GRIEVANCE_CHANNELS), name="channel_known"),
        CheckConstraint(
            "status IN ('open','in_progress') OR (closed_at IS NOT NULL AND "
            "closing_reason IS NOT NULL AND length(closing_reason) > 0)",
            name="closed_with_reason",
        ),
        CheckConstraint(
            "complainant_phone IS NULL OR length(complainant_phone) = 11", name="phone_11_digits"
        ),
        CheckConstraint("sla_hours > 0", name="sla_positive"),
        Index("ix_grievances_district_status", "district_pcode", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    partner: Mapped[str | None] = mapped_column(String(128))  # civil-society partner, UDC …
    category: Mapped[str] = mapped_column(String(32))
    district_pcode: Mapped[str] = mapped_column(String(16))
    adm4_pcode: Mapped[str] = mapped_column(String(16))
    household_id: Mapped[str | None] = mapped_column(String(64), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    description: Mapped[str] = mapped_column(Text)
    complainant_name: Mapped[str | None] = mapped_column(String(128))
    complainant_phone: Mapped[str | None] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(16))
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    sla_hours: Mapped[int] = mapped_column(Integer)  # the target in force when received
    due_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closing_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class GrievanceEvent(Base):
    """Append-only history of a grievance: who did what, when, from which status to which."""

    __tablename__ = "grievance_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    grievance_id: Mapped[int] = mapped_column(ForeignKey("grievances.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
