"""From a resolved data-correction grievance to a registry correction through the normal
import: a CSV in the registry schema (docs/registry-schema.md), one row per beneficiary of each
grievance's household, which `agam registry import` validates and applies like any MIS extract.

Non-personal fields are filled in from the current registry record. Personal fields (names,
NID, birth registration, wallet and bank account numbers) are left blank: personal data leaves
Agam only in an approved payment file, so the officer types them from the verified documents
or the programme MIS. An extra `grievance_id` column says which grievance a row answers; the
import ignores it (and names it in its report).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agam.core.files import atomic_write
from allowances.grievances import can_handle, register_scope
from allowances.registry_schema import FIELD_NAMES
from store import audit, grievance_repo
from store.models import RegistryImport
from store.user_repo import Principal

PERSONAL_FIELDS = (
    "nid",
    "birth_registration",
    "name_en",
    "name_bn",
    "wallet_number",
    "bank_account",
)
COLUMNS = (*FIELD_NAMES, "grievance_id")


@dataclass
class CorrectionFile:
    path: Path
    grievances: list[int] = field(default_factory=list)
    rows: int = 0
    prefilled_rows: int = 0  # rows filled in from a registry record
    blank_rows: int = 0  # households not on the rolls (or unknown): everything to fill in
    to_fill: tuple[str, ...] = PERSONAL_FIELDS

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "grievances": self.grievances,
            "rows": self.rows,
            "prefilled_rows": self.prefilled_rows,
            "blank_rows": self.blank_rows,
            "to_fill": list(self.to_fill),
        }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_correction_file(
    session: Session,
    principal: Principal,
    out: Path,
    at: datetime,
    grievance_ids: list[int] | None = None,
) -> CorrectionFile:
    """Write the template for the resolved data-correction grievances `principal` handles."""
    register_scope(principal)  # committee: aggregates only
    rows = [
        g
        for g in grievance_repo.rows(
            session, statuses=["resolved"], categories=["data_correction"], ids=grievance_ids
        )
        if can_handle(principal, g.district_pcode)
    ]
    result = CorrectionFile(out)
    synthetic = {
        i: bool(s) for i, s in session.execute(select(RegistryImport.id, RegistryImport.synthetic))
    }
    records = grievance_repo.household_records(
        session, [g.household_id for g in rows if g.household_id]
    )
    by_household: dict[str, list[Any]] = {}
    for r in records:
        by_household.setdefault(r.household_id, []).append(r)
    lines: list[dict[str, str]] = []
    for g in sorted(rows, key=lambda g: g.id):
        result.grievances.append(g.id)
        members = [  # only registry rows of districts the principal handles
            m
            for m in by_household.get(g.household_id or "", [])
            if can_handle(principal, m.adm4_pcode[:6])
        ]
        for member in members:
            line = {c: _cell(getattr(member, c, None)) for c in FIELD_NAMES if c != "synthetic"}
            line |= dict.fromkeys(PERSONAL_FIELDS, "")
            line["synthetic"] = _cell(synthetic.get(member.import_id, False))
            lines.append(line | {"grievance_id": str(g.id)})
        if not members:
            blank = dict.fromkeys(COLUMNS, "")
            blank |= {
                "household_id": g.household_id or "",
                "adm4_pcode": g.adm4_pcode,
                "grievance_id": str(g.id),
            }
            lines.append(blank)
            result.blank_rows += 1
        result.prefilled_rows += len(members)
    result.rows = len(lines)
    _write_csv(out, lines)
    audit.append(
        session,
        at=at,
        actor=principal.username,
        action="grievance.correction_file",
        entity="grievance",
        entity_id="correction",
        payload={"grievance_ids": result.grievances, "rows": result.rows},
    )
    return result


def _write_csv(out: Path, lines: list[dict[str, str]]) -> None:
    """Atomically and readable by the owner only (it will hold personal data once filled)."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
            writer.writeheader()
            writer.writerows(lines)

    atomic_write(out, write, mode=0o600)
