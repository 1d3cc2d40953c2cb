"""Payment files from an approved list only: CSV or XLSX per channel, plus a manifest.

This is the one place personal data leaves Agam. Files are written into a temporary folder
and renamed into place, so a reader never sees a half-written batch.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import xlsxwriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from agam.core.timeutil import iso_utc
from store import list_repo
from store.models import AllowanceLine, Beneficiary
from store.user_repo import Principal

XLSX_MAX_DATA_ROWS = 1_048_575  # 1,048,576 rows per sheet including the header
FIELDS = [
    "batch_id",
    "line_rank",
    "beneficiary_id",
    "household_id",
    "programme",
    "name_en",
    "name_bn",
    "nid",
    "birth_registration",
    "sex",
    "birth_year",
    "adm4_pcode",
    "ward",
    "village",
    "channel",
    "mfs_provider",
    "wallet_number",
    "bank_account",
    "routing_number",
    "post_office_code",
    "amount_bdt",
    "activation_id",
    "dedup_key",
    "value_date",
    "narration",
    "approved_by",
    "approved_at",
]

AMOUNT_COL = FIELDS.index("amount_bdt")


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    manifest: dict[str, Any]


def _payment_rows(session: Session, list_id: int) -> pd.DataFrame:
    stmt = (
        select(
            AllowanceLine.rank.label("line_rank"),
            AllowanceLine.household_id,
            AllowanceLine.amount_bdt,
            Beneficiary.beneficiary_id,
            Beneficiary.programme,
            Beneficiary.name_en,
            Beneficiary.name_bn,
            Beneficiary.nid,
            Beneficiary.birth_registration,
            Beneficiary.sex,
            Beneficiary.birth_year,
            Beneficiary.adm4_pcode,
            Beneficiary.ward,
            Beneficiary.village,
            Beneficiary.payment_channel.label("channel"),
            Beneficiary.mfs_provider,
            Beneficiary.wallet_number,
            Beneficiary.bank_account,
            Beneficiary.routing_number,
            Beneficiary.post_office_code,
        )
        .join(Beneficiary, Beneficiary.beneficiary_id == AllowanceLine.beneficiary_id)
        .where(AllowanceLine.list_id == list_id, AllowanceLine.included.is_(True))
        .order_by(AllowanceLine.rank)
    )
    return pd.read_sql(stmt, session.connection(), dtype=str).fillna("")


def _channel_groups(rows: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    key = rows["channel"].where(rows["channel"] != "mfs", "mfs_" + rows["mfs_provider"])
    for name, part in rows.groupby(key, sort=True):
        yield str(name), part


def export_list(
    session: Session,
    list_id: int,
    principal: Principal,
    fmt: Literal["csv", "xlsx"],
    outdir: Path,
    at: datetime,
) -> ExportResult:
    """Check the approval (role, district, hash), then write files + manifest atomically."""
    row = list_repo.decide(session, list_id, principal, "export", at)
    batch_id = f"AGAM-{row.district_pcode}-A{row.alert_id}-L{row.id}R{row.revision}"
    rows = _payment_rows(session, list_id)
    approved_at = iso_utc(row.decided_at) if row.decided_at else ""
    rows = rows.assign(
        batch_id=batch_id,
        activation_id=f"A{row.alert_id}",
        value_date=at.date().isoformat(),
        narration=f"Anticipatory allowance {batch_id}",
        approved_by=row.approved_by or "",
        approved_at=approved_at,
        dedup_key=(
            rows["nid"].where(rows["nid"] != "", rows["birth_registration"])
            + "|"
            + rows["programme"]
            + f"|A{row.alert_id}"
        ),
    )[FIELDS]
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / batch_id
    staging = Path(tempfile.mkdtemp(dir=outdir, prefix=f".{batch_id}."))
    files = []
    try:
        for channel, part in _channel_groups(rows):
            for path in _write(part, staging, f"{batch_id}_{channel}", fmt):
                files.append(
                    {
                        "file": path.name,
                        "channel": channel,
                        "rows": len(part),
                        "total_bdt": int(part["amount_bdt"].astype(int).sum()),
                        "sha256": _sha256(path),
                    }
                )
        manifest = {
            "batch_id": batch_id,
            "list_id": row.id,
            "revision": row.revision,
            "district_pcode": row.district_pcode,
            "activation_id": f"A{row.alert_id}",
            "list_content_sha256": row.content_sha256,
            "approved_by": row.approved_by,
            "approved_at": approved_at,
            "generated_at": iso_utc(at),
            "generated_by": principal.username,
            "format": fmt,
            "rows": len(rows),
            "total_bdt": int(rows["amount_bdt"].astype(int).sum()),
            "files": files,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(target, manifest)


def _write(part: pd.DataFrame, folder: Path, stem: str, fmt: str) -> list[Path]:
    if fmt == "csv":
        path = folder / f"{stem}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(FIELDS)
            writer.writerows(part.itertuples(index=False, name=None))
        return [path]
    path = folder / f"{stem}.xlsx"
    workbook = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False},
    )
    values = part.to_numpy()
    for sheet_no, start in enumerate(range(0, max(len(values), 1), XLSX_MAX_DATA_ROWS), 1):
        sheet = workbook.add_worksheet(f"payments_{sheet_no}")
        sheet.write_row(0, 0, FIELDS)
        for offset, record in enumerate(values[start : start + XLSX_MAX_DATA_ROWS], 1):
            for col, value in enumerate(record):
                if col == AMOUNT_COL:
                    sheet.write_number(offset, col, int(value))
                else:  # always text: identifiers keep leading zeros, nothing becomes a formula
                    sheet.write_string(offset, col, str(value))
    workbook.close()
    return [path]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
