"""The grievance register's rules: vocabularies, the status table, who may see and do what,
service-level targets with overdue flags, and masking. Pure: no database, no clock.

Complaints come from the hotline, union digital centres, civil-society partners and offices.
A grievance names a union (always) and a household (when known). Its status moves only
open -> in_progress -> resolved / referred / rejected (the last three with a reason); the
database enforces the same table (store migration 0008).

Who handles grievances of a district: its officers and district administrators, and admins.
Only they see the complainant's name and phone, the description and the notes; an officer
without a district (a national desk) sees the register with those masked; committee members
see aggregates only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agam.core.errors import InvalidTransition, PermissionDenied
from agam.core.masking import mask_identifier
from agam.core.settings import GrievanceSettings
from agam.core.timeutil import ensure_utc
from agam.core.typed_text import hidden_characters
from allowances import normalise as nz
from store.models import GRIEVANCE_CATEGORIES, GRIEVANCE_CHANNELS, GRIEVANCE_STATUSES
from store.models.grievances import GrievanceCategory, GrievanceChannel
from store.user_repo import Principal

Category = GrievanceCategory
Channel = GrievanceChannel
Action = Literal["start", "resolve", "refer", "reject"]

CATEGORIES: tuple[str, ...] = GRIEVANCE_CATEGORIES
CHANNELS: tuple[str, ...] = GRIEVANCE_CHANNELS
STATUSES: tuple[str, ...] = GRIEVANCE_STATUSES
OPEN_STATUSES = ("open", "in_progress")
CLOSED_STATUSES = ("resolved", "referred", "rejected")

# (status, action) -> new status. Anything else is refused (and the database refuses it too).
TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "start"): "in_progress",
    ("in_progress", "resolve"): "resolved",
    ("in_progress", "refer"): "referred",
    ("in_progress", "reject"): "rejected",
}
NEEDS_REASON = ("resolve", "refer", "reject")
HANDLER_ROLES = ("officer", "district_admin", "admin")
UNION_PCODE = re.compile(r"^BD\d{8}$")
ID_PATTERN = r"^[A-Za-z0-9\-_./]{1,64}$"
MAX_TEXT = 2000
MAX_NAME_CHARS = 128  # a complainant's name, a partner's
RESTRICTED = "(restricted)"


def next_status(status: str, action: str) -> str:
    new = TRANSITIONS.get((status, action))
    if new is None:
        raise InvalidTransition(f"a grievance that is {status} cannot {action}")
    return new


def can_handle(principal: Principal, district_pcode: str) -> bool:
    """Handlers of a district: its officers and administrators, and admins."""
    if principal.role == "admin":
        return True
    return principal.role in ("officer", "district_admin") and principal.covers(district_pcode)


def authorise(principal: Principal, district_pcode: str, what: str) -> None:
    if not can_handle(principal, district_pcode):
        raise PermissionDenied(
            f"{principal.username} ({principal.role}) may not {what} grievances of "
            f"district {district_pcode}"
        )


def register_scope(principal: Principal) -> list[str] | None:
    """Districts whose grievance rows `principal` may list (None = all). Committee members
    get aggregates only, never rows."""
    if principal.role == "committee":
        raise PermissionDenied(f"{principal.username} (committee) sees grievance aggregates only")
    if principal.role == "admin" or not principal.districts:
        return None
    return list(principal.districts)


def clean_text(value: str | None) -> str | None:
    """NFC, white space collapsed; empty becomes None. Control and text-direction characters
    (a right-to-left override makes a name read otherwise) are refused with ValueError."""
    if value is None:
        return None
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if hidden_characters(text):
        raise ValueError("control or text-direction characters are not accepted")
    return text or None


def normalise_phone(value: str | None) -> str | None:
    """Bangla digits, separators and a +88 prefix handled like registry wallet numbers;
    anything but a Bangladesh mobile number (01[3-9]XXXXXXXX) is refused."""
    if value is None or not value.strip():
        return None
    phone = nz.phone_field(pa.array([value], pa.string()))[0].as_py()
    if phone is None or not re.fullmatch(r"01[3-9]\d{8}", phone):
        raise ValueError("not a Bangladesh mobile number (01[3-9]XXXXXXXX)")
    return str(phone)


class NewGrievance(BaseModel):
    """What an officer records; validated before anything is stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    received_at: datetime
    channel: Channel
    category: Category
    adm4_pcode: str | None = None
    household_id: str | None = Field(default=None, pattern=ID_PATTERN)
    alert_id: int | None = Field(default=None, ge=1)
    partner: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    description: str = Field(min_length=1, max_length=MAX_TEXT)
    complainant_name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    complainant_phone: str | None = None

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return ensure_utc(value)

    @field_validator("adm4_pcode")
    @classmethod
    def _union(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        code = value.strip().upper()
        if not UNION_PCODE.match(code):
            raise ValueError("a union P-code looks like BD55490911")
        return code

    @field_validator("partner", "description", "complainant_name", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return clean_text(value) if isinstance(value, str) else value

    @field_validator("complainant_phone", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> Any:
        return normalise_phone(value) if isinstance(value, str) else value


def due_at(received_at: datetime, sla_hours: int) -> datetime:
    return ensure_utc(received_at) + timedelta(hours=sla_hours)


def sla_hours_for(category: str, settings: GrievanceSettings) -> int:
    return int(getattr(settings.sla_hours, category))


@dataclass(frozen=True)
class SlaFlags:
    """Where a grievance stands against its target at `now`."""

    overdue: bool  # still open after its due time
    due_soon: bool  # still open, past the warning share of its target, not yet overdue
    closed_late: bool  # closed after its due time
    hours_open: float  # received -> closed (or -> now while open)


def sla_flags(
    status: str,
    received_at: datetime,
    due: datetime,
    closed_at: datetime | None,
    now: datetime,
    due_soon_share: float,
) -> SlaFlags:
    received, due, now = ensure_utc(received_at), ensure_utc(due), ensure_utc(now)
    closed = ensure_utc(closed_at) if closed_at is not None and status in CLOSED_STATUSES else None
    end = closed or now
    hours = max((end - received).total_seconds() / 3600, 0.0)
    is_open = closed is None
    warn_at = received + (due - received) * due_soon_share
    return SlaFlags(
        overdue=is_open and now > due,
        due_soon=is_open and warn_at <= now <= due,
        closed_late=closed is not None and closed > due,
        hours_open=round(hours, 1),
    )


def mask_name(name: str | None) -> str | None:
    """'Rahima Khatun' -> 'R***** K*****': the shape of a name, not the name."""
    if not name:
        return None
    return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())


def mask_phone(phone: str | None) -> str | None:
    return mask_identifier(phone) if phone else None


def redact(record: dict[str, Any], principal: Principal, *, reveal: bool) -> dict[str, Any]:
    """One grievance as `principal` sees it: personal details in clear only when asked for
    (`reveal`, which the caller audits) and only for the district's handlers."""
    visible = reveal and can_handle(principal, str(record["district_pcode"]))
    out = dict(record) | {"details_visible": visible}
    if not visible:
        out |= {
            "complainant_name": mask_name(record.get("complainant_name")),
            "complainant_phone": mask_phone(record.get("complainant_phone")),
            "description": RESTRICTED,
            "closing_reason": RESTRICTED if record.get("closing_reason") else None,
        }
    return out
